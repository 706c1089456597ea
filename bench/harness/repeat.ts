// SPDX-License-Identifier: BSD-3-Clause
// When a trial is run again (pure: the trial is a callback). A trial
// during which the hypervisor stole more than the limit of a CPU we use
// (steal, from /proc/stat), or other processes used more than their limit
// (/proc/*/stat), or a closed loop that barely moved (a stalled memif
// connection), is repeated at once, so that it stays next to its partner
// in a pair. Repeats are bounded per trial and per run; when they run out,
// the least disturbed attempt is kept and counted as disturbed. Every
// repeat is counted by its reason, for the report. (The caller may wait
// for the other processes to go quiet before a repeat: onRepeat.)

/** What was seen during one attempt. */
export interface Disturbance {
  /** % of a used CPU's time stolen by the hypervisor (the worst of the CPUs the trial uses) */
  steal: number;
  /** CPU used by processes outside the bench, % of one CPU */
  others: number;
  /** closed loop under the stall threshold */
  stalled: boolean;
}

export interface RepeatLimits {
  /** steal above this (%) repeats the trial */
  stealLimit: number;
  /** others' CPU above this (% of one CPU) repeats the trial */
  othersLimit: number;
  /** repeats of one trial at most */
  retries: number;
}

export type RepeatReason = 'steal' | 'others' | 'stalled';

/**
 * A closed loop under this bit rate (frames x 8 bits, FCS included) is a
 * stalled memif connection (it forwards next to nothing: ~0.01 Mpps), not a
 * slow one: 0.25 Mpps at 64B, 0.01 Mpps at 1518B. (An absolute 1 Mpps
 * took the slow mode of large frames, ~0.8 Mpps at 1518B, for a stall.)
 */
export const STALLED_GBPS = 0.125;

export function stalledLoop(frameBytes: number, mpps: number): boolean {
  return (mpps * frameBytes * 8) / 1000 < STALLED_GBPS;
}

/** Why this attempt must be repeated, or null if it can be kept. */
export function repeatReason(d: Disturbance, l: RepeatLimits): RepeatReason | null {
  if (d.stalled) return 'stalled';
  if (d.steal > l.stealLimit) return 'steal';
  if (d.others > l.othersLimit) return 'others';
  return null;
}

/** How disturbed an attempt was, relative to the limits (lower is better; stalled is worst). */
export function disturbanceScore(d: Disturbance, l: RepeatLimits): number {
  if (d.stalled) return Infinity;
  return Math.max(d.steal / Math.max(l.stealLimit, 1e-9), d.others / Math.max(l.othersLimit, 1e-9));
}

/** Repeats left for the whole run, and the count of repeats by reason. */
export class RepeatBudget {
  readonly byReason: Record<RepeatReason, number> = { steal: 0, others: 0, stalled: 0 };
  /** trials kept although disturbed (retries or budget spent) */
  disturbed = 0;

  constructor(readonly total: number) {}

  get used(): number {
    return this.byReason.steal + this.byReason.others + this.byReason.stalled;
  }

  get left(): number {
    return Math.max(0, this.total - this.used);
  }
}

export interface Repeated<T> {
  kept: T;
  /** every attempt, in order (the kept one among them) */
  attempts: T[];
  /** reasons of the repeats, in order */
  reasons: RepeatReason[];
  /** kept although it would have been repeated */
  disturbed: boolean;
}

/**
 * Runs `attempt` until an attempt can be kept, or the retries of this
 * trial or the run's budget are spent (then the least disturbed is kept).
 * A stalled attempt is never kept while another exists.
 */
export async function withRepeats<T extends Disturbance>(attempt: (n: number) => Promise<T>, l: RepeatLimits, budget: RepeatBudget,
  onRepeat?: (t: T, why: RepeatReason) => void | Promise<void>): Promise<Repeated<T>> {
  const attempts: T[] = [];
  const reasons: RepeatReason[] = [];
  for (let n = 0; ; n++) {
    const t = await attempt(n);
    attempts.push(t);
    const why = repeatReason(t, l);
    if (!why) return { kept: t, attempts, reasons, disturbed: false };
    if (n >= l.retries || budget.left === 0) break;
    budget.byReason[why]++;
    reasons.push(why);
    await onRepeat?.(t, why);
  }
  const kept = attempts.reduce((a, b) => (disturbanceScore(b, l) < disturbanceScore(a, l) ? b : a));
  budget.disturbed++;
  return { kept, attempts, reasons, disturbed: true };
}
