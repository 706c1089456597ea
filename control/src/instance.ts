/**
 * One host, several linerate instances (two UPFs side by side): what two
 * instances may not share, claimed by `linerate serve` before it touches
 * anything. Owned by the control plane; startServer() calls claimInstance()
 * and releases the claim at stop().
 *
 * The instance name names the EAL file prefix (linerate-NAME) and the stats
 * file (/dev/shm/linerate-NAME.stats); the run dir holds the control socket.
 * A second serve with the same name, or the same run dir, would attach to
 * the first one's dataplane and reconcile its own rules onto it, or start a
 * dataplane over the first one's stats file: the run dir is claimed by every
 * serve, the name by a serve that may spawn the dataplane (the spawner picks
 * the prefix and the stats file), each with a pid file (O_EXCL; a file
 * naming a dead process is stale).
 * A gRPC address already bound is reported by startServer as "HOST:PORT is
 * already in use"; a memif socket another process serves, by the spawn
 * (removeStaleMemifSockets). The state dir has its own lock (StateStore).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Resolved } from './config/schema';
import { processAlive } from './proc';

/** Claim files held by this process (a file naming our own pid may be a stale one from a previous container). */
const heldHere = new Set<string>();

function claim(file: string, what: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = 0;
      try {
        pid = Number(fs.readFileSync(file, 'utf8').trim());
      } catch { /* removed meanwhile: retry */ }
      const mine = pid === process.pid;
      if (pid > 0 && ((mine && heldHere.has(file)) || (!mine && processAlive(pid)))) {
        throw new Error(`${what} is in use by linerate serve pid ${pid} (${file}): ` +
          'two instances on one host need distinct names, run dirs, gRPC addresses and ports');
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`cannot claim ${what} (${file})`);
}

/**
 * Claims the run dir (control socket) for this serve and, when it may spawn
 * the dataplane, the instance name (EAL file prefix, stats file); throws an
 * error naming the holder when another live serve has either. Returns the
 * release function.
 */
export function claimInstance(paths: Resolved, spawns: boolean): () => void {
  const name = paths.config.name;
  const releaseName = !spawns ? () => undefined : claim(path.join(path.dirname(paths.statsPath), `linerate-${name}.serve`),
    `instance name ${name} (EAL file prefix ${paths.filePrefix}, stats ${paths.statsPath})`);
  try {
    const releaseRun = claim(path.join(paths.runDir, 'serve.pid'), `run dir ${paths.runDir} (control socket ${paths.ctlPath})`);
    return () => {
      releaseRun();
      releaseName();
    };
  } catch (e) {
    releaseName();
    throw e;
  }
}

/** The message for a gRPC bind that failed because the address is taken, else undefined. */
export function addressInUse(listen: string, err: Error): string | undefined {
  if (!/EADDRINUSE/.test(err.message)) return undefined;
  return `cannot listen on ${listen}: ${listen} is already in use (another linerate instance? ` +
    'each instance on a host needs its own grpc.listen port)';
}
