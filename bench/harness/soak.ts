// SPDX-License-Identifier: BSD-3-Clause
// `npm run soak -- --minutes N [--rate-mpps R] [--round-s S]`: linerate kept
// busy for N minutes the way a production host keeps it, and watched for
// what only time shows (leaks, drift, a restart that stops coming back).
//
// The bench's memif topology (pktgen <-> linerate <-> pktgen). The run is a
// sequence of rounds of S seconds (default 10) of fixed-rate 64 B traffic
// (default 0.3 Mpps, 256 flows) with, in every round, /32 route churn over
// the traffic's own destinations (pre-encoded batches of 1000, add then
// delete, paced at 2000 routes/s); every 4th round `serve` is killed with
// SIGKILL mid-traffic and restarted on the same state (forwarding must not
// notice); every 6th round, between two rounds, the dataplane is killed with
// SIGKILL and serve respawns and reprograms it (traffic stops meanwhile: the
// generator's memif peer is gone). After every round it samples serve's and
// the dataplane's RSS and the mbufs in use.
//
// Prints a line per round and a summary (bench/results/soak.{json,md}):
// frames lost in rounds with and without a serve restart, restarts and
// respawns with their recovery times, and RSS / mbufs in use at the start,
// the largest and the end, against the first round's (the baseline: a leak
// grows them round after round, a cache settles). The exit status is 0
// unless something crashed or stopped coming back; loss and growth are
// reported, never asserted, like every bench figure.

import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../lib/pktgen';
import { dropDelta, Linerate } from './forwarders';
import { median, sig } from './mathx';
import { cleanupAll, onCleanup, pinSelf } from './procs';
import { batches, churnPrefixes, MAIN_TRAFFIC_DST } from './routes';
import { runTrial } from './trial';
import { GEN_CPU, Topology } from './topology';

