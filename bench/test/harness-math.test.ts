// SPDX-License-Identifier: BSD-3-Clause
// The harness's pure helpers: statistics, loss accounting of a trial, and
// the route plans of the scale and churn tests.
import assert from 'node:assert/strict';
import { gbps, median, percentile, ratio, spread } from '../harness/mathx';
import { batches, churnPrefixes, diff, floorPow2, ip4, ip4str, mainTable, MAIN_TRAFFIC_DST, SCALE_TRAFFIC_DST, scalePlan } from '../harness/routes';
import { BURST, lossOf, RING } from '../harness/trial';
import type { PktgenResult } from '../lib/pktgen';

/** Longest prefix match, tried length by length against a set of CIDRs. */
const sets = new WeakMap<readonly string[], Set<string>>();
function lpm(prefixes: readonly string[], addr: number): string | undefined {
  const set = sets.get(prefixes) ?? new Set(prefixes);
  sets.set(prefixes, set);
  for (let len = 32; len >= 0; len--) {
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    const p = `${ip4str((addr & mask) >>> 0)}/${len}`;
    if (set.has(p)) return p;
  }
  return undefined;
}

describe('bench harness: statistics', function () {
  it('median and percentiles match their definitions', function () {
    const xs = [7, 1, 5, 3, 9, 11];
    const sorted = [...xs].sort((a, b) => a - b);
    assert.equal(median(xs), (sorted[2] + sorted[3]) / 2);
    assert.equal(median([4, 2, 9]), 4);
    assert.equal(percentile(xs, 0), Math.min(...xs));
    assert.equal(percentile(xs, 100), Math.max(...xs));
    assert.equal(percentile(xs, 50), median(xs));
    // h = (n-1) p = 5 * 0.9 = 4.5 -> halfway between the 5th and 6th smallest
    assert.equal(percentile(xs, 90), (sorted[4] + sorted[5]) / 2);
    assert.throws(() => median([]));
    assert.throws(() => percentile(xs, 101));
  });

  it('ratios, spread and bit rates', function () {
    assert.equal(ratio(9, 10), 0.9);
    assert.equal(ratio(9, 0), null);
    assert.equal(ratio(null, 10), null);
    assert.equal(ratio(5, undefined), null);
    assert.equal(spread([10]), 0);
    assert.equal(spread([9, 10, 12]), (12 - 9) / 10);
    // 14.88 Mpps of 64-byte frames is 10 GbE line rate: 14.88e6 * (64 + 20) * 8 = 10 Gbit/s on the wire
    assert.ok(Math.abs(gbps(14.880952, 64 + 20) - 10) < 1e-5);
  });
});

function pg(o: { tx: number; refused?: number; unique: number; warmup?: number; seconds?: number; loss?: boolean }): PktgenResult {
  const steady = { packets: 0, seconds: o.seconds ?? 1, pps: 0, mpps: 0 };
  return {
    config: { warmup_s: o.warmup ?? 0 },
    tx: { packets: o.tx, bytes: 0, refused: o.refused ?? 0, retries: 0, alloc_fail: 0, steady },
    rx: { packets: o.unique, unique: o.unique, steady },
    loss: o.loss === false ? null : { basis: 'tx', sent: o.tx, packets: o.tx - o.unique, ratio: (o.tx - o.unique) / o.tx },
  } as unknown as PktgenResult;
}

