// SPDX-License-Identifier: BSD-3-Clause
// Charts of a run as SVG files: Vega-Lite specs (built here, pure) rendered
// server-side by Vega's headless View (no browser, no canvas). Vega 6 is
// ESM-only with top-level await, so it is loaded with a real dynamic
// import() that TypeScript's CommonJS output would otherwise turn into
// require().

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BenchResults, FORWARDER_LABEL } from './results';

type Spec = Record<string, unknown>;

export interface Chart {
  file: string;
  title: string;
  spec: Spec;
}

const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<unknown>;

const PALETTE: Record<string, string> = {
  [FORWARDER_LABEL.linerate]: '#d62728',
  [FORWARDER_LABEL['linerate-base']]: '#ff9896',
  [FORWARDER_LABEL['testpmd-io']]: '#1f77b4',
  [FORWARDER_LABEL['l3fwd-lpm']]: '#2ca02c',
};
const base = (title: string, subtitle: string): Spec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, subtitle, anchor: 'start' },
  width: 520,
  height: 300,
  background: 'white',
  config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { orient: 'bottom', labelLimit: 300 } },
});
/** Color by forwarder, same colors in every chart, legend limited to those present. */
function fwdColor(rows: readonly { forwarder: string }[]): Spec {
  const domain = Object.keys(PALETTE).filter((f) => rows.some((r) => r.forwarder === f));
  return { field: 'forwarder', type: 'nominal', title: null, scale: { domain, range: domain.map((f) => PALETTE[f]) } };
}

