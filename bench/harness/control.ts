// SPDX-License-Identifier: BSD-3-Clause
// The control-plane bench (`npm run bench -- --control`): how fast linerate
// is programmed over gRPC, and how it comes back, with a million routes.
//
//   add / delete   1M IPv4 /24s (and 500k IPv6 /48s) over gRPC from this
//                  process (another process than serve), requests encoded
//                  before the clock starts; batches of 8k..64k; one request
//                  in flight, or two (a client that pipelines: the next
//                  batch is decoded while the dataplane applies this one)
//   list           ListRoutes of the 1M-route table, pages of 64k, counted
//                  in bytes as they arrive (what serve streams, not what a
//                  client spends decoding)
//   memory         serve's RSS with the table installed
//   restart        kill -9 of serve, a new serve on the same state dir: until
//                  it has re-attached and reconciled (the dataplane forwards
//                  all along)
//   respawn        kill -9 of the dataplane: until serve has started a new one
//                  and reprogrammed every route
//
// Each add/delete figure is the median of `reps` runs, interleaved by batch
// size, with its spread; nothing is compared against a reference here (no
// other forwarder is programmed over gRPC), but VPP's ~300k routes/s is the
// figure the issue quotes.

import * as grpc from '@grpc/grpc-js';
import { readdirSync, readFileSync } from 'node:fs';
import { loadProto } from '../../control/src/proto';
import type { Linerate, Recovery } from './forwarders';
import { median } from './mathx';
import { makePlan } from './plan';
import { batches, churnPrefixes, ip4, ip4str } from './routes';
import type { Encoded } from './routeclient';

/**
 * CPU time per route of an add run (median over the runs), in µs, by who
 * spent it: the bench's client (HTTP/2 framing of pre-encoded requests),
 * `serve` (all its threads: gRPC, decode on the libuv pool, journal), the
 * dataplane's control threads (the main lcore applying batches; the
 * polling workers are left out, they spin anyway). On this 2-vCPU host the
 * three share one CPU, so their sum is about the wall time per route.
 */
export interface CpuPerRoute { client_us: number; serve_us: number; dataplane_us: number; wall_us: number }

export interface RateRuns {
  family: 4 | 6;
  routes: number;
  batch: number;
  in_flight: number;
  add_routes_per_s: number[];
  del_routes_per_s: number[];
  add_median: number;
  del_median: number;
  add_cpu: CpuPerRoute;
}

export interface ControlResult {
  rates: RateRuns[];
  list: { routes: number; seconds: number; routes_per_s: number; bytes: number };
  serve_rss_mb: { empty: number; with_routes: number; routes: number };
  /** the main bench's churn sets written back to back over the 1M table, no traffic: where a churn rate is lost */
  churn?: ChurnRuns;
  restart: Recovery;
  respawn: Recovery;
}

export interface ChurnRuns { routes: number; batch: number; writes: number; routes_per_s: number; write_ms: { median: number; p90: number; max: number } }

export interface ControlPlan {
  routes: number;
  v6Routes: number;
  batches: number[];
  reps: number;
}

export const controlPlan = (quick: boolean): ControlPlan =>
  quick ? { routes: 262_144, v6Routes: 131_072, batches: [16384, 65536], reps: 2 }
    : { routes: 1_000_000, v6Routes: 500_000, batches: [8192, 16384, 65536], reps: 3 };

const FILLER = ip4('32.0.0.0');
const v4Prefix = (i: number): string => `${ip4str((FILLER + i * 256) >>> 0)}/24`;
const v6Prefix = (i: number): string => `2400:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/48`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

const secs = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

/** utime + stime (clock ticks) of a process's threads, the DPDK polling workers ("rte-worker-N" in 22.11) left out. */
function controlTicks(pid: number): number {
  let ticks = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tasks) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const close = st.lastIndexOf(')');
      if (/^(rte|lcore)-worker/.test(st.slice(st.indexOf('(') + 1, close))) continue;
      const f = st.slice(close + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* thread gone */
    }
  }
  return ticks;
}

/** A CPU reading of the three parties of a write. */
const cpuNow = (lr: Linerate): number[] => [controlTicks(process.pid), controlTicks(lr.servePid), controlTicks(lr.dataplanePid)];

/** Sends the requests with at most `inFlight` outstanding; seconds taken. */
async function sendAll(lr: Linerate, reqs: Encoded[], inFlight: number): Promise<number> {
  const t = process.hrtime.bigint();
  let next = 0;
  const lanes = Array.from({ length: inFlight }, async () => {
    while (next < reqs.length) await lr.writer.send(reqs[next++]);
  });
  await Promise.all(lanes);
  return secs(t);
}

