// SPDX-License-Identifier: BSD-3-Clause
// The measurements of a run on the resident forwarders (resident.ts): the
// closed-loop maximum by frame size and the scale steps in interleaved
// pairs (pairs.ts) of linerate and a reference, or of linerate and its
// base revision (--compare); RFC 2544 NDR/PDR, latency at 50/90 % of the
// NDR; for linerate the route add rate (paired head/base under --compare)
// and route churn. Every trial goes through the repeat rule (repeat.ts)
// and into the trial log.

import type { PktgenProgress } from '../lib/pktgen';
import { cyclesPerPacket, dropDelta, type Forwarder, Linerate, type LinerateCounters } from './forwarders';
import { cpuMark, othersPercentSince, readProcStat, stealPercent, waitForQuiet } from './machine';
import { gbps, median, sig } from './mathx';
import { type Comparison, fastShare, measurePairs, type ModeDiagnostics, modeDiagnostics, modeThreshold, type PairedRun, type PairRule, type Sample,
  summarize } from './pairs';
import type { Plan } from './plan';
import type { Progress } from './progress';
import { RepeatBudget, type RepeatLimits, repeatReason, stalledLoop, withRepeats } from './repeat';
import type { Resident } from './resident';
import type { CaseResult, ChurnResult, ForwarderId, PairedRatio, RouteAddResult, TestId, TrialRecord } from './results';
import { batches, churnPrefixes, diff, MAIN_TRAFFIC_DST, SCALE_TRAFFIC_DST, scalePlan } from './routes';
import { NDR, pdr, searchRate, type SearchResult } from './search';
import { FWD_CPU, GEN_CPU } from './topology';
import { runTrial, type TrialOutcome, type TrialSpec, type Traffic } from './trial';

/** A kept closed-loop trial: the outcome, linerate's busy cycles per packet over it, how many times it was repeated. */
export interface Run {
  t: TrialOutcome;
  cpp: number | null;
  repeats: number;
}

interface RunSample extends Sample {
  run: Run;
}

/** Summary of a paired run for the results (ratios rounded for the JSON). */
export function pairedRatio(r: PairedRun<unknown, Sample>): PairedRatio | null {
  if (!r.summary) return null;
  const s = r.summary;
  return {
    pairs: s.pairs, median: sig(s.median, 4), p25: sig(s.p25, 4), p75: sig(s.p75, 4), min: sig(s.min, 4), max: sig(s.max, 4), spread: sig(s.spread, 3),
    ratios: r.pairs.map((p) => sig(p.ratio, 4)),
    subject_first: r.pairs.filter((p) => p.first === 'subject').length,
    cpp_ratio: cppRatio(r),
  };
}

const pct = (x: number | null): string => (x === null ? 'one mode' : `${Math.round(x * 100)} %`);

/** The mode fields of a PairedRatio (absent when neither side was bimodal; same_mode null when one side was in one mode). */
export function modeFields(d: ModeDiagnostics): Pick<PairedRatio, 'same_mode' | 'fast_share'> {
  if (d.fastShare.subject === null && d.fastShare.reference === null) return {};
  const s = d.sameMode?.length ? summarize(d.sameMode) : null;
  return {
    same_mode: s ? { median: sig(s.median, 4), p25: sig(s.p25, 4), p75: sig(s.p75, 4), pairs: s.pairs } : null,
    fast_share: {
      subject: d.fastShare.subject === null ? null : sig(d.fastShare.subject, 3),
      reference: d.fastShare.reference === null ? null : sig(d.fastShare.reference, 3),
    },
  };
}

/** Median of per-pair busy-cycles ratios, when both forwarders of the pairs report them. */
function cppRatio(r: PairedRun<unknown, Sample>): PairedRatio['cpp_ratio'] {
  const xs = r.pairs.flatMap((p) => (p.subject.cpp && p.reference.cpp ? [p.subject.cpp / p.reference.cpp] : []));
  if (!xs.length) return null;
  const s = summarize(xs);
  return { median: sig(s.median, 4), p25: sig(s.p25, 4), p75: sig(s.p75, 4), pairs: s.pairs };
}

export function isLinerate(f: Forwarder): f is Linerate {
  return f instanceof Linerate;
}

export class Runner {
  readonly cases: CaseResult[] = [];
  routeAdd: RouteAddResult | null = null;
  churn: ChurnResult | null = null;
  tscHz: number | null = null;
  /** NDR found per forwarder (64B main traffic) */
  readonly ndr = new Map<ForwarderId, number>();
  /** repeats left and counted, for the whole run */
  readonly budget: RepeatBudget;
  readonly limits: RepeatLimits;
  /** every trial attempt, in time order */
  readonly log: TrialRecord[] = [];
  /** forwarder deaths seen (and recovered from) */
  readonly crashes: { forwarder: ForwarderId; during: string; how: string }[] = [];
  /** set when the run is interrupted: no new pairs */
  stopping = false;
  private phaseName = '';
  private readonly t0 = Date.now();

