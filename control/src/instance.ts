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
 * naming a dead process is stale). The metrics.listen address is claimed
 * the same way: a second serve would fail to bind it and, since /metrics is
 * never fatal, run on silently while Prometheus scraped the first one's
 * figures under its name.
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

/** Who holds a claim: written into the claim file after the pid, so that a refusal names the other instance and its config. */
export interface Holder {
  name: string;
  /** the config file it was started with, "" when unknown (a config passed in memory) */
  config: string;
  /** its metrics.listen, for the metrics claims */
  listen?: string;
}

/** A claim file: the pid on the first line (what older serves wrote), the holder as JSON on the second. */
function readClaim(file: string): { pid: number; holder?: Holder } {
  try {
    const [first, second] = fs.readFileSync(file, 'utf8').split('\n');
    let holder: Holder | undefined;
    try {
      holder = second ? (JSON.parse(second) as Holder) : undefined;
    } catch { /* a pid alone */ }
    return { pid: Number(first.trim()), holder };
  } catch {
    return { pid: 0 }; // removed meanwhile
  }
}

/** Is the claim in `file` held by a live serve (another process, or this one through a claim it made)? */
function liveHolder(file: string, pid: number): boolean {
  const mine = pid === process.pid;
  return pid > 0 && ((mine && heldHere.has(file)) || (!mine && processAlive(pid)));
}

function describe(pid: number, h: Holder | undefined): string {
  return `linerate serve pid ${pid}${h ? ` (instance ${h.name}${h.config ? `, config ${h.config}` : ''})` : ''}`;
}

function claim(file: string, what: string, me: Holder): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o644 });
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const { pid, holder } = readClaim(file);
      if (liveHolder(file, pid)) {
        throw new Error(`${what} is in use by ${describe(pid, holder)} (${file}): ` +
          'two instances on one host need distinct names, run dirs, gRPC addresses and ports');
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`cannot claim ${what} (${file})`);
}

/** "HOST:PORT" / "[V6]:PORT" → host and port; undefined for "" or a unix socket. */
function hostPort(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) return undefined;
  const host = (m[1] ?? m[2]).toLowerCase();
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: Number(m[3]) };
}

/** Would two listeners on these hosts (same port) collide: the same address, or either one the wildcard. */
function overlap(a: string, b: string): boolean {
  const any = (h: string): boolean => h === '' || h === '0.0.0.0' || h === '::';
  return a === b || any(a) || any(b);
}

/**
 * The metrics claim: one file per metrics.listen in `dir`
 * (linerate-metrics-PORT-HOST.serve). Another live serve whose address
 * overlaps on the same port (the same host, or either one the wildcard) is
 * refused with both configs named; port 0 (any free port) claims nothing.
 */
function claimMetrics(dir: string, listen: string, me: Holder): () => void {
  const hp = hostPort(listen);
  if (!hp || hp.port === 0) return () => undefined;
  const prefix = `linerate-metrics-${hp.port}-`;
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.serve'));
  } catch { /* no dir yet: nothing claimed */ }
  for (const n of names) {
    const file = path.join(dir, n);
    const { pid, holder } = readClaim(file);
    const theirs = hostPort(holder?.listen ?? '');
    if (!liveHolder(file, pid)) {
      fs.rmSync(file, { force: true }); // stale
      continue;
    }
    if (theirs && !overlap(theirs.host, hp.host)) continue;
    throw new Error(`metrics.listen ${listen} of instance ${me.name}${me.config ? ` (config ${me.config})` : ''} collides with ` +
      `metrics.listen ${holder?.listen ?? `port ${hp.port}`} of ${describe(pid, holder)} (${file}): two instances on one host ` +
      'need distinct metrics.listen ports (or metrics.enabled: false in one of them)');
  }
  return claim(path.join(dir, `${prefix}${hp.host.replace(/[^0-9A-Za-z.]/g, '_') || 'any'}.serve`), `metrics.listen ${listen}`, me);
}

/** What claimInstance needs beyond the paths. */
export interface ClaimOptions {
  /** it may spawn the dataplane: claims the name (EAL file prefix, stats file) too */
  spawns: boolean;
  /** the /metrics address it will listen on ("" = off) */
  metricsListen?: string;
  /** the config file, named in the errors another instance gets */
  configFile?: string;
}

/**
 * Claims the run dir (control socket) for this serve; when it may spawn
 * the dataplane, the instance name (EAL file prefix, stats file); and its
 * metrics.listen address. Throws an error naming the holder (pid, instance
 * name, config file) when another live serve has one of them. The claims
 * live in the stats file's directory (/dev/shm) and the run dir: instances
 * that share neither (containers with private /dev/shm) do not see each
 * other's name and metrics claims. Returns the release function.
 */
export function claimInstance(paths: Resolved, o: ClaimOptions): () => void {
  const name = paths.config.name;
  const shm = path.dirname(paths.statsPath);
  const me: Holder = { name, config: o.configFile ?? '', ...(o.metricsListen ? { listen: o.metricsListen } : {}) };
  const releases: (() => void)[] = [];
  const release = (): void => {
    for (const r of releases.reverse()) r();
  };
  try {
    if (o.spawns) releases.push(claim(path.join(shm, `linerate-${name}.serve`), `instance name ${name} (EAL file prefix ${paths.filePrefix}, stats ${paths.statsPath})`, me));
    releases.push(claim(path.join(paths.runDir, 'serve.pid'), `run dir ${paths.runDir} (control socket ${paths.ctlPath})`, me));
    if (o.metricsListen) releases.push(claimMetrics(shm, o.metricsListen, me));
    return release;
  } catch (e) {
    release();
    throw e;
  }
}

/** The message for a gRPC bind that failed because the address is taken, else undefined. */
export function addressInUse(listen: string, err: Error): string | undefined {
  if (!/EADDRINUSE/.test(err.message)) return undefined;
  return `cannot listen on ${listen}: ${listen} is already in use (another linerate instance? ` +
    'each instance on a host needs its own grpc.listen port)';
}