interface Round {
  round: number;
  at_s: number;
  event: 'churn' | 'churn+serve-restart';
  offered_mpps: number;
  sent: number;
  received: number;
  /** sent and not received back */
  lost: number;
  /** frames the generator could not send in time (its CPU is shared with serve and this client) */
  shortfall: number;
  /** the dataplane's drops by reason over the round (what of `lost` it counted) */
  drops: Record<string, number>;
  churn_updates: number;
  serve_restart_ms: number | null;
  respawn_ms: number | null;
  serve_rss_mb: number;
  dataplane_rss_mb: number;
  mbufs_in_use: number;
  mbufs_size: number;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

const program = new Command()
  .name('npm run soak --')
  .description('linerate under traffic, route churn, serve restarts and dataplane kills for N minutes')
  .option('--minutes <n>', 'how long', '10')
  .option('--rate-mpps <r>', 'offered rate, 64 B frames', '0.3')
  .option('--round-s <s>', 'seconds of traffic per round', '10')
  .option('--out <dir>', 'where soak.json and soak.md go', path.join(repoRoot, 'bench', 'results'));

async function main(): Promise<number> {
  const o = program.parse(process.argv).opts<{ minutes: string; rateMpps: string; roundS: string; out: string }>();
  const minutes = Number(o.minutes), rate = Number(o.rateMpps), roundS = Number(o.roundS);
  if (!(minutes > 0) || !(rate > 0) || !(roundS >= 3)) throw new Error('--minutes and --rate-mpps must be > 0, --round-s >= 3');
  const say = (s: string): void => { process.stderr.write(`${s}\n`); };
  // the control plane (this process, serve, the dataplane's main lcore) on the housekeeping CPU
  pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-soak-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const lr = new Linerate(new Topology(dir, `lrp-soak-${process.pid}`));
  const stopAll = (): void => { void lr.stop().finally(() => cleanupAll()).finally(() => process.exit(130)); };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  const rounds: Round[] = [];
  const t0 = Date.now();
  try {
    await lr.start();
    const gw = lr.gateways.out;
    const sets = batches(churnPrefixes(4000), 1000);
    const inserts = sets.map((b) => lr.writer.write({ updates: b.map((prefix) => ({ type: 'INSERT' as const, route: { prefix, nextHops: [gw] } })) }));
    const deletes = sets.map((b) => lr.writer.write({ updates: b.map((prefix) => ({ type: 'DELETE' as const, route: { prefix, nextHops: [] } })) }));
    say(`soak: ${minutes} min, rounds of ${roundS} s at ${rate} Mpps (64 B, 256 flows), churn 2000 routes/s, ` +
      'serve killed every 4th round, the dataplane every 6th');
    for (let n = 1; (Date.now() - t0) / 60000 < minutes; n++) {
      const restartServe = n % 4 === 0;
      const before = await lr.counters();
      let flowing!: () => void;
      const started = new Promise<void>((r) => (flowing = r));
      const trialP = runTrial(lr.topo, { size: 64, flows: 256, dst: MAIN_TRAFFIC_DST, rateMpps: rate, seconds: roundS, warmup: 0 },
        { onProgress: () => flowing() });
      trialP.catch(() => flowing());
      await started;
      // churn, paced, over the round; a serve restart halfway through
      const tr = Date.now();
      let updates = 0, k = 0, restartMs: number | null = null;
      const present = new Set<number>();
      while ((Date.now() - tr) / 1000 < roundS - 1) {
        if (restartServe && restartMs === null && (Date.now() - tr) / 1000 > roundS / 2) {
          restartMs = (await lr.restartServe()).total_ms;
          continue;
        }
        const wait = updates / 2000 - (Date.now() - tr) / 1000;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000));
        const i = k++ % sets.length;
        updates += await lr.writer.send(present.has(i) ? deletes[i] : inserts[i]);
        if (present.has(i)) present.delete(i);
        else present.add(i);
      }
      const t = await trialP;
      for (const i of present) await lr.writer.send(deletes[i]);
      const drops = dropDelta(before, await lr.counters());
      let respawnMs: number | null = null;
      if (n % 6 === 0) respawnMs = (await lr.respawnDataplane()).total_ms;
      const dp = await lr.client.dataplane.getDataplane({});
      const r: Round = {
        round: n,
        at_s: Math.round((Date.now() - t0) / 1000),
        event: restartServe ? 'churn+serve-restart' : 'churn',
        offered_mpps: rate,
        sent: t.raw.tx.packets,
        received: t.raw.rx.unique,
        lost: Math.max(0, t.raw.loss?.packets ?? t.raw.tx.packets - t.raw.rx.unique),
        shortfall: 0,
        drops,
        churn_updates: updates,
        serve_restart_ms: restartMs,
        respawn_ms: respawnMs,
        serve_rss_mb: rssMb(lr.servePid),
        dataplane_rss_mb: rssMb(dp.pid),
        mbufs_in_use: Number(dp.mbufsInUse),
        mbufs_size: Number(dp.mbufsSize),
      };
      r.shortfall = Math.max(0, t.lossPackets - r.lost);
      rounds.push(r);
      say(`round ${n} (${r.at_s} s): ${r.event}${respawnMs !== null ? ' then dataplane respawn' : ''}: sent ${r.sent}, lost ${r.lost}, generator short by ${r.shortfall} ` +
        `(dataplane drops ${JSON.stringify(drops)}); ` +
        `${updates} route updates${restartMs !== null ? `; serve back in ${restartMs} ms` : ''}${respawnMs !== null ? `; dataplane back in ${respawnMs} ms` : ''}; ` +
        `RSS serve ${r.serve_rss_mb} MB, dataplane ${r.dataplane_rss_mb} MB; mbufs in use ${r.mbufs_in_use}/${r.mbufs_size}`);
    }
  } finally {
    await lr.stop();
    await cleanupAll();
  }
  const sum = summarize(rounds, minutes, rate, roundS);
  mkdirSync(o.out, { recursive: true });
  writeFileSync(path.join(o.out, 'soak.json'), JSON.stringify({ finished_at: new Date().toISOString(), ...sum, rounds }, null, 2) + '\n');
  writeFileSync(path.join(o.out, 'soak.md'), renderSoak(sum, rounds));
  process.stdout.write(renderSoak(sum, rounds));
  return 0;
}