  /** `between`: called before every trial (the noise monitor samples /proc there, not during a trial) */
  constructor(private readonly plan: Plan, private readonly pool: Resident, private readonly progress: Progress,
    private readonly rng: () => number, private readonly between: () => void = () => undefined) {
    this.budget = new RepeatBudget(plan.noiseBudget);
    this.limits = { stealLimit: plan.stealLimit, othersLimit: plan.noiseLimit, retries: plan.noiseRetries };
  }

  /** trials run again (all reasons) and disturbed trials kept anyway */
  get reruns(): number {
    return this.budget.used;
  }

  get disturbed(): number {
    return this.budget.disturbed;
  }

  /** RX queues the generator reads (the queue bench's forwarder sends on one TX queue per worker) */
  rxQueues = 1;

  mainTraffic(size: number): Traffic {
    return { size, flows: this.plan.mainFlows, dst: MAIN_TRAFFIC_DST, ...(this.rxQueues > 1 ? { rxQueues: this.rxQueues } : {}) };
  }

  scaleTraffic(): Traffic {
    return { size: 64, flows: this.plan.scaleFlows, dst: SCALE_TRAFFIC_DST };
  }

  phase(name: string): void {
    this.phaseName = name;
    this.progress.phase(name);
  }

  private live(what: string): (p: PktgenProgress) => void {
    return (p) => this.progress.status(`${what} · t=${p.t.toFixed(1)} s · tx ${p.tx_mpps.toFixed(2)} rx ${p.rx_mpps.toFixed(2)} Mpps`);
  }

  /**
   * Brings `f` back if it died; true if it had. Bounded: a forwarder that
   * keeps dying ends the run's use of it.
   */
  private async ensureAlive(f: Forwarder, during: string): Promise<boolean> {
    if (await f.alive()) return false;
    if (this.crashes.length >= 10) throw new Error(`${f.id} died again (${this.crashes.length} deaths so far): giving up`);
    this.progress.warn(`${f.id} died (during ${during}): restarting it`);
    const how = await f.recover();
    this.crashes.push({ forwarder: f.id, during, how });
    this.progress.warn(`${f.id}: ${how}; back up`);
    return true;
  }

  /** One attempt on the running forwarder; a forwarder that died during it is restarted and the attempt run again (twice at most). */
  private async attempt(f: Forwarder, spec: TrialSpec, what: string): Promise<TrialOutcome> {
    for (let deaths = 0; ; deaths++) {
      await this.ensureAlive(f, `${this.phaseName}, before a trial`);
      this.between();
      const mark = cpuMark();
      let t: TrialOutcome;
      try {
        t = await runTrial(f.topo, spec, { onProgress: this.live(what), launch: f.launchGenerator });
      } catch (e) {
        if (deaths < 2 && (await this.ensureAlive(f, `${this.phaseName}: ${what}`))) continue;
        throw e;
      }
      // died during the trial (or as the generator disconnected): its figures cannot be trusted
      if (deaths < 2 && (await this.ensureAlive(f, `${this.phaseName}: ${what}`))) continue;
      t.othersCpu = othersPercentSince(mark);
      this.tscHz ??= t.raw.tsc_hz;
      return t;
    }
  }

  /**
   * One trial of `f` (made the running forwarder), repeated at once while
   * steal or other processes disturbed it or it stalled (repeat.ts); with
   * linerate's busy cycles per packet over the kept attempt.
   */
  async trial(f: Forwarder, spec: TrialSpec, what: string, caseName: string, pair: string | null = null): Promise<Run> {
    await this.pool.activate(f);
    const lr = isLinerate(f) ? f : undefined;
    const counters = (): Promise<LinerateCounters | undefined> => (lr ? lr.counters().catch(() => undefined) : Promise.resolve(undefined));
    const r = await withRepeats(async (n) => {
      await this.ensureAlive(f, `${this.phaseName}, before a trial`);
      const before = await counters();
      const t = await this.attempt(f, spec, n ? `${what} (again)` : what);
      const after = await counters();
      return { t, cpp: before && after ? cyclesPerPacket(before, after) : null, steal: t.steal, others: t.othersCpu,
        stalled: spec.rateMpps === null && stalledLoop(spec.size, t.mpps) };
    }, this.limits, this.budget, (a, why) => this.announceRepeat(why, why === 'stalled' ? `the trial forwarded ${a.t.mpps.toFixed(2)} Mpps (stalled connection?)`
      : why === 'steal' ? `the hypervisor stole ${a.steal.toFixed(1)} % of a CPU during that trial`
        : `other processes used ${Math.round(a.others)} % of a CPU during that trial`));
    for (const a of r.attempts) {
      this.log.push({
        t: sig((a.t.startedAt - this.t0) / 1000, 5), forwarder: f.id, case: caseName, mpps: sig(a.t.mpps, 5),
        cpp: a.cpp === null ? null : sig(a.cpp, 4), steal: sig(a.steal, 3), others: sig(a.others, 3),
        repeated: a === r.kept ? null : repeatReason(a, this.limits) ?? 'others', pair,
      });
    }
    if (r.disturbed) this.progress.warn(`kept a disturbed trial (steal ${r.kept.steal.toFixed(1)} %, others ${Math.round(r.kept.others)} %): repeat limit reached`);
    return { t: r.kept.t, cpp: r.kept.cpp, repeats: r.reasons.length };
  }

