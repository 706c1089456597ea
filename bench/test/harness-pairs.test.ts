// SPDX-License-Identifier: BSD-3-Clause
// The harness's pairing, ratio and repeat logic on recorded trial series
// (bench/test/fixtures/*.json): per-pair ratios against the old
// blocks-of-trials medians on a bimodal host, the "more pairs while the
// spread is wide" rule, randomised order, the steal/others repeat rule and
// its budget, the /proc readings behind them, and the loud failure of a
// reference that cannot be measured.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeCpu, othersTicks, parseCpuinfo, parseProcStat, type ProcSample, stealPercent } from '../harness/machine';
import { median } from '../harness/mathx';
import {
  type Comparison, fastShare, type LoggedTrial, measurePairs, modeDiagnostics, modeThreshold, mulberry32, needMorePairs, pairsFromSeries, ratioOfMedians,
  type Sample, sameModeRatios, summarize,
} from '../harness/pairs';
import { chooseReferences, ReferenceUnavailable, unmeasured } from '../harness/references';
import { type Disturbance, RepeatBudget, repeatReason, stalledLoop, withRepeats } from '../harness/repeat';
import { fmtPaired, modeWarning, renderCompareMarkdown } from '../harness/report';
import type { BenchResults, CaseResult, TrialRecord } from '../harness/results';

/** Fixtures live beside the sources (bench/test/fixtures), not in dist. */
const FIXTURES = path.resolve(__dirname, '../../../bench/test/fixtures');

interface SeriesFixture {
  title: string;
  source: string;
  case: string;
  subject: string;
  reference: string;
  /** the ratio the series supports, and why */
  expected: { ratio: number; tolerance: number; basis: string };
  limits?: { steal_percent: number; others_percent: number; retries: number; stalled_below_mpps?: number };
  trials: (LoggedTrial & { steal: number; others: number })[];
}

function fixture(name: string): SeriesFixture {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as SeriesFixture;
}

/** The old method on a recorded series: each forwarder's median over a block of `n` of its trials, the reference's block first. */
function blocksRatio(f: SeriesFixture, n: number, referenceBlock: number, subjectBlock: number): number {
  const kept = f.trials.filter((t) => t.case === f.case && t.repeated === null).sort((a, b) => a.t - b.t);
  const ref = kept.filter((t) => t.forwarder === f.reference).slice(referenceBlock * n, referenceBlock * n + n).map((t) => t.mpps);
  const sub = kept.filter((t) => t.forwarder === f.subject).slice(subjectBlock * n, subjectBlock * n + n).map((t) => t.mpps);
  assert.equal(ref.length, n, 'not enough reference trials for a block');
  assert.equal(sub.length, n, 'not enough subject trials for a block');
  return ratioOfMedians(sub, ref);
}

/** A measure() that replays the kept trials of a recorded series, forwarder by forwarder, in time order. */
function replay(f: SeriesFixture): { measure: (id: string) => Promise<Sample>; calls: string[] } {
  const queues = new Map<string, LoggedTrial[]>();
  for (const t of f.trials.filter((x) => x.case === f.case && x.repeated === null).sort((a, b) => a.t - b.t)) {
    queues.set(t.forwarder, [...(queues.get(t.forwarder) ?? []), t]);
  }
  const calls: string[] = [];
  return {
    calls,
    measure: async (id) => {
      const t = queues.get(id)?.shift();
      if (!t) throw new Error(`the recorded series has no more trials of ${id}`);
      calls.push(id);
      return { forwarder: id, value: t.mpps, cpp: t.cpp, t: t.t };
    },
  };
}

