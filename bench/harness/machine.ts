// SPDX-License-Identifier: BSD-3-Clause
// What the run ran on, and how noisy the machine was: the bench shares two
// cores with whatever else runs, so the report names the CPU (model,
// family, the vector extensions DPDK picks code paths by), the steal time
// the hypervisor took (/proc/stat, per CPU) and the other processes that
// used CPU while it ran (sampled from /proc, our own process tree and
// the processes adopted with adoptProcesses excluded). parseProcStat, stealPercent and parseCpuinfo are pure.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Machine, Noise } from './results';

/** CPU flags worth naming: DPDK and the compiler (-march=native) choose code paths by them. */
export const NOTABLE_FLAGS = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512ifma', 'avx512vbmi', 'avx2', 'avx', 'sse4_2', 'aes', 'vaes',
  'vpclmulqdq', 'gfni', 'bmi2', 'rdseed', 'constant_tsc', 'nonstop_tsc', 'hypervisor'] as const;

export interface CpuIdent {
  vendor: string;
  model_name: string;
  family: number | null;
  model: number | null;
  stepping: number | null;
  /** the NOTABLE_FLAGS this CPU has */
  flags: string[];
  avx512: boolean;
  hypervisor: boolean;
}

/** The first processor of /proc/cpuinfo. */
export function parseCpuinfo(text: string): CpuIdent {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (k: string): string | undefined => first.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const num = (k: string): number | null => {
    const v = field(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  const all = new Set((field('flags') ?? '').split(/\s+/).filter(Boolean));
  const flags = NOTABLE_FLAGS.filter((f) => all.has(f));
  return {
    vendor: field('vendor_id') ?? 'unknown',
    model_name: (field('model name') ?? 'unknown').replace(/\s+/g, ' '),
    family: num('cpu family'),
    model: num('model'),
    stepping: num('stepping'),
    flags,
    avx512: all.has('avx512f'),
    hypervisor: all.has('hypervisor'),
  };
}

/** One line of the CPU identity, e.g. "AMD EPYC (AuthenticAMD family 25 model 1), no AVX-512 (avx2 vaes ...), under a hypervisor". */
export function describeCpu(c: CpuIdent): string {
  const vec = c.flags.filter((f) => f !== 'hypervisor' && f !== 'constant_tsc' && f !== 'nonstop_tsc');
  return `${c.model_name} (${c.vendor} family ${c.family ?? '?'} model ${c.model ?? '?'}), ` +
    `${c.avx512 ? 'AVX-512' : 'no AVX-512'} (${vec.join(' ') || 'no vector flags'})${c.hypervisor ? ', under a hypervisor' : ''}`;
}

export function machineInfo(tscHz: number | null, steal?: Machine['steal']): Machine {
  let dpdk = 'unknown';
  try {
    dpdk = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed: reported as unknown */
  }
  let cpu: CpuIdent | null = null;
  try {
    cpu = parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    /* no /proc/cpuinfo: model from os.cpus() only */
  }
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    tsc_hz: tscHz,
    kernel: os.release(),
    node: process.version,
    dpdk,
    ...(cpu ? { cpu, cpu_description: describeCpu(cpu) } : {}),
    ...(steal ? { steal } : {}),
  };
}

/** Jiffies of one CPU line of /proc/stat ("cpu" = all CPUs, "cpu0", ...). */
export interface CpuTimes { user: number; nice: number; system: number; idle: number; iowait: number; irq: number; softirq: number; steal: number; total: number }

/** The cpu lines of /proc/stat, by name ("cpu", "cpu0", ...). Steal is the 8th value; guest time is inside user already. */
export function parseProcStat(text: string): Map<string, CpuTimes> {
  const out = new Map<string, CpuTimes>();
  for (const line of text.split('\n')) {
    const m = line.match(/^(cpu\d*)\s+(.*)$/);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => v[i] ?? 0);
    out.set(m[1], { user, nice, system, idle, iowait, irq, softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal });
  }
  return out;
}

/** Steal between two /proc/stat readings, % of that CPU's time; the worst of `cpus` (null = the "cpu" total line). */
export function stealPercent(a: Map<string, CpuTimes>, b: Map<string, CpuTimes>, cpus: readonly number[] | null = null): number {
  const names = cpus === null ? ['cpu'] : cpus.map((c) => `cpu${c}`);
  let worst = 0;
  for (const n of names) {
    const x = a.get(n);
    const y = b.get(n);
    if (!x || !y) continue;
    const total = y.total - x.total;
    if (total > 0) worst = Math.max(worst, (100 * Math.max(0, y.steal - x.steal)) / total);
  }
  return worst;
}

export function readProcStat(): Map<string, CpuTimes> {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return new Map();
  }
}

interface ProcSample {
  comm: string;
  ppid: number;
  /** utime + stime */
  ticks: number;
  /** cutime + cstime: what its reaped children used (a compiler run that starts and ends inside a trial lands here) */
  cticks: number;
  /** start time, clock ticks after boot: tells a reused pid */
  start: number;
}