  /** Says why a trial is run again; before a repeat for others' CPU, waits (bounded) for them to go quiet. */
  private async announceRepeat(why: 'steal' | 'others' | 'stalled', what: string): Promise<void> {
    if (why !== 'others') {
      this.progress.warn(`${what}: running it again`);
      return;
    }
    const waited = await waitForQuiet(this.plan.noiseLimit, this.plan.quietWaitS * 1000);
    this.progress.warn(`${what}: running it again${waited > 600 ? ` (after ${(waited / 1000).toFixed(1)} s waiting for them)` : ''}`);
  }

  /** One unreported closed-loop trial (a forwarder's first trial after its start is slower). */
  async warmUp(f: Forwarder): Promise<void> {
    await this.trial(f, { ...this.mainTraffic(64), rateMpps: null, seconds: 0.5, warmup: 0 }, `${f.id}: warm-up trial (not reported)`, 'warm-up');
  }

  private caseFrom(f: Forwarder, test: TestId, traffic: Traffic, trials: TrialOutcome[], pick: TrialOutcome,
    extra: Partial<CaseResult> = {}): CaseResult {
    const mpps = trials.length > 1 ? median(trials.map((t) => t.mpps)) : pick.mpps;
    const c: CaseResult = {
      name: `${test} ${extra.routes != null ? `${extra.routes} routes` : `${traffic.size}B`} ${f.id}`,
      test,
      forwarder: f.id,
      frame_size: traffic.size,
      flows: traffic.flows,
      routes: null,
      offered_mpps: pick.spec.rateMpps === null ? null : sig(pick.spec.rateMpps, 5),
      mpps: sig(mpps, 5),
      gbps: sig(gbps(mpps, traffic.size), 4),
      loss_ratio: sig(pick.lossRatio, 4),
      loss_packets: pick.lossPackets,
      latency_ns: pick.latency.samples > 0 ? pick.latency : null,
      trials: trials.map((t) => sig(t.mpps, 5)),
      best_mpps: sig(Math.max(...trials.map((t) => t.mpps)), 5),
      others_cpu_percent: Math.round(Math.max(...trials.map((t) => t.othersCpu))),
      steal_percent: sig(Math.max(...trials.map((t) => t.steal)), 3),
      ratio: {},
      ratio_best: {},
      cycles_per_packet: null,
      core_cycles_per_packet: mpps > 0 && pick.spec.rateMpps === null ? sig(pick.raw.tsc_hz / (mpps * 1e6), 4) : null,
      ...extra,
    };
    this.cases.push(c);
    return c;
  }

  /** A case from closed-loop trials: median Mpps; the trial closest to it stands for loss and latency. */
  maxCase(f: Forwarder, test: 'max' | 'scale', traffic: Traffic, runs: Run[], extra: Partial<CaseResult> = {}): CaseResult {
    const trials = runs.map((r) => r.t);
    const cpp = runs.map((r) => r.cpp).filter((c): c is number => c !== null);
    const m = median(trials.map((t) => t.mpps));
    const pick = trials.reduce((a, b) => (Math.abs(b.mpps - m) < Math.abs(a.mpps - m) ? b : a));
    const c = this.caseFrom(f, test, traffic, trials, pick, {
      ...extra, cycles_per_packet: cpp.length ? sig(median(cpp), 4) : null, repeats: runs.reduce((a, r) => a + r.repeats, 0),
    });
    this.progress.result(`${c.name}: ${c.mpps.toFixed(2)} Mpps (${c.trials.map((x) => x.toFixed(2)).join(', ')})` +
      (c.cycles_per_packet ? `, ${c.cycles_per_packet.toFixed(0)} cycles/pkt` : '') +
      (c.loss_packets ? `, lost ${c.loss_packets}` : ''));
    return c;
  }