describe('bench harness: paired ratios', function () {
  it('summarizes per-pair ratios by their median and quartiles', function () {
    const s = summarize([1.0, 0.98, 0.5, 1.02, 0.99]);
    assert.equal(s.median, 0.99);
    assert.equal(s.pairs, 5);
    assert.equal(s.p25, 0.98);
    assert.equal(s.p75, 1.0);
    assert.ok(Math.abs(s.spread - 0.02 / 0.99) < 1e-12);
    assert.equal(s.min, 0.5); // one mixed pair (a mode flip between its two trials) moves the median by nothing
    assert.equal(summarize([0.7]).spread, 0);
    assert.throws(() => summarize([]));
  });

  it('takes more pairs while the spread is wide, never fewer than the minimum nor more than the maximum', function () {
    const rule = { minPairs: 3, maxPairs: 6, maxSpread: 0.1 };
    assert.equal(needMorePairs([1, 1], rule), true); // under the minimum
    assert.equal(needMorePairs([1, 1.01, 0.99], rule), false); // tight: the minimum is enough
    assert.equal(needMorePairs([1, 0.6, 1.4], rule), true); // wide: one more
    assert.equal(needMorePairs([1, 0.6, 1.4, 0.5, 1.5, 1], rule), false); // wide but at the maximum
  });

  it('draws the order of every pair at random (seeded, reproducible) and runs its two trials back to back', async function () {
    const order = async (seed: number): Promise<string[]> => {
      const calls: string[] = [];
      await measurePairs([{ subject: 'lr', reference: 'io' }], {
        rule: { minPairs: 40, maxPairs: 40, maxSpread: 1 },
        rng: mulberry32(seed),
        measure: async (f) => {
          calls.push(f);
          return { forwarder: f, value: 10 };
        },
      });
      return calls;
    };
    const a = await order(7);
    assert.equal(a.length, 80);
    for (let i = 0; i < a.length; i += 2) assert.notEqual(a[i], a[i + 1], 'a pair is one trial of each, back to back');
    const firsts = a.filter((_, i) => i % 2 === 0);
    const lrFirst = firsts.filter((x) => x === 'lr').length;
    assert.ok(lrFirst > 10 && lrFirst < 30, `linerate ran first in ${lrFirst} of 40 pairs`);
    assert.deepEqual(await order(7), a, 'same seed, same orders');
    assert.notDeepEqual(await order(8), a);
  });

  it('interleaves several comparisons and stops each when its own rule is met', async function () {
    // linerate vs io is tight; linerate vs l3fwd flips between 0.5 and 1.5: only it gets more pairs
    const values: Record<string, number[]> = { io: [10, 10, 10, 10, 10, 10, 10], l3: [10, 5, 15, 10, 5, 15, 10, 10] };
    const comps: Comparison<string>[] = [{ subject: 'lr', reference: 'io' }, { subject: 'lr', reference: 'l3' }];
    const runs = await measurePairs(comps, {
      rule: { minPairs: 3, maxPairs: 7, maxSpread: 0.1 },
      rng: mulberry32(1),
      measure: async (f) => ({ forwarder: f, value: f === 'lr' ? 10 : (values[f].shift() ?? 10) }),
    });
    assert.equal(runs[0].pairs.length, 3);
    assert.ok(runs[1].pairs.length > 3, `${runs[1].pairs.length} pairs for the wide comparison`);
    assert.equal(runs[0].summary?.median, 1);
  });

  it('tells the two modes of a bimodal series apart, and one mode from noise', function () {
    const bi = [9.2, 8.87, 4.09, 4.05, 9.83, 8.97, 3.86, 5.77, 3.65, 10.87, 4.1, 8.44, 8.69, 10.1]; // testpmd io, recorded (5.77: a flip mid-trial)
    const thr = modeThreshold(bi);
    assert.ok(thr !== null && thr > 5.77 && thr < 8.44, `threshold ${thr}`);
    assert.equal(fastShare(bi, thr), 8 / 14);
    assert.equal(modeThreshold([10, 10.2, 9.9, 10.4, 9.7, 8.9]), null);
    assert.equal(fastShare([10, 11], null), 1);
    const p = (s: number, r: number) => ({ subject: { forwarder: 's', value: s }, reference: { forwarder: 'r', value: r }, first: 'subject' as const, ratio: s / r });
    assert.deepEqual(sameModeRatios([p(9, 10), p(4, 10), p(4, 4.4), p(9, 4)], 6, 6), [0.9, 4 / 4.4]);
    // a side whose trials form one mode: which one it is cannot be told, so no same-mode ratio (recorded: linerate at 128B, all slow)
    const d = modeDiagnostics([p(3.5, 9.6), p(3.4, 3.6), p(3.3, 9.4)], [3.5, 3.4, 3.3], [9.6, 3.6, 9.4]);
    assert.equal(d.sameMode, null);
    assert.equal(d.fastShare.subject, null);
    assert.equal(d.fastShare.reference, 2 / 3);
  });

  describe('on a bimodal host (a series modelled on issue 6: see the fixture\'s source)', function () {
    const f = fixture('bimodal-64b.json');

    it('the blocks-of-five medians give the wrong ratio', function () {
      // the old harness: five trials of the reference, then five of linerate (taken later, in another spell)
      const old = blocksRatio(f, 5, 0, 1);
      assert.ok(Math.abs(old - f.expected.ratio) > 0.25, `blocks of five gave ${old.toFixed(3)}, expected far from ${f.expected.ratio}`);
    });

    it('the median of per-pair ratios gives the right one', function () {
      const pairs = pairsFromSeries(f.trials, f.case, f.subject, f.reference);
      assert.ok(pairs.length >= 10, `${pairs.length} pairs`);
      const s = summarize(pairs.map((p) => p.ratio));
      assert.ok(Math.abs(s.median - f.expected.ratio) <= f.expected.tolerance,
        `paired median ${s.median.toFixed(3)}, expected ${f.expected.ratio} ± ${f.expected.tolerance} (${f.expected.basis})`);
    });

    it('measurePairs replaying the series arrives at the same ratio; a few mixed pairs do not widen the quartiles', async function () {
      const r = replay(f);
      const [run] = await measurePairs([{ subject: f.subject, reference: f.reference }], {
        rule: { minPairs: 7, maxPairs: 13, maxSpread: 0.08 },
        rng: mulberry32(3),
        measure: (id) => r.measure(id),
      });
      assert.ok(run.summary);
      assert.ok(Math.abs(run.summary.median - f.expected.ratio) <= f.expected.tolerance, `replayed median ${run.summary.median}`);
      assert.ok(run.pairs.length >= 7 && run.pairs.length <= 13);
      // the old method on the same replay budget: the reference's first block against linerate's next one
      const lr = r.calls.filter((x) => x === f.subject).length;
      assert.ok(lr >= 7);
    });

    it('with a wide spread the rule takes pairs up to its maximum', async function () {
      // the whole series, pairs in their recorded order: many mixed pairs late in the series
      const pairs = pairsFromSeries(f.trials, f.case, f.subject, f.reference).sort((a, b) => (a.subject.t ?? 0) - (b.subject.t ?? 0));
      const ratios = pairs.map((p) => p.ratio);
      let n = 0;
      while (needMorePairs(ratios.slice(0, n), { minPairs: 3, maxPairs: 9, maxSpread: 0.015 })) n++;
      assert.equal(n, 9, 'quartiles wider than 1.5 %: every pair up to the maximum');
      n = 0;
      while (needMorePairs(ratios.slice(0, n), { minPairs: 3, maxPairs: 9, maxSpread: 0.2 })) n++;
      assert.equal(n, 3, 'within 20 %: the minimum is enough');
    });
  });

  describe('on a recorded A/A run: --compare HEAD~1 with the same forwarder code on both sides', function () {
    const f = fixture('aa-compare-recorded.json');
    const kept = (id: string): number[] => f.trials.filter((t) => t.case === f.case && t.repeated === null && t.forwarder === id)
      .sort((a, b) => a.t - b.t).map((t) => t.mpps);

    it('every forwarder was bimodal (~2x between its modes, trial to trial)', function () {
      for (const id of ['linerate', 'linerate-base', 'testpmd-io', 'l3fwd-lpm']) {
        const thr = modeThreshold(kept(id));
        assert.ok(thr !== null, `${id} looks unimodal`);
        const v = kept(id);
        assert.ok(Math.max(...v) / Math.min(...v) > 2, id);
      }
    });

    it('the median of per-pair head/base ratios is 1, and so is the same-mode one', function () {
      const pairs = pairsFromSeries(f.trials, f.case, f.subject, f.reference);
      assert.equal(pairs.length, 5);
      const s = summarize(pairs.map((p) => p.ratio));
      assert.ok(Math.abs(s.median - f.expected.ratio) <= f.expected.tolerance, `paired head/base ${s.median}`);
      assert.ok(s.p25 <= 1 && s.p75 >= 1, 'the quartiles straddle 1: no difference claimed');
      const same = sameModeRatios(pairs, modeThreshold(kept(f.subject)), modeThreshold(kept(f.reference)));
      assert.ok(same.length >= 3 && Math.abs(median(same) - 1) <= 0.05, `same-mode ${same}`);
    });

    it('blocks of five from two windows of the same run can say 0.4 x or 2.3 x', function () {
      const h = kept(f.subject);
      const b = kept(f.reference);
      const ratios: number[] = [];
      for (let i = 0; i + 5 <= b.length; i++) for (let j = 0; j + 5 <= h.length; j++) ratios.push(ratioOfMedians(h.slice(j, j + 5), b.slice(i, i + 5)));
      assert.ok(Math.min(...ratios) < 0.5 && Math.max(...ratios) > 2, `block ratios from ${Math.min(...ratios)} to ${Math.max(...ratios)}`);
      const off = ratios.filter((r) => Math.abs(r - 1) > 0.25).length / ratios.length;
      assert.ok(off > 0.1, `${(off * 100).toFixed(0)} % of window choices more than 25 % off`);
      // the old harness's order: the base's block of five first, then the head's, later in the run
      assert.ok(Math.abs(ratioOfMedians(h.slice(0, 5), b.slice(10, 15)) - 1) > 0.5);
    });

    it('the more-pairs rule, applied to the recorded ratios, takes as many pairs as the run did', async function () {
      const ioPairs = pairsFromSeries(f.trials, f.case, 'linerate', 'testpmd-io').map((p) => p.ratio);
      const hb = pairsFromSeries(f.trials, f.case, 'linerate', 'linerate-base').map((p) => p.ratio);
      const rule = { minPairs: 4, maxPairs: 7, maxSpread: 0.1 }; // the quick plan's 64B rule
      const taken = (xs: number[]): number => {
        let n = 0;
        while (n < xs.length && needMorePairs(xs.slice(0, n), rule)) n++;
        return n;
      };
      // head/base: one mixed pair (2.32) among the first four widens the quartiles, a fifth pair narrows them again (6.4 %)
      assert.equal(taken(hb), 5);
      // linerate/testpmd io: modes mixed in most pairs, the quartiles never narrow: every pair up to the maximum
      assert.equal(taken(ioPairs), 7);
    });
  });

  describe('on a recorded noisy quick run (another process busy-polling both CPUs)', function () {
    const f = fixture('quick-run-noisy.json');
    const limits = f.limits ?? { steal_percent: 5, others_percent: 10, retries: 2 };

    it('re-derives the pairs and the ratio of the run from its trial log', function () {
      const pairs = pairsFromSeries(f.trials, f.case, f.subject, f.reference);
      assert.equal(pairs.length, 7);
      for (const p of pairs) {
        assert.equal(p.subject.forwarder, f.subject);
        assert.equal(p.reference.forwarder, f.reference);
      }
      const s = summarize(pairs.map((p) => p.ratio));
      assert.ok(Math.abs(s.median - f.expected.ratio) <= f.expected.tolerance, `median ${s.median}`);
    });

    it('repeated exactly the attempts the repeat rule names, for the reason it names, until the budget was spent', function () {
      let repeated = 0;
      const rl = { stealLimit: limits.steal_percent, othersLimit: limits.others_percent, retries: limits.retries };
      for (const t of f.trials) {
        // the stall rule of the harness that recorded it (an absolute Mpps then; a bit rate now, see stalledLoop)
        const closedLoop = /^(max|scale|warm-up)/.test(t.case);
        const why = repeatReason({ steal: t.steal, others: t.others, stalled: closedLoop && t.mpps < (limits.stalled_below_mpps ?? 1) }, rl);
        if (t.repeated !== null) {
          repeated++;
          assert.equal(t.repeated, why, `attempt at t=${t.t}: recorded ${t.repeated}, the rule says ${why}`);
        }
      }
      // quick budget: 16 repeats; the disturbed attempts kept after that are the ones not repeated although the rule names a reason
      const over = f.trials.filter((t) => t.repeated === null && repeatReason({ steal: t.steal, others: t.others, stalled: false }, rl) !== null);
      assert.ok(repeated >= 16, `${repeated} attempts not kept`);
      assert.ok(over.length > 10, `${over.length} disturbed trials kept once the budget was spent`);
    });
  });
});

