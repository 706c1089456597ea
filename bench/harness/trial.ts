// SPDX-License-Identifier: BSD-3-Clause
// One trial = one linerate-pktgen run against the forwarder that holds the
// memif servers: it connects, waits for the forwarder to see the link,
// sends for a fixed time (closed loop, or paced at a fixed rate), drains
// and reports. This module turns its JSON into the figures the harness
// uses, and reads the steal time of the two CPUs over the trial's steady
// window (/proc/stat at the progress lines); lossOf() is the pure part.

import { type PktgenProgress, type PktgenResult, type PktgenRun, runPktgen } from '../lib/pktgen';
import { type CpuTimes, readProcStat, stealPercent } from './machine';
import { type Latency } from './results';
import type { Trial } from './search';
import { FWD_CPU, FWD_MAC, GEN_CPU, type Topology } from './topology';

export interface Traffic {
  /** frame size with FCS */
  size: number;
  flows: number;
  /** first destination; flow i adds i to it (and to the source) */
  dst: string;
  /** RX queues the generator reads on its RX port (a memif client: one ring per forwarder TX queue); default 1 */
  rxQueues?: number;
}

export interface TrialSpec extends Traffic {
  /** offered rate; null = closed loop (retry refused bursts: the maximum rate) */
  rateMpps: number | null;
  /** steady window, s */
  seconds: number;
  /** excluded from rates and latency (not from loss), s */
  warmup: number;
}

export interface TrialOutcome extends Trial {
  spec: TrialSpec;
  /** received back by the generator over the steady window, Mpps */
  mpps: number;
  /** sent over the steady window, Mpps */
  txMpps: number;
  /** generator could not offer the asked rate although nothing pushed back */
  genLimited: boolean;
  latency: Latency;
  raw: PktgenResult;
  /** CPU other processes used during the trial, % of one CPU (set by the runner) */
  othersCpu: number;
  /** steal over the steady window, % of the worse of the two CPUs (generator, forwarder) */
  steal: number;
  /** Date.now() when the trial started */
  startedAt: number;
}

/** Burst of the generator: its pacing is per burst, so offered counts are exact to one burst. */
export const BURST = 64;
/** memif ring size (the PMD's default, 2^10), the forwarder's RX ring */
export const RING = 1024;
/** Wait after link up before the first frame: linerate polls link state every 100 ms. */
export const START_DELAY_MS = Number(process.env.LRP_START_DELAY_MS ?? 300);

/**
 * Loss of one trial, RFC 2544 style: frames offered and not received back.
 * A memif ring that is full pushes back instead of dropping (the generator
 * resends the refused frames a moment later), so for a fixed rate a frame
 * also counts as lost when the generator could not hand it over in time:
 * the shortfall of frames accepted against rate x time, beyond what one
 * ring and one burst hold (frames that would still sit in a NIC's ring).
 * Short refusals the forwarder caught up with are not loss here (on a NIC
 * with the same 1024-descriptor ring they would be; they are reported as
 * `refused`). A shortfall with no refusal means the generator itself was
 * too slow (genLimited); it counts as loss too, so such a trial never
 * passes.
 */
export function lossOf(r: Pick<PktgenResult, 'tx' | 'rx' | 'loss' | 'config'>, ratePps: number | null): {
  lossPackets: number; lossRatio: number; genLimited: boolean;
} {
  const lost = Math.max(0, r.loss?.packets ?? r.tx.packets - r.rx.unique);
  if (ratePps === null) {
    return { lossPackets: lost, lossRatio: r.tx.packets ? lost / r.tx.packets : 0, genLimited: false };
  }
  const offered = ratePps * (r.config.warmup_s + r.tx.steady.seconds);
  const shortfall = Math.max(0, Math.round(offered - r.tx.packets - RING - BURST));
  const lossPackets = lost + shortfall;
  return {
    lossPackets,
    lossRatio: offered > 0 ? Math.min(1, lossPackets / offered) : 0,
    genLimited: shortfall > 0 && r.tx.refused === 0,
  };
}

export interface TrialHooks {
  onProgress?: (p: PktgenProgress) => void;
  /** how to start the generator (default: the host's linerate-pktgen; see PktgenRun.launch) */
  launch?: PktgenRun['launch'];
}

export async function runTrial(topo: Topology, spec: TrialSpec, hooks: TrialHooks = {}): Promise<TrialOutcome> {
  const args = [
    '--tx-port', topo.clientDev(0), '--rx-port', topo.clientDev(1),
    '--dst-mac', FWD_MAC[0],
    '--size', String(spec.size), '--flows', String(spec.flows), '--dst', spec.dst,
    '--burst', String(BURST), '--duration', String(spec.seconds), '--warmup', String(spec.warmup),
    '--start-delay-ms', String(START_DELAY_MS), '--progress', '250',
  ];
  if (spec.rxQueues && spec.rxQueues > 1) args.push('--rx-queues', String(spec.rxQueues));
  if (spec.rateMpps === null) args.push('--retry');
  else args.push('--rate-pps', String(Math.round(spec.rateMpps * 1e6)));
  // steal while traffic flows: /proc/stat at the first progress line (250 ms in) and at the last one
  // (one read of one file, cheap beside the generator's work; the /proc/*/stat scan stays outside the trial)
  const startedAt = Date.now();
  const whole = readProcStat();
  let first: Map<string, CpuTimes> | undefined;
  let last: Map<string, CpuTimes> | undefined;
  const { result } = await runPktgen({
    args,
    lcores: String(GEN_CPU),
    tag: topo.tag.replace(/^lrp-/, ''),
    timeoutMs: (spec.seconds + spec.warmup) * 1000 + 20_000,
    launch: hooks.launch,
    onProgress: (p) => {
      const now = readProcStat();
      if (first) last = now;
      else first = now;
      hooks.onProgress?.(p);
    },
  });
  const cpus = [GEN_CPU, FWD_CPU];
  const steal = first && last ? stealPercent(first, last, cpus) : stealPercent(whole, readProcStat(), cpus);
  const ratePps = spec.rateMpps === null ? null : Math.round(spec.rateMpps * 1e6);
  const loss = lossOf(result, ratePps);
  return {
    spec,
    rate: spec.rateMpps ?? 0,
    ...loss,
    mpps: result.rx.steady.mpps,
    txMpps: result.tx.steady.mpps,
    latency: result.latency_ns,
    raw: result,
    othersCpu: 0,
    steal,
    startedAt,
  };
}