function sample(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' '); // f[0] = state (field 3)
      out.set(Number(d), { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cticks: Number(f[13]) + Number(f[14]), start: Number(f[19]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** A /proc snapshot to measure other processes' CPU use from. */
export interface CpuMark { at: number; procs: Map<number, ProcSample> }
export type { ProcSample };

export function cpuMark(): CpuMark {
  return { at: Date.now(), procs: sample() };
}

/**
 * CPU ticks used by processes outside our tree between two samples:
 * processes seen in both count their own and their reaped children's time
 * (a compiler that starts and ends inside a trial shows in its parent's
 * cutime), processes started since count all theirs, and processes gone
 * since give back what they had at the first sample (their parent's cutime
 * now holds it). Pure.
 */
export function othersTicks(a: ReadonlyMap<number, ProcSample>, b: ReadonlyMap<number, ProcSample>, self: number): number {
  const total = (x: ProcSample): number => x.ticks + x.cticks;
  let ticks = 0;
  for (const [pid, e] of b) {
    if (pid === self || isOurs(pid, b, self)) continue;
    const p = a.get(pid);
    ticks += p && p.start === e.start ? Math.max(0, total(e) - total(p)) : total(e);
  }
  for (const [pid, p] of a) {
    const e = b.get(pid);
    if (e && e.start === p.start) continue;
    if (pid === self || isOurs(pid, a, self)) continue;
    ticks -= total(p);
  }
  return Math.max(0, ticks);
}

/** CPU used by processes outside our tree since `m`, in % of one CPU. */
export function othersPercentSince(m: CpuMark): number {
  const now = sample();
  const secs = Math.max(0.05, (Date.now() - m.at) / 1000);
  return (othersTicks(m.procs, now, process.pid) / 100 / secs) * 100;
}

/**
 * Waits until other processes leave the CPUs alone for a moment: returns
 * after a `windowMs` window in which they used at most `limit` % of a CPU,
 * or after `maxMs`; the time waited.
 */
export async function waitForQuiet(limit: number, maxMs: number, windowMs = 500): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const m = cpuMark();
    await new Promise((r) => setTimeout(r, windowMs));
    if (othersPercentSince(m) <= limit) break;
  }
  return Date.now() - t0;
}

/** Other processes that used >= minPercent of a CPU over the last `ms`. */
export async function busyOthers(ms = 1000, minPercent = 15): Promise<{ pid: number; comm: string; cpu_percent: number }[]> {
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  const out: { pid: number; comm: string; cpu_percent: number }[] = [];
  for (const [pid, e] of b) {
    const p = a.get(pid);
    if (!p || pid === process.pid || isOurs(pid, b, process.pid)) continue;
    const pct = ((e.ticks - p.ticks) / 100 / (ms / 1000)) * 100;
    if (pct >= minPercent) out.push({ pid, comm: e.comm, cpu_percent: Math.round(pct) });
  }
  return out;
}

/**
 * Processes outside our tree that are ours all the same: the containers the
 * container bench runs (their processes descend from the private engine's
 * containerd-shim, not from the harness). A process is ours when it, or an
 * ancestor, is adopted. Null: only our own tree.
 */
let adopted: ((pid: number, comm: string) => boolean) | null = null;

/** Counts the processes `pred` names (and their descendants) as the run's own, not as others' CPU. */
export function adoptProcesses(pred: ((pid: number, comm: string) => boolean) | null): void {
  adopted = pred;
}

function isOurs(pid: number, s: ReadonlyMap<number, ProcSample>, self: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === self) return true;
    const e = s.get(p);
    if (!e) return false;
    if (adopted?.(p, e.comm)) return true;
    p = e.ppid;
  }
  return false;
}

/** CPU use of other processes over the run, from /proc samples taken between trials. */
export class NoiseMonitor {
  private readonly start = os.loadavg();
  private prev = sample();
  private readonly busy = new Map<number, { comm: string; ticks: number }>();
  private readonly t0 = Date.now();
  private readonly hz = 100; // USER_HZ on Linux
  private last = 0;

  /** Samples at most every `periodMs`; the caller ticks between trials (a /proc scan takes a few ms of the generator's core). */
  constructor(private readonly periodMs = 2000) {}

  /** Samples now if the last sample is older than the period. */
  maybeTick(): void {
    if (Date.now() - this.last >= this.periodMs) this.tick();
  }

  private tick(): void {
    this.last = Date.now();
    const cur = sample();
    for (const [pid, c] of cur) {
      const p = this.prev.get(pid);
      if (!p || p.comm !== c.comm || isOurs(pid, cur, process.pid)) continue;
      const d = c.ticks - p.ticks;
      if (d <= 0) continue;
      const b = this.busy.get(pid) ?? { comm: c.comm, ticks: 0 };
      b.ticks += d;
      this.busy.set(pid, b);
    }
    this.prev = cur;
  }

  /** Stops sampling; processes that used >= minPercent of one CPU on average. */
  finish(minPercent = 10): Noise {
    this.tick();
    const secs = Math.max(1, (Date.now() - this.t0) / 1000);
    const busy_others = [...this.busy.entries()]
      .map(([pid, b]) => ({ pid, comm: b.comm, cpu_percent: Math.round((b.ticks / this.hz / secs) * 1000) / 10 }))
      .filter((p) => p.cpu_percent >= minPercent)
      .sort((a, b) => b.cpu_percent - a.cpu_percent);
    const round = (xs: number[]): number[] => xs.map((x) => Math.round(x * 100) / 100);
    return { loadavg_start: round(this.start), loadavg_end: round(os.loadavg()), busy_others };
  }
}