describe('bench harness: repeats', function () {
  const limits = { stealLimit: 5, othersLimit: 10, retries: 2 };
  const d = (steal: number, others = 0, stalled = false): Disturbance & { id: number } => ({ steal, others, stalled, id: 0 });

  async function run(attempts: (Disturbance & { id: number })[], budget = new RepeatBudget(10)): Promise<{ kept: number; n: number; disturbed: boolean; budget: RepeatBudget }> {
    const src = attempts.map((a, i) => ({ ...a, id: i }));
    const r = await withRepeats(async (n) => src[n], limits, budget);
    return { kept: r.kept.id, n: r.attempts.length, disturbed: r.disturbed, budget };
  }

  it('keeps a quiet trial at once', async function () {
    const r = await run([d(0.5, 2)]);
    assert.deepEqual([r.kept, r.n, r.disturbed, r.budget.used], [0, 1, false, 0]);
  });

  it('repeats a trial with steal above the limit, and counts it by reason', async function () {
    const r = await run([d(9.5), d(0.7)]);
    assert.deepEqual([r.kept, r.n, r.disturbed], [1, 2, false]);
    assert.deepEqual(r.budget.byReason, { steal: 1, others: 0, stalled: 0 });
    assert.equal(repeatReason(d(5), limits), null, 'at the limit is kept');
  });

  it('repeats for other processes and for a stalled loop too', async function () {
    const r = await run([d(0, 40), d(0, 0, true), d(1, 3)]);
    assert.deepEqual([r.kept, r.n], [2, 3]);
    assert.deepEqual(r.budget.byReason, { steal: 0, others: 1, stalled: 1 });
  });

  it('after the retries keeps the least disturbed attempt and says it was disturbed', async function () {
    const r = await run([d(12), d(6), d(9)]);
    assert.deepEqual([r.kept, r.n, r.disturbed], [1, 3, true]);
    assert.equal(r.budget.used, 2);
    assert.equal(r.budget.disturbed, 1);
  });

  it('calls a closed loop stalled by its bit rate, not its packet rate', function () {
    assert.equal(stalledLoop(64, 0.01), true);
    assert.equal(stalledLoop(64, 0.2), true);
    assert.equal(stalledLoop(64, 0.86), false); // a slow, disturbed 64B trial is not a stall
    assert.equal(stalledLoop(1518, 0.81), false); // the slow mode of 1518B frames (~10 Gbit/s)
    assert.equal(stalledLoop(1518, 0.005), true);
  });

  it('never keeps a stalled attempt while another exists', async function () {
    const r = await run([d(20), d(0, 0, true), d(0, 0, true)]);
    assert.equal(r.kept, 0);
  });

  it('stops repeating when the run\'s budget is spent', async function () {
    const budget = new RepeatBudget(1);
    const a = await run([d(9), d(8), d(0)], budget);
    assert.deepEqual([a.n, a.kept, a.disturbed], [2, 1, true]); // one repeat allowed, the second attempt is still over the limit
    const b = await run([d(9), d(0)], budget);
    assert.deepEqual([b.n, b.disturbed], [1, true]); // nothing left: kept as it is
    assert.equal(budget.used, 1);
    assert.equal(budget.disturbed, 2);
  });
});

