// SPDX-License-Identifier: BSD-3-Clause
// The shape of bench/results/latest.json (and compare.json), and the pure
// logic on it: ratios to the reference forwarders (the median of per-pair
// ratios where the case was measured in pairs, see pairs.ts) and the
// targets the issue sets (reported, never asserted).

import type { CpuIdent } from './machine';
import { ratio } from './mathx';
import type { RatioSummary } from './pairs';

/** "linerate-base": linerate built from another revision (npm run bench -- --compare REV); "linerate-container": in a container (--container) */
export const FORWARDERS = ['linerate', 'linerate-base', 'linerate-container', 'testpmd-io', 'l3fwd-lpm'] as const;
export type ForwarderId = (typeof FORWARDERS)[number];
export const REFERENCES: readonly ForwarderId[] = ['testpmd-io', 'l3fwd-lpm'];
/** forwarders that are linerate (have its busy counters, get ratios) */
export const LINERATES: readonly ForwarderId[] = ['linerate', 'linerate-base', 'linerate-container'];

export const FORWARDER_LABEL: Record<ForwarderId, string> = {
  linerate: 'linerate (IPv4 LPM)',
  'linerate-base': 'linerate, base revision',
  'linerate-container': 'linerate in a container',
  'testpmd-io': 'dpdk-testpmd io',
  'l3fwd-lpm': 'DPDK l3fwd LPM',
};

/** A ratio measured in pairs: the summary of the per-pair ratios, and the ratios themselves (in the order taken). */
export interface PairedRatio extends RatioSummary {
  ratios: number[];
  /** pairs in which the subject ran first (the order is drawn per pair) */
  subject_first: number;
  /** subject's busy cycles per packet / the reference's, per pair (both linerate: --compare) */
  cpp_ratio?: { median: number; p25: number; p75: number; pairs: number } | null;
  /**
   * when either forwarder's trials were bimodal (a fast and a slow mode,
   * pairs.ts modeDiagnostics): the ratios of the pairs whose two trials
   * fell in the same mode (both sides bimodal, else null), and each side's
   * share of fast trials
   */
  same_mode?: { median: number; p25: number; p75: number; pairs: number } | null;
  /** null for a side whose trials formed one mode (which one cannot be told) */
  fast_share?: { subject: number | null; reference: number | null };
}

/** A forwarder's trials of one case split into the host's two modes (null figures: one mode). */
export interface ModeSplit {
  threshold_mpps: number | null;
  fast_share: number;
  fast_mpps: number | null;
  slow_mpps: number | null;
}