  /**
   * Closed-loop trials in pairs: each comparison (subject vs reference) is
   * measured pair by pair, the two trials of a pair back to back in a
   * random order, until the rule is met. Returns every kept trial per
   * forwarder and the pairs of each comparison.
   */
  async pairedMax(traffic: Traffic | ((f: Forwarder) => Traffic), seconds: number, rule: PairRule, comparisons: Comparison<Forwarder>[],
    caseName: string): Promise<{ runs: Map<Forwarder, Run[]>; paired: PairedRun<Forwarder, RunSample>[] }> {
    const runs = new Map<Forwarder, Run[]>();
    const trafficOf = typeof traffic === 'function' ? traffic : () => traffic;
    let n = 0;
    const paired = await measurePairs<Forwarder, RunSample>(comparisons, {
      rule,
      rng: this.rng,
      keepGoing: () => !this.stopping,
      measure: async (f, _role, c, pair) => {
        const run = await this.trial(f, { ...trafficOf(f), rateMpps: null, seconds, warmup: this.plan.warmup }, `${caseName} · trial ${++n} · ${f.id}`, caseName,
          `${c.subject.id}/${c.reference.id}#${pair}`);
        runs.set(f, [...(runs.get(f) ?? []), run]);
        return { forwarder: f.id, value: run.t.mpps, cpp: run.cpp, t: (run.t.startedAt - this.t0) / 1000, run };
      },
      onPair: (c, p, sofar) => {
        const show = (s: RunSample): string => `${s.forwarder} ${s.value.toFixed(2)}${s.cpp ? ` (${s.cpp.toFixed(0)} c/p)` : ''}`;
        const [a, b] = p.first === 'subject' ? [p.subject, p.reference] : [p.reference, p.subject];
        this.progress.result(`pair ${sofar.length}: ${show(a)} then ${show(b)} Mpps: ${c.subject.id}/${c.reference.id} = ${p.ratio.toFixed(3)}` +
          (sofar.length > 1 ? ` (median so far ${median(sofar).toFixed(3)})` : ''));
      },
    });
    return { runs, paired };
  }

  /**
   * Closed-loop maximum of traffic at `size`: linerate (and its base) paired
   * with each reference; or alone (`n` trials) when there is none.
   */
  async maxPaired(size: number, seconds: number, rule: PairRule, comparisons: Comparison<Forwarder>[], alone: Forwarder[]): Promise<void> {
    const traffic = this.mainTraffic(size);
    const name = `max ${size}B`;
    if (!comparisons.length) {
      for (const f of alone) {
        const runs: Run[] = [];
        for (let i = 0; i < rule.minPairs && !this.stopping; i++) {
          runs.push(await this.trial(f, { ...traffic, rateMpps: null, seconds, warmup: this.plan.warmup }, `${name} · trial ${i + 1} · ${f.id}`, name));
        }
        if (runs.length) this.maxCase(f, 'max', traffic, runs);
      }
      return;
    }
    const { runs, paired } = await this.pairedMax(traffic, seconds, rule, comparisons, name);
    this.casesFromPairs('max', () => traffic, runs, paired);
  }

  /** Cases of every forwarder of a paired run, with the paired ratios on the subjects' cases. */
  casesFromPairs(test: 'max' | 'scale', trafficOf: (f: Forwarder) => Traffic, runs: Map<Forwarder, Run[]>, paired: PairedRun<Forwarder, RunSample>[],
    extra: (f: Forwarder) => Partial<CaseResult> = () => ({}), skip: (f: Forwarder) => boolean = () => false): Map<Forwarder, CaseResult> {
    const out = new Map<Forwarder, CaseResult>();
    for (const [f, rs] of runs) {
      const values = rs.map((r) => r.t.mpps);
      const thr = modeThreshold(values);
      if (skip(f) || !rs.length) continue;
      const fastV = thr === null ? values : values.filter((v) => v > thr);
      const slowV = thr === null ? [] : values.filter((v) => v <= thr);
      const c = this.maxCase(f, test, trafficOf(f), rs, {
        ...extra(f),
        modes: { threshold_mpps: thr === null ? null : sig(thr, 4), fast_share: sig(fastShare(values, thr), 3),
          fast_mpps: thr === null || !fastV.length ? null : sig(median(fastV), 5), slow_mpps: slowV.length ? sig(median(slowV), 5) : null },
      });
      out.set(f, c);
    }
    for (const p of paired) {
      const c = out.get(p.comparison.subject);
      const pr = pairedRatio(p);
      if (!c || !pr) continue;
      Object.assign(pr, modeFields(modeDiagnostics(p.pairs, (runs.get(p.comparison.subject) ?? []).map((r) => r.t.mpps),
        (runs.get(p.comparison.reference) ?? []).map((r) => r.t.mpps))));
      c.paired = { ...c.paired, [p.comparison.reference.id]: pr };
      this.progress.result(`${c.name} / ${p.comparison.reference.id}: ${pr.median.toFixed(3)} (quartiles ${pr.p25.toFixed(3)}–${pr.p75.toFixed(3)}, ` +
        `${pr.pairs} pair${pr.pairs === 1 ? '' : 's'}, spread ${(pr.spread * 100).toFixed(1)} %)` +
        (pr.fast_share ? `; fast trials ${pct(pr.fast_share.subject)} / ${pct(pr.fast_share.reference)}, ` +
          `same-mode pairs ${pr.same_mode ? `${pr.same_mode.median.toFixed(3)} (${pr.same_mode.pairs})` : 'none'}` : ''));
    }
    return out;
  }