describe('bench harness: machine readings', function () {
  it('reads steal per CPU from /proc/stat (the 8th value)', function () {
    const a = parseProcStat('cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 3 17 0 0\ncpu1 50 0 25 400 5 0 2 18 0 0\nintr 1 2 3\n');
    const b = parseProcStat('cpu  160 0 70 900 10 0 5 55 0 0\ncpu0 110 0 45 420 5 0 3 17 0 0\ncpu1 50 0 25 480 5 0 2 38 0 0\n');
    assert.equal(a.get('cpu0')?.steal, 17);
    assert.equal(a.get('cpu')?.total, 100 + 50 + 800 + 10 + 5 + 35);
    assert.equal(stealPercent(a, b, [0]), 0);
    assert.equal(stealPercent(a, b, [1]), 20); // 20 of 100 jiffies
    assert.equal(stealPercent(a, b, [0, 1]), 20); // the worse CPU
    assert.equal(stealPercent(a, b, null), (100 * 20) / 200);
  });

  it('names the CPU: family, model and whether it has AVX-512', function () {
    const zen3 = parseCpuinfo('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nstepping\t: 1\n' +
      'flags\t\t: fpu sse4_2 avx avx2 aes vaes hypervisor constant_tsc\n\nprocessor\t: 1\nflags\t\t: avx512f\n');
    assert.deepEqual([zen3.family, zen3.model, zen3.avx512, zen3.hypervisor], [25, 1, false, true]);
    assert.match(describeCpu(zen3), /^AMD EPYC \(AuthenticAMD family 25 model 1\), no AVX-512 \(avx2 avx sse4_2 aes vaes\), under a hypervisor$/);
    const xeon = parseCpuinfo('vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 106\nmodel name\t: Intel(R) Xeon(R)  Platinum 8375C\n' +
      'flags\t\t: avx2 avx512f avx512bw avx512vl\n');
    assert.equal(xeon.avx512, true);
    assert.match(describeCpu(xeon), /Intel\(R\) Xeon\(R\) Platinum 8375C \(GenuineIntel family 6 model 106\), AVX-512 \(avx512f avx512bw avx512vl avx2\)/);
  });

  it('counts other processes\' CPU, with what their short-lived children used (reaped: cutime)', function () {
    const p = (ppid: number, ticks: number, cticks = 0, start = 1): ProcSample => ({ comm: 'x', ppid, ticks, cticks, start });
    const self = 100;
    const a = new Map<number, ProcSample>([[100, p(1, 500)], [101, p(100, 50)], [200, p(1, 10)], [201, p(200, 30)], [300, p(1, 0)]]);
    const b = new Map<number, ProcSample>([
      [100, p(1, 900, 400)], [101, p(100, 90)], // ours: never counted
      [200, p(1, 12, 70)], // make: +2 own, +70 from a compiler that ran and was reaped (and 201, gone, had 30 of those before)
      [300, p(1, 0, 25)], // a shell whose child started and ended between the samples
      [400, p(1, 15, 0, 9)], // started since
    ]);
    assert.equal(othersTicks(a, b, self), 2 + 70 - 30 + 25 + 15);
  });
});

