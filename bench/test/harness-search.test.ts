// SPDX-License-Identifier: BSD-3-Clause
// The harness's RFC 2544 search against simulated forwarders whose loss
// curve is known, so the right answer follows from the model.
import assert from 'node:assert/strict';
import { bracket, NDR, pdr, searchRate, type Trial } from '../harness/search';

/** A forwarder that forwards `cap` Mpps and drops the excess. */
function capped(cap: number, offered: number[] = []): (rate: number) => Promise<Trial> {
  return async (rate) => {
    offered.push(rate);
    const lossRatio = rate <= cap ? 0 : (rate - cap) / rate;
    return { rate, lossRatio, lossPackets: Math.round(lossRatio * rate * 1e6) };
  };
}

describe('bench harness: RFC 2544 search', function () {
  it('finds the NDR of a capped forwarder within the resolution', async function () {
    for (const cap of [3.3, 7.77, 12.5, 19.9]) {
      const offered: number[] = [];
      const r = await searchRate(NDR, { upper: 25, resolution: 0.01, maxTrials: 20 }, [], capped(cap, offered));
      assert.ok(r.converged, `cap ${cap}: not converged`);
      assert.ok(r.rate <= cap, `cap ${cap}: NDR ${r.rate} above the cap`);
      assert.ok(r.rate >= cap * (1 - 0.011), `cap ${cap}: NDR ${r.rate} more than 1 % under the cap`);
      assert.equal(offered[0], 25, 'the first trial offers the upper rate');
      assert.equal(r.trials.length, offered.length);
      assert.equal(r.at?.rate, r.rate);
      assert.ok(r.bracket[0] === r.rate && r.bracket[1] > cap);
    }
  });

  it('needs one trial when the upper rate passes', async function () {
    const offered: number[] = [];
    const r = await searchRate(NDR, { upper: 10, resolution: 0.01, maxTrials: 10 }, [], capped(12, offered));
    assert.deepEqual(offered, [10]);
    assert.equal(r.rate, 10);
    assert.ok(r.converged);
  });

  it('reports 0 when nothing passes, and stops at the trial budget', async function () {
    const offered: number[] = [];
    const r = await searchRate(NDR, { upper: 10, resolution: 0.001, maxTrials: 5 }, [], capped(0, offered));
    assert.equal(offered.length, 5);
    assert.equal(r.rate, 0);
    assert.equal(r.at, undefined);
    assert.equal(r.converged, false);
  });

  it('lets the PDR search reuse the NDR trials', async function () {
    // loss grows past the cap: 0.5 % loss is reached at cap / 0.995
    const cap = 8;
    const history: Trial[] = [];
    const offered: number[] = [];
    const opts = { upper: 20, resolution: 0.005, maxTrials: 30 };
    const ndr = await searchRate(NDR, opts, history, capped(cap, offered));
    const before = offered.length;
    const p = await searchRate(pdr(0.005), opts, history, capped(cap, offered));
    const pdrTrue = cap / 0.995;
    assert.ok(p.rate <= pdrTrue && p.rate >= pdrTrue * (1 - 0.006), `PDR ${p.rate} vs ${pdrTrue}`);
    assert.ok(p.rate >= ndr.rate);
    assert.equal(p.trials.length, offered.length - before);
    // every rate the NDR search tried is in the history and was not offered again
    const again = offered.slice(before).filter((r) => offered.slice(0, before).includes(r));
    assert.deepEqual(again, []);
    // the bracket the PDR search started from already excluded the upper rate
    assert.ok(!offered.slice(before).includes(20));
  });

  it('builds the bracket from history; a failure below a pass does not lower it', function () {
    const t = (rate: number, lossPackets: number): Trial => ({ rate, lossPackets, lossRatio: lossPackets / (rate * 1e6) });
    const h = [t(10, 5), t(5, 0), t(7.5, 0), t(6, 3), t(8.75, 1)];
    const b = bracket(NDR, h, 10);
    assert.equal(b.lo, 7.5);
    assert.equal(b.hi, 8.75);
    assert.equal(b.hiTested, true);
    assert.equal(b.at, h[2]);
    const empty = bracket(NDR, [], 10);
    assert.deepEqual([empty.lo, empty.hi, empty.hiTested], [0, 10, false]);
  });

  it('confirms failures: a one-off loss below the limit does not lower the NDR', async function () {
    const cap = 6.2;
    let calls = 0;
    const flaky = async (rate: number): Promise<Trial> => {
      calls++;
      const t = await capped(cap)(rate);
      // the second trial (half the upper rate, under the cap) loses one frame by accident
      return calls === 2 && rate <= cap ? { ...t, lossPackets: 1, lossRatio: 1e-7 } : t;
    };
    const opts = { upper: 10, resolution: 0.01, maxTrials: 30 };
    const noisy = await searchRate(NDR, { ...opts, confirm: 1 }, [], flaky);
    assert.ok(noisy.rate <= cap && noisy.rate >= cap * 0.99, `NDR ${noisy.rate} with a confirmed search`);
    calls = 0;
    const naive = await searchRate(NDR, opts, [], flaky);
    assert.ok(naive.rate < cap * 0.99, 'without confirmation the accident should have misled the search');
  });

  it('rejects a trial answering for another rate', async function () {
    await assert.rejects(
      searchRate(NDR, { upper: 4, resolution: 0.1, maxTrials: 3 }, [], async (rate) => ({ rate: rate + 1, lossRatio: 0, lossPackets: 0 })),
      /asked 4/,
    );
  });
});