  /** RFC 2544 NDR then PDR (sharing trials), bounded above by the closed-loop maximum. */
  async search(f: Forwarder): Promise<number> {
    this.phase(`${f.id}: RFC 2544 NDR / PDR, 64B`);
    const max = this.cases.find((c) => c.forwarder === f.id && c.test === 'max' && c.frame_size === 64);
    if (!max) throw new Error(`${f.id}: no maximum rate to search under`);
    const traffic = this.mainTraffic(64);
    const history: TrialOutcome[] = [];
    let n = 0;
    const run = (rate: number): Promise<TrialOutcome> =>
      this.trial(f, { ...traffic, rateMpps: rate, seconds: this.plan.searchSeconds, warmup: 0.1 }, `search trial ${++n} @ ${rate.toFixed(2)} Mpps`, 'ndr/pdr 64B')
        .then(({ t }) => {
          this.progress.result(`  ${rate.toFixed(3)} Mpps offered: ${t.lossPackets === 0 ? 'no loss' : `lost ${t.lossPackets} (${(t.lossRatio * 100).toPrecision(2)} %)`}` +
            `${t.raw.tx.refused ? `, ring full ${t.raw.tx.refused}x` : ''}${t.genLimited ? ' [generator-limited]' : ''}`);
          return t;
        });
    const opts = { upper: max.mpps * 1.02, resolution: this.plan.searchResolution, maxTrials: this.plan.searchMaxTrials, confirm: this.plan.searchConfirm };
    const ndr = await searchRate(NDR, opts, history, run);
    const pd = await searchRate(pdr(0.005), { ...opts, maxTrials: Math.max(3, opts.maxTrials >> 1) }, history, run);
    for (const [test, r] of [['ndr', ndr], ['pdr', pd]] as [TestId, SearchResult<TrialOutcome>][]) {
      if (!r.at) {
        this.progress.warn(`${f.id}: no ${test.toUpperCase()} found (every trial lost packets)`);
        continue;
      }
      const c = this.caseFrom(f, test, traffic, [r.at], r.at, {
        note: `${r.criterion} bracket [${r.bracket.map((x) => x.toFixed(3)).join(', ')}] Mpps${r.converged ? '' : ' (trial budget spent before the resolution)'}; ` +
          `${r.trials.length} trials; full ring pushed back ${r.at.raw.tx.refused} times at this rate`,
      });
      this.progress.result(`${c.name}: ${c.offered_mpps?.toFixed(3)} Mpps offered, ${c.mpps.toFixed(3)} forwarded (${c.note})`);
    }
    const rate = ndr.rate;
    if (rate > 0) this.ndr.set(f.id, rate);
    return rate;
  }

  /** Latency at 50 % and 90 % of the NDR. */
  async latency(f: Forwarder): Promise<void> {
    this.phase(`${f.id}: latency at 50 % and 90 % of NDR`);
    const ndr = this.ndr.get(f.id);
    if (!ndr) {
      this.progress.warn(`${f.id}: no NDR, no latency measurement`);
      return;
    }
    const traffic = this.mainTraffic(64);
    for (const pct of [50, 90] as const) {
      const rate = (ndr * pct) / 100;
      const { t } = await this.trial(f, { ...traffic, rateMpps: rate, seconds: this.plan.latencySeconds, warmup: 0.2 }, `${pct} % of NDR`, `latency-${pct} 64B`);
      const c = this.caseFrom(f, `latency-${pct}`, traffic, [t], t);
      const l = c.latency_ns;
      this.progress.result(`${c.name}: ${rate.toFixed(2)} Mpps, latency p50 ${((l?.p50 ?? 0) / 1000).toFixed(1)} µs ` +
        `p99 ${((l?.p99 ?? 0) / 1000).toFixed(1)} µs p99.9 ${((l?.p999 ?? 0) / 1000).toFixed(1)} µs, lost ${c.loss_packets}`);
    }
  }

