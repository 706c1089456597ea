// SPDX-License-Identifier: BSD-3-Clause
// The queue bench (`npm run bench -- --queues`, also part of the full run):
// issue 11's target "a queue move or RETA change under traffic at 50 % of
// NDR loses zero frames; the time from request to the new map being live
// is stated". Owned by the harness; main.ts calls queueBench() and writes
// bench/results/queues.{json,md}.
//
//   linerate with two worker lcores (EAL --lcores 0@0,1@1,2@1: the main
//   lcore on CPU 0 with the generator, both workers on CPU 1, idle ones
//   sleeping 50 us: the machine has 2 vCPUs, and a worker on the
//   generator's CPU would measure the generator's contention, not the move)
//   p0, p1  memif (the bench topology), one RX queue each: p0/0 carries
//           the whole stream
//   n0      net_null (no-rx), 2 RX queues and a 128-entry RETA: the vdev
//           here with a redirection table (memif and af_packet have none)
//
// 1. NDR of that layout (RFC 2544 search at 64B, as the main bench does).
// 2. A baseline trial at 50 % of it, no change.
// 3. The same trial while p0/0 (the loaded queue) moves between the two
//    workers N times and n0's RETA is rewritten N times, interleaved.
// Loss is counted by the generator (frames not received back, plus any
// shortfall of frames it could not hand over) and by the dataplane (drops
// by reason, the device's imissed); request-to-live times are the
// dataplane's own (QueueMap.last_move_ms: both grace periods of the move)
// and the gRPC calls' as seen here.
//
// What a vdev cannot show: a RETA change resteering flows between queues
// that both carry traffic (no vdev here has RSS and a generator); n0's
// table write is timed and the p0 -> p1 stream checked for loss across it.

import type * as api from '../../control/src/gen';
import type { Linerate } from './forwarders';
import { dropDelta } from './forwarders';
import { median, sig } from './mathx';
import type { Plan } from './plan';
import type { Progress } from './progress';
import type { Runner } from './runner';
import { runTrial, type TrialOutcome } from './trial';

/** Where the queue bench puts the workers and the extra port (LinerateOptions). */
export const QUEUE_LAYOUT = {
  dataplane: { eal: ['--lcores=0@0,1@1,2@1'], idleSleepUs: 50 },
  ports: [{ name: 'n0', device: 'net_null0,no-rx=1', rxQueues: 2 }],
};

export interface QueueTrial {
  offered_mpps: number;
  sent_mpps: number;
  mpps: number;
  seconds: number;
  /** generator: frames offered and not received back (shortfall included) */
  loss_packets: number;
  /** frames offered less frames the generator handed over (loss counts what exceeds one ring and one burst of it) */
  shortfall_packets: number;
  refused: number;
  /** dataplane drops by reason over the trial, non-zero only */
  drops: Record<string, number>;
  /** device RX descriptor overflows of p0 (imissed) and TX refusals of p1 */
  imissed: number;
  tx_dropped: number;
}

export interface QueueBenchResult {
  layout: string;
  ndr_mpps: number;
  /** searched in this run, or given with --ndr */
  ndr_source: string;
  rate_mpps: number;
  moves: number;
  reta_changes: number;
  baseline: QueueTrial;
  changes: QueueTrial;
  /** dataplane's request-to-live time of each move (both grace periods), ms */
  move_live_ms: { median: number; max: number; all: number[] };
  /** MoveQueues call to reply as seen by this client (gRPC, serve, the dataplane, the map read back), ms */
  move_call_ms: { median: number; max: number };
  /** SetReta call to reply (the table is written with rte_eth_dev_rss_reta_update and read back before the reply), ms */
  reta_call_ms: { median: number; max: number };
  met: boolean;
}

const stat = (xs: number[]): { median: number; max: number } => ({ median: sig(median(xs), 4), max: sig(Math.max(...xs), 4) });

async function portCounters(lr: Linerate): Promise<{ imissed: number; txDropped: number }> {
  const s = await lr.client.stats.getStats({});
  const p0 = s.ports.find((p) => p.name === 'p0');
  const p1 = s.ports.find((p) => p.name === 'p1');
  return { imissed: Number(p0?.device?.imissed ?? 0), txDropped: Number(p1?.txDropped ?? 0) };
}

