/**
 * Starting linerate-dp: its command line (EAL args, "--", app args) from the
 * config, and a detached spawn (own session, output to runDir/dataplane.log)
 * so that the dataplane outlives `linerate serve`, even a SIGKILLed one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Resolved } from '../config/schema';

export interface SpawnSpec {
  binary: string;
  args: string[];
  logPath: string;
  pidPath: string;
}

export function dataplaneArgs(r: Resolved): string[] {
  const c = r.config;
  const d = c.dataplane;
  const eal = ['-l', d.lcores];
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
  // The control socket belongs to whoever runs serve unless the config says otherwise.
  app.push('--ctl-uid', String(d.ctlUid ?? process.getuid?.() ?? 0));
  if (d.ctlGid !== undefined) app.push('--ctl-gid', String(d.ctlGid));
  app.push('--ctl-timeout-ms', String(d.ctlTimeoutMs), '--ctl-idle-timeout', String(d.ctlIdleTimeoutS));
  app.push('--icmp-rate', String(c.router.icmpRate));
  if (c.router.allowClassE) app.push('--allow-class-e');
  if (c.router.dropOwnSource) app.push('--drop-own-source');
  for (const p of c.ports) {
    app.push('--port', `${p.name}=${p.device}`);
    if (p.rxQueues !== undefined) app.push('--port-rxq', `${p.name}=${p.rxQueues}`);
    if (p.rpf !== 'off') app.push('--port-rpf', `${p.name}=${p.rpf}`);
  }
  return [...eal, '--', ...app];
}

export function spawnSpec(r: Resolved): SpawnSpec {
  return { binary: r.config.dataplane.binary, args: dataplaneArgs(r), logPath: r.logPath, pidPath: r.pidPath };
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
