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

export class Runner {
  readonly cases: CaseResult[] = [];
  routeAdd: RouteAddResult | null = null;
  churn: ChurnResult | null = null;
  tscHz: number | null = null;
  /** NDR found per forwarder (64B main traffic) */
  readonly ndr = new Map<ForwarderId, number>();

  /** `between`: called before every trial (the noise monitor samples /proc there, not during a trial) */
  constructor(private readonly plan: Plan, private readonly topo: Topology, private readonly progress: Progress,
    private readonly between: () => void = () => undefined) {}

  private mainTraffic(size: number): Traffic {
    return { size, flows: this.plan.mainFlows, dst: MAIN_TRAFFIC_DST };
  }

  private scaleTraffic(): Traffic {
    return { size: 64, flows: this.plan.scaleFlows, dst: SCALE_TRAFFIC_DST };
  }

  private live(what: string): (p: PktgenProgress) => void {
    return (p) => this.progress.status(`${what} · t=${p.t.toFixed(1)} s · tx ${p.tx_mpps.toFixed(2)} rx ${p.rx_mpps.toFixed(2)} Mpps`);
  }

  /** trials run again because other processes disturbed them, and disturbed trials kept anyway */
  reruns = 0;
  disturbed = 0;

  /**
   * One trial, run again (up to the plan's limits) while other processes
   * used the CPUs during it; the least disturbed run is kept.
   */
  private async trial(spec: TrialSpec, what: string): Promise<TrialOutcome> {
    let best: TrialOutcome | undefined;
    for (let attempt = 0; ; attempt++) {
      this.between();
      const mark = cpuMark();
      const t = await runTrial(this.topo, spec, { onProgress: this.live(attempt ? `${what} (again: machine busy)` : what) });
      t.othersCpu = othersPercentSince(mark);
      this.tscHz ??= t.raw.tsc_hz;
      if (!best || t.othersCpu < best.othersCpu) best = t;
      if (t.othersCpu <= this.plan.noiseLimit) return t;
      if (attempt >= this.plan.noiseRetries || this.reruns >= this.plan.noiseBudget) break;
      this.reruns++;
      this.progress.warn(`other processes used ${Math.round(t.othersCpu)} % of a CPU during that trial: running it again`);
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
      others_cpu_percent: Math.round(Math.max(...trials.map((t) => t.othersCpu))),
      ratio: {},
      cycles_per_packet: null,
      core_cycles_per_packet: mpps > 0 && pick.spec.rateMpps === null ? sig(pick.raw.tsc_hz / (mpps * 1e6), 4) : null,
      ...extra,
    };
    this.cases.push(c);
    return c;
  }

  /** Closed-loop maximum: `n` trials, the median reported; cycles/packet from linerate's counters. */
  async maxRate(f: Forwarder, test: 'max' | 'scale', traffic: Traffic, n: number, seconds: number,
    extra: Partial<CaseResult> = {}): Promise<CaseResult> {
    const lr = f.id === 'linerate' ? (f as Linerate) : undefined;
    const trials: TrialOutcome[] = [];
    const cpp: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = lr ? await lr.counters() : undefined;
      const t = await this.trial({ ...traffic, rateMpps: null, seconds, warmup: this.plan.warmup },
        `trial ${i + 1}/${n}`);
      if (lr && before) {
        const c = cyclesPerPacket(before, await lr.counters());
        if (c !== null) cpp.push(c);
      }
      trials.push(t);
    }
    // the trial closest to the median stands for the case (loss, latency)
    const m = median(trials.map((t) => t.mpps));
    const pick = trials.reduce((a, b) => (Math.abs(b.mpps - m) < Math.abs(a.mpps - m) ? b : a));
    const c = this.caseFrom(f, test, traffic, trials, pick, { ...extra, cycles_per_packet: cpp.length ? sig(median(cpp), 4) : null });
    this.progress.result(`${c.name}: ${c.mpps.toFixed(2)} Mpps (${c.trials.map((x) => x.toFixed(2)).join(', ')})` +
      (c.cycles_per_packet ? `, ${c.cycles_per_packet.toFixed(0)} cycles/pkt` : '') +
      (c.loss_packets ? `, lost ${c.loss_packets}` : ''));
    return c;
  }

  /** Size sweep of the closed-loop maximum (64B gets more trials). */
  async sizes(f: Forwarder): Promise<void> {
    for (const size of this.plan.sizes) {
      this.progress.phase(`${f.id}: maximum rate, ${size}B`);
      const n = size === 64 ? this.plan.maxTrials : this.plan.sweepTrials;
      await this.maxRate(f, 'max', this.mainTraffic(size), n, this.plan.maxSeconds);
    }
  }

  /** RFC 2544 NDR then PDR (sharing trials), bounded above by the closed-loop maximum. */
  async search(f: Forwarder): Promise<number> {
    this.progress.phase(`${f.id}: RFC 2544 NDR / PDR, 64B`);
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
    this.progress.phase(`${f.id}: latency at 50 % and 90 % of NDR`);
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
    this.progress.phase(`${f.id}: maximum rate, scale traffic (${this.plan.scaleFlows} flows)`);
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

  /** Scale steps (install N routes, measure), then the route add rate of the largest table. */
  async scale(lr: Linerate): Promise<void> {
    let table = new Set<string>();
    let last: string[] = [];
    for (const n of this.plan.scaleRoutes) {
      this.progress.phase(`linerate: ${n} routes installed, scale traffic`);
      const plan = scalePlan(n, this.plan.scaleFlows);
      const d = diff(table, plan.prefixes);
      const w = await this.writeRoutes(lr, d.del, d.add, this.plan.routeBatch);
      table = new Set(plan.prefixes);
      last = plan.prefixes;
      this.progress.result(`installed ${n} routes (${plan.trafficRoutes} x /${plan.trafficPlen} carry the traffic): ` +
        `+${d.add.length} -${d.del.length} in ${(w.addS + w.delS).toFixed(2)} s`);
      await this.maxRate(lr, 'scale', this.scaleTraffic(), this.plan.scaleTrials, this.plan.scaleSeconds, {
        routes: n,
        note: `traffic spread over ${plan.trafficRoutes} /${plan.trafficPlen} routes`,
      });
    }
    // clean measurement on the largest table: delete it all, add it all again
    this.progress.phase(`linerate: route add over gRPC, ${last.length} routes in batches of ${this.plan.routeBatch}`);
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
    this.progress.phase(`linerate: route churn at ${this.plan.churnRate} routes/s, traffic at 50 % of NDR`);
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
    const seconds = this.plan.churnSeconds;

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
      loss_packets: t.lossPackets,
      loss_ratio: sig(t.lossRatio, 4),
      drops,
      table_swaps: Number(after.tableSwaps - before.tableSwaps),
      others_cpu_percent: Math.round(othersPercentSince(mark)),
    };
    this.progress.result(`churn: ${updates} updates in ${churnS.toFixed(1)} s = ${this.churn.achieved_routes_per_s} routes/s, ` +
      `traffic ${rate.toFixed(2)} Mpps: lost ${t.lossPackets}; drops ${JSON.stringify(drops)}`);
  }
}

export type { LinerateCounters };