describe('bench harness: loss of a trial', function () {
  it('closed loop: frames sent and not received', function () {
    const r = lossOf(pg({ tx: 1_000_000, unique: 999_900 }), null);
    assert.deepEqual(r, { lossPackets: 100, lossRatio: 100 / 1_000_000, genLimited: false });
  });

  it('fixed rate: a generator on schedule loses nothing', function () {
    const rate = 2_000_000;
    const r = lossOf(pg({ tx: rate * 1.1, unique: rate * 1.1, warmup: 0.1, seconds: 1 }), rate);
    assert.equal(r.lossPackets, 0);
    // behind by less than a ring and a burst: frames a NIC would still hold
    const behind = lossOf(pg({ tx: rate - RING, unique: rate - RING, refused: 7 }), rate);
    assert.equal(behind.lossPackets, 0);
  });

  it('fixed rate: pushed back beyond a ring counts as lost, plus frames dropped', function () {
    const rate = 2_000_000;
    const short = 50_000;
    const r = lossOf(pg({ tx: rate - short, unique: rate - short - 10, refused: 123 }), rate);
    assert.equal(r.lossPackets, short - RING - BURST + 10);
    assert.equal(r.lossRatio, r.lossPackets / rate);
    assert.equal(r.genLimited, false);
  });

  it('fixed rate: a shortfall with no push-back is the generator\'s', function () {
    const rate = 30_000_000;
    const r = lossOf(pg({ tx: 20_000_000, unique: 20_000_000 }), rate);
    assert.equal(r.genLimited, true);
    assert.ok(r.lossPackets > 0, 'a generator-limited trial must not pass');
  });

  it('uses the sequence count when pktgen gives no loss object', function () {
    const r = lossOf(pg({ tx: 1000, unique: 990, loss: false }), null);
    assert.equal(r.lossPackets, 10);
  });
});

describe('bench harness: route plans', function () {
  const FLOWS = 65536;
  const dsts = (n: number): number[] => Array.from({ length: n }, (_, i) => ip4(SCALE_TRAFFIC_DST) + i);

  it('scale tables have N distinct routes and spread the traffic over min(N, flows) of them', function () {
    for (const n of [1, 1000, 100_000]) {
      const p = scalePlan(n, FLOWS);
      assert.equal(p.prefixes.length, n);
      assert.equal(new Set(p.prefixes).size, n, 'duplicate prefixes');
      assert.equal(p.trafficRoutes, floorPow2(Math.min(n, FLOWS)));
      const traffic = p.prefixes.slice(0, p.trafficRoutes);
      // every destination of the traffic has a route among the traffic routes, and they are all used evenly
      const sample = dsts(FLOWS).filter((_, i) => i % 97 === 0 || i === FLOWS - 1);
      const hits = new Map<string, number>();
      for (const d of sample) {
        const m = lpm(traffic, d);
        assert.ok(m, `no route for ${ip4str(d)} with ${n} routes`);
        hits.set(m, (hits.get(m) ?? 0) + 1);
      }
      assert.ok(hits.size >= Math.min(p.trafficRoutes, sample.length) * 0.5, `traffic hits only ${hits.size} routes`);
      // no filler route covers a traffic destination
      const filler = p.prefixes.slice(p.trafficRoutes, p.trafficRoutes + 2000);
      for (const d of sample.slice(0, 50)) assert.equal(lpm(filler, d), undefined);
    }
  });

  it('a 1M-route table fits the filler range', function () {
    const p = scalePlan(1_000_000, FLOWS);
    assert.equal(p.prefixes.length, 1_000_000);
    assert.equal(p.trafficPlen, 32);
    assert.equal(p.prefixes[p.prefixes.length - 1], `${ip4str(ip4('32.0.0.0') + (1_000_000 - FLOWS - 1) * 256)}/24`);
  });

  it('churn routes overlap the main traffic first, then nothing', function () {
    const c = churnPrefixes(1000);
    assert.equal(new Set(c).size, 1000);
    const table = mainTable({ out: { port: 'p1' }, back: { port: 'p0' } }).map((r) => r.prefix);
    const hot = ip4(MAIN_TRAFFIC_DST);
    for (let i = 0; i < 256; i++) assert.equal(c[i], `${ip4str(hot + i)}/32`);
    // whatever is churned, every main-traffic destination stays routed by the main table
    for (let i = 0; i < 256; i++) assert.ok(lpm(table, hot + i));
    for (const p of c.slice(256)) assert.equal(lpm(table, ip4(p.split('/')[0])), undefined);
  });

  it('diff and batches', function () {
    const d = diff(new Set(['a', 'b', 'c']), ['b', 'c', 'd', 'e']);
    assert.deepEqual(d, { del: ['a'], add: ['d', 'e'] });
    const b = batches(Array.from({ length: 10 }, (_, i) => i), 4);
    assert.deepEqual(b.map((x) => x.length), [4, 4, 2]);
    assert.deepEqual(b.flat(), Array.from({ length: 10 }, (_, i) => i));
    assert.throws(() => batches([1], 0));
  });
});
