/**
 * linerate.v1.QueueService: the dataplane's (port, RX queue) -> worker map
 * (LR_CTL_QUEUE_MAP) with each queue's traffic from the stats memory, and
 * queue moves (LR_CTL_QUEUE_MOVE, all-or-nothing, published by the
 * dataplane under RCU), and the RSS redirection table of a port
 * (LR_CTL_RETA_GET / SET, in the device's group-of-64 layout) and its
 * RSS hash fields (LR_CTL_RSS_CONF, by DPDK's names). Requests are checked here against the attached
 * dataplane's ports and workers, so that errors name the request's fields;
 * the dataplane checks them again. Moves run inside the controller's write
 * lock, one at a time.
 */
import type * as api from '../gen';
import type { QueueServiceHandlers } from '../gen/linerate/v1/QueueService';
import type { Controller } from '../controller';
import { status } from '@grpc/grpc-js';
import type { QueueEntry, Reta, RssConf, StatsSnapshot } from '../dataplane/addon';
import type { Attachment } from '../dataplane/supervisor';
import { ApiError, exhausted, invalid, notFound, quote, toApiError } from '../errors';
import type { Logger } from '../log';
import { buildStats } from '../stats/rates';
import type { QueueSettings } from '../state/queues';
import { unary } from './common';

/** Moves in one request at most (every queue of every port). */
const MAX_MOVES = 256;

function queueMap(ctl: Controller, a: Attachment, entries: QueueEntry[], port: string): api.QueueMap {
  const cur = ctl.snapshot();
  const stats = cur ? buildStats(cur, ctl.previousSample(cur)) : null;
  const queues: api.Queue[] = entries
    .map((e) => ({ e, name: a.ports.name(e.portId) }))
    .filter(({ name }) => !port || name === port)
    .map(({ e, name }) => ({
      port: name, queue: e.queue, worker: e.worker, lcore: e.lcore, moves: e.moves,
      rx: stats?.ports[e.portId]?.rxQueues[e.queue]?.rx ?? null,
    }));
  return {
    queues,
    version: entries[0]?.version ?? 0,
    workers: a.hello.nWorkers,
    lastMoveMs: Number(entries[0]?.lastMoveNs ?? 0n) / 1e6,
    rebalances: ctl.rebalances,
  };
}

const GROUP = 64;
const ALL = (1n << 64n) - 1n;

function retaMsg(port: string, r: Reta): api.Reta {
  return { port, retaSize: r.retaSize, rxQueues: r.rxQueues ?? 0, groups: r.groups.map((g) => ({ mask: g.mask.toString(), queues: g.queues })) };
}

/** The named port of the attached dataplane, or NOT_FOUND. */
function portOf(a: Attachment, name: string, field: string): { portId: number; rxQueues: number } {
  if (!name) throw invalid(field, 'required');
  const p = a.ports.get(name);
  if (!p) throw notFound(field, `unknown port ${quote(name)}`);
  return p;
}

/** The dataplane's refusal of a RETA call: its message names the field (or the device's limit) already. */
function retaError(e: unknown): ApiError {
  const err = toApiError(e);
  return err.code === status.INTERNAL || err.code === status.UNAVAILABLE ? err : new ApiError(err.code, err.message.replace(/^dataplane: /, ''));
}

/** The RSS field names the addon knows (lr_ctl.h LR_RSS_FIELDS) and DPDK's groups of them. */
export interface RssNames { fields: readonly string[]; groups: Readonly<Record<string, readonly string[]>> }

function rssMsg(port: string, r: RssConf): api.RssConf {
  return { port, fields: r.fields, supported: r.supported, defaults: r.defaults, rxQueues: r.rxQueues, rssHf: `0x${r.rssHf.toString(16)}` };
}

/**
 * The field names of a SetRss request resolved against the device's
 * support: a group is the part of it the device has; an unknown name, or
 * one the device cannot hash on, is INVALID_ARGUMENT naming fields[i] and
 * listing what the device supports.
 */