describe('bench harness: references', function () {
  const ok = { testpmd: () => true, buildL3fwd: () => '/x/l3fwd' };
  const noDoc = { testpmd: () => true, buildL3fwd: (): string => { throw new Error('no /usr/share/dpdk/examples/l3fwd (apt-get install dpdk-doc)'); } };

  it('measures testpmd io and l3fwd when both are there', function () {
    const c = chooseReferences({ references: true, l3fwd: true }, ok);
    assert.deepEqual(c.measure, ['testpmd-io', 'l3fwd-lpm']);
    assert.equal(c.l3fwdBinary, '/x/l3fwd');
  });

  it('fails the run loudly when l3fwd cannot be built, unless --no-l3fwd', function () {
    assert.throws(() => chooseReferences({ references: true, l3fwd: true }, noDoc), (e: unknown) => {
      assert.ok(e instanceof ReferenceUnavailable);
      assert.equal(e.reference, 'l3fwd-lpm');
      assert.match(e.message, /dpdk-doc/);
      assert.match(e.message, /--no-l3fwd/);
      return true;
    });
    const c = chooseReferences({ references: true, l3fwd: false }, noDoc);
    assert.deepEqual(c.measure, ['testpmd-io']);
    assert.match(c.references['l3fwd-lpm']?.reason ?? '', /--no-l3fwd/);
  });

  it('fails without testpmd unless --no-references', function () {
    assert.throws(() => chooseReferences({ references: true, l3fwd: true }, { ...ok, testpmd: () => false }), /--no-references/);
    assert.deepEqual(chooseReferences({ references: false, l3fwd: true }, { ...ok, testpmd: () => false }).measure, []);
  });

  it('a reference that started but gave no 64B figure is an error of the run', function () {
    const c = chooseReferences({ references: true, l3fwd: true }, ok);
    const missing = unmeasured(c, (id) => id === 'testpmd-io');
    assert.deepEqual(missing.map((m) => m.id), ['l3fwd-lpm']);
    assert.match(missing[0].message, /--no-l3fwd/);
  });
});

