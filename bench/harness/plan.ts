// SPDX-License-Identifier: BSD-3-Clause
// What a run measures and for how long: --quick (under 3 minutes with the
// build) or the full run (under 20). Pure.

export interface Plan {
  mode: 'quick' | 'full';
  /** closed-loop maximum: trial length (s); 64B rounds over the forwarders (median reported) */
  maxSeconds: number;
  maxTrials: number;
  /** trials per case for sizes other than 64B */
  sweepTrials: number;
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
   * A trial during which other processes used more than noiseLimit % of a
   * CPU is run again, up to noiseRetries times (the least disturbed run is
   * kept), within a budget of noiseBudget re-runs for the whole run.
   */
  noiseLimit: number;
  noiseRetries: number;
  noiseBudget: number;
  /** also search NDR/PDR and measure latency for the reference forwarders */
  referenceSearch: boolean;
  latencySeconds: number;
  /** table sizes of the scale test, its traffic flows, trial length and trials per pass (two passes) */
  scaleRoutes: number[];
  scaleFlows: number;
  scaleSeconds: number;
  scaleTrials: number;
  /** route add: updates per gRPC call (the headline figure and the scale installs) */
  routeBatch: number;
  /** other batch sizes to time the 1M-route add with (full run) */
  routeBatchSweep: number[];
  /** churn: routes/s asked, updates per Write, distinct routes churned, length (s) */
  churnRate: number;
  churnBatch: number;
  churnRoutes: number;
  churnSeconds: number;
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
    noiseLimit: 10,
    noiseRetries: 2,
  };
  return quick
    ? {
      ...common,
      mode: 'quick',
      maxSeconds: 0.7,
      maxTrials: 5,
      sweepTrials: 1,
      sizes: [64, 512, 1518],
      searchSeconds: 1,
      searchResolution: 0.03,
      searchMaxTrials: 8,
      referenceSearch: false,
      latencySeconds: 1,
      scaleSeconds: 0.7,
      scaleTrials: 1,
      churnSeconds: 3,
      routeBatchSweep: [],
      noiseBudget: 8,
    }
    : {
      ...common,
      mode: 'full',
      maxSeconds: 3,
      maxTrials: 7,
      sweepTrials: 3,
      sizes: [64, 128, 256, 512, 1024, 1280, 1518],
      searchSeconds: 3,
      searchResolution: 0.01,
      searchMaxTrials: 14,
      referenceSearch: true,
      latencySeconds: 5,
      scaleSeconds: 2,
      scaleTrials: 2,
      churnSeconds: 10,
      routeBatchSweep: [1024, 65536],
      noiseBudget: 40,
    };
}

/** Progress steps of a plan (one per phase the runner announces). */
export function planSteps(p: Plan, refs: number): number {
  const perFwdMax = p.sizes.length;
  const search = 2; // NDR/PDR, latency
  const sweep = perFwdMax - 1; // 64B is measured in rounds
  const rounds = p.maxTrials;
  // start, sizes (, search, latency); testpmd also runs the scale traffic
  const refSteps = refs * (1 + sweep + (p.referenceSearch ? search : 0)) + (refs > 0 ? 1 : 0);
  const linerate = 1 + sweep + search + 2 * p.scaleRoutes.length + 2; // start, sizes, search, latency, scale x 2 passes, route add, churn
  return rounds + refSteps + linerate;
}