export function resolveRssFields(asked: readonly string[], cur: RssConf, names: RssNames, port: string, driver: string): string[] {
  if (!cur.supported.length) {
    throw new ApiError(status.FAILED_PRECONDITION, `port ${port}: the device (${driver}) hashes on no RSS field (flow_type_rss_offloads 0)`);
  }
  const dev = `port ${port} (${driver}) supports ${cur.supported.join(', ')}; groups: ${Object.keys(names.groups).join(', ')}`;
  if (!asked.length) throw invalid('fields', `required: one or more field names; ${dev}`);
  const want = new Set<string>();
  asked.forEach((raw, i) => {
    const f = `fields[${i}]`;
    const name = raw.trim().toLowerCase();
    const group = Object.prototype.hasOwnProperty.call(names.groups, name) ? names.groups[name] : undefined;
    if (group) {
      const have = group.filter((x) => cur.supported.includes(x));
      if (!have.length) throw invalid(f, `the device cannot hash on any field of the group ${quote(name)} (${group.join(', ')}); ${dev}`);
      for (const x of have) want.add(x);
    } else if (!names.fields.includes(name)) {
      throw invalid(f, `unknown RSS hash field ${quote(raw)}; ${dev}`);
    } else if (!cur.supported.includes(name)) {
      throw invalid(f, `the device cannot hash on ${quote(name)}; ${dev}`);
    } else {
      want.add(name);
    }
  });
  return names.fields.filter((x) => want.has(x));
}

/** One queue's estimated load: its share of its worker's busy cycles over the interval. */
interface QueueLoad { portId: number; queue: number; worker: number; cycles: number }

/**
 * Per-queue load from two snapshots: each worker's busy cycles split over
 * its queues in proportion to the packets they received (the stats memory
 * counts cycles per worker, packets per queue).
 */
export function queueLoads(cur: StatsSnapshot, prev: StatsSnapshot, entries: QueueEntry[]): QueueLoad[] {
  const d = (a: bigint | undefined, b: bigint | undefined): number => (a === undefined || b === undefined || b < a ? 0 : Number(b - a));
  const pkts = (e: QueueEntry): number => d(prev.ports[e.portId]?.rxq[e.queue]?.rxPackets, cur.ports[e.portId]?.rxq[e.queue]?.rxPackets);
  const sum = new Map<number, number>();
  for (const e of entries) sum.set(e.worker, (sum.get(e.worker) ?? 0) + pkts(e));
  return entries.map((e) => {
    const busy = d(prev.workers[e.worker]?.busyCycles, cur.workers[e.worker]?.busyCycles);
    const total = sum.get(e.worker) ?? 0;
    return { portId: e.portId, queue: e.queue, worker: e.worker, cycles: total > 0 ? (busy * pkts(e)) / total : 0 };
  });
}

/**
 * OVS-style cycles-based assignment: heaviest queue first onto the worker
 * with the least load so far; a tie keeps a queue on its own worker, else
 * the lowest index; a queue that carried nothing stays. Returns each queue's new worker (same order as `loads`).
 */
export function assignByLoad(loads: QueueLoad[], workers: number): number[] {
  const load = new Array<number>(workers).fill(0);
  const out = new Array<number>(loads.length).fill(0);
  const order = loads.map((_, i) => i).sort((a, b) => loads[b].cycles - loads[a].cycles || a - b);
  for (const i of order) {
    let best = loads[i].worker < workers ? loads[i].worker : 0;
    // A queue that carried nothing stays where it is: moving it balances nothing.
    if (loads[i].cycles > 0) for (let w = 0; w < workers; w++) if (load[w] < load[best]) best = w;
    out[i] = best;
    load[best] += loads[i].cycles;
  }
  return out;
}

export interface WorkerLoadFigure { worker: number; rxQueues: number; busyPercent: number }

export interface RebalancePlan {
  entries: QueueEntry[];
  before: WorkerLoadFigure[];
  after: WorkerLoadFigure[];
  moves: { portId: number; queue: number; worker: number }[];
  seconds: number;
}

