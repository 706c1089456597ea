// SPDX-License-Identifier: BSD-3-Clause
// The harness's report logic on a synthetic run: ratios to the references,
// target evaluation, the markdown table and the SVG charts (rendered for
// real by Vega).
import assert from 'node:assert/strict';
import { chartSpecs, renderSvg } from '../harness/charts';
import { fmtInt, renderMarkdown } from '../harness/report';
import { type BenchResults, type CaseResult, evaluateTargets, fillRatios, type ForwarderId, type TestId } from '../harness/results';

function mk(forwarder: ForwarderId, test: TestId, mpps: number, o: Partial<CaseResult> = {}): CaseResult {
  return {
    name: `${test} ${forwarder}`, test, forwarder, frame_size: 64, flows: 256, routes: null, offered_mpps: null, mpps,
    gbps: (mpps * 64 * 8) / 1000, loss_ratio: 0, loss_packets: 0, latency_ns: null, trials: [mpps], best_mpps: mpps, others_cpu_percent: 0, ratio: {}, ratio_best: {},
    cycles_per_packet: null, core_cycles_per_packet: null, ...o,
  };
}

function run(cases: CaseResult[], over: Partial<BenchResults> = {}): BenchResults {
  fillRatios(cases);
  const r: BenchResults = {
    schema: 2, mode: 'quick', method: 'paired', seed: 1, started_at: '2026-01-02T03:04:05.000Z', finished_at: '2026-01-02T03:06:05.000Z', duration_s: 120,
    machine: { cpus: 2, cpu_model: 'test cpu', tsc_hz: 2.6e9, kernel: '6.1', node: 'v20', dpdk: '22.11' },
    noise: { loadavg_start: [0.1, 0.1, 0.1], loadavg_end: [1, 1, 1], busy_others: [] },
    settings: {}, references: {}, cases, route_add: null, churn: null, crashes: [], targets: [], errors: [], ...over,
  };
  r.targets = evaluateTargets(r);
  return r;
}

const lat = (p50: number) => ({ samples: 1000, min: p50 / 2, mean: p50 * 1.1, p50, p99: p50 * 3, p999: p50 * 5, max: p50 * 20 });

