/**
 * Stats messages from snapshots of the dataplane's stats memory: counters
 * are summed per port over its queues, rates are the deltas between two
 * snapshots of the same dataplane instance divided by the time between them.
 */
import type * as dp from '../dataplane/addon';
import type * as api from '../gen';

/**
 * A generated __Output type with every message field set: what the server
 * builds here (on the wire a message field may be absent, hence `| null`).
 */
export type Filled<T> = T extends readonly (infer U)[] ? Filled<U>[]
  : T extends object ? { [K in keyof T]: Filled<NonNullable<T[K]>> } : T;

const u64 = (b: bigint): string => b.toString();

/** b - a, clamped at 0 (counters cleared between the snapshots). */
const delta = (a: bigint | undefined, b: bigint): bigint => (a === undefined || b < a ? 0n : b - a);

function traffic(packets: bigint, bytes: bigint, prevPackets: bigint | undefined, prevBytes: bigint | undefined,
  seconds: number): Filled<api.Traffic__Output> {
  if (seconds <= 0) return { packets: u64(packets), bytes: u64(bytes), pps: 0, mpps: 0, bps: 0 };
  const pps = Number(delta(prevPackets, packets)) / seconds;
  return { packets: u64(packets), bytes: u64(bytes), pps, mpps: pps / 1e6, bps: (Number(delta(prevBytes, bytes)) * 8) / seconds };
}

function sumDrops(into: Record<string, bigint>, from: Record<string, bigint>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0n) + v;
}

const totalOf = (drops: Record<string, bigint>): bigint => Object.values(drops).reduce((s, v) => s + v, 0n);

function nonZero(drops: Record<string, bigint>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(drops)) if (v !== 0n) out[k] = u64(v);
  return out;
}

interface PortSums { rxP: bigint; rxB: bigint; txP: bigint; txB: bigint; fwd: bigint; punts: bigint; drops: Record<string, bigint>; txDrop: bigint }

function sums(p: dp.PortHwStats): PortSums {
  const s: PortSums = { rxP: 0n, rxB: 0n, txP: 0n, txB: 0n, fwd: 0n, punts: 0n, drops: {}, txDrop: 0n };
  for (const q of p.rxq) {
    s.rxP += q.rxPackets; s.rxB += q.rxBytes; s.fwd += q.fwdPackets; s.punts += q.puntPackets;
    sumDrops(s.drops, q.drops);
  }
  for (const q of p.txq) { s.txP += q.txPackets; s.txB += q.txBytes; s.txDrop += q.txDropped; }
  return s;
}

/** Per-port totals of a snapshot (ListPorts counters). */
export function portCounters(p: dp.PortHwStats): Filled<api.PortCounters__Output> {
  const s = sums(p);
  return {
    rxPackets: u64(s.rxP), rxBytes: u64(s.rxB), txPackets: u64(s.txP), txBytes: u64(s.txB),
    rxDropped: u64(totalOf(s.drops)), txDropped: u64(s.txDrop), punts: u64(s.punts),
    imissed: u64(p.imissed), ierrors: u64(p.ierrors), oerrors: u64(p.oerrors), rxNombuf: u64(p.rxNombuf),
  };
}


/**
 * The Stats message for `cur`, with rates against `prev` (ignored when it
 * is from another dataplane instance or not older).
 */
