// SPDX-License-Identifier: BSD-3-Clause
// What a run measures and for how long: --quick (about 3 minutes with the
// build) or the full run (about 15). Closed-loop figures are taken in
// pairs (pairs.ts): each rule says how many pairs at least, how many at
// most, and how wide a spread of per-pair ratios asks for another pair.
// Pure.

import type { PairRule } from './pairs';

export interface Plan {
  mode: 'quick' | 'full';
  /** closed-loop maximum at 64B: trial length (s) and pairs (linerate with each reference) */
  maxSeconds: number;
  maxPairs: PairRule;
  /** the other frame sizes: trial length (s) and pairs */
  sweepSeconds: number;
  sweepPairs: PairRule;
  /** frame sizes of the sweep (64 first) */
  sizes: number[];
  /** flows of the main traffic (to 198.18.1.0/24) */
  mainFlows: number;
  warmup: number;
  /** RFC 2544 search: trial length, relative resolution, trial budget per search */
  searchSeconds: number;
  searchResolution: number;
  searchMaxTrials: number;
  /** re-runs that confirm a failing search trial */
  searchConfirm: number;
  /**
   * A trial during which the hypervisor stole more than stealLimit % of a
   * CPU we use, or other processes used more than noiseLimit % of a CPU,
   * is run again at once, up to noiseRetries times (the least disturbed
   * run is kept), within a budget of noiseBudget re-runs for the run.
   */
  stealLimit: number;
  noiseLimit: number;
  /** before a repeat for others' CPU, wait up to this long (s) for them to go quiet */
  quietWaitS: number;
  noiseRetries: number;
  noiseBudget: number;
  /** also search NDR/PDR and measure latency for the reference forwarders */
  referenceSearch: boolean;
  latencySeconds: number;
  /** table sizes of the scale test, its traffic flows, trial length and pairs with testpmd io at each size */
  scaleRoutes: number[];
  scaleFlows: number;
  scaleSeconds: number;
  scalePairs: PairRule;
  /** route add: updates per gRPC call (the headline figure and the scale installs) */
  routeBatch: number;
  /** other batch sizes to time the 1M-route add with (full run) */
  routeBatchSweep: number[];
  /** churn: routes/s asked, updates per Write, distinct routes churned, length (s) */
  churnRate: number;
  churnBatch: number;
  churnRoutes: number;
  churnSeconds: number;
  /** --compare: routes the head and the base add in turn (pairs of timed adds), and whether the 1M-route traffic is compared too */
  compareRoutes: number;
  comparePairs: PairRule;
  compareScale: boolean;
}

export function makePlan(quick: boolean): Plan {
  const common = {
    mainFlows: 256,
    warmup: 0.3,
    scaleRoutes: [1, 1000, 100_000, 1_000_000],
    scaleFlows: 65536,
    routeBatch: 8192,
    churnRate: 100_000,
    churnBatch: 5000,
    churnRoutes: 5000,
    searchConfirm: 1,
    stealLimit: 5,
    noiseLimit: 10,
    noiseRetries: 2,
  };
  return quick
    ? {
      ...common,
      mode: 'quick',
      maxSeconds: 0.7,
      maxPairs: { minPairs: 4, maxPairs: 7, maxSpread: 0.1 },
      sweepSeconds: 0.7,
      sweepPairs: { minPairs: 2, maxPairs: 3, maxSpread: 0.15 },
      sizes: [64, 512, 1518],
      searchSeconds: 1,
      searchResolution: 0.03,
      searchMaxTrials: 8,
      referenceSearch: false,
      latencySeconds: 1,
      scaleSeconds: 0.7,
      scalePairs: { minPairs: 1, maxPairs: 2, maxSpread: 0.15 },
      churnSeconds: 3,
      routeBatchSweep: [],
      noiseBudget: 16,
      quietWaitS: 5,
      compareRoutes: 100_000,
      comparePairs: { minPairs: 3, maxPairs: 5, maxSpread: 0.1 },
      compareScale: false,
    }
    : {
      ...common,
      mode: 'full',
      maxSeconds: 3,
      maxPairs: { minPairs: 7, maxPairs: 13, maxSpread: 0.08 },
      sweepSeconds: 1.5,
      sweepPairs: { minPairs: 3, maxPairs: 5, maxSpread: 0.1 },
      sizes: [64, 128, 256, 512, 1024, 1280, 1518],
      searchSeconds: 3,
      searchResolution: 0.01,
      searchMaxTrials: 14,
      referenceSearch: true,
      latencySeconds: 5,
      scaleSeconds: 2,
      scalePairs: { minPairs: 3, maxPairs: 5, maxSpread: 0.1 },
      churnSeconds: 10,
      routeBatchSweep: [1024, 65536],
      noiseBudget: 80,
      quietWaitS: 20,
      compareRoutes: 1_000_000,
      comparePairs: { minPairs: 3, maxPairs: 5, maxSpread: 0.08 },
      compareScale: true,
    };
}

/** Progress steps of a plan (one per phase the runner announces). */
export function planSteps(p: Plan, refs: number): number {
  const starts = refs + 1;
  const sizes = p.sizes.length; // each size in pairs, all forwarders together
  const search = 2; // NDR/PDR, latency
  const refSteps = p.referenceSearch ? refs * search : 0;
  const linerate = search + p.scaleRoutes.length + 2; // search, latency, scale steps, route add, churn
  return starts + sizes + refSteps + linerate;
}

/** Progress steps of a --compare run: starts, 64B pairs, route add pairs (and the 1M-route traffic). */
export function compareSteps(p: Plan, refs: number): number {
  return refs + 2 + 1 + 1 + (p.compareScale ? 1 : 0);
}