/** Latency percentiles in ns, as linerate-pktgen measures them (TSC stamps). */
export interface Latency {
  samples: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Tests: "max" = closed-loop maximum forwarding rate; "ndr"/"pdr" = RFC 2544
 * search; "latency-50" / "latency-90" = fixed load at that % of the NDR;
 * "scale" = closed-loop maximum with the scale traffic and `routes` routes.
 */
export type TestId = 'max' | 'ndr' | 'pdr' | 'latency-50' | 'latency-90' | 'scale';

export interface CaseResult {
  /** e.g. "max 64B linerate" */
  name: string;
  test: TestId;
  forwarder: ForwarderId;
  /** frame size in bytes, FCS included */
  frame_size: number;
  flows: number;
  /** routes installed (linerate scale cases), else null */
  routes: number | null;
  /** offered rate for fixed-rate cases, Mpps; null = closed loop */
  offered_mpps: number | null;
  /** forwarded rate (received back by the generator), Mpps: the median of `trials` */
  mpps: number;
  /** mpps x frame size x 8 */
  gbps: number;
  /** lost / offered, over the trial reported (null: not measured) */
  loss_ratio: number | null;
  loss_packets: number | null;
  latency_ns: Latency | null;
  /** Mpps of every trial (median reported) */
  trials: number[];
  /**
   * the best trial: noise on a shared host only ever slows a forwarder
   * down, so this is the least disturbed view (reported beside the median)
   */
  best_mpps: number;
  /** most CPU other processes used during one of its trials, % of one CPU */
  others_cpu_percent: number;
  /**
   * linerate's Mpps / the reference's for the same test and size: the
   * median of per-pair ratios where `paired` has the reference, else the
   * ratio of the two medians (ratio_method says which)
   */
  ratio: Partial<Record<ForwarderId, number | null>>;
  ratio_method?: Partial<Record<ForwarderId, 'paired' | 'medians'>>;
  /** per reference: the per-pair ratios of this case (paired cases only) */
  paired?: Partial<Record<ForwarderId, PairedRatio>>;
  /** the most steal seen in one of its kept trials, % of a CPU */
  steal_percent?: number;
  /** its trials split into the host's fast and slow mode */
  modes?: ModeSplit;
  /** trials of this case run again (steal, others, stalled) */
  repeats?: number;
  /** the same ratio of the best trials */
  ratio_best: Partial<Record<ForwarderId, number | null>>;
  /** busy TSC cycles / received packet, from linerate's own counters (StatsService) */
  cycles_per_packet: number | null;
  /** TSC Hz / forwarded pps: the whole forwarding core's time per packet (any forwarder) */
  core_cycles_per_packet: number | null;
  note?: string;
}

export interface RouteAddResult {
  routes: number;
  batch: number;
  /** gRPC calls only (requests encoded beforehand) */
  seconds: number;
  routes_per_s: number;
  /** client-side protobuf encoding of the same requests, timed apart */
  encode_seconds: number;
  /** routes / (seconds + encode_seconds): a client encoding on the same core */
  routes_per_s_with_encoding: number;
  /** the same add with other batch sizes (full run) */
  by_batch: { batch: number; seconds: number; routes_per_s: number }[];
  /** deleting them again, same batches */
  delete_seconds: number | null;
  deletes_per_s: number | null;
}

export interface ChurnResult {
  table_routes: number;
  churn_routes: number;
  batch: number;
  target_routes_per_s: number;
  achieved_routes_per_s: number;
  seconds: number;
  offered_mpps: number;
  ndr_mpps: number;
  /** what the generator managed to send (it shares its core with the control plane) */
  sent_mpps: number;
  /** received back */
  mpps: number;
  /** frames sent and not received back: lost in the forwarder */
  loss_packets: number;
  loss_ratio: number;
  /** frames the generator did not send in time (offered x time - sent): CPU contention or push-back */
  shortfall_packets: number;
  /** times the forwarder's full ring pushed back */
  refused: number;
  /** dataplane drop counters over the trial, by reason */
  drops: Record<string, number>;
  table_swaps: number;
  /** CPU other processes used meanwhile, % of one CPU */
  others_cpu_percent: number;
}

export interface TargetResult {
  name: string;
  value: number | null;
  /** for throughput ratios: the ratio of the best trials */
  value_best?: number | null;
  /** for paired ratios: quartiles of the per-pair ratios and how many pairs */
  spread?: { p25: number; p75: number; pairs: number } | null;
  unit: string;
  /** what it is compared to, e.g. "0.9 x testpmd io" */
  target: string;
  met: boolean | null;
}

export interface Machine {
  cpus: number;
  cpu_model: string;
  tsc_hz: number | null;
  kernel: string;
  node: string;
  dpdk: string;
  /** /proc/cpuinfo: vendor, family, model, the flags DPDK picks code paths by (AVX-512 or not) */
  cpu?: CpuIdent;
  cpu_description?: string;
  /** steal time the hypervisor took (/proc/stat) */
  steal?: StealSeen;
}

export interface StealSeen {
  /** over the whole run, % of each CPU's time */
  run_percent: Record<string, number>;
  /** over the trials (steady windows), worst CPU used: median and max */
  trial_median_percent: number | null;
  trial_max_percent: number | null;
  /** trials whose steal was above the limit (before their repeat) */
  trials_over_limit: number;
}

/** One trial as it ran, in time order (every attempt, kept or repeated): the raw series behind the figures. */
export interface TrialRecord {
  /** seconds since the run started, when the trial began */
  t: number;
  forwarder: ForwarderId;
  /** the case it belongs to, e.g. "max 64B" */
  case: string;
  /** forwarded Mpps (0 for a route add, which has routes_per_s) */
  mpps: number;
  routes_per_s?: number;
  /** linerate's busy cycles per packet over the trial */
  cpp: number | null;
  steal: number;
  others: number;
  /** why it was run again, or null if kept */
  repeated: 'steal' | 'others' | 'stalled' | null;
  /** "subject/reference#n" when the trial was part of a pair */
  pair?: string | null;
}

export interface Noise {
  loadavg_start: number[];
  loadavg_end: number[];
  /** other processes that used a lot of CPU while the bench ran */
  busy_others: { pid: number; comm: string; cpu_percent: number }[];
  /** trials run again because others used the CPUs, and disturbed trials kept (re-run budget spent) */
  reruns?: number;
  disturbed_trials?: number;
  /** repeats by reason, and the limits that triggered them */
  repeats?: { steal: number; others: number; stalled: number; budget: number };
  limits?: { steal_percent: number; others_percent: number; retries: number };
}

/** npm run bench -- --compare REV: linerate at REV ("base") against the working tree ("head"), interleaved in one run. */
export interface CompareInfo {
  /** as given on the command line */
  base_rev: string;
  base_commit: string;
  base_subject: string;
  /** the working tree: HEAD's commit, and whether it had changes */
  head_commit: string;
  head_dirty: boolean;
  /** seconds spent building the base revision */
  build_seconds: number;
  /** route add rate, head and base paired (routes/s) */
  route_add: {
    routes: number;
    batch: number;
    head_routes_per_s: number[];
    base_routes_per_s: number[];
    /** head / base, per pair */
    ratio: PairedRatio | null;
  } | null;
}

export interface BenchResults {
  schema: 2;
  mode: 'quick' | 'full';
  /** how ratios were measured: "paired" (interleaved pairs, median of per-pair ratios) */
  method: 'paired';
  /** seed of the pair orders (reproducible with --seed) */
  seed: number;
  compare?: CompareInfo;
  started_at: string;
  finished_at: string;
  duration_s: number;
  machine: Machine;
  noise: Noise;
  settings: Record<string, unknown>;
  references: Partial<Record<ForwarderId, { available: boolean; reason?: string }>>;
  cases: CaseResult[];
  route_add: RouteAddResult | null;
  churn: ChurnResult | null;
  /** forwarders that died during the run (and were restarted) */
  crashes: { forwarder: ForwarderId; during: string; how: string }[];
  targets: TargetResult[];
  errors: string[];
  /** every trial attempt in time order */
  trials_log?: TrialRecord[];
}

/** The reference case a linerate case is compared to (same test and size; scale cases to the reference's scale traffic). */
export function findReference(cases: readonly CaseResult[], c: CaseResult, ref: ForwarderId): CaseResult | undefined {
  return cases.find((r) => r.forwarder === ref && r.test === c.test && r.frame_size === c.frame_size && r.routes === null);
}

/**
 * Fills `ratio` of every linerate case: the median of its per-pair ratios
 * where it was measured in pairs with that reference, else (unpaired
 * cases: NDR, PDR, latency) the ratio of the medians of the same run.
 * The head of a --compare run is also compared with the base.
 */
export function fillRatios(cases: CaseResult[]): void {
  for (const c of cases) {
    if (!LINERATES.includes(c.forwarder)) continue;
    const refs = c.forwarder === 'linerate' ? [...REFERENCES, 'linerate-base' as const] : REFERENCES;
    c.ratio_method ??= {};
    for (const ref of refs) {
      const p = c.paired?.[ref];
      const r = findReference(cases, c, ref);
      if (ref === 'linerate-base' && !p && !r) continue;
      if (p) {
        c.ratio[ref] = p.median;
        c.ratio_method[ref] = 'paired';
      } else {
        c.ratio[ref] = r ? ratio(c.mpps, r.mpps) : null;
        if (r) c.ratio_method[ref] = 'medians';
      }
      c.ratio_best[ref] = r ? ratio(c.best_mpps, r.best_mpps) : null;
    }
  }
}

function caseOf(cases: readonly CaseResult[], f: ForwarderId, test: TestId, size: number, routes: number | null = null): CaseResult | undefined {
  return cases.find((c) => c.forwarder === f && c.test === test && c.frame_size === size && c.routes === routes);
}

/** The targets of the issue, each with its measured value (null: not measured). */
export function evaluateTargets(r: Pick<BenchResults, 'cases' | 'route_add' | 'churn'>): TargetResult[] {
  const lr64 = caseOf(r.cases, 'linerate', 'max', 64);
  const io64 = caseOf(r.cases, 'testpmd-io', 'max', 64);
  const l3 = caseOf(r.cases, 'l3fwd-lpm', 'max', 64);
  const scale = r.cases.filter((c) => c.forwarder === 'linerate' && c.test === 'scale' && c.routes !== null);
  const big = scale.length ? scale.reduce((a, b) => ((b.routes ?? 0) > (a.routes ?? 0) ? b : a)) : undefined;
  const ioScale = caseOf(r.cases, 'testpmd-io', 'scale', 64);
  const ge = (v: number | null, t: number): boolean | null => (v === null ? null : v >= t);

  // paired ratios where the cases were measured in pairs, else the ratio of the medians
  const vs = (c: CaseResult | undefined, ref: CaseResult | undefined, id: ForwarderId): number | null =>
    c?.paired?.[id]?.median ?? ratio(c?.mpps, ref?.mpps);
  const spreadOf = (c: CaseResult | undefined, id: ForwarderId): TargetResult['spread'] => {
    const p = c?.paired?.[id];
    return p ? { p25: p.p25, p75: p.p75, pairs: p.pairs } : null;
  };
  const vsIo = vs(lr64, io64, 'testpmd-io');
  const vsL3 = vs(lr64, l3, 'l3fwd-lpm');
  const vsIoBig = vs(big, ioScale, 'testpmd-io');
  const best = (a?: CaseResult, b?: CaseResult): number | null => ratio(a?.best_mpps, b?.best_mpps);
  const add = r.route_add ? r.route_add.routes_per_s : null;
  const churnLoss = r.churn ? r.churn.loss_packets : null;
  const bigName = big?.routes ? `${big.routes >= 1e6 ? `${big.routes / 1e6}M` : big.routes} routes` : '1M routes';
  return [
    { name: 'IPv4 LPM 64B Mpps vs testpmd io', value: vsIo, value_best: best(lr64, io64), spread: spreadOf(lr64, 'testpmd-io'), unit: 'x', target: '>= 0.9', met: ge(vsIo, 0.9) },
    { name: 'IPv4 LPM 64B Mpps vs l3fwd LPM', value: vsL3, value_best: best(lr64, l3), spread: spreadOf(lr64, 'l3fwd-lpm'), unit: 'x', target: '>= 1.0', met: ge(vsL3, 1.0) },
    { name: `64B Mpps with ${bigName} vs testpmd io`, value: vsIoBig, value_best: best(big, ioScale), spread: spreadOf(big, 'testpmd-io'), unit: 'x', target: '>= 0.8', met: ge(vsIoBig, 0.8) },
    { name: 'routes added over gRPC in batches', value: add, unit: 'routes/s', target: '>= 500000', met: ge(add, 500_000) },
    { name: 'loss during route churn at 50% NDR', value: churnLoss, unit: 'packets', target: '= 0', met: churnLoss === null ? null : churnLoss === 0 },
  ];
}
