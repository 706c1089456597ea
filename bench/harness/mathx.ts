// SPDX-License-Identifier: BSD-3-Clause
// Small numeric helpers of the harness (pure): medians, percentiles,
// ratios and unit conversions.

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Percentile p (0..100) by linear interpolation between closest ranks
 * (the "R-7" definition, as numpy's default).
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of nothing');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} outside 0..100`);
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * (p / 100);
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** Relative spread of trials: (max - min) / median, 0 for one trial. */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = median(xs);
  return m === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / m;
}

/** a / b, or null when either is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** Bit rate in Gbit/s of `mpps` frames of `frameBytes` (FCS included). */
export function gbps(mpps: number, frameBytes: number): number {
  return (mpps * 1e6 * frameBytes * 8) / 1e9;
}

/** Rounds to `digits` significant digits (for stable JSON). */
export function sig(x: number, digits = 4): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}