/** One trial at `rate` Mpps for `seconds`, running `during` once traffic flows; the loss as both ends count it. */
async function trialWith(lr: Linerate, runner: Runner, rate: number, seconds: number, progress: Progress,
  during: () => Promise<void>): Promise<{ t: TrialOutcome; r: QueueTrial }> {
  const c0 = await lr.counters();
  const p0 = await portCounters(lr);
  let flowing!: () => void;
  const started = new Promise<void>((res) => (flowing = res));
  const trialP = runTrial(lr.topo, { ...runner.mainTraffic(64), rateMpps: rate, seconds, warmup: 0 }, {
    onProgress: (p) => {
      flowing();
      progress.status(`queues · tx ${p.tx_mpps.toFixed(2)} rx ${p.rx_mpps.toFixed(2)} Mpps`);
    },
  });
  trialP.catch(() => flowing());
  await started;
  await during();
  const t = await trialP;
  await new Promise((res) => setTimeout(res, 300)); // the stats memory's port counters refresh every 100 ms
  const c1 = await lr.counters();
  const p1 = await portCounters(lr);
  const offered = rate * 1e6 * (t.raw.config.warmup_s + t.raw.tx.steady.seconds);
  return {
    t,
    r: {
      offered_mpps: sig(rate, 5),
      sent_mpps: sig(t.txMpps, 5),
      mpps: sig(t.mpps, 5),
      seconds: sig(t.raw.tx.steady.seconds, 4),
      loss_packets: t.lossPackets,
      shortfall_packets: Math.max(0, Math.round(offered - t.raw.tx.packets)),
      refused: t.raw.tx.refused,
      drops: dropDelta(c0, c1),
      imissed: p1.imissed - p0.imissed,
      tx_dropped: p1.txDropped - p0.txDropped,
    },
  };
}

export const lossless = (r: QueueTrial): boolean => r.loss_packets === 0 && !Object.keys(r.drops).length && r.imissed === 0 && r.tx_dropped === 0;

/**
 * Runs the queue bench on a started, warmed-up linerate in QUEUE_LAYOUT
 * whose NDR the runner has searched. `n` moves and `n` RETA changes.
 */
export async function queueBench(lr: Linerate, runner: Runner, plan: Plan, progress: Progress, n: number,
  ndrSource: string): Promise<QueueBenchResult> {
  const ndr = runner.ndr.get(lr.id);
  if (!ndr) throw new Error('queue bench: no NDR measured for this layout');
  const rate = ndr * 0.5;
  const seconds = plan.mode === 'quick' ? 4 : 10;
  const m0 = await lr.client.queue.listQueues({});
  const mapOf = (m: api.QueueMap__Output): string => m.queues.map((q) => `${q.port}/${q.queue}:w${q.worker}`).join(' ');
  if (m0.workers !== 2) throw new Error(`queue bench: 2 workers expected, the dataplane has ${m0.workers}`);
  const reta0 = await lr.client.queue.getReta({ port: 'n0' });
  const size = reta0.retaSize;
  const table = (k: number): api.RetaGroup[] => Array.from({ length: size / 64 }, (_, g) => ({
    mask: ((1n << 64n) - 1n).toString(),
    queues: Array.from({ length: 64 }, (_, j) => ((g * 64 + j + k) % 2)),
  }));

  runner.phase(`queues: baseline at 50 % of NDR (${rate.toFixed(3)} Mpps), ${seconds} s, no change`);
  const base = await trialWith(lr, runner, rate, seconds, progress, async () => undefined);
  progress.result(`baseline: ${base.r.sent_mpps} Mpps sent, lost ${base.r.loss_packets}, drops ${JSON.stringify(base.r.drops)}`);

  runner.phase(`queues: ${n} moves of p0/0 and ${n} RETA changes of n0 at ${rate.toFixed(3)} Mpps, ${seconds} s`);
  const liveMs: number[] = [];
  const moveCallMs: number[] = [];
  const retaCallMs: number[] = [];
  const changes = await trialWith(lr, runner, rate, seconds, progress, async () => {
    // spread over the steady window, leaving its last second untouched
    const gap = ((seconds - 1) * 1000) / (2 * n);
    let worker = m0.queues.find((q) => q.port === 'p0' && q.queue === 0)!.worker;
    for (let i = 0; i < n; i++) {
      worker ^= 1;
      let t0 = process.hrtime.bigint();
      const m = await lr.client.queue.moveQueues({ moves: [{ port: 'p0', queue: 0, worker }] });
      moveCallMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      liveMs.push(m.lastMoveMs);
      if (m.queues.find((q) => q.port === 'p0' && q.queue === 0)?.worker !== worker) throw new Error(`queue bench: p0/0 not on worker ${worker}: ${mapOf(m)}`);
      await new Promise((res) => setTimeout(res, gap));
      t0 = process.hrtime.bigint();
      const r = await lr.client.queue.setReta({ port: 'n0', retaSize: size, groups: table(i + 1) });
      retaCallMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.groups[0].queues[0] !== (i + 1) % 2) throw new Error('queue bench: n0\'s table not read back as written');
      await new Promise((res) => setTimeout(res, gap));
    }
  });
  progress.result(`changes: ${changes.r.sent_mpps} Mpps sent, lost ${changes.r.loss_packets}, drops ${JSON.stringify(changes.r.drops)}, ` +
    `imissed ${changes.r.imissed}; move live median ${median(liveMs).toFixed(3)} ms, max ${Math.max(...liveMs).toFixed(3)} ms; ` +
    `RETA call median ${median(retaCallMs).toFixed(2)} ms`);
  return {
    layout: 'main lcore and generator on CPU 0; workers 0 and 1 both on CPU 1 (EAL --lcores 0@0,1@1,2@1, idle sleep 50 us); ' +
      'p0, p1 memif with 1 RX queue each (p0/0 carries the stream and is the queue moved); n0 net_null no-rx, 2 RX queues, RETA ' +
      `${size} entries (the table rewritten)`,
    ndr_mpps: sig(ndr, 5),
    ndr_source: ndrSource,
    rate_mpps: sig(rate, 5),
    moves: liveMs.length,
    reta_changes: retaCallMs.length,
    baseline: base.r,
    changes: changes.r,
    move_live_ms: { ...stat(liveMs), all: liveMs.map((x) => sig(x, 4)) },
    move_call_ms: stat(moveCallMs),
    reta_call_ms: stat(retaCallMs),
    met: lossless(changes.r),
  };
}

