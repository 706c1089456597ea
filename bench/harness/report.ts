// SPDX-License-Identifier: BSD-3-Clause
// Renders latest.json as markdown (pure): targets, one table per test
// group, the control-plane figures, and what the columns mean.

import { type BenchResults, type CaseResult, FORWARDER_LABEL, REFERENCES, type TargetResult } from './results';

const dash = '–';

export function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return dash;
  return x.toFixed(digits);
}

/** Integers with thin grouping: 1234567 -> "1 234 567". */
export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return dash;
  return Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** ns -> "12.3 µs" (or "850 ns" under 1 µs). */
export function fmtLatency(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return dash;
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

export function fmtLoss(c: Pick<CaseResult, 'loss_ratio' | 'loss_packets'>): string {
  if (c.loss_ratio === null) return dash;
  if (c.loss_packets === 0) return '0';
  return `${(c.loss_ratio * 100).toPrecision(2)} % (${fmtInt(c.loss_packets)})`;
}

function metMark(t: TargetResult): string {
  return t.met === null ? 'not measured' : t.met ? '**met**' : '**not met**';
}

function targetValue(t: TargetResult): string {
  if (t.value === null) return dash;
  if (t.unit === 'x') return `${t.value.toFixed(2)} x` + (t.value_best != null ? ` (best trials: ${t.value_best.toFixed(2)} x)` : '');
  return `${fmtInt(t.value)} ${t.unit}`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const TEST_TITLE: Record<CaseResult['test'], string> = {
  max: 'Maximum forwarding rate (closed loop), by frame size',
  ndr: 'RFC 2544 throughput: no-drop rate (NDR)',
  pdr: 'RFC 2544 throughput: partial-drop rate (PDR, loss <= 0.5 %)',
  'latency-50': 'Latency at 50 % of the NDR',
  'latency-90': 'Latency at 90 % of the NDR',
  scale: 'Scale: 64B with N routes installed (scale traffic)',
};

function caseRows(cases: readonly CaseResult[]): string[][] {
  return cases.map((c) => [
    c.routes !== null ? fmtInt(c.routes) : `${c.frame_size}B`,
    FORWARDER_LABEL[c.forwarder],
    fmt(c.mpps, 2) + (c.trials.length > 1 ? ` (${c.trials.length} trials: ${fmt(Math.min(...c.trials))}–${fmt(Math.max(...c.trials))})` : ''),
    fmt(c.gbps, 2),
    c.offered_mpps !== null ? fmt(c.offered_mpps, 2) : 'max',
    fmtLoss(c),
    c.latency_ns ? `${fmtLatency(c.latency_ns.p50)} / ${fmtLatency(c.latency_ns.p99)} / ${fmtLatency(c.latency_ns.p999)}` : dash,
    ...REFERENCES.map((r) => (c.forwarder === 'linerate' ? fmt(c.ratio[r] ?? null, 2) +
      (c.trials.length > 1 && c.ratio_best[r] != null ? ` (best ${fmt(c.ratio_best[r] ?? null, 2)})` : '') : dash)),
    fmt(c.cycles_per_packet, 0),
    fmt(c.core_cycles_per_packet, 0),
    `${c.others_cpu_percent ?? 0} %`,
  ]);
}

export function renderMarkdown(r: BenchResults, charts: readonly { file: string; title: string }[] = []): string {
  const out: string[] = [];
  out.push(`# linerate benchmark (${r.mode})`);
  out.push('');
  out.push(`${r.started_at} · ${fmt(r.duration_s, 0)} s · ${r.machine.cpus} CPUs (${r.machine.cpu_model}) · ` +
    `TSC ${r.machine.tsc_hz ? fmt(r.machine.tsc_hz / 1e9, 2) + ' GHz' : dash} · DPDK ${r.machine.dpdk} · Node ${r.machine.node} · Linux ${r.machine.kernel}`);
  out.push('');
  out.push('Topology: linerate-pktgen (TX and RX, one core) ⇄ memif ⇄ forwarder (one worker core) ⇄ memif ⇄ linerate-pktgen. ' +
    'Every forwarder runs in turn on the same sockets and cores; linerate is programmed only through its gRPC API.');
  if (r.noise.reruns || r.noise.disturbed_trials) {
    out.push('', `> ${r.noise.reruns ?? 0} trials were run again because other processes used the CPUs during them; ` +
      `${r.noise.disturbed_trials ?? 0} disturbed trials were kept (re-run limit reached): see the "others" column.`);
  }
  if (r.noise.busy_others.length) {
    out.push('');
    out.push(`> **Noisy machine:** other processes were busy during the run (${r.noise.busy_others
      .map((p) => `${p.comm} ${Math.round(p.cpu_percent)} %`).join(', ')}); load average ${r.noise.loadavg_start.join(' ')} at start, ` +
      `${r.noise.loadavg_end.join(' ')} at the end. Absolute figures suffer; ratios are measured in the same run.`);
  }
  const missing = Object.entries(r.references).filter(([, v]) => v && !v.available);
  for (const [f, v] of missing) out.push('', `> Reference ${f} not measured: ${v?.reason ?? 'unavailable'}.`);
  if (r.crashes.length) {
    out.push('', `> **Forwarder deaths:** ${r.crashes.length} (each restarted and its trial run again):`);
    for (const c of r.crashes) out.push(`> - ${c.forwarder} during ${c.during}: ${c.how}`);
  }
  if (r.errors.length) {
    out.push('', '> **Errors:**');
    for (const e of r.errors) out.push(`> - ${e.split('\n')[0]}`);
  }

  out.push('', '## Targets (reported, not asserted)', '');
  out.push(table(['target', 'measured', 'wanted', ''], r.targets.map((t) => [t.name, targetValue(t), t.target, metMark(t)])));

  const head = ['size / routes', 'forwarder', 'Mpps', 'Gbps', 'offered Mpps', 'loss', 'latency p50 / p99 / p99.9',
    ...REFERENCES.map((f) => `vs ${FORWARDER_LABEL[f]}`), 'cycles/pkt (dataplane)', 'core cycles/pkt', 'others'];
  for (const test of Object.keys(TEST_TITLE) as CaseResult['test'][]) {
    const cs = r.cases.filter((c) => c.test === test);
    if (!cs.length) continue;
    cs.sort((a, b) => (a.routes ?? -1) - (b.routes ?? -1) || a.frame_size - b.frame_size);
    out.push('', `## ${TEST_TITLE[test]}`, '');
    out.push(table(head, caseRows(cs)));
  }

  out.push('', '## Control plane', '');
  if (r.route_add) {
    const a = r.route_add;
    out.push(`- **Route add over gRPC:** ${fmtInt(a.routes)} routes in batches of ${fmtInt(a.batch)} in ${fmt(a.seconds, 2)} s = ` +
      `**${fmtInt(a.routes_per_s)} routes/s** (requests encoded beforehand; counting the client's ${fmt(a.encode_seconds, 2)} s of ` +
      `encoding on the same core: ${fmtInt(a.routes_per_s_with_encoding)} routes/s)` +
      (a.deletes_per_s !== null ? `; deleting them: ${fmt(a.delete_seconds, 2)} s = ${fmtInt(a.deletes_per_s)} routes/s.` : '.'));
    if (a.by_batch.length > 1) {
      out.push(`- Route add by batch size: ${a.by_batch.map((b) => `${fmtInt(b.batch)}: ${fmtInt(b.routes_per_s)} routes/s`).join(' · ')}.`);
    }
  } else out.push('- Route add: not measured.');
  if (r.churn) {
    const c = r.churn;
    const drops = Object.entries(c.drops).map(([k, v]) => `${k}=${fmtInt(v)}`).join(', ') || 'none';
    out.push(`- **Route churn:** ${fmtInt(c.churn_routes)} /32 routes inserted and deleted in batches of ${fmtInt(c.batch)} at ` +
      `${fmtInt(c.achieved_routes_per_s)} routes/s (asked ${fmtInt(c.target_routes_per_s)}) for ${fmt(c.seconds, 1)} s, over a ` +
      `${fmtInt(c.table_routes)}-route table, with traffic offered at ${fmt(c.offered_mpps, 2)} Mpps (50 % of the NDR ${fmt(c.ndr_mpps, 2)}; ` +
      `sent ${fmt(c.sent_mpps, 2)}, the generator sharing its core with the control plane): ` +
      `**${fmtInt(c.loss_packets)} frames lost** of those sent (${(c.loss_ratio * 100).toPrecision(2)} %); dataplane drops by reason: ${drops}; ` +
      `${fmtInt(c.table_swaps)} table swaps; the generator fell ${fmtInt(c.shortfall_packets)} frames short of the offered load ` +
      `and was pushed back ${fmtInt(c.refused)} times.`);
  } else out.push('- Route churn: not measured.');

  if (charts.length) {
    out.push('', '## Charts', '');
    for (const c of charts) out.push(`![${c.title}](${c.file})`, '');
  }

  out.push('', '## How to read this', '');
  out.push('- **Mpps** is what came back to the generator (forwarded frames), the median over the trials listed; ' +
    '**Gbps** = Mpps × frame size (FCS included) × 8.');
  out.push('- **max** cases are closed loop: the generator retries frames the forwarder\'s ring refuses, so they give the ' +
    'highest rate the forwarder sustains; loss there is what the forwarder itself dropped.');
  out.push('- **NDR / PDR** follow RFC 2544: fixed-rate trials of fixed length, binary search for the highest offered rate ' +
    'with zero loss (NDR) or at most 0.5 % loss (PDR). A frame the forwarder\'s full ring refused counts as lost.');
  out.push('- **Latency** is per frame, TSC stamp at send to receive, in one process (no clock skew), over the steady window.');
  out.push('- **vs …** columns: linerate Mpps ÷ the reference\'s Mpps for the same test and size, same run, same cores (medians; ' +
    'in brackets the ratio of the best trials: noise on a shared host only slows a forwarder down, so the best trial is the least ' +
    'disturbed view).');
  out.push('- **cycles/pkt (dataplane)**: linerate\'s worker busy TSC cycles ÷ packets received, from its StatsService ' +
    'counters over the trial. **core cycles/pkt**: TSC Hz ÷ forwarded pps, the whole forwarding core\'s time per packet ' +
    '(comparable across forwarders; about 107 cycles of it is memif copying in and out).');
  out.push('- **others**: the most CPU that processes outside the bench used during one of the case\'s trials, in % of one CPU ' +
    '(a trial above 10 % is run again, up to twice, and the least disturbed run kept).');
  return out.join('\n') + '\n';
}