export function buildStats(cur: dp.StatsSnapshot, prev: dp.StatsSnapshot | undefined): Filled<api.Stats__Output> {
  const usable = prev && prev.bootId === cur.bootId && prev.takenNs < cur.takenNs ? prev : undefined;
  const seconds = usable ? Number(cur.takenNs - usable.takenNs) / 1e9 : 0;
  const ports: Filled<api.PortStats__Output>[] = [];
  let rxP = 0n, rxB = 0n, txP = 0n, txB = 0n, pRxP = 0n, pRxB = 0n, pTxP = 0n, pTxB = 0n, dropped = 0n;

  cur.ports.forEach((p, i) => {
    const pp = usable?.ports[i];
    const s = sums(p);
    const ps = pp ? sums(pp) : undefined;
    rxP += s.rxP; rxB += s.rxB; txP += s.txP; txB += s.txB;
    if (ps) { pRxP += ps.rxP; pRxB += ps.rxB; pTxP += ps.txP; pTxB += ps.txB; }
    const portDropped = totalOf(s.drops);
    dropped += portDropped;
    ports.push({
      name: p.name,
      linkUp: p.linkUp,
      speedMbps: p.speedMbps,
      rx: traffic(s.rxP, s.rxB, ps?.rxP, ps?.rxB, seconds),
      tx: traffic(s.txP, s.txB, ps?.txP, ps?.txB, seconds),
      forwarded: u64(s.fwd),
      punts: u64(s.punts),
      dropped: u64(portDropped),
      drops: nonZero(s.drops),
      txDropped: u64(s.txDrop),
      device: {
        ipackets: u64(p.ipackets), opackets: u64(p.opackets), ibytes: u64(p.ibytes), obytes: u64(p.obytes),
        imissed: u64(p.imissed), ierrors: u64(p.ierrors), oerrors: u64(p.oerrors), rxNombuf: u64(p.rxNombuf),
      },
      rxQueues: p.rxq.map((q, j) => {
        const pq = pp?.rxq[j];
        const d = totalOf(q.drops);
        return {
          queue: j, worker: q.worker, rx: traffic(q.rxPackets, q.rxBytes, pq?.rxPackets, pq?.rxBytes, seconds),
          forwarded: u64(q.fwdPackets), punts: u64(q.puntPackets), dropped: u64(d), drops: nonZero(q.drops),
        };
      }),
      txQueues: p.txq.map((q, j) => {
        const pq = pp?.txq[j];
        return { queue: j, tx: traffic(q.txPackets, q.txBytes, pq?.txPackets, pq?.txBytes, seconds), dropped: u64(q.txDropped) };
      }),
    });
  });

  const tscPerSecond = Number(cur.tscHz);
  const workers: Filled<api.WorkerStats__Output>[] = cur.workers.map((w, i) => {
    const pw = usable?.workers[i];
    const busy = delta(pw?.busyCycles, w.busyCycles);
    const rx = delta(pw?.rxPackets, w.rxPackets);
    const window = seconds * tscPerSecond;
    return {
      worker: i,
      lcore: w.lcoreId,
      rxQueues: w.rxQueues,
      // Workers count packets, not bytes.
      rx: traffic(w.rxPackets, 0n, pw?.rxPackets, 0n, seconds),
      tx: traffic(w.txPackets, 0n, pw?.txPackets, 0n, seconds),
      dropped: u64(w.drops),
      polls: u64(w.polls),
      busyPolls: u64(w.busyPolls),
      busyCycles: u64(w.busyCycles),
      busyPercent: window > 0 ? Math.min(100, (Number(busy) / window) * 100) : 0,
      cyclesPerPacket: rx > 0n ? Number(busy) / Number(rx) : 0,
    };
  });

  const slowPath: Record<string, string> = {};
  for (const [k, v] of Object.entries(cur.slow)) slowPath[k] = u64(v);  // names from LR_SLOW_COUNTERS, unchanged

  return {
    timestampNs: u64(BigInt(Date.now()) * 1_000_000n),
    intervalSeconds: seconds,
    bootId: u64(cur.bootId),
    pid: cur.pid,
    tscHz: u64(cur.tscHz),
    rx: traffic(rxP, rxB, usable ? pRxP : undefined, usable ? pRxB : undefined, seconds),
    tx: traffic(txP, txB, usable ? pTxP : undefined, usable ? pTxB : undefined, seconds),
    dropped: u64(dropped),
    ports,
    workers,
    slowPath,
  };
}

/** One RX queue's share of its worker's load over the interval. */
export interface QueueUsage { port: string; queue: number; worker: number; lcore: number; rx: Filled<api.Traffic__Output>; busyPercent: number }

/**
 * Each polled RX queue with its receive rates and its estimated share of
 * its worker's busy cycles (the worker's busy % split over its queues in
 * proportion to the packets they received: the stats memory counts cycles
 * per worker, packets per queue; OVS-DPDK's pmd-rxq-show "usage" the same
 * way), port-major.
 */
export function queueUsage(s: Filled<api.Stats__Output>): QueueUsage[] {
  const out: QueueUsage[] = [];
  for (const p of s.ports) {
    for (const q of p.rxQueues) {
      const w = q.worker >= 0 ? s.workers.find((x) => x.worker === q.worker) : undefined;
      if (!w) continue;
      const share = w.rx.pps > 0 ? Math.min(1, q.rx.pps / w.rx.pps) : 0;
      out.push({ port: p.name, queue: q.queue, worker: w.worker, lcore: w.lcore, rx: q.rx, busyPercent: w.busyPercent * share });
    }
  }
  return out;
}

