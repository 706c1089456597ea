// SPDX-License-Identifier: BSD-3-Clause
// What the run ran on, and how noisy the machine was: the bench shares two
// cores with whatever else runs, so the report names the other processes
// that used CPU while it ran (sampled from /proc, our own process tree
// excluded).

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Machine, Noise } from './results';

export function machineInfo(tscHz: number | null): Machine {
  let dpdk = 'unknown';
  try {
    dpdk = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed: reported as unknown */
  }
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    tsc_hz: tscHz,
    kernel: os.release(),
    node: process.version,
    dpdk,
  };
}

interface ProcSample { comm: string; ppid: number; ticks: number }

function sample(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' '); // f[0] = state (field 3)
      out.set(Number(d), { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** A /proc snapshot to measure other processes' CPU use from. */
export interface CpuMark { at: number; procs: Map<number, ProcSample> }

export function cpuMark(): CpuMark {
  return { at: Date.now(), procs: sample() };
}

/** CPU used by processes outside our tree since `m`, in % of one CPU. */
export function othersPercentSince(m: CpuMark): number {
  const now = sample();
  const secs = Math.max(0.05, (Date.now() - m.at) / 1000);
  let ticks = 0;
  for (const [pid, e] of now) {
    const p = m.procs.get(pid);
    if (!p || p.comm !== e.comm || pid === process.pid || isOurs(pid, now)) continue;
    ticks += Math.max(0, e.ticks - p.ticks);
  }
  return (ticks / 100 / secs) * 100;
}

/** Other processes that used >= minPercent of a CPU over the last `ms`. */
export async function busyOthers(ms = 1000, minPercent = 15): Promise<{ pid: number; comm: string; cpu_percent: number }[]> {
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  const out: { pid: number; comm: string; cpu_percent: number }[] = [];
  for (const [pid, e] of b) {
    const p = a.get(pid);
    if (!p || pid === process.pid || isOurs(pid, b)) continue;
    const pct = ((e.ticks - p.ticks) / 100 / (ms / 1000)) * 100;
    if (pct >= minPercent) out.push({ pid, comm: e.comm, cpu_percent: Math.round(pct) });
  }
  return out;
}

function isOurs(pid: number, s: Map<number, ProcSample>): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === process.pid) return true;
    const e = s.get(p);
    if (!e) return false;
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
      if (!p || p.comm !== c.comm || isOurs(pid, cur)) continue;
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