/** The load-based assignment over serve's last sampling interval; null before one has passed. */
export async function planRebalance(ctl: Controller, a: Attachment): Promise<RebalancePlan | null> {
  const cur = ctl.snapshot();
  const prev = cur ? ctl.previousSample(cur) : undefined;
  if (!cur || !prev) return null;
  const seconds = Number(cur.takenNs - prev.takenNs) / 1e9;
  const window = seconds * Number(cur.tscHz);
  const entries = await a.dp.queueMap();
  const loads = queueLoads(cur, prev, entries);
  const n = a.hello.nWorkers;
  const plan = assignByLoad(loads, n);
  const report = (owner: (i: number) => number): WorkerLoadFigure[] => Array.from({ length: n }, (_, w) => {
    const mine = loads.filter((_, i) => owner(i) === w);
    return { worker: w, rxQueues: mine.length, busyPercent: window > 0 ? (mine.reduce((s2, q) => s2 + q.cycles, 0) / window) * 100 : 0 };
  });
  const moves = loads.map((q, i) => ({ q, w: plan[i] })).filter(({ q, w }) => q.worker !== w)
    .map(({ q, w }) => ({ portId: q.portId, queue: q.queue, worker: w }));
  return { entries, before: report((i) => loads[i].worker), after: report((i) => plan[i]), moves, seconds };
}

/** Applies a plan's moves (one batch) and records the map; returns the map after. */
async function applyRebalance(a: Attachment, settings: QueueSettings, plan: RebalancePlan): Promise<QueueEntry[]> {
  await a.dp.queueMove(plan.moves).catch((e: unknown) => { throw toApiError(e); });
  const now = await a.dp.queueMap();
  settings.recordMap(a, now);
  return now;
}

/** The automatic rebalance policy (config queues.rebalance). */
export interface RebalancePolicy {
  /** Seconds between checks; 0 = off. */
  intervalS: number;
  /** Only when the busiest worker is at least this busy (%). */
  loadThresholdPercent: number;
  /** Only when the plan lowers the busiest worker's load by at least this share (%). */
  improvementPercent: number;
}

/**
 * Runs the policy every intervalS: plans as Rebalance does and applies the
 * plan when the busiest worker is over the load threshold and the plan
 * improves it by the improvement threshold (OVS-DPDK's pmd-auto-lb
 * conditions). Returns the stop function.
 */
export function startRebalancePolicy(ctl: Controller, settings: QueueSettings, p: RebalancePolicy, log: Logger): () => void {
  if (!p.intervalS) return () => undefined;
  const t = setInterval(() => {
    const a = ctl.peekAttachment();
    if (!a) return;
    void ctl.exclusive(async () => {
      const plan = await planRebalance(ctl, a);
      if (!plan || !plan.moves.length) return;
      const before = Math.max(...plan.before.map((x) => x.busyPercent));
      const after = Math.max(...plan.after.map((x) => x.busyPercent));
      if (before < p.loadThresholdPercent || before <= 0 || ((before - after) / before) * 100 < p.improvementPercent) return;
      await applyRebalance(a, settings, plan);
      ctl.rebalances++;
      log.info({ moves: plan.moves.length, busiestBefore: before.toFixed(1), busiestAfter: after.toFixed(1) }, 'queues rebalanced by policy');
    }).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'rebalance policy: failed'));
  }, p.intervalS * 1000);
  t.unref();
  return () => clearInterval(t);
}