export function queueReport(r: QueueBenchResult, finishedAt: string): string {
  const row = (name: string, t: QueueTrial): string =>
    `| ${name} | ${t.offered_mpps} | ${t.sent_mpps} | ${t.mpps} | ${t.seconds} | ${t.loss_packets} | ${t.shortfall_packets} | ` +
    `${Object.entries(t.drops).map(([k, v]) => `${k} ${v}`).join(', ') || '0'} | ${t.imissed} | ${t.tx_dropped} |`;
  return `# Queue moves and RETA changes under traffic (issue 11)

Finished ${finishedAt}. \`npm run bench -- --queues\` (also in the full run).

Target: a queue move or RETA change under traffic at 50 % of NDR loses zero frames; the time from request to the new map being live is stated.
**${r.met ? 'MET' : 'NOT MET'}**: ${r.moves} moves of the loaded queue and ${r.reta_changes} RETA changes at ${r.rate_mpps} Mpps (50 % of this layout's NDR, ${r.ndr_mpps} Mpps, 64B, ${r.ndr_source}), ` +
    `${r.changes.loss_packets} frames lost by the generator's count, dataplane drops ${Object.keys(r.changes.drops).length ? JSON.stringify(r.changes.drops) : 'none'}.

Layout: ${r.layout}.
${lossless(r.baseline) ? '' : `
The baseline trial, with no change at all, lost ${r.baseline.loss_packets} frames too (dataplane drops ${JSON.stringify(r.baseline.drops)}): ` +
    'on this shared 2-vCPU host the generator receives on CPU 0 beside the main lcore, serve and other processes, and a full receive ring there shows as ' +
    '`tx_full` on p1. Loss is then not the changes\' alone; compare the two rows (a move would show as p0 imissed or as loss in the changes row only).\n'}
| trial | offered Mpps | sent Mpps | received Mpps | s | lost | generator shortfall (offered − sent) | dataplane drops | p0 imissed | p1 tx refused |
|---|---|---|---|---|---|---|---|---|---|
${row('baseline (no change)', r.baseline)}
${row(`${r.moves} moves + ${r.reta_changes} RETA changes`, r.changes)}

Request to live:

- queue move, the dataplane's own figure (QueueMap.last_move_ms: the queue leaves its worker, one RCU grace period, joins the other, a second grace period): median ${r.move_live_ms.median} ms, max ${r.move_live_ms.max} ms
- MoveQueues as this client sees it (gRPC, serve's checks, the move, the map read back and persisted): median ${r.move_call_ms.median} ms, max ${r.move_call_ms.max} ms
- SetReta call (rte_eth_dev_rss_reta_update, then the table read back; live when it returns): median ${r.reta_call_ms.median} ms, max ${r.reta_call_ms.max} ms

Not shown here: a RETA change that resteers flows between two queues that both carry traffic (no vdev on this host has RSS and a generator: memif and af_packet have no table, net_null generates nothing to forward). On a NIC, frames already in a queue's descriptors stay there; a flow whose entry changes continues on its new queue, possibly reordered against frames still in the old one, not lost.
`;
}
