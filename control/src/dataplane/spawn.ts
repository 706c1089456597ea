/**
 * Starting linerate-dp: its command line (EAL args, "--", app args) from the
 * config, and a detached spawn (own session, output to runDir/dataplane.log)
 * so that the dataplane outlives `linerate serve`, even a SIGKILLed one;
 * and the clean-up of what a dead one leaves that its successor trips on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Resolved } from '../config/schema';
import { parseMac } from '../model/net';

export interface SpawnSpec {
  binary: string;
  args: string[];
  logPath: string;
  pidPath: string;
  /** Socket files of the memif ports the dataplane serves: left behind when it dies. */
  memifServerSockets: string[];
}

/**
 * The socket file a memif device string makes the dataplane listen on, or
 * null (client role, or an abstract socket, which leaves no file). DPDK
 * 22.11 defaults: role=server, socket=/run/memif.sock, socket-abstract=yes.
 */
export function memifServerSocket(device: string): string | null {
  const [drv, ...kv] = device.split(',');
  if (!/^net_memif/.test(drv ?? '')) return null;
  const arg = (k: string): string | undefined => kv.find((x) => x.startsWith(`${k}=`))?.slice(k.length + 1);
  if ((arg('role') ?? 'server') !== 'server') return null;
  if ((arg('socket-abstract') ?? 'yes') !== 'no') return null;
  return arg('socket') ?? '/run/memif.sock';
}

/** Whether a process accepts on the unix socket at p. */
function listening(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    const t = setTimeout(() => { s.destroy(); resolve(true); }, 1000); // a slow accept is still a listener
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

/**
 * Before a spawn: removes the memif server socket files that a dead
 * dataplane left (its successor's bind would fail with "Address already in
 * use"). A file that something still listens on is not ours to take: that
 * is an error naming it. Returns the removed paths.
 */
export async function removeStaleMemifSockets(spec: SpawnSpec): Promise<string[]> {
  const removed: string[] = [];
  for (const p of new Set(spec.memifServerSockets)) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (!st.isSocket()) throw new Error(`memif socket path ${p} exists and is not a socket; remove it or change the port's socket=`);
    if (await listening(p)) throw new Error(`memif socket ${p} is in use by another process; a port's socket= must be its own`);
    fs.rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}

export function dataplaneArgs(r: Resolved): string[] {
  const c = r.config;
  const d = c.dataplane;
  // EAL refuses -l next to --lcores (lcore-to-CPU mapping): that one wins.
  const eal = d.eal.some((a) => a === '--lcores' || a.startsWith('--lcores=')) ? [] : ['-l', d.lcores];
  if (!d.pci) eal.push('--no-pci');
  eal.push('--in-memory', '--file-prefix', r.filePrefix, ...d.eal);
  const app = [
    '--name', c.name, '--ctl', r.ctlPath, '--stats', r.statsPath,
    '--rxq', String(d.rxQueues), '--rxd', String(d.rxd), '--txd', String(d.txd),
    '--burst', String(d.burst), '--idle-sleep-us', String(d.idleSleepUs),
  ];
  if (d.mbufs !== undefined) app.push('--mbufs', String(d.mbufs));
  if (d.routes4 !== undefined) app.push('--routes4', String(d.routes4));
  if (d.routes6 !== undefined) app.push('--routes6', String(d.routes6));
  if (d.neighbors !== undefined) app.push('--neighbors', String(d.neighbors));
  if (d.flows !== undefined) app.push('--flows', String(d.flows));
  if (d.flowsExact !== undefined) app.push('--flows-exact', String(d.flowsExact));
  // The control socket belongs to whoever runs serve unless the config says otherwise.
  app.push('--ctl-uid', String(d.ctlUid ?? process.getuid?.() ?? 0));
  if (d.ctlGid !== undefined) app.push('--ctl-gid', String(d.ctlGid));
  app.push('--ctl-timeout-ms', String(d.ctlTimeoutMs), '--ctl-idle-timeout', String(d.ctlIdleTimeoutS));
  app.push('--icmp-rate', String(c.router.icmpRate));
  if (c.router.allowClassE) app.push('--allow-class-e');
  if (c.router.dropOwnSource) app.push('--drop-own-source');
  app.push('--neigh-hold', String(c.router.neighborHold));
  if (c.router.neighborPortLimit !== undefined) app.push('--neigh-port-max', String(c.router.neighborPortLimit));
  if (c.router.neighborRepliesOnly) app.push('--neigh-replies-only');
  for (const [cls, rate] of Object.entries(c.router.puntRates)) {
    if (rate !== undefined) app.push('--punt-rate', `${cls}=${rate}`);
  }
  for (const p of c.ports) {
    const mac = p.mac === undefined ? undefined : parseMac(p.mac, `ports.${p.name}.mac`);
    // memif refuses rte_eth_dev_default_mac_addr_set but takes mac= in its devargs.
    const memif = /^net_memif/.test(p.device);
    app.push('--port', `${p.name}=${p.device}${mac && memif ? `,mac=${mac}` : ''}`);
    if (mac && !memif) app.push('--port-mac', `${p.name}=${mac}`);
    if (p.rxQueues !== undefined) app.push('--port-rxq', `${p.name}=${p.rxQueues}`);
    if (p.rpf !== 'off') app.push('--port-rpf', `${p.name}=${p.rpf}`);
  }
  return [...eal, '--', ...app];
}

export function spawnSpec(r: Resolved): SpawnSpec {
  const memifServerSockets = r.config.ports.map((p) => memifServerSocket(p.device)).filter((x): x is string => x !== null);
  return { binary: r.config.dataplane.binary, args: dataplaneArgs(r), logPath: r.logPath, pidPath: r.pidPath, memifServerSockets };
}

/** Starts the dataplane in its own session; the returned child is unref'd (serve may exit first). */
export function spawnDataplane(spec: SpawnSpec): ChildProcess {
  if (!fs.existsSync(spec.binary)) throw new Error(`dataplane binary not found: ${spec.binary} (run npm run build)`);
  fs.mkdirSync(path.dirname(spec.logPath), { recursive: true });
  const out = fs.openSync(spec.logPath, 'a');
  try {
    fs.writeSync(out, `\n=== ${new Date().toISOString()} ${spec.binary} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.binary, spec.args, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (child.pid !== undefined) fs.writeFileSync(spec.pidPath, `${child.pid}\n`);
    return child;
  } finally {
    fs.closeSync(out);
  }
}

/** The pid in pidPath if that process is still a linerate-dp. */
export function runningDataplanePid(spec: SpawnSpec): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(spec.pidPath, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!(pid > 0)) return undefined;
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.split('\0')[0] === spec.binary || cmd.includes('linerate-dp') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Last lines of the dataplane log, for error messages. */
export function logTail(logPath: string, lines = 15): string {
  try {
    return fs.readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
