/**
 * Flow tables under paced traffic: the two checks of issue 9 that need a
 * rate, not a handful of scapy frames. Topology: linerate-pktgen is the
 * memif client of both ports (p0 in, p1 out), on CPU 0 with serve and the
 * dataplane's main lcore; the one worker on CPU 1.
 *
 * - Meter accuracy: a trTCM meter in DROP_RED mode passes green + yellow,
 *   that is the PIR; with PIR = CIR the pass rate is the CIR. The rate
 *   pktgen receives in its steady window (after the buckets' first burst)
 *   is within 5 % of the configured rate, both ways, and every frame not
 *   received was counted as flow_meter_drop.
 * - 100k wildcard rules written while traffic flows (in batches of the
 *   65536-update write limit): each classifier
 *   is built off the fast path and swapped in, so no frame is lost,
 *   reordered or duplicated inside linerate (what the generator, sharing
 *   CPU 0, failed to drain is counted as tx_full and bounded); the worst
 *   latency is reported.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPktgen, type PktgenResult } from '../../../bench/lib/pktgen';
import { tempDir, uniqueId, waitFor } from '../helpers/env';
import { requireIntegration } from '../helpers/fixture';
import { Serve } from '../helpers/serve';
import type * as api from '../../src/gen';

const P0_MAC = '02:00:00:78:00:00';
const P1_MAC = '02:00:00:78:00:01';
const SINK_MAC = '02:00:00:78:01:01';
const DST = '10.78.1.2';
const FRAME = 128;              // with FCS, as pktgen's --size counts it
const RULES = 100_000;

describe('integration: flow tables under traffic (memif, linerate-pktgen)', function () {
  this.timeout(300000);
  let serve: Serve | undefined;
  let sockDir = '';
  const sock = (i: number): string => path.join(sockDir, `p${i}.sock`);
  const server = (i: number): string => `net_memif${i},role=server,socket=${sock(i)},socket-abstract=no`;
  const client = (i: number): string => `net_memif${i},role=client,socket=${sock(i)},socket-abstract=no`;
  const c = () => serve!.client!;
  const meterDrops = async (): Promise<bigint> =>
    BigInt((await c().stats.getStats({})).ports.find((p) => p.name === 'p0')!.drops.flow_meter_drop ?? '0');

  /** Paced traffic p0 -> p1 through linerate. */
  async function traffic(tag: string, o: { pps: number; seconds: number; warmup: number; whileRunning?: () => Promise<void> }):
    Promise<PktgenResult> {
    let started!: () => void;
    const flowing = new Promise<void>((r) => (started = r));
    const run = runPktgen({
      tag: `frt-${tag}`,
      args: ['--tx-port', client(0), '--rx-port', client(1), '--dst-mac', P0_MAC, '--src', '10.78.0.2', '--dst', DST,
        '--size', String(FRAME), '--rate-pps', String(o.pps), '--warmup', String(o.warmup), '--duration', String(o.seconds),
        '--start-delay-ms', '300', '--progress', '500'],
      timeoutMs: (o.seconds + o.warmup) * 1000 + 60000,
      onProgress: () => started(),
    });
    run.catch(() => started());
    let during: Promise<void> | undefined;
    if (o.whileRunning) {
      await flowing;
      during = o.whileRunning();
    }
    const { result } = await run;
    await during;
    return result;
  }

  const meterRule = (cir: number, pir: number): api.Flow => ({
    id: 1, table: 'FLOW_TABLE_WILDCARD', priority: 1, match: { family: 'FAMILY_IPV4', dst: `${DST}/32` },
    // buckets of 200 ms at the rate: tokens are lost only while a bucket is full, so stalls of
    // this shared host's generator or worker shorter than that cost nothing; the first burst
    // (full buckets) is spent within the warm-up
    action: { kind: 'CONTINUE', meter: { cir, cbs: Math.ceil(cir / 5), pir, pbs: Math.ceil(pir / 5), mode: 'DROP_RED' } },
  });

  before(async function () {
    requireIntegration(this);
    sockDir = tempDir('frt-sock');
    serve = new Serve({
      name: `lrt-${uniqueId()}-frt`,
      ports: [
        { name: 'p0', device: server(0), mac: P0_MAC, addresses: ['10.78.0.1/24'] },
        { name: 'p1', device: server(1), mac: P1_MAC, addresses: ['10.78.1.1/24'] },
      ],
      neighbors: [{ address: DST, mac: SINK_MAC, port: 'p1' }],
      idleSleepUs: 0,
      dataplane: { flows: RULES + 1024 },
    });
    await serve.start();
  });

  after(() => {
    serve?.destroy();
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  });

  it('meter: the rate passed is the PIR (DROP_RED), and the CIR when PIR = CIR, within 5 %; the rest is counted as flow_meter_drop', async () => {
    // What rte_meter counts per frame: the frame without its FCS.
    const len = FRAME - 4;
    const passPps = 30000;
    const cases: Array<[string, number, number]> = [['CIR', passPps * len, passPps * len], ['PIR', passPps * len, 2 * passPps * len]];
    for (const [name, cir, pir] of cases) {
      await c().flow.write({ updates: [{ type: (await c().flow.readAll({})).length ? 'MODIFY' : 'INSERT', flow: meterRule(cir, pir) }] });
      const d0 = await meterDrops();
      const other0 = (await c().stats.getStats({})).ports.flatMap((p) => Object.entries(p.drops)).filter(([k]) => k !== 'flow_meter_drop')
        .reduce((a, [, v]) => a + BigInt(v), 0n);
      const r = await traffic(`meter-${name}`, { pps: 100000, seconds: 4, warmup: 1 });
      const want = (name === 'CIR' ? cir : pir) / len;
      const got = r.rx.steady.pps;
      assert.ok(r.tx.steady.pps > 1.5 * want, `${name}: offered ${r.tx.steady.pps.toFixed(0)} pps, well above ${want} (else the meter is not what limits)`);
      assert.ok(Math.abs(got / want - 1) <= 0.05, `${name}: ${got.toFixed(0)} pps passed, configured ${want.toFixed(0)} (${((got / want - 1) * 100).toFixed(2)} %)`);
      // every frame sent and not received was the meter's (exact over the whole run)
      const dropped = await waitFor('the drop counters to settle', async () => {
        const a = await meterDrops();
        await new Promise((res) => setTimeout(res, 300));
        return a === (await meterDrops()) ? a - d0 : undefined;
      }, 10000);
      const stats = await c().stats.getStats({});
      // the rest of what was not received: the dataplane's other drops (tx_full when this
      // shared host's generator drains its RX ring late), counted as well
      const other = stats.ports.flatMap((p) => Object.entries(p.drops)).filter(([k]) => k !== 'flow_meter_drop')
        .reduce((a, [, v]) => a + BigInt(v), 0n) - other0;
      assert.equal(dropped + other, BigInt(r.tx.packets - r.rx.unique),
        `${name}: ${r.tx.packets} sent, ${r.rx.unique} received, ${dropped} flow_meter_drop, ${other} other drops: ${JSON.stringify(stats.ports.map((p) => [p.name, p.drops]))}`);
      assert.ok(dropped > 10n * other, `${name}: the meter's drops (${dropped}) are what limits, not others (${other})`);
      assert.equal(r.rx.duplicates, 0);
    }
    await c().flow.write({ updates: [{ type: 'DELETE', flow: { id: 1, table: 'FLOW_TABLE_WILDCARD' } }] });
  });

  it(`writes ${RULES} wildcard rules while 50 kpps flow: nothing lost inside linerate, reordered or duplicated`, async () => {
    // rules that match other traffic (UDP to 172.16/12 by port ranges), ahead of the stream's
    // own CONTINUE rule, so that the stream still goes through a classifier of 100k rules
    const rules: api.FlowUpdate[] = Array.from({ length: RULES }, (_, i) => ({
      type: 'INSERT',
      flow: {
        id: 1000 + i, table: 'FLOW_TABLE_WILDCARD', priority: 10 + (i % 1000),
        match: { family: 'FAMILY_IPV4', src: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, dst: '172.16.0.0/12',
          protocol: 'udp', dstPort: { first: 1000 + (i % 5000), last: 2000 + (i % 5000) } },
        action: { kind: 'DROP' },
      },
    }));
    rules.push({ type: 'INSERT', flow: { id: 999, table: 'FLOW_TABLE_WILDCARD', priority: 5000, match: { family: 'FAMILY_IPV4', dst: `${DST}/32` }, action: { kind: 'CONTINUE' } } });
    // in batches of the write limit (65536 updates: the dataplane's control message bound)
    const maxBatch = 65536;
    const batches = [rules.slice(0, maxBatch), rules.slice(maxBatch)];
    // long enough for both writes on this loaded 2-CPU host (about 40 s at worst seen; 15 s quiet)
    const seconds = 75;
    const writes: Array<{ n: number; ms: number; buildMs: number }> = [];
    let done = 0;
    // drops by reason over this test only (the meter test before it dropped on p0 too)
    const dropTotals = async (): Promise<Map<string, number>> => {
      const m = new Map<string, number>();
      for (const p of (await c().stats.getStats({})).ports) for (const [k, v] of Object.entries(p.drops)) m.set(k, (m.get(k) ?? 0) + Number(v));
      return m;
    };
    const drops0 = await dropTotals();
    const r = await traffic('write-100k', {
      pps: 50000, seconds, warmup: 0,
      whileRunning: async () => {
        await new Promise((res) => setTimeout(res, 1000));
        const t0 = Date.now();
        for (const b of batches) {
          const t = Date.now();
          const w = await c().flow.write({ updates: b }, { deadlineMs: 120000 });
          assert.equal(w.applied, b.length, 'every update applied');
          writes.push({ n: b.length, ms: Date.now() - t, buildMs: (await c().flow.getFlowStats({})).lastBuildMs });
        }
        done = Date.now() - t0 + 1000;
      },
    });
    const say = writes.map((w) => `${w.n} rules in ${w.ms} ms (classifier build ${w.buildMs.toFixed(0)} ms)`).join(', ');
    assert.ok(done > 0 && done < (seconds - 1) * 1000, `the writes finished while traffic ran (${say})`);
    const st = await c().flow.getFlowStats({});
    assert.equal(st.wildcardRules, RULES + 1, 'the classifier holds the batch');
    const drops = [...(await dropTotals())].map(([k, v]) => [k, v - (drops0.get(k) ?? 0)] as const).filter(([, v]) => v !== 0);
    // Every frame not received must be one linerate sent and the generator's RX ring had no room
    // for (tx_full: on this shared 2-CPU host the generator shares CPU 0 with serve and the
    // classifier build); none may be lost inside linerate.
    const txFull = drops.filter(([k]) => k === 'tx_full').reduce((a, [, v]) => a + v, 0);
    const other = drops.filter(([k]) => k !== 'tx_full').reduce((a, [, v]) => a + v, 0);
    assert.equal(other, 0, `drops inside linerate: ${JSON.stringify(drops)} (${say})`);
    assert.equal(r.tx.packets - r.rx.unique, txFull, `lost ${r.tx.packets - r.rx.unique} of ${r.tx.packets}, tx_full ${txFull} (${say}); ` +
      `generator refused ${r.tx.refused}, latency max ${(r.latency_ns.max / 1e6).toFixed(2)} ms`);
    assert.ok(txFull <= r.tx.packets * 1e-4, `tx_full ${txFull} of ${r.tx.packets}`);
    assert.equal(r.rx.reordered, 0, 'reordered');
    assert.equal(r.rx.duplicates, 0, 'duplicates');
    // the worst latency is reported, not asserted: on this host the generator itself stalls (35 ms seen)
    const [rule] = (await c().flow.readAll({})).filter((f) => Number(f.id) === 999);
    assert.ok(Number(rule.packets) > 0, 'the stream went through the new classifier (its rule counted it)');
    process.stdout.write(`      under traffic: ${say}; ` +
      `${r.tx.packets} frames, worst latency ${(r.latency_ns.max / 1e6).toFixed(2)} ms\n`);
  });
});
