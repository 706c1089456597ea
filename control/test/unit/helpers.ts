/** Shared set-up of the unit tests: temp dirs, an in-process server on a fake dataplane. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ServiceError, status } from '@grpc/grpc-js';
import * as assert from 'node:assert/strict';
import { type ClientOptions, createClient, type LinerateClient } from '../../src/client';
import { type ConfigInput, parseConfig } from '../../src/config/schema';
import { silentLogger } from '../../src/log';
import { type LinerateServer, type ServerOptions, startServer } from '../../src/server';
import { FakeWorld, fakeAddon } from './fake-dataplane';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lrc-${tag}-`));
}

export const baseConfig = (over: Partial<ConfigInput> = {}): ConfigInput => ({
  name: 'lrc-unit',
  ports: [
    { name: 'p0', device: 'net_null0', addresses: ['10.0.1.1/24', '2001:db8:1::1/64'] },
    { name: 'p1', device: 'net_null1', addresses: ['10.0.2.1/24'] },
  ],
  ...over,
});

export interface Harness {
  dir: string;
  world: FakeWorld;
  server: LinerateServer;
  client: LinerateClient;
  close(): Promise<void>;
}

/** Transport options of startHarness: server options (listen, insecure, ...) and the client's. */
export interface HarnessTransport {
  server?: Pick<ServerOptions, 'listen' | 'insecure' | 'reloadOnSighup' | 'log' | 'metricsListen'>;
  client?: ClientOptions;
}

/** startServer on a fake dataplane (no spawn), a client to it; close() removes everything. */
export async function startHarness(over: Partial<ConfigInput> = {}, world = new FakeWorld(),
  given?: string, transport: HarnessTransport = {}): Promise<Harness> {
  const dir = given ?? tempDir('srv');
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(runDir, { recursive: true });
  // The supervisor probes the control socket before connecting: something must accept on it.
  const sock = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => sock.listen(path.join(runDir, 'ctl.sock'), resolve));
  const server = await startServer({
    config: parseConfig(baseConfig(over)),
    stateDir: path.join(dir, 'state'),
    runDir,
    listen: '127.0.0.1:0',
    metricsListen: '127.0.0.1:0',
    log: silentLogger,
    addon: fakeAddon(world),
    spawn: false,
    timings: { watchIntervalMs: 20, backoffMinMs: 10, backoffMaxMs: 50, heartbeatTimeoutMs: 2000 },
    ...transport.server,
  }).catch((e: unknown) => {
    sock.close();
    if (!given) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  await server.waitAttached(5000);
  const client = createClient(server.address, transport.client);
  return {
    dir, world, server, client,
    async close() {
      client.close();
      await server.stop();
      sock.close();
      if (!given) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts that `p` rejects with gRPC `code` and a message matching `msg`. */
export async function rejectsWith(p: Promise<unknown>, code: status, msg: RegExp): Promise<void> {
  await assert.rejects(p, (e: ServiceError) => {
    assert.equal(status[e.code], status[code], `code (details: ${e.details})`);
    assert.match(e.details, msg);
    return true;
  });
}