  /**
   * Deletes `del` then adds `add` in batches, requests encoded before the
   * clock starts; seconds spent encoding, deleting and adding.
   */
  private async writeRoutes(lr: Linerate, del: string[], add: string[], batch: number): Promise<{ encodeS: number; delS: number; addS: number }> {
    const gw = lr.gateways.out;
    const secs = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;
    let t = process.hrtime.bigint();
    const dels = batches(del, batch).map((b) => lr.writer.deleteRoutes({ prefixes: b }));
    const adds = batches(add, batch).map((b) => lr.writer.addRoutes({ routes: b.map((prefix) => ({ prefix, nextHops: [gw] })) }));
    const encodeS = secs(t);
    t = process.hrtime.bigint();
    for (const e of dels) await lr.writer.send(e);
    const delS = secs(t);
    t = process.hrtime.bigint();
    let done = 0;
    for (const e of adds) {
      done += await lr.writer.send(e);
      this.progress.status(`${lr.id}: routes ${done}/${add.length}`);
    }
    return { encodeS, delS, addS: secs(t) };
  }

  /** the scale table installed now in each linerate */
  private readonly tables = new Map<Linerate, Set<string>>();

  private tableOf(lr: Linerate): Set<string> {
    return this.tables.get(lr) ?? new Set<string>();
  }

  /** Makes the installed scale table of `lr` the one of `n` routes. */
  async installScale(lr: Linerate, n: number): Promise<ReturnType<typeof scalePlan>> {
    await this.pool.activate(lr);
    const plan = scalePlan(n, this.plan.scaleFlows);
    const d = diff(this.tableOf(lr), plan.prefixes);
    const w = await this.writeRoutes(lr, d.del, d.add, this.plan.routeBatch);
    this.tables.set(lr, new Set(plan.prefixes));
    this.progress.result(`${lr.id}: ${n} routes installed (${plan.trafficRoutes} x /${plan.trafficPlen} carry the traffic): ` +
      `+${d.add.length} -${d.del.length} in ${(w.addS + w.delS).toFixed(2)} s`);
    return plan;
  }

  /** testpmd io's scale-traffic trials over all table sizes: one reference case */
  private readonly scaleRefRuns = new Map<Forwarder, Run[]>();

  /**
   * Scale: install 1, 1k, 100k, 1M routes in turn over gRPC and, at each
   * size, measure the scale traffic in pairs with the reference (testpmd
   * io on the same traffic), so that every table size has its own paired
   * ratio.
   */
  async scale(lr: Linerate, ref: Forwarder | undefined): Promise<void> {
    for (const n of this.plan.scaleRoutes) {
      if (this.stopping) return;
      this.phase(`${lr.id}: ${n} routes installed, scale traffic${ref ? ` (pairs with ${ref.id})` : ''}`);
      const p = await this.installScale(lr, n);
      const extra = { routes: n, note: `traffic spread over ${p.trafficRoutes} /${p.trafficPlen} routes` };
      if (!ref) {
        const runs: Run[] = [];
        for (let i = 0; i < this.plan.scalePairs.minPairs; i++) {
          runs.push(await this.trial(lr, { ...this.scaleTraffic(), rateMpps: null, seconds: this.plan.scaleSeconds, warmup: this.plan.warmup },
            `trial ${i + 1}`, `scale ${n} routes`));
        }
        this.maxCase(lr, 'scale', this.scaleTraffic(), runs, extra);
        continue;
      }
      const { runs, paired } = await this.pairedMax(this.scaleTraffic(), this.plan.scaleSeconds, this.plan.scalePairs,
        [{ subject: lr, reference: ref }], `scale ${n} routes`);
      for (const [f, rs] of runs) if (f !== lr) this.scaleRefRuns.set(f, [...(this.scaleRefRuns.get(f) ?? []), ...rs]);
      this.casesFromPairs('scale', () => this.scaleTraffic(), runs, paired, () => extra, (f) => f !== lr);
    }
  }

  /** The reference's scale case, from its trials at every table size. */
  finishScale(): void {
    for (const [f, runs] of this.scaleRefRuns) if (runs.length) this.maxCase(f, 'scale', this.scaleTraffic(), runs);
    this.scaleRefRuns.clear();
  }