describe('bench harness: report', function () {
  const io = 20;
  const l3 = 17.5;
  const lr = 18.2;
  const cases = (): CaseResult[] => [
    mk('testpmd-io', 'max', io),
    mk('l3fwd-lpm', 'max', l3),
    mk('linerate', 'max', lr, { cycles_per_packet: 101.5 }),
    mk('linerate', 'max', 8.1, { frame_size: 1518 }),
    mk('testpmd-io', 'scale', 19, { flows: 65536 }),
    mk('linerate', 'scale', 17.9, { routes: 1, flows: 65536 }),
    mk('linerate', 'scale', 15.1, { routes: 1_000_000, flows: 65536 }),
    mk('linerate', 'ndr', 9.5, { offered_mpps: 9.5 }),
    mk('linerate', 'latency-50', 4.75, { offered_mpps: 4.75, latency_ns: lat(3000) }),
    mk('linerate', 'latency-90', 8.55, { offered_mpps: 8.55, latency_ns: lat(5000) }),
  ];

  it('computes every linerate ratio from the reference case of the same test and size', function () {
    const cs = cases();
    cs[0].best_mpps = io + 2; // the reference had a better trial than its median
    fillRatios(cs);
    assert.equal(cs[2].ratio_best['testpmd-io'], lr / (io + 2));
    const lr64 = cs.find((c) => c.forwarder === 'linerate' && c.test === 'max' && c.frame_size === 64);
    assert.equal(lr64?.ratio['testpmd-io'], lr / io);
    assert.equal(lr64?.ratio['l3fwd-lpm'], lr / l3);
    // no 1518B reference, no NDR reference: no ratio rather than a wrong one
    assert.equal(cs.find((c) => c.frame_size === 1518)?.ratio['testpmd-io'], null);
    assert.equal(cs.find((c) => c.test === 'ndr')?.ratio['testpmd-io'], null);
    // scale cases compare with the reference's run of the scale traffic
    assert.equal(cs.find((c) => c.routes === 1_000_000)?.ratio['testpmd-io'], 15.1 / 19);
    // references get no ratio to themselves
    assert.deepEqual(cs.find((c) => c.forwarder === 'testpmd-io')?.ratio, {});
  });

  it('evaluates the targets from the measured values', function () {
    const r = run(cases(), {
      route_add: { routes: 1e6, batch: 8192, seconds: 4, routes_per_s: 250_000, encode_seconds: 1, routes_per_s_with_encoding: 200_000, by_batch: [], delete_seconds: 2, deletes_per_s: 500_000 },
      churn: { table_routes: 1e6, churn_routes: 5000, batch: 5000, target_routes_per_s: 1e5, achieved_routes_per_s: 9e4, seconds: 3, offered_mpps: 4.75, ndr_mpps: 9.5, sent_mpps: 4.75, mpps: 4.75, loss_packets: 0, loss_ratio: 0, shortfall_packets: 0, refused: 0, drops: {}, table_swaps: 60, others_cpu_percent: 0 },
    });
    const t = Object.fromEntries(r.targets.map((x) => [x.name, x]));
    const vsIo = t['IPv4 LPM 64B Mpps vs testpmd io'];
    assert.equal(vsIo.value, lr / io);
    assert.equal(vsIo.value_best, lr / io); // one trial each: best = median
    assert.equal(vsIo.met, lr / io >= 0.9);
    assert.equal(t['IPv4 LPM 64B Mpps vs l3fwd LPM'].met, lr / l3 >= 1);
    const big = r.targets.find((x) => x.name.includes('1M routes'));
    assert.equal(big?.value, 15.1 / 19);
    assert.equal(big?.met, 15.1 / 19 >= 0.8);
    assert.equal(t['routes added over gRPC in batches'].met, false);
    assert.equal(t['loss during route churn at 50% NDR'].met, true);
  });

  it('leaves unmeasured targets unjudged', function () {
    const r = run([mk('linerate', 'max', 10)]);
    assert.ok(r.targets.length >= 5);
    for (const x of r.targets) {
      assert.equal(x.value, null, x.name);
      assert.equal(x.met, null, x.name);
    }
  });

  it('renders the markdown tables with the figures of the run', function () {
    const r = run(cases(), { noise: { loadavg_start: [2, 2, 2], loadavg_end: [2, 2, 2], busy_others: [{ pid: 42, comm: 'other-bench', cpu_percent: 95 }] } });
    const md = renderMarkdown(r, [{ file: 'mpps-by-size.svg', title: 'Mpps by frame size' }]);
    assert.match(md, /^# linerate benchmark \(quick\)/);
    assert.match(md, /Noisy machine.*other-bench 95 %/);
    const row = md.split('\n').find((l) => l.startsWith('| 64B | linerate'));
    assert.ok(row, 'no 64B linerate row');
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[3], lr.toFixed(2));
    // no pairs in this synthetic run: ratios of the medians, marked as unpaired
    assert.ok(cells.includes(`${(lr / io).toFixed(2)} (unpaired)`) && cells.includes(`${(lr / l3).toFixed(2)} (unpaired)`), row);
    assert.ok(cells.includes('102'), `cycles/pkt missing: ${row}`); // 101.5 rounded
    assert.match(md, new RegExp(`\\| ${fmtInt(1_000_000)} \\| linerate`));
    assert.match(md, /!\[Mpps by frame size\]\(mpps-by-size\.svg\)/);
    // every table has as many cells per row as its header
    for (const block of md.split('\n\n').filter((b) => b.startsWith('| '))) {
      const rows = block.split('\n').map((l) => l.split('|').length);
      assert.ok(rows.every((n) => n === rows[0]), block);
    }
  });

  it('renders the charts as SVG with the data of the run', async function () {
    this.timeout(30_000);
    const r = run(cases());
    const charts = chartSpecs(r);
    assert.deepEqual(charts.map((c) => c.file).sort(), ['latency.svg', 'mpps-by-routes.svg', 'mpps-by-size.svg', 'throughput-64b.svg']);
    const byRoutes = charts.find((c) => c.file === 'mpps-by-routes.svg');
    assert.ok(byRoutes);
    const svg = await renderSvg(byRoutes.spec);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // the bar labels carry the measured values and the table sizes
    for (const v of ['17.90', '15.10', '1M']) assert.ok(svg.includes(`>${v}<`), `${v} not in the SVG`);
    const sizes = await renderSvg(charts.find((c) => c.file === 'mpps-by-size.svg')?.spec ?? {});
    assert.ok(sizes.includes('>1518<') && sizes.includes('>18.2<'), 'size chart lacks its labels');
  });
});