describe('bench harness: paired figures in the reports', function () {
  it('writes a paired ratio with its quartiles and pair count', function () {
    assert.equal(fmtPaired({ median: 0.9912, p25: 0.962, p75: 1.013, pairs: 7 }), '0.99 (0.96–1.01, 7 pairs)');
    assert.equal(fmtPaired({ median: 1.2, p25: 1.2, p75: 1.2, pairs: 1 }), '1.20 (1 pair)');
  });

  it('warns when the two sides of a comparison drew the fast mode unequally', function () {
    const base = { pairs: 13, median: 0.8, p25: 0.46, p75: 0.95, min: 0.4, max: 2.3, spread: 0.6, ratios: [], subject_first: 6 };
    const c = (fs: { subject: number; reference: number }): CaseResult => ({
      name: 'max 64B linerate', test: 'max', forwarder: 'linerate', frame_size: 64, flows: 256, routes: null, offered_mpps: null, mpps: 3.9, gbps: 0,
      loss_ratio: 0, loss_packets: 0, latency_ns: null, trials: [], best_mpps: 9, others_cpu_percent: 0, ratio: {}, ratio_best: {}, cycles_per_packet: 547,
      core_cycles_per_packet: null, paired: { 'testpmd-io': { ...base, fast_share: fs, same_mode: { median: 0.91, p25: 0.87, p75: 0.95, pairs: 5 } } },
    });
    assert.match(modeWarning([c({ subject: 0.23, reference: 0.54 })]) ?? '', /fast in 23 % vs 54 %/);
    assert.equal(modeWarning([c({ subject: 0.4, reference: 0.54 })]), null);
  });

  it('renders a --compare run as head / base with cycles per packet', function () {
    const paired = { pairs: 5, median: 1.043, p25: 1.02, p75: 1.06, min: 0.98, max: 1.1, spread: 0.038, ratios: [1, 1.02, 1.043, 1.06, 1.1], subject_first: 3,
      cpp_ratio: { median: 0.95, p25: 0.93, p75: 0.97, pairs: 5 } };
    const mk = (forwarder: CaseResult['forwarder'], mpps: number, cpp: number | null, o: Partial<CaseResult> = {}): CaseResult => ({
      name: `max 64B ${forwarder}`, test: 'max', forwarder, frame_size: 64, flows: 256, routes: null, offered_mpps: null, mpps, gbps: 0, loss_ratio: 0,
      loss_packets: 0, latency_ns: null, trials: [mpps], best_mpps: mpps, others_cpu_percent: 0, ratio: {}, ratio_best: {}, cycles_per_packet: cpp,
      core_cycles_per_packet: null, ...o,
    });
    const log: TrialRecord[] = [];
    const r: BenchResults = {
      schema: 2, mode: 'quick', method: 'paired', seed: 9, started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:02:00.000Z', duration_s: 120,
      compare: { base_rev: 'HEAD~1', base_commit: 'a'.repeat(40), base_subject: 'old', head_commit: 'b'.repeat(40), head_dirty: true, build_seconds: 30,
        route_add: { routes: 100000, batch: 8192, head_routes_per_s: [150000, 152000, 149000], base_routes_per_s: [140000, 141000, 139000],
          ratio: { ...paired, median: 1.07, p25: 1.06, p75: 1.08 } } },
      machine: { cpus: 2, cpu_model: 'AMD EPYC', tsc_hz: 2.45e9, kernel: '6.1', node: 'v20', dpdk: '22.11', cpu_description: 'AMD EPYC (AuthenticAMD family 25 model 1), no AVX-512 (avx2)',
        steal: { run_percent: { cpu: 1, cpu0: 1.2, cpu1: 0.8 }, trial_median_percent: 0.4, trial_max_percent: 9, trials_over_limit: 2 } },
      noise: { loadavg_start: [0, 0, 0], loadavg_end: [0, 0, 0], busy_others: [], repeats: { steal: 2, others: 1, stalled: 0, budget: 16 }, disturbed_trials: 0,
        limits: { steal_percent: 5, others_percent: 10, retries: 2 } },
      settings: {}, references: {}, route_add: null, churn: null, crashes: [], targets: [], errors: [], trials_log: log,
      cases: [mk('linerate', 10.4, 96, { paired: { 'linerate-base': paired } }), mk('linerate-base', 10, 101)],
    };
    const md = renderCompareMarkdown(r);
    assert.match(md, /^# linerate before\/after: HEAD~1 = aaaaaaaaaaaa "old" → working tree \(HEAD bbbbbbbbbbbb \+ uncommitted changes\)/);
    assert.match(md, /no AVX-512/);
    assert.match(md, /Steal seen: cpu0 1\.2 %, cpu1 0\.8 % over the run; per trial median 0\.4 %, max 9\.0 % \(2 trials above the 5 % limit\)\. Trials repeated: 3 \(steal 2/);
    const row = md.split('\n').find((l) => l.startsWith('| 64B, main table'));
    assert.ok(row, md);
    assert.match(row, /\| 10\.40 \| 10\.00 \| \*\*1\.043 \(1\.020–1\.060, 5 pairs\)\*\* \| one mode \| 96 \| 101 \| 0\.950 \(0\.930–0\.970, 5 pairs\) \|/);
    assert.match(md, /head 150 000 routes\/s, base 140 000 routes\/s; head \/ base \*\*1\.070 \(1\.060–1\.080, 5 pairs\)\*\*/);
  });
});