  /** Route add rate: the installed (largest) table deleted and added again, timed. */
  async routeAddRate(lr: Linerate): Promise<void> {
    await this.pool.activate(lr);
    const last = [...this.tableOf(lr)];
    if (!last.length) throw new Error('no scale table installed to time');
    this.phase(`linerate: route add over gRPC, ${last.length} routes in batches of ${this.plan.routeBatch}`);
    const byBatch: RouteAddResult['by_batch'] = [];
    for (const b of this.plan.routeBatchSweep) {
      await this.writeRoutes(lr, last, [], b);
      const w = await this.writeRoutes(lr, [], last, b);
      byBatch.push({ batch: b, seconds: sig(w.addS, 4), routes_per_s: Math.round(last.length / w.addS) });
      this.progress.result(`batches of ${b}: ${last.length} routes in ${w.addS.toFixed(2)} s = ${byBatch.at(-1)?.routes_per_s} routes/s`);
    }
    const del = await this.writeRoutes(lr, last, [], this.plan.routeBatch);
    const add = await this.writeRoutes(lr, [], last, this.plan.routeBatch);
    byBatch.push({ batch: this.plan.routeBatch, seconds: sig(add.addS, 4), routes_per_s: Math.round(last.length / add.addS) });
    byBatch.sort((a, b) => a.batch - b.batch);
    this.routeAdd = {
      routes: last.length,
      batch: this.plan.routeBatch,
      seconds: sig(add.addS, 4),
      routes_per_s: Math.round(last.length / add.addS),
      encode_seconds: sig(add.encodeS, 4),
      routes_per_s_with_encoding: Math.round(last.length / (add.addS + add.encodeS)),
      by_batch: byBatch,
      delete_seconds: sig(del.delS, 4),
      deletes_per_s: Math.round(last.length / del.delS),
    };
    this.progress.result(`added ${last.length} routes in ${add.addS.toFixed(2)} s = ${this.routeAdd.routes_per_s} routes/s ` +
      `(${this.routeAdd.routes_per_s_with_encoding} counting the client's encoding, ${add.encodeS.toFixed(2)} s); ` +
      `deleted in ${del.delS.toFixed(2)} s = ${this.routeAdd.deletes_per_s} routes/s`);
  }

