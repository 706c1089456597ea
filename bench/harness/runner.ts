// SPDX-License-Identifier: BSD-3-Clause
// The measurements of a run, forwarder by forwarder, on one topology:
// closed-loop maximum by frame size, RFC 2544 NDR/PDR, latency at 50/90 %
// of the NDR, and for linerate the scale steps, route add and route churn.

import type { PktgenProgress } from '../lib/pktgen';
import { cyclesPerPacket, dropDelta, type Forwarder, type Linerate, type LinerateCounters } from './forwarders';
import { cpuMark, othersPercentSince } from './machine';
import { gbps, median, sig } from './mathx';
import type { Plan } from './plan';
import type { Progress } from './progress';
import type { CaseResult, ChurnResult, ForwarderId, RouteAddResult, TestId } from './results';
import { batches, churnPrefixes, diff, MAIN_TRAFFIC_DST, SCALE_TRAFFIC_DST, scalePlan } from './routes';
import { NDR, pdr, searchRate, type SearchResult } from './search';
import type { Topology } from './topology';
import { runTrial, type TrialOutcome, type TrialSpec, type Traffic } from './trial';

/** Below this a closed-loop trial counts as stalled and is run again. */
const STALLED_MPPS = 1;

export class Runner {
  readonly cases: CaseResult[] = [];
  routeAdd: RouteAddResult | null = null;
  churn: ChurnResult | null = null;
  tscHz: number | null = null;
  /** NDR found per forwarder (64B main traffic) */
  readonly ndr = new Map<ForwarderId, number>();
  /** trials run again because other processes disturbed them, and disturbed trials kept anyway */
  reruns = 0;
  disturbed = 0;
  /** forwarder deaths seen (and recovered from) */
  readonly crashes: { forwarder: ForwarderId; during: string; how: string }[] = [];
  private fwd?: Forwarder;
  private phaseName = '';

  /** `between`: called before every trial (the noise monitor samples /proc there, not during a trial) */
  constructor(private readonly plan: Plan, private readonly topo: Topology, private readonly progress: Progress,
    private readonly between: () => void = () => undefined) {}

  private mainTraffic(size: number): Traffic {
    return { size, flows: this.plan.mainFlows, dst: MAIN_TRAFFIC_DST };
  }

  private scaleTraffic(): Traffic {
    return { size: 64, flows: this.plan.scaleFlows, dst: SCALE_TRAFFIC_DST };
  }

  private phase(name: string): void {
    this.phaseName = name;
    this.progress.phase(name);
  }

  private live(what: string): (p: PktgenProgress) => void {
    return (p) => this.progress.status(`${what} · t=${p.t.toFixed(1)} s · tx ${p.tx_mpps.toFixed(2)} rx ${p.rx_mpps.toFixed(2)} Mpps`);
  }

  /** The forwarder the next trials go through. */
  use(f: Forwarder): void {
    this.fwd = f;
  }

  /**
   * Brings the forwarder back if it died; true if it had. Bounded: a
   * forwarder that keeps dying ends the run's use of it.
   */
  private async ensureAlive(during: string): Promise<boolean> {
    const f = this.fwd;
    if (!f || (await f.alive())) return false;
    if (this.crashes.length >= 10) throw new Error(`${f.id} died again (${this.crashes.length} deaths so far): giving up`);
    this.progress.warn(`${f.id} died (during ${during}): restarting it`);
    const how = await f.recover();
    this.crashes.push({ forwarder: f.id, during, how });
    this.progress.warn(`${f.id}: ${how}; back up`);
    return true;
  }

