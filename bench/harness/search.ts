// SPDX-License-Identifier: BSD-3-Clause
// RFC 2544 throughput search (pure: the trial is a callback). A binary
// search over the offered rate for the highest rate whose trial passes a
// loss criterion: zero loss for the NDR, loss <= 0.5 % for the PDR
// (RFC 2544 sec. 26.1; the PDR is the usual "partial drop rate" relaxation).
// Searches share their trials: every trial run so far is in `history`, and
// a later search starts from the tightest bracket the history allows, so
// the PDR search after the NDR costs only the steps between them.

export interface Trial {
  /** offered rate, Mpps */
  rate: number;
  /** frames lost / frames offered */
  lossRatio: number;
  /** frames lost (0 means a zero-loss trial) */
  lossPackets: number;
}

export interface Criterion {
  name: string;
  pass(t: Trial): boolean;
}

export const NDR: Criterion = { name: 'NDR', pass: (t) => t.lossPackets === 0 };
export const pdr = (maxLoss = 0.005): Criterion => ({ name: 'PDR', pass: (t) => t.lossRatio <= maxLoss });

export interface SearchOptions {
  /** highest rate worth offering, Mpps (e.g. the closed-loop maximum) */
  upper: number;
  /** stop when the bracket is narrower than resolution x its upper end */
  resolution: number;
  /** at most this many new trials for this search */
  maxTrials: number;
  /**
   * Re-run a failing rate up to this many times; it passes if any run
   * passes (a shared, noisy machine drops frames now and then for reasons
   * that are not the forwarder's; a real limit fails every time).
   */
  confirm?: number;
}

export interface SearchResult<T extends Trial> {
  criterion: string;
  /** highest passing rate, Mpps (0: none passed) */
  rate: number;
  /** the trial at that rate, if one was run */
  at: T | undefined;
  /** final bracket [passed, failed] */
  bracket: [number, number];
  /** trials this search ran (not counting reused ones) */
  trials: T[];
  /** true when the bracket reached the resolution */
  converged: boolean;
}

/**
 * The tightest [lo, hi] the history gives: lo passed, hi failed (or upper,
 * untested). A failure below a pass (noise) does not lower lo.
 */
export function bracket<T extends Trial>(c: Criterion, history: readonly T[], upper: number): { lo: number; at?: T; hi: number; hiTested: boolean } {
  let lo = 0;
  let at: T | undefined;
  for (const t of history) {
    if (t.rate <= upper && c.pass(t) && t.rate > lo) {
      lo = t.rate;
      at = t;
    }
  }
  let hi = upper;
  let hiTested = false;
  for (const t of history) {
    if (t.rate > lo && t.rate <= hi && !c.pass(t)) {
      hi = t.rate;
      hiTested = true;
    }
  }
  return { lo, at, hi, hiTested };
}

/**
 * Binary search for the highest rate passing `c`. Tries the upper rate
 * first (a forwarder that keeps up needs one trial), then halves the
 * bracket until it is narrower than the resolution or the trial budget is
 * spent; a failure is confirmed by `confirm` re-runs. New trials are
 * appended to `history`.
 */
export async function searchRate<T extends Trial>(
  c: Criterion,
  opts: SearchOptions,
  history: T[],
  runTrial: (rate: number) => Promise<T>,
): Promise<SearchResult<T>> {
  if (!(opts.upper > 0)) throw new Error(`search upper rate must be > 0, got ${opts.upper}`);
  const trials: T[] = [];
  const narrow = (lo: number, hi: number): boolean => hi - lo <= opts.resolution * hi;
  for (;;) {
    const b = bracket(c, history, opts.upper);
    if (b.lo >= opts.upper) return { criterion: c.name, rate: b.lo, at: b.at, bracket: [b.lo, b.lo], trials, converged: true };
    const done = b.hiTested && narrow(b.lo, b.hi);
    if (done || trials.length >= opts.maxTrials) {
      return { criterion: c.name, rate: b.lo, at: b.at, bracket: [b.lo, b.hi], trials, converged: done };
    }
    const rate = b.hiTested ? (b.lo + b.hi) / 2 : b.hi;
    for (let attempt = 0; ; attempt++) {
      const t = await runTrial(rate);
      if (t.rate !== rate) throw new Error(`trial answered for ${t.rate} Mpps, asked ${rate}`);
      trials.push(t);
      history.push(t);
      if (c.pass(t) || attempt >= (opts.confirm ?? 0) || trials.length >= opts.maxTrials) break;
    }
  }
}