  /**
   * Traffic at 50 % of the NDR while /32 routes over the traffic's own
   * destinations (and others) are inserted and deleted at the churn rate.
   */
  async churnTest(lr: Linerate, tableRoutes: number): Promise<void> {
    this.phase(`linerate: route churn at ${this.plan.churnRate} routes/s, traffic at 50 % of NDR`);
    await this.pool.activate(lr);
    const ndr = this.ndr.get('linerate');
    if (!ndr) {
      this.progress.warn('linerate: no NDR, no churn test');
      return;
    }
    const prefixes = churnPrefixes(this.plan.churnRoutes);
    const sets = batches(prefixes, this.plan.churnBatch);
    const gw = lr.gateways.out;
    const inserts = sets.map((b) => lr.writer.write({ updates: b.map((prefix) => ({ type: 'INSERT' as const, route: { prefix, nextHops: [gw] } })) }));
    const deletes = sets.map((b) => lr.writer.write({ updates: b.map((prefix) => ({ type: 'DELETE' as const, route: { prefix, nextHops: [] } })) }));
    const rate = ndr * 0.5;
    const traffic = this.mainTraffic(64);
    const offeredPps = rate * 1e6;
    const seconds = this.plan.churnSeconds;

    await this.ensureAlive(lr, `${this.phaseName}, before churn`);
    this.between();
    const mark = cpuMark();
    const before = await lr.counters();
    let flowing!: () => void;
    const started = new Promise<void>((r) => (flowing = r));
    const trialP = runTrial(lr.topo, { ...traffic, rateMpps: rate, seconds: seconds + 1.5, warmup: 0 }, {
      onProgress: (p) => {
        flowing();
        this.progress.status(`churn · tx ${p.tx_mpps.toFixed(2)} rx ${p.rx_mpps.toFixed(2)} Mpps`);
      },
    });
    trialP.catch(() => flowing()); // a failed trial must not leave the churn waiting
    await started;
    // paced writes: batch k is due at k x batch / rate
    const t0 = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
    let updates = 0;
    let k = 0;
    const present = new Set<number>(); // churn batches currently in the table
    while (elapsed() < seconds) {
      const wait = updates / this.plan.churnRate - elapsed();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000));
      const i = k++ % sets.length;
      const req = present.has(i) ? deletes[i] : inserts[i];
      updates += await lr.writer.send(req);
      if (present.has(i)) present.delete(i);
      else present.add(i);
    }
    const churnS = elapsed();
    const t = await trialP;
    for (const i of present) await lr.writer.send(deletes[i]); // leave the table as it was
    const after = await lr.counters();
    const drops = dropDelta(before, after);
    this.churn = {
      table_routes: tableRoutes,
      churn_routes: prefixes.length,
      batch: this.plan.churnBatch,
      target_routes_per_s: this.plan.churnRate,
      achieved_routes_per_s: Math.round(updates / churnS),
      seconds: sig(churnS, 4),
      offered_mpps: sig(rate, 5),
      ndr_mpps: sig(ndr, 5),
      mpps: sig(t.mpps, 5),
      sent_mpps: sig(t.txMpps, 5),
      loss_packets: t.raw.loss?.packets ?? 0,
      loss_ratio: sig((t.raw.loss?.packets ?? 0) / Math.max(1, t.raw.tx.packets), 4),
      shortfall_packets: Math.max(0, Math.round(offeredPps * (t.raw.config.warmup_s + t.raw.tx.steady.seconds) - t.raw.tx.packets)),
      refused: t.raw.tx.refused,
      drops,
      table_swaps: Number(after.tableSwaps - before.tableSwaps),
      others_cpu_percent: Math.round(othersPercentSince(mark)),
    };
    this.progress.result(`churn: ${updates} updates in ${churnS.toFixed(1)} s = ${this.churn.achieved_routes_per_s} routes/s, ` +
      `traffic ${rate.toFixed(2)} Mpps offered, ${t.txMpps.toFixed(2)} sent: lost ${this.churn.loss_packets}; dataplane drops ${JSON.stringify(drops)}; ` +
      `generator short by ${this.churn.shortfall_packets} frames`);
  }

  /**
   * --compare: the route add rate of two linerates (head, base) in pairs:
   * each turn deletes the table the forwarder holds and adds the scale
   * table of `routes` again, timed (requests encoded beforehand); steal
   * and others' CPU over the add are judged as for a trial. Leaves that
   * table installed in both.
   */
  async routeAddPairs(head: Linerate, base: Linerate, routes: number): Promise<{ head: number[]; base: number[]; paired: PairedRun<Linerate, Sample> }> {
    const plan = scalePlan(routes, this.plan.scaleFlows);
    const batch = this.plan.routeBatch;
    const rates = new Map<Linerate, number[]>([[head, []], [base, []]]);
    const [paired] = await measurePairs<Linerate, Sample>([{ subject: head, reference: base }], {
      rule: this.plan.comparePairs,
      rng: this.rng,
      keepGoing: () => !this.stopping,
      measure: async (lr, _role, c, pair) => {
        await this.pool.activate(lr);
        const r = await withRepeats(async () => {
          await this.ensureAlive(lr, `${this.phaseName}, before a route add`);
          const installed = [...this.tableOf(lr)];
          if (installed.length) await this.writeRoutes(lr, installed, [], batch);
          this.tables.set(lr, new Set());
          this.between();
          const mark = cpuMark();
          const st = readProcStat();
          const w = await this.writeRoutes(lr, [], plan.prefixes, batch);
          this.tables.set(lr, new Set(plan.prefixes));
          const steal = stealPercent(st, readProcStat(), [GEN_CPU, FWD_CPU]);
          return { value: plan.prefixes.length / w.addS, steal, others: othersPercentSince(mark), stalled: false, startedAt: mark.at };
        }, this.limits, this.budget, (a, why) => this.announceRepeat(why, `${why} (${why === 'steal' ? a.steal.toFixed(1) : Math.round(a.others)} %) during that route add`));
        for (const a of r.attempts) {
          this.log.push({ t: sig((a.startedAt - this.t0) / 1000, 5), forwarder: lr.id, case: `route add ${routes}`, mpps: 0, routes_per_s: Math.round(a.value),
            cpp: null, steal: sig(a.steal, 3), others: sig(a.others, 3), repeated: a === r.kept ? null : repeatReason(a, this.limits) ?? 'others',
            pair: `${c.subject.id}/${c.reference.id}#${pair}` });
        }
        rates.get(lr)?.push(r.kept.value);
        this.progress.result(`${lr.id}: ${plan.prefixes.length} routes added at ${Math.round(r.kept.value)} routes/s`);
        return { forwarder: lr.id, value: r.kept.value };
      },
      onPair: (_c, p, sofar) => this.progress.result(`pair ${sofar.length}: head/base routes/s = ${p.ratio.toFixed(3)}`),
    });
    return { head: rates.get(head) ?? [], base: rates.get(base) ?? [], paired };
  }
}

export type { LinerateCounters };