  /**
   * One trial, run again (up to the plan's limits) while other processes
   * used the CPUs during it; the least disturbed run is kept.
   */
  private async trial(spec: TrialSpec, what: string): Promise<TrialOutcome> {
    let best: TrialOutcome | undefined;
    for (let attempt = 0, deaths = 0; ; attempt++) {
      await this.ensureAlive(`${this.phaseName}, before a trial`);
      this.between();
      const mark = cpuMark();
      let t: TrialOutcome;
      try {
        t = await runTrial(this.topo, spec, { onProgress: this.live(attempt ? `${what} (again)` : what) });
      } catch (e) {
        if (deaths++ < 2 && (await this.ensureAlive(`${this.phaseName}: ${what}`))) continue;
        throw e;
      }
      // died during the trial (or as the generator disconnected): its figures cannot be trusted
      if (deaths < 2 && (await this.ensureAlive(`${this.phaseName}: ${what}`))) {
        deaths++;
        continue;
      }
      t.othersCpu = othersPercentSince(mark);
      this.tscHz ??= t.raw.tsc_hz;
      // a closed loop that barely moved is a stalled memif connection, not a rate
      const stalled = spec.rateMpps === null && t.mpps < STALLED_MPPS;
      if (!stalled && (!best || t.othersCpu < best.othersCpu)) best = t;
      if (!stalled && t.othersCpu <= this.plan.noiseLimit) return t;
      if (attempt >= this.plan.noiseRetries || this.reruns >= this.plan.noiseBudget) {
        if (best) break;
        if (stalled) return t;
      }
      this.reruns++;
      this.progress.warn(stalled ? `the trial forwarded ${t.mpps.toFixed(2)} Mpps (stalled connection?): running it again`
        : `other processes used ${Math.round(t.othersCpu)} % of a CPU during that trial: running it again`);
    }
    this.disturbed++;
    return best;
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
      ratio: {},
      ratio_best: {},
      cycles_per_packet: null,
      core_cycles_per_packet: mpps > 0 && pick.spec.rateMpps === null ? sig(pick.raw.tsc_hz / (mpps * 1e6), 4) : null,
      ...extra,
    };
    this.cases.push(c);
    return c;
  }

  /** One closed-loop trial, with linerate's busy cycles per packet over it when `f` is linerate. */
  private async maxTrial(f: Forwarder, traffic: Traffic, seconds: number, what: string): Promise<{ t: TrialOutcome; cpp: number | null }> {
    const lr = f.id === 'linerate' ? (f as Linerate) : undefined;
    const counters = (): Promise<LinerateCounters | undefined> => (lr ? lr.counters().catch(() => undefined) : Promise.resolve(undefined));
    await this.ensureAlive(`${this.phaseName}, before a trial`);
    const before = await counters();
    const t = await this.trial({ ...traffic, rateMpps: null, seconds, warmup: this.plan.warmup }, what);
    const after = await counters();
    return { t, cpp: before && after ? cyclesPerPacket(before, after) : null };
  }

  /** A case from closed-loop trials: median Mpps; the trial closest to it stands for loss and latency. */
  private maxCase(f: Forwarder, test: 'max' | 'scale', traffic: Traffic, runs: { t: TrialOutcome; cpp: number | null }[],
    extra: Partial<CaseResult> = {}): CaseResult {
    const trials = runs.map((r) => r.t);
    const cpp = runs.map((r) => r.cpp).filter((c): c is number => c !== null);
    const m = median(trials.map((t) => t.mpps));
    const pick = trials.reduce((a, b) => (Math.abs(b.mpps - m) < Math.abs(a.mpps - m) ? b : a));
    const c = this.caseFrom(f, test, traffic, trials, pick, { ...extra, cycles_per_packet: cpp.length ? sig(median(cpp), 4) : null });
    this.progress.result(`${c.name}: ${c.mpps.toFixed(2)} Mpps (${c.trials.map((x) => x.toFixed(2)).join(', ')})` +
      (c.cycles_per_packet ? `, ${c.cycles_per_packet.toFixed(0)} cycles/pkt` : '') +
      (c.loss_packets ? `, lost ${c.loss_packets}` : ''));
    return c;
  }

  /** Closed-loop maximum: `n` trials, the median reported; cycles/packet from linerate's counters. */
  async maxRate(f: Forwarder, test: 'max' | 'scale', traffic: Traffic, n: number, seconds: number,
    extra: Partial<CaseResult> = {}): Promise<CaseResult> {
    const runs: { t: TrialOutcome; cpp: number | null }[] = [];
    for (let i = 0; i < n; i++) runs.push(await this.maxTrial(f, traffic, seconds, `trial ${i + 1}/${n}`));
    return this.maxCase(f, test, traffic, runs, extra);
  }

  /** 64B closed-loop trials taken in rounds over the forwarders */
  private readonly rounds = new Map<Forwarder, { t: TrialOutcome; cpp: number | null }[]>();

  /**
   * The headline figure is taken in rounds: each round starts every
   * forwarder in turn for one 64B trial, so that slow spells of a shared
   * host (they last seconds) hit every forwarder alike and the medians
   * stay comparable.
   */
  async roundTrial(f: Forwarder, round: number, rounds: number): Promise<void> {
    const r = await this.maxTrial(f, this.mainTraffic(64), this.plan.maxSeconds, `round ${round}/${rounds}`);
    const list = this.rounds.get(f) ?? [];
    list.push(r);
    this.rounds.set(f, list);
    this.progress.result(`round ${round}/${rounds} ${f.id}: ${r.t.mpps.toFixed(2)} Mpps` + (r.cpp ? `, ${r.cpp.toFixed(0)} cycles/pkt` : ''));
  }

  /** The 64B maximum cases from the rounds. */
  finishRounds(): void {
    for (const [f, runs] of this.rounds) if (runs.length) this.maxCase(f, 'max', this.mainTraffic(64), runs);
    this.rounds.clear();
  }

  /** Size sweep of the closed-loop maximum (64B is measured in rounds), after one unreported warm-up trial. */
  async sizes(f: Forwarder): Promise<void> {
    await this.trial({ ...this.mainTraffic(64), rateMpps: null, seconds: 0.5, warmup: 0 }, 'warm-up trial (not reported)');
    for (const size of this.plan.sizes.filter((x) => x !== 64)) {
      this.phase(`${f.id}: maximum rate, ${size}B`);
      await this.maxRate(f, 'max', this.mainTraffic(size), this.plan.sweepTrials, this.plan.maxSeconds);
    }
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
      this.trial({ ...traffic, rateMpps: rate, seconds: this.plan.searchSeconds, warmup: 0.1 }, `search trial ${++n} @ ${rate.toFixed(2)} Mpps`)
        .then((t) => {
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
      const t = await this.trial({ ...traffic, rateMpps: rate, seconds: this.plan.latencySeconds, warmup: 0.2 }, `${pct} % of NDR`);
      const c = this.caseFrom(f, `latency-${pct}`, traffic, [t], t);
      const l = c.latency_ns;
      this.progress.result(`${c.name}: ${rate.toFixed(2)} Mpps, latency p50 ${((l?.p50 ?? 0) / 1000).toFixed(1)} µs ` +
        `p99 ${((l?.p99 ?? 0) / 1000).toFixed(1)} µs p99.9 ${((l?.p999 ?? 0) / 1000).toFixed(1)} µs, lost ${c.loss_packets}`);
    }
  }

  /** The scale traffic through a reference, the denominator of the scale ratios. */
  async scaleReference(f: Forwarder): Promise<void> {
    this.phase(`${f.id}: maximum rate, scale traffic (${this.plan.scaleFlows} flows)`);
    await this.maxRate(f, 'scale', this.scaleTraffic(), this.plan.scaleTrials, this.plan.scaleSeconds);
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
      this.progress.status(`routes ${done}/${add.length}`);
    }
    return { encodeS, delS, addS: secs(t) };
  }

  /** the scale table installed now, and the trials per table size */
  private table = new Set<string>();
  private readonly scaleRuns = new Map<number, { t: TrialOutcome; cpp: number | null }[]>();

  /** Makes the installed scale table the one of `n` routes; the plan. */
  private async installScale(lr: Linerate, n: number): Promise<ReturnType<typeof scalePlan>> {
    const plan = scalePlan(n, this.plan.scaleFlows);
    const d = diff(this.table, plan.prefixes);
    const w = await this.writeRoutes(lr, d.del, d.add, this.plan.routeBatch);
    this.table = new Set(plan.prefixes);
    this.progress.result(`${n} routes installed (${plan.trafficRoutes} x /${plan.trafficPlen} carry the traffic): ` +
      `+${d.add.length} -${d.del.length} in ${(w.addS + w.delS).toFixed(2)} s`);
    return plan;
  }

  private async scaleTrials(lr: Linerate, n: number): Promise<void> {
    const runs = this.scaleRuns.get(n) ?? [];
    for (let i = 0; i < this.plan.scaleTrials; i++) {
      const r = await this.maxTrial(lr, this.scaleTraffic(), this.plan.scaleSeconds, `trial ${i + 1}/${this.plan.scaleTrials}`);
      runs.push(r);
      this.progress.result(`${n} routes: ${r.t.mpps.toFixed(2)} Mpps` + (r.cpp ? `, ${r.cpp.toFixed(0)} cycles/pkt` : ''));
    }
    this.scaleRuns.set(n, runs);
  }

  /**
   * Scale, first pass: install 1, 1k, 100k, 1M routes in turn over gRPC
   * and measure at each size. A second pass on the way down (scaleDown)
   * adds trials taken a minute later, so that a slow spell of the host
   * does not decide a table size alone.
   */
  async scaleUp(lr: Linerate): Promise<void> {
    for (const n of this.plan.scaleRoutes) {
      this.phase(`linerate: ${n} routes installed, scale traffic`);
      await this.installScale(lr, n);
      await this.scaleTrials(lr, n);
    }
  }

  /** Scale, second pass from the largest table down; then one case per table size. */
  async scaleDown(lr: Linerate): Promise<void> {
    for (const n of [...this.plan.scaleRoutes].reverse()) {
      this.phase(`linerate: ${n} routes installed, scale traffic (second pass)`);
      await this.installScale(lr, n);
      await this.scaleTrials(lr, n);
    }
  }

  /** The scale cases from every trial of both passes. */
  finishScale(lr: Linerate): void {
    for (const n of this.plan.scaleRoutes) {
      const runs = this.scaleRuns.get(n);
      if (!runs?.length) continue;
      const p = scalePlan(n, this.plan.scaleFlows);
      this.maxCase(lr, 'scale', this.scaleTraffic(), runs, { routes: n, note: `traffic spread over ${p.trafficRoutes} /${p.trafficPlen} routes` });
    }
    this.scaleRuns.clear();
  }

  /** Route add rate: the installed (largest) table deleted and added again, timed. */
  async routeAddRate(lr: Linerate): Promise<void> {
    const last = [...this.table];
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

    await this.ensureAlive(`${this.phaseName}, before churn`);
    this.between();
    const mark = cpuMark();
    const before = await lr.counters();
    let flowing!: () => void;
    const started = new Promise<void>((r) => (flowing = r));
    const trialP = runTrial(this.topo, { ...traffic, rateMpps: rate, seconds: seconds + 1.5, warmup: 0 }, {
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
}

export type { LinerateCounters };