interface Summary {
  minutes: number;
  rate_mpps: number;
  round_s: number;
  rounds: number;
  frames_sent: number;
  lost_churn_only: number;
  lost_with_serve_restart: number;
  serve_restarts: number;
  serve_restart_ms_median: number | null;
  respawns: number;
  respawn_ms_median: number | null;
  route_updates: number;
  serve_rss_mb: { first: number; max: number; last: number };
  dataplane_rss_mb: { first: number; max: number; last: number };
  mbufs_in_use: { first: number; max: number; last: number };
}

function span(rounds: Round[], f: (r: Round) => number): { first: number; max: number; last: number } {
  const v = rounds.map(f);
  return { first: v[0] ?? 0, max: Math.max(0, ...v), last: v[v.length - 1] ?? 0 };
}

function summarize(rounds: Round[], minutes: number, rate: number, roundS: number): Summary {
  const restarts = rounds.filter((r) => r.serve_restart_ms !== null).map((r) => r.serve_restart_ms!);
  const respawns = rounds.filter((r) => r.respawn_ms !== null).map((r) => r.respawn_ms!);
  return {
    minutes, rate_mpps: rate, round_s: roundS, rounds: rounds.length,
    frames_sent: rounds.reduce((a, r) => a + r.sent, 0),
    lost_churn_only: rounds.filter((r) => r.event === 'churn').reduce((a, r) => a + r.lost, 0),
    lost_with_serve_restart: rounds.filter((r) => r.event !== 'churn').reduce((a, r) => a + r.lost, 0),
    serve_restarts: restarts.length,
    serve_restart_ms_median: restarts.length ? sig(median(restarts), 3) : null,
    respawns: respawns.length,
    respawn_ms_median: respawns.length ? sig(median(respawns), 3) : null,
    route_updates: rounds.reduce((a, r) => a + r.churn_updates, 0),
    serve_rss_mb: span(rounds, (r) => r.serve_rss_mb),
    dataplane_rss_mb: span(rounds, (r) => r.dataplane_rss_mb),
    mbufs_in_use: span(rounds, (r) => r.mbufs_in_use),
  };
}

function renderSoak(s: Summary, rounds: Round[]): string {
  const l = [
    `# linerate soak: ${s.minutes} min`, '',
    `${s.rounds} rounds of ${s.round_s} s at ${s.rate_mpps} Mpps (64 B), ${s.frames_sent} frames, ${s.route_updates} route updates; ` +
      `reproduce: \`npm run soak -- --minutes ${s.minutes} --rate-mpps ${s.rate_mpps} --round-s ${s.round_s}\``, '',
    '| | |', '|---|---|',
    `| frames lost, churn only | ${s.lost_churn_only} |`,
    `| frames lost, rounds with a serve kill -9 | ${s.lost_with_serve_restart} |`,
    `| serve restarts (back, median) | ${s.serve_restarts} (${s.serve_restart_ms_median ?? '-'} ms) |`,
    `| dataplane kills (respawned and reprogrammed, median) | ${s.respawns} (${s.respawn_ms_median ?? '-'} ms) |`,
    `| serve RSS first / max / last | ${s.serve_rss_mb.first} / ${s.serve_rss_mb.max} / ${s.serve_rss_mb.last} MB |`,
    `| dataplane RSS first / max / last | ${s.dataplane_rss_mb.first} / ${s.dataplane_rss_mb.max} / ${s.dataplane_rss_mb.last} MB |`,
    `| mbufs in use first / max / last | ${s.mbufs_in_use.first} / ${s.mbufs_in_use.max} / ${s.mbufs_in_use.last} |`,
    '', '| round | t (s) | event | sent | lost | short | dataplane drops | updates | serve back (ms) | respawn (ms) | serve RSS | dp RSS | mbufs |',
    '|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rounds.map((r) => `| ${r.round} | ${r.at_s} | ${r.event} | ${r.sent} | ${r.lost} | ${r.shortfall} | ${Object.entries(r.drops).map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.churn_updates} | ${r.serve_restart_ms ?? ''} | ` +
      `${r.respawn_ms ?? ''} | ${r.serve_rss_mb} | ${r.dataplane_rss_mb} | ${r.mbufs_in_use} |`),
  ];
  return l.join('\n') + '\n';
}

main().then((c) => process.exit(c), (e) => {
  process.stderr.write(`soak: ${(e as Error).stack ?? String(e)}\n`);
  void cleanupAll().finally(() => process.exit(1));
});