export function queueService(ctl: Controller, settings: QueueSettings, log: Logger, rss: RssNames): QueueServiceHandlers {
  return {
    GetRss: unary(log, 'GetRss', async (req) => {
      const a = ctl.attached();
      const p = portOf(a, req.port ?? '', 'port');
      return rssMsg(req.port!, await a.dp.rssConf(p.portId).catch((e: unknown) => { throw retaError(e); }));
    }),

    SetRss: unary(log, 'SetRss', async (req) => ctl.exclusive(async () => {
      const a = ctl.attached();
      const name = req.port ?? '';
      const p = portOf(a, name, 'port');
      const cur = await a.dp.rssConf(p.portId).catch((e: unknown) => { throw retaError(e); });
      const fields = resolveRssFields(req.fields ?? [], cur, rss, name, a.ports.get(name)?.driver ?? '?');
      if (cur.rxQueues < 2) {
        throw new ApiError(status.FAILED_PRECONDITION, `port ${name} has ${cur.rxQueues} RX queue: RSS is off; give it 2 or more first (SetQueueCount)`);
      }
      const t0 = process.hrtime.bigint();
      const r = await a.dp.rssConf(p.portId, fields).catch((e: unknown) => { throw retaError(e); });
      settings.recordRss(name, r.fields);
      log.info({ port: name, fields: r.fields.join(','), ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'RSS hash fields set');
      return rssMsg(name, r);
    })),

    ListQueues: unary(log, 'ListQueues', async (req) => {
      const a = ctl.attached();
      const port = req.port ?? '';
      if (port && !a.ports.has(port)) throw notFound('port', `unknown port ${quote(port)}`);
      return queueMap(ctl, a, await a.dp.queueMap(), port);
    }),

    GetReta: unary(log, 'GetReta', async (req) => {
      const a = ctl.attached();
      const p = portOf(a, req.port ?? '', 'port');
      return retaMsg(req.port!, await a.dp.retaGet(p.portId).catch((e: unknown) => { throw retaError(e); }));
    }),

    SetReta: unary(log, 'SetReta', async (req) => ctl.exclusive(async () => {
      const a = ctl.attached();
      const name = req.port ?? '';
      const p = portOf(a, name, 'port');
      const size = Number(req.retaSize ?? 0);
      if (!size) throw invalid('reta_size', 'required: the device\'s table size, as GetReta reports it');
      const groups = req.groups ?? [];
      if (!groups.length) throw invalid('groups', 'empty');
      if (groups.length * GROUP > size) throw invalid('groups', `${groups.length} groups of 64 exceed a reta_size of ${size}`);
      const out = groups.map((g, i) => {
        const f = `groups[${i}]`;
        let mask: bigint;
        try {
          mask = BigInt(String(g.mask ?? '0'));
        } catch {
          throw invalid(`${f}.mask`, `not an integer: ${quote(g.mask)}`);
        }
        if (mask < 0n || mask > ALL) throw invalid(`${f}.mask`, 'a 64-bit mask');
        const queues = (g.queues ?? []).map(Number);
        if (queues.length > GROUP) throw invalid(`${f}.queues`, `${queues.length} entries, a group has 64`);
        for (let j = 0; j < GROUP; j++) {
          if (!((mask >> BigInt(j)) & 1n)) continue;
          if (j >= queues.length) throw invalid(`${f}.mask`, `bit ${j} is set but queues has ${queues.length} entries`);
          if (queues[j] >= p.rxQueues) throw invalid(`${f}.queues[${j}]`, `queue ${queues[j]}, but port ${name} has ${p.rxQueues} RX queue(s)`);
        }
        return { mask, queues };
      });
      const t0 = process.hrtime.bigint();
      const r = await a.dp.retaSet({ portId: p.portId, retaSize: size, groups: out }).catch((e: unknown) => { throw retaError(e); });
      settings.recordReta(name, r);
      log.info({ port: name, retaSize: r.retaSize, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'RETA written');
      return retaMsg(name, r);
    })),

    SetQueueCount: unary(log, 'SetQueueCount', async (req) => ctl.exclusive(async () => {
      const a = ctl.attached();
      const name = req.port ?? '';
      const p = portOf(a, name, 'port');
      const tx = Number(req.txQueues ?? 0);
      const n = Number(req.rxQueues ?? 0) || (tx ? p.rxQueues : 0);
      if (!n) throw invalid('rx_queues', 'required (at least 1)');
      if (tx && tx !== a.hello.nWorkers) {
        throw invalid('tx_queues', `port ${name} has one TX queue per worker, ${a.hello.nWorkers}: TX queue i is worker i's alone ` +
          `(no lock on transmit); ${tx} is not settable`);
      }
      const t0 = process.hrtime.bigint();
      let failed: ApiError | null = null;
      try {
        await a.dp.portQueues([{ portId: p.portId, rxQueues: n, txQueues: tx }]);
      } catch (e) {
        failed = retaError(e);
      }
      // Whatever happened, the ports are as the dataplane now says (a refusal restored the old count).
      for (const fresh of await a.dp.portList()) {
        const known = a.ports.get(fresh.name);
        if (known) Object.assign(known, fresh);
      }
      if (failed) throw failed;
      log.info({ port: name, rxQueues: n, ms: Number(process.hrtime.bigint() - t0) / 1e6 }, 'RX queue count changed');
      const entries = await a.dp.queueMap();
      settings.recordCount(name, n);
      settings.recordMap(a, entries);
      return queueMap(ctl, a, entries, '');
    })),

    Rebalance: unary(log, 'Rebalance', async (req) => ctl.exclusive(async () => {
      const a = ctl.attached();
      const plan = await planRebalance(ctl, a);
      if (!plan) throw new ApiError(status.FAILED_PRECONDITION, 'no load measured yet: serve samples the stats every second; try again');
      const now = plan.moves.length && !req.dryRun ? await applyRebalance(a, settings, plan) : plan.entries;
      log.info({ moves: plan.moves.length, dryRun: !!req.dryRun, before: plan.before.map((x) => x.busyPercent.toFixed(1)),
        after: plan.after.map((x) => x.busyPercent.toFixed(1)) }, 'queues rebalanced');
      return {
        before: plan.before, after: plan.after, intervalSeconds: plan.seconds, map: queueMap(ctl, a, now, ''),
        moves: plan.moves.map((m) => ({ port: a.ports.name(m.portId), queue: m.queue, worker: m.worker })),
      };
    })),

    MoveQueues: unary(log, 'MoveQueues', async (req) => {
      const moves = req.moves ?? [];
      if (!moves.length) throw invalid('moves', 'empty');
      if (moves.length > MAX_MOVES) throw exhausted('moves', `${moves.length} moves exceed the limit of ${MAX_MOVES}`);
      return ctl.exclusive(async () => {
        const a = ctl.attached();
        const seen = new Map<string, number>();
        const batch = moves.map((m, i) => {
          const f = `moves[${i}]`;
          const name = m.port ?? '';
          if (!name) throw invalid(`${f}.port`, 'required');
          const p = a.ports.get(name);
          if (!p) throw notFound(`${f}.port`, `unknown port ${quote(name)}`);
          const queue = Number(m.queue ?? 0);
          if (queue >= p.rxQueues) throw notFound(`${f}.queue`, `port ${name} has ${p.rxQueues} RX queue(s), no queue ${queue}`);
          const worker = Number(m.worker ?? 0);
          if (worker >= a.hello.nWorkers) throw notFound(`${f}.worker`, `no worker ${worker} (the dataplane has ${a.hello.nWorkers})`);
          const key = `${name}/${queue}`;
          const prev = seen.get(key);
          if (prev !== undefined) throw invalid(`${f}.queue`, `port ${name} queue ${queue} appears twice (also moves[${prev}])`);
          seen.set(key, i);
          return { portId: p.portId, queue, worker };
        });
        const t0 = process.hrtime.bigint();
        try {
          await a.dp.queueMove(batch);
        } catch (e) {
          throw toApiError(e, (i) => `moves[${i}]`);
        }
        const entries = await a.dp.queueMap();
        settings.recordMap(a, entries);
        const res = queueMap(ctl, a, entries, '');
        log.info({ moves: batch.length, version: res.version, liveMs: res.lastMoveMs,
          callMs: Number(process.hrtime.bigint() - t0) / 1e6 }, 'queues moved');
        return res;
      });
    }),
  };
}
