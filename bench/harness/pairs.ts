// SPDX-License-Identifier: BSD-3-Clause
// Paired, interleaved trials (pure: the trial is a callback). This host
// flips between a fast and a slow mode for seconds at a time, for every
// forwarder alike, so a figure per forwarder taken in its own block of
// trials compares one forwarder's fast spell with another's slow one. Here
// a ratio is measured in pairs instead: the subject (linerate) and the
// reference run back to back, in an order drawn at random for each pair,
// and the ratio reported is the median of the per-pair ratios, with its
// spread (quartiles). While the spread is wide, more pairs are taken.

import { median, percentile } from './mathx';

/** One kept trial of a forwarder, as the pairing needs it. */
export interface Sample {
  forwarder: string;
  /** forwarded rate, or for control-plane pairs the routes/s (any "higher is better" figure) */
  value: number;
  /** busy cycles per packet from the forwarder's own counters (linerate), else null */
  cpp?: number | null;
  /** seconds since the run started, when the trial began */
  t?: number;
}

export interface Pair<S extends Sample = Sample> {
  subject: S;
  reference: S;
  /** which of the two ran first */
  first: 'subject' | 'reference';
  /** subject.value / reference.value */
  ratio: number;
}

/** Median of per-pair ratios and how far they spread. */
export interface RatioSummary {
  pairs: number;
  median: number;
  /** first and third quartiles */
  p25: number;
  p75: number;
  min: number;
  max: number;
  /** (p75 - p25) / median: the relative interquartile range, 0 for one pair */
  spread: number;
}

export function summarize(ratios: readonly number[]): RatioSummary {
  if (!ratios.length) throw new Error('no pairs to summarize');
  const m = median(ratios);
  const p25 = percentile(ratios, 25);
  const p75 = percentile(ratios, 75);
  return {
    pairs: ratios.length, median: m, p25, p75, min: Math.min(...ratios), max: Math.max(...ratios),
    spread: ratios.length > 1 && m > 0 ? (p75 - p25) / m : 0,
  };
}

/** How many pairs a comparison takes: at least min, more while the spread is wide, never beyond max. */
export interface PairRule {
  minPairs: number;
  maxPairs: number;
  /** wider than this relative interquartile range: take another pair (up to maxPairs) */
  maxSpread: number;
}

export function needMorePairs(ratios: readonly number[], rule: PairRule): boolean {
  if (ratios.length < rule.minPairs) return true;
  if (ratios.length >= rule.maxPairs) return false;
  return summarize(ratios).spread > rule.maxSpread;
}

/** A small seeded PRNG (mulberry32): the pair orders of a run are reproducible from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In place Fisher-Yates shuffle with `rng`. */
export function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** A comparison: the subject's figure over the reference's. */
export interface Comparison<F> {
  subject: F;
  reference: F;
}

export interface PairedRun<F, S extends Sample> {
  comparison: Comparison<F>;
  pairs: Pair<S>[];
  summary: RatioSummary | null;
}

export interface PairOptions<F, S extends Sample> {
  rule: PairRule;
  rng: () => number;
  /** one kept trial of `f` (the repeat logic lives inside it); `pair` counts the comparison's pairs from 1 */
  measure: (f: F, role: 'subject' | 'reference', c: Comparison<F>, pair: number) => Promise<S>;
  /** false: stop taking pairs (interrupted, time budget spent) */
  keepGoing?: () => boolean;
  /** called after every pair */
  onPair?: (c: Comparison<F>, p: Pair<S>, sofar: readonly number[]) => void;
}

/**
 * Measures every comparison in pairs. Rounds go over the comparisons that
 * still need pairs, in a shuffled order; within a pair the two trials run
 * back to back, the first drawn at random. A comparison stops when the
 * rule is satisfied; the whole run stops when none needs more pairs.
 */
export async function measurePairs<F, S extends Sample>(comparisons: readonly Comparison<F>[], o: PairOptions<F, S>): Promise<PairedRun<F, S>[]> {
  const runs: PairedRun<F, S>[] = comparisons.map((comparison) => ({ comparison, pairs: [], summary: null }));
  const ratiosOf = (r: PairedRun<F, S>): number[] => r.pairs.map((p) => p.ratio);
  for (;;) {
    const due = runs.filter((r) => needMorePairs(ratiosOf(r), o.rule));
    if (!due.length || (o.keepGoing && !o.keepGoing())) break;
    for (const r of shuffle(due, o.rng)) {
      if (o.keepGoing && !o.keepGoing()) break;
      const c = r.comparison;
      const first = o.rng() < 0.5 ? 'subject' : 'reference';
      let subject: S;
      let reference: S;
      const n = r.pairs.length + 1;
      if (first === 'subject') {
        subject = await o.measure(c.subject, 'subject', c, n);
        reference = await o.measure(c.reference, 'reference', c, n);
      } else {
        reference = await o.measure(c.reference, 'reference', c, n);
        subject = await o.measure(c.subject, 'subject', c, n);
      }
      const p: Pair<S> = { subject, reference, first, ratio: reference.value > 0 ? subject.value / reference.value : 0 };
      r.pairs.push(p);
      o.onPair?.(c, p, ratiosOf(r));
    }
  }
  for (const r of runs) r.summary = r.pairs.length ? summarize(ratiosOf(r)) : null;
  return runs;
}

/**
 * The ratio the old method reported: each forwarder's median over its own
 * trials (taken in a block), one over the other. Kept to show, on
 * recorded series, where it goes wrong.
 */
export function ratioOfMedians(subject: readonly number[], reference: readonly number[]): number {
  return median(subject) / median(reference);
}