function routesLabel(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

/** The Vega-Lite specs for a run (only those it has data for). */
export function chartSpecs(r: BenchResults): Chart[] {
  const charts: Chart[] = [];
  const stamp = `${r.mode} run, ${r.started_at.slice(0, 16).replace('T', ' ')} UTC`;

  const sizes = r.cases.filter((c) => c.test === 'max').map((c) => ({
    forwarder: FORWARDER_LABEL[c.forwarder], size: c.frame_size, mpps: c.mpps, gbps: c.gbps,
  }));
  if (sizes.length) {
    charts.push({
      file: 'mpps-by-size.svg',
      title: 'Mpps by frame size',
      spec: {
        ...base('Forwarding rate by frame size (closed loop, one core)', stamp),
        data: { values: sizes },
        encoding: {
          x: { field: 'size', type: 'ordinal', title: 'frame size (bytes, FCS included)', sort: 'ascending', axis: { labelAngle: 0 } },
          y: { field: 'mpps', type: 'quantitative', title: 'Mpps' },
          color: fwdColor(sizes),
        },
        layer: [
          { mark: { type: 'line', point: true } },
          { mark: { type: 'text', dy: -9, fontSize: 10 }, encoding: { text: { field: 'mpps', format: '.1f' } } },
        ],
      },
    });
  }

  const scale = r.cases.filter((c) => c.test === 'scale' && c.forwarder === 'linerate' && c.routes !== null)
    .sort((a, b) => (a.routes ?? 0) - (b.routes ?? 0))
    .map((c) => ({ routes: routesLabel(c.routes ?? 0), mpps: c.mpps, forwarder: FORWARDER_LABEL[c.forwarder] }));
  const order = scale.map((s) => s.routes);
  if (scale.length) {
    const refs = r.cases.filter((c) => c.test === 'scale' && c.routes === null)
      .map((c) => ({ forwarder: FORWARDER_LABEL[c.forwarder], mpps: c.mpps }));
    charts.push({
      file: 'mpps-by-routes.svg',
      title: 'Mpps by routing table size',
      spec: {
        ...base('linerate 64B forwarding rate by routing table size', `${stamp}; line: reference forwarders on the same traffic`),
        layer: [
          {
            data: { values: scale },
            mark: { type: 'bar', color: PALETTE[FORWARDER_LABEL.linerate] },
            encoding: {
              x: { field: 'routes', type: 'ordinal', title: 'routes installed', sort: order, axis: { labelAngle: 0 } },
              y: { field: 'mpps', type: 'quantitative', title: 'Mpps' },
            },
          },
          {
            data: { values: scale },
            mark: { type: 'text', dy: -7, fontSize: 11 },
            encoding: {
              x: { field: 'routes', type: 'ordinal', sort: order },
              y: { field: 'mpps', type: 'quantitative' },
              text: { field: 'mpps', format: '.2f' },
            },
          },
          ...(refs.length ? [{
            data: { values: refs },
            mark: { type: 'rule', strokeDash: [6, 4], size: 2 },
            encoding: { y: { field: 'mpps', type: 'quantitative' }, color: fwdColor(refs) },
          }] : []),
        ],
      },
    });
  }

  const lat: { forwarder: string; load: string; percentile: string; us: number }[] = [];
  for (const c of r.cases) {
    if (!c.latency_ns || (c.test !== 'latency-50' && c.test !== 'latency-90')) continue;
    const load = c.test === 'latency-50' ? '50 % of NDR' : '90 % of NDR';
    const l = c.latency_ns;
    const pts: [string, number][] = [['min', l.min], ['p50', l.p50], ['p99', l.p99], ['p99.9', l.p999], ['max', l.max]];
    for (const [p, v] of pts) lat.push({ forwarder: FORWARDER_LABEL[c.forwarder], load, percentile: p, us: v / 1000 });
  }
  if (lat.length) {
    charts.push({
      file: 'latency.svg',
      title: 'Latency distribution',
      spec: {
        ...base('Latency distribution (64B, one-way through the forwarder)', `${stamp}; log scale`),
        data: { values: lat },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'percentile', type: 'ordinal', title: 'percentile', sort: ['min', 'p50', 'p99', 'p99.9', 'max'], axis: { labelAngle: 0 } },
          y: { field: 'us', type: 'quantitative', title: 'latency (µs)', scale: { type: 'log' } },
          color: fwdColor(lat),
          strokeDash: { field: 'load', type: 'nominal', title: null },
          shape: { field: 'load', type: 'nominal', title: null },
        },
      },
    });
  }

  const rates = r.cases.filter((c) => c.frame_size === 64 && (c.test === 'max' || c.test === 'ndr' || c.test === 'pdr'))
    .map((c) => ({ forwarder: FORWARDER_LABEL[c.forwarder], test: c.test.toUpperCase(), mpps: c.mpps }));
  if (rates.length) {
    charts.push({
      file: 'throughput-64b.svg',
      title: '64B: maximum, NDR and PDR',
      spec: {
        ...base('64B throughput: closed-loop maximum, RFC 2544 NDR and PDR', stamp),
        data: { values: rates },
        encoding: {
          x: { field: 'test', type: 'nominal', title: null, sort: ['MAX', 'PDR', 'NDR'], axis: { labelAngle: 0 } },
          xOffset: { field: 'forwarder' },
          y: { field: 'mpps', type: 'quantitative', title: 'Mpps' },
          color: fwdColor(rates),
        },
        layer: [
          { mark: 'bar' },
          { mark: { type: 'text', dy: -7, fontSize: 10 }, encoding: { text: { field: 'mpps', format: '.1f' } } },
        ],
      },
    });
  }
  return charts;
}

/** Renders one Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const vl = (await importEsm('vega-lite')) as { compile(s: Spec): { spec: unknown } };
  const vega = (await importEsm('vega')) as {
    parse(s: unknown): unknown;
    View: new (rt: unknown, o: { renderer: string }) => { toSVG(): Promise<string>; finalize(): void };
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the charts of `r` into `dir`; returns what was written. */
export async function writeCharts(r: BenchResults, dir: string): Promise<Chart[]> {
  const charts = chartSpecs(r);
  for (const c of charts) writeFileSync(path.join(dir, c.file), await renderSvg(c.spec));
  return charts;
}