/** ListRoutes of everything, counted as bytes on arrival (identity deserializer). */
function listRaw(addr: string, pageSize: number): Promise<{ bytes: number; seconds: number }> {
  const def = (loadProto().services.RouteService.service as unknown as Record<string, { path: string; requestSerialize(r: unknown): Buffer }>).ListRoutes;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const call = client.makeServerStreamRequest(def.path, (r: unknown) => def.requestSerialize(r), (b: Buffer) => b,
      { pageSize, excludeConnected: true });
    call.on('data', (b: Buffer) => { bytes += b.length; });
    call.on('error', (e) => { client.close(); reject(e); });
    call.on('end', () => { client.close(); resolve({ bytes, seconds: secs(t) }); });
  });
}

export async function controlBench(lr: Linerate, plan: ControlPlan, say: (s: string) => void): Promise<ControlResult> {
  const gw = lr.gateways.out;
  const v6gw = { port: gw.port }; // on-link: the generator has no IPv6 address
  const rssEmpty = rssMb(lr.servePid);
  const rates: RateRuns[] = [];

  const measure = async (family: 4 | 6, n: number, batch: number, inFlight: number, reps: number): Promise<RateRuns> => {
    const prefixes = Array.from({ length: n }, (_, i) => (family === 4 ? v4Prefix(i) : v6Prefix(i)));
    const adds: Encoded[] = [];
    const dels: Encoded[] = [];
    for (let i = 0; i < n; i += batch) {
      const b = prefixes.slice(i, i + batch);
      adds.push(lr.writer.addRoutes({ routes: b.map((prefix) => ({ prefix, nextHops: [family === 4 ? gw : v6gw] })) }));
      dels.push(lr.writer.deleteRoutes({ prefixes: b }));
    }
    const run: RateRuns = { family, routes: n, batch, in_flight: inFlight, add_routes_per_s: [], del_routes_per_s: [], add_median: 0, del_median: 0,
      add_cpu: { client_us: 0, serve_us: 0, dataplane_us: 0, wall_us: 0 } };
    const cpu: number[][] = [];
    const hz = 100; // USER_HZ: /proc's clock ticks per second on Linux
    for (let r = 0; r < reps; r++) {
      const c0 = cpuNow(lr);
      const a = await sendAll(lr, adds, inFlight);
      const c1 = cpuNow(lr);
      cpu.push([...c1.map((v, k) => ((v - c0[k]) / hz) * 1e6 / n), (a * 1e6) / n]);
      const d = await sendAll(lr, dels, inFlight);
      run.add_routes_per_s.push(Math.round(n / a));
      run.del_routes_per_s.push(Math.round(n / d));
      say(`IPv${family} ${n} routes, batches of ${batch}, ${inFlight} in flight: add ${Math.round(n / a)}/s, delete ${Math.round(n / d)}/s`);
    }
    run.add_median = Math.round(median(run.add_routes_per_s));
    run.del_median = Math.round(median(run.del_routes_per_s));
    const us = (k: number): number => Number(median(cpu.map((c) => c[k])).toFixed(2));
    run.add_cpu = { client_us: us(0), serve_us: us(1), dataplane_us: us(2), wall_us: us(3) };
    say(`  add CPU per route: client ${run.add_cpu.client_us} µs, serve ${run.add_cpu.serve_us} µs, dataplane ${run.add_cpu.dataplane_us} µs; wall ${run.add_cpu.wall_us} µs`);
    return run;
  };

  for (const inFlight of [1, 2]) {
    for (const b of plan.batches) rates.push(await measure(4, plan.routes, b, inFlight, plan.reps));
  }
  rates.push(await measure(6, plan.v6Routes, Math.max(...plan.batches), 2, plan.reps));

  // The 1M table stays for the rest.
  const prefixes = Array.from({ length: plan.routes }, (_, i) => v4Prefix(i));
  const adds: Encoded[] = [];
  for (let i = 0; i < prefixes.length; i += 65536) {
    adds.push(lr.writer.addRoutes({ routes: prefixes.slice(i, i + 65536).map((prefix) => ({ prefix, nextHops: [gw] })) }));
  }
  await sendAll(lr, adds, 2);
  await new Promise((r) => setTimeout(r, 1000));

  // The main bench's churn sets (its /32s, inserted then deleted in its Writes), one Write at a time, unpaced:
  // what the route path gives the churn trial when no generator shares its CPU.
  const main = makePlan(false);
  const churnSet = churnPrefixes(main.churnRoutes);
  const churnReqs = batches(churnSet, main.churnBatch).flatMap((b) => [
    lr.writer.addRoutes({ routes: b.map((prefix) => ({ prefix, nextHops: [gw] })) }), lr.writer.deleteRoutes({ prefixes: b })]);
  const ms: number[] = [];
  const tc = process.hrtime.bigint();
  for (let k = 0; k < 40; k++) {
    const t = process.hrtime.bigint();
    await lr.writer.send(churnReqs[k % churnReqs.length]);
    ms.push(secs(t) * 1e3);
  }
  const churnS = secs(tc);
  const sorted = [...ms].sort((a, b) => a - b);
  const churn: ChurnRuns = { routes: churnSet.length, batch: main.churnBatch, writes: ms.length, routes_per_s: Math.round((ms.length * main.churnBatch) / churnS),
    write_ms: { median: Number(median(ms).toFixed(2)), p90: Number(sorted[Math.floor(sorted.length * 0.9)].toFixed(2)), max: Number(sorted[sorted.length - 1].toFixed(2)) } };
  say(`churn sets without traffic: ${churn.writes} Writes of ${churn.batch} /32 (insert, delete) over the ${plan.routes}-route table: ${churn.routes_per_s} routes/s, ` +
    `per Write median ${churn.write_ms.median} ms, p90 ${churn.write_ms.p90}, max ${churn.write_ms.max}`);
  const rssFull = rssMb(lr.servePid);
  say(`serve RSS: ${rssEmpty} MB empty, ${rssFull} MB with ${plan.routes} routes`);

  const l = await listRaw(lr.address, 65536);
  const list = { routes: plan.routes, seconds: Number(l.seconds.toFixed(3)), routes_per_s: Math.round(plan.routes / l.seconds), bytes: l.bytes };
  say(`ListRoutes: ${plan.routes} routes (${(l.bytes / 1e6).toFixed(1)} MB) in ${l.seconds.toFixed(2)} s = ${list.routes_per_s} routes/s`);

  const restart = await lr.restartServe();
  say(`serve kill -9 + restart: reconciled after ${restart.total_ms} ms (reconcile ${restart.reconcile_ms} ms, pushed ${restart.pushed})`);
  const respawn = await lr.respawnDataplane();
  say(`dataplane kill -9: respawned and reprogrammed after ${respawn.total_ms} ms (reconcile ${respawn.reconcile_ms} ms, pushed ${respawn.pushed})`);

  return { rates, list, serve_rss_mb: { empty: rssEmpty, with_routes: rssFull, routes: plan.routes }, churn, restart, respawn };
}

