/**
 * Child process of the SIGHUP test in transport.test.ts: a server on the
 * fake dataplane with reloadOnSighup, TLS from the files named in argv. It
 * runs apart because the mocha process must not get SIGHUP itself (the
 * integration cleanup exits on it). Prints {"port":N} once listening, logs
 * to stderr, and stops when stdin closes.
 */
import { createLogger } from '../../src/log';
import { startHarness } from './helpers';

async function main(): Promise<void> {
  const [cert, key, ca] = process.argv.slice(2);
  const h = await startHarness({ grpc: { tls: { cert: cert!, key: key!, ca: ca! } } }, undefined, undefined,
    { server: { reloadOnSighup: true, log: createLogger('info') } });
  process.stdout.write(JSON.stringify({ port: h.server.port }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => { void h.close().then(() => process.exit(0)); });
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