/** A trial as the trial log records it (results.ts TrialRecord, the fields the pairing needs). */
export interface LoggedTrial {
  t: number;
  forwarder: string;
  case: string;
  mpps: number;
  cpp: number | null;
  repeated: string | null;
  /** "subject/reference#n" for a trial taken as part of a pair */
  pair?: string | null;
}

/**
 * The pairs of one comparison in a recorded trial series: the kept trials
 * of `caseName` in time order, grouped by their `pair` tag where the log
 * has one; else (older logs) a subject trial and a reference trial that
 * follow each other, in either order. Re-derives the ratios of a run from
 * its trials_log.
 */
export function pairsFromSeries(series: readonly LoggedTrial[], caseName: string, subject: string, reference: string): Pair[] {
  const kept = series.filter((x) => x.case === caseName && x.repeated === null).sort((a, b) => a.t - b.t);
  const out: Pair[] = [];
  const asSample = (x: LoggedTrial): Sample => ({ forwarder: x.forwarder, value: x.mpps, cpp: x.cpp, t: x.t });
  if (kept.some((x) => x.pair)) {
    const tag = `${subject}/${reference}#`;
    const groups = new Map<string, LoggedTrial[]>();
    for (const x of kept) if (x.pair?.startsWith(tag)) groups.set(x.pair, [...(groups.get(x.pair) ?? []), x]);
    for (const g of groups.values()) {
      const s = g.find((x) => x.forwarder === subject);
      const r = g.find((x) => x.forwarder === reference);
      if (!s || !r) continue;
      out.push({ subject: asSample(s), reference: asSample(r), first: s.t < r.t ? 'subject' : 'reference', ratio: s.mpps / r.mpps });
    }
    return out;
  }
  for (let i = 0; i + 1 < kept.length; i++) {
    const a = kept[i];
    const b = kept[i + 1];
    const pair = (a.forwarder === subject && b.forwarder === reference) ? { s: a, r: b, first: 'subject' as const }
      : (a.forwarder === reference && b.forwarder === subject) ? { s: b, r: a, first: 'reference' as const } : null;
    if (!pair) continue;
    out.push({ subject: asSample(pair.s), reference: asSample(pair.r), first: pair.first, ratio: pair.s.mpps / pair.r.mpps });
    i++; // a trial belongs to one pair
  }
  return out;
}

/**
 * The two modes of a bimodal series: the threshold between them, or null
 * when the values form one mode. Two-means on log values (the split of the
 * sorted values with the largest between-class variance); bimodal when
 * the two classes' geometric means differ by at least `minRatio` x. On this
 * host the fast and the slow mode differ by ~2x for every forwarder, trials
 * within a mode scatter by a few %, and a trial during which the mode
 * flipped lands in between (and in the nearer class).
 */
export function modeThreshold(values: readonly number[], minRatio = 1.6): number | null {
  const s = values.filter((v) => v > 0).sort((a, b) => a - b);
  if (s.length < 2) return null;
  const l = s.map(Math.log);
  const total = l.reduce((a, b) => a + b, 0);
  let best = -1;
  let at = 0;
  let left = 0;
  for (let k = 1; k < l.length; k++) {
    left += l[k - 1];
    const mLo = left / k;
    const mHi = (total - left) / (l.length - k);
    const between = k * (l.length - k) * (mHi - mLo) ** 2;
    if (between > best) {
      best = between;
      at = k;
    }
  }
  const lo = l.slice(0, at).reduce((a, b) => a + b, 0) / at;
  const hi = l.slice(at).reduce((a, b) => a + b, 0) / (l.length - at);
  return Math.exp(hi - lo) >= minRatio ? Math.sqrt(s[at - 1] * s[at]) : null;
}

/** Share of values in the fast mode (1 when there is one mode). */
export function fastShare(values: readonly number[], threshold: number | null): number {
  if (!values.length) return 0;
  return threshold === null ? 1 : values.filter((v) => v > threshold).length / values.length;
}

/**
 * Ratios of the pairs whose two trials fell in the same mode (each
 * forwarder's mode told by its own threshold): the pairs a mode flip
 * between the two trials did not decide.
 */
export function sameModeRatios(pairs: readonly Pair[], subjectThreshold: number | null, referenceThreshold: number | null): number[] {
  const fast = (v: number, t: number | null): boolean => t === null || v > t;
  return pairs.filter((p) => fast(p.subject.value, subjectThreshold) === fast(p.reference.value, referenceThreshold)).map((p) => p.ratio);
}

export interface ModeDiagnostics {
  /** ratios of the pairs whose two trials fell in the same mode; null when a side's mode cannot be told */
  sameMode: number[] | null;
  /** each side's share of fast trials; null for a side whose trials form one mode (fast or slow: unknown) */
  fastShare: { subject: number | null; reference: number | null };
}

/**
 * Mode diagnostics of a comparison: each side's trials (of this case)
 * split by their own threshold. Which mode a side in one mode is in cannot
 * be told from its own trials, so the same-mode ratios need both sides
 * bimodal.
 */
export function modeDiagnostics(pairs: readonly Pair[], subjectValues: readonly number[], referenceValues: readonly number[]): ModeDiagnostics {
  const ts = modeThreshold(subjectValues);
  const tr = modeThreshold(referenceValues);
  return {
    sameMode: ts !== null && tr !== null ? sameModeRatios(pairs, ts, tr) : null,
    fastShare: {
      subject: ts === null ? null : fastShare(pairs.map((p) => p.subject.value), ts),
      reference: tr === null ? null : fastShare(pairs.map((p) => p.reference.value), tr),
    },
  };
}