/** The markdown summary of a control bench. */
export function controlReport(r: ControlResult, layout?: string): string {
  const out = ['# linerate control-plane bench', '', ...(layout ? [`Layout: ${layout}.`, ''] : []),
    '| family | routes | batch | in flight | add routes/s (median; runs) | delete routes/s (median; runs) | add CPU µs/route: client / serve / dataplane (wall) |',
    '|---|---|---|---|---|---|---|'];
  for (const x of r.rates) {
    const c = x.add_cpu;
    out.push(`| IPv${x.family} | ${x.routes} | ${x.batch} | ${x.in_flight} | ${x.add_median} (${x.add_routes_per_s.join(', ')}) | ${x.del_median} (${x.del_routes_per_s.join(', ')}) | ` +
      `${c ? `${c.client_us} / ${c.serve_us} / ${c.dataplane_us} (${c.wall_us})` : '-'} |`);
  }
  out.push('', 'CPU per route: utime + stime of each party\'s threads over the add run (the dataplane\'s polling workers left out), ' +
    'median of the runs; client, serve and the dataplane\'s main lcore share one CPU here, so the three add up to about the wall time.');
  out.push('', `- ListRoutes: ${r.list.routes} routes in ${r.list.seconds} s = ${r.list.routes_per_s} routes/s (${(r.list.bytes / 1e6).toFixed(1)} MB).`);
  if (r.churn) {
    const c = r.churn;
    out.push(`- The main bench's churn sets without traffic: ${c.writes} Writes of ${c.batch} /32 routes (insert, then delete) over the full table, one at a time: ` +
      `${c.routes_per_s} routes/s; per Write median ${c.write_ms.median} ms, p90 ${c.write_ms.p90} ms, max ${c.write_ms.max} ms.`);
  }
  out.push(`- serve RSS: ${r.serve_rss_mb.empty} MB empty, ${r.serve_rss_mb.with_routes} MB with ${r.serve_rss_mb.routes} routes.`);
  out.push(`- serve kill -9 and restart to reconciled: ${r.restart.total_ms} ms (reconcile ${r.restart.reconcile_ms} ms, ${r.restart.pushed} pushed).`);
  out.push(`- dataplane kill -9 to respawned and reprogrammed: ${r.respawn.total_ms} ms (reconcile ${r.respawn.reconcile_ms} ms, ${r.respawn.pushed} pushed).`);
  return out.join('\n') + '\n';
}
