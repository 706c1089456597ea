// SPDX-License-Identifier: BSD-3-Clause
// Renders latest.json (and a --compare run's compare.json) as markdown
// (pure): the machine and its noise (CPU flags, steal, repeats), targets,
// one table per test group with the paired ratios and their spread, the
// control-plane figures, and what the columns mean.

import { type BenchResults, type CaseResult, FORWARDER_LABEL, type ForwarderId, type PairedRatio, REFERENCES, type TargetResult } from './results';

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
  if (t.unit === 'x') {
    return `${t.value.toFixed(2)} x` + (t.spread ? ` (quartiles ${t.spread.p25.toFixed(2)}–${t.spread.p75.toFixed(2)}, ${t.spread.pairs} pair${t.spread.pairs === 1 ? '' : 's'})` : '') +
      (t.value_best != null ? ` (best trials: ${t.value_best.toFixed(2)} x)` : '');
  }
  return `${fmtInt(t.value)} ${t.unit}`;
}

/** A paired ratio with its quartiles and pair count: "0.99 (0.96–1.01, 7 pairs)". */
export function fmtPaired(p: Pick<PairedRatio, 'median' | 'p25' | 'p75' | 'pairs'>, digits = 2): string {
  return `${fmt(p.median, digits)} (${p.pairs > 1 ? `${fmt(p.p25, digits)}–${fmt(p.p75, digits)}, ${p.pairs} pairs` : '1 pair'})`;
}

/** "; same mode 0.98 (4)" when the host was bimodal during the case. */
function sameModeNote(p: PairedRatio, digits = 2): string {
  const fs = p.fast_share;
  if (!fs) return '';
  if (fs.subject === null || fs.reference === null) return '; modes unknown';
  return p.same_mode ? `; same mode ${fmt(p.same_mode.median, digits)} (${p.same_mode.pairs})` : '; no same-mode pair';
}

/** One line on the modes of a case's forwarders, or null when no forwarder was bimodal. */
export function modesLine(cases: readonly CaseResult[]): string | null {
  const bi = cases.filter((c) => c.modes && c.modes.threshold_mpps !== null);
  if (!bi.length) return null;
  return `Modes: ${cases.filter((c) => c.modes).map((c) => {
    const m = c.modes;
    if (!m || m.threshold_mpps === null) return `${FORWARDER_LABEL[c.forwarder]} one mode`;
    return `${FORWARDER_LABEL[c.forwarder]} fast in ${Math.round(m.fast_share * 100)} % of its trials (${fmt(m.fast_mpps)} vs ${fmt(m.slow_mpps)} Mpps)`;
  }).join('; ')}.`;
}

/**
 * A warning when the two sides of a comparison drew the fast mode very
 * unequally (30 points or more): then the pairs do not see the modes alike
 * and the all-pairs median leans on the difference.
 */
export function modeWarning(cases: readonly CaseResult[]): string | null {
  const odd: string[] = [];
  for (const c of cases) {
    for (const [ref, p] of Object.entries(c.paired ?? {}) as [ForwarderId, PairedRatio][]) {
      const fs = p.fast_share;
      if (fs && fs.subject !== null && fs.reference !== null && Math.abs(fs.subject - fs.reference) >= 0.3) {
        odd.push(`${c.name} vs ${ref}: fast in ${Math.round(fs.subject * 100)} % vs ${Math.round(fs.reference * 100)} % of the paired trials`);
      }
    }
  }
  if (!odd.length) return null;
  return `> **Modes drawn unequally** (${odd.join('; ')}). A forwarder in the slow mode far more often than its reference is either ` +
    'slower for a reason of its own or unlucky with the host (resident forwarders keep their memory for the run, so a placement the ' +
    'host serves slowly stays with that process): read the same-mode ratio and the cycles per packet beside the all-pairs median.';
}

/** A ratio cell: paired (with spread) or, for unpaired cases, the ratio of medians marked as such. */
function ratioCell(c: CaseResult, ref: ForwarderId): string {
  const p = c.paired?.[ref];
  if (p) return fmtPaired(p) + sameModeNote(p);
  const r = c.ratio[ref];
  if (r == null) return dash;
  return `${fmt(r, 2)} (unpaired)`;
}

/** The machine line: CPU, flags, steal, repeats. */
function machineLines(r: BenchResults): string[] {
  const m = r.machine;
  const out = [`${r.started_at} · ${fmt(r.duration_s, 0)} s · ${m.cpus} CPUs: ${m.cpu_description ?? m.cpu_model} · ` +
    `TSC ${m.tsc_hz ? fmt(m.tsc_hz / 1e9, 2) + ' GHz' : dash} · DPDK ${m.dpdk} · Node ${m.node} · Linux ${m.kernel}`];
  const st = m.steal;
  const rp = r.noise.repeats;
  if (st || rp) {
    const run = st ? Object.entries(st.run_percent).filter(([k]) => k !== 'cpu').map(([k, v]) => `${k} ${fmt(v, 1)} %`).join(', ') : dash;
    out.push('', `Steal seen: ${run} over the run; per trial median ${fmt(st?.trial_median_percent, 1)} %, max ${fmt(st?.trial_max_percent, 1)} %` +
      ` (${st?.trials_over_limit ?? 0} trials above the ${r.noise.limits?.steal_percent ?? '?'} % limit). ` +
      (rp ? `Trials repeated: ${rp.steal + rp.others + rp.stalled} (steal ${rp.steal}, others' CPU ${rp.others}, stalled ${rp.stalled}; budget ${rp.budget}); ` +
        `${r.noise.disturbed_trials ?? 0} disturbed trials kept. ` : '') +
      `Pair orders drawn with seed ${r.seed}.`);
  }
  return out;
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
    ...REFERENCES.map((r) => (c.forwarder === 'linerate' ? ratioCell(c, r) : dash)),
    fmt(c.cycles_per_packet, 0),
    fmt(c.core_cycles_per_packet, 0),
    `${fmt(c.steal_percent ?? null, 1)} %`,
    `${c.others_cpu_percent ?? 0} %`,
    String(c.repeats ?? 0),
  ]);
}

export function renderMarkdown(r: BenchResults, charts: readonly { file: string; title: string }[] = []): string {
  const out: string[] = [];
  out.push(`# linerate benchmark (${r.mode})`);
  out.push('');
  out.push(...machineLines(r));
  out.push('');
  out.push('Topology: linerate-pktgen (TX and RX, one core) ⇄ memif ⇄ forwarder (one worker core) ⇄ memif ⇄ linerate-pktgen. ' +
    'Every forwarder is started once on its own sockets and paused (SIGSTOP) while another one is measured, on the same cores; ' +
    'linerate is programmed only through its gRPC API. Closed-loop ratios are medians of per-pair ratios: linerate and the reference ' +
    'run back to back, in a random order per pair.');
  if (r.noise.busy_others.length) {
    out.push('');
    out.push(`> **Noisy machine:** other processes were busy during the run (${r.noise.busy_others
      .map((p) => `${p.comm} ${Math.round(p.cpu_percent)} %`).join(', ')}); load average ${r.noise.loadavg_start.join(' ')} at start, ` +
      `${r.noise.loadavg_end.join(' ')} at the end. Absolute figures suffer; ratios are measured in the same run.`);
  }
  const warn = modeWarning(r.cases);
  if (warn) out.push('', warn);
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
    ...REFERENCES.map((f) => `vs ${FORWARDER_LABEL[f]}`), 'cycles/pkt (dataplane)', 'core cycles/pkt', 'steal', 'others', 'repeats'];
  for (const test of Object.keys(TEST_TITLE) as CaseResult['test'][]) {
    const cs = r.cases.filter((c) => c.test === test);
    if (!cs.length) continue;
    cs.sort((a, b) => (a.routes ?? -1) - (b.routes ?? -1) || a.frame_size - b.frame_size);
    out.push('', `## ${TEST_TITLE[test]}`, '');
    out.push(table(head, caseRows(cs)));
    for (const size of [...new Set(cs.map((c) => c.frame_size))]) {
      const line = modesLine(cs.filter((c) => c.frame_size === size && c.routes === null));
      if (line) out.push('', `${size}B: ${line}`);
    }
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
  out.push('- **vs …** columns: linerate ÷ the reference for the same test and size, same run, same cores. Closed-loop cases are ' +
    'measured in **pairs**: a linerate trial and a reference trial back to back, in an order drawn per pair; the figure is the ' +
    '**median of the per-pair ratios**, in brackets their quartiles and the number of pairs (more pairs are taken while the ' +
    'quartiles spread wide). This host flips between a fast and a slow mode for seconds at a time, for every forwarder alike: ' +
    'a pair mostly falls in one mode, so its ratio holds where each forwarder\'s own median would not. Where a forwarder\'s trials ' +
    'were bimodal (two modes ≥ 1.6× apart), "same mode" gives the median over the pairs whose two trials fell in the same mode, ' +
    'and the "Modes" line under the table each forwarder\'s share of fast trials: a mixed pair is a mode flip, not the forwarder. ' +
    'NDR/PDR and latency are single searches per forwarder: their ratios are of the two figures and marked "unpaired".');
  out.push('- **cycles/pkt (dataplane)**: linerate\'s worker busy TSC cycles ÷ packets received, from its StatsService ' +
    'counters over the trial. **core cycles/pkt**: TSC Hz ÷ forwarded pps, the whole forwarding core\'s time per packet ' +
    '(comparable across forwarders; about 107 cycles of it is memif copying in and out).');
  out.push('- **steal**: the most steal time (/proc/stat) the hypervisor took from the generator\'s or the forwarder\'s CPU during one ' +
    'of the case\'s kept trials; **others**: the most CPU that processes outside the bench used during one (/proc/*/stat), in % of ' +
    `one CPU; **repeats**: trials of the case run again at once because steal was above ${r.noise.limits?.steal_percent ?? 5} %, others above ` +
    `${r.noise.limits?.others_percent ?? 10} % or the loop stalled (up to ${r.noise.limits?.retries ?? 2} times, then the least disturbed is kept).`);
  return out.join('\n') + '\n';
}

/** The report of a --compare run: head (working tree) against base (REV), measured interleaved in one run. */
export function renderCompareMarkdown(r: BenchResults): string {
  const c = r.compare;
  const out: string[] = [];
  const headName = c ? `working tree (HEAD ${c.head_commit.slice(0, 12)}${c.head_dirty ? ' + uncommitted changes' : ''})` : 'head';
  out.push(`# linerate before/after: ${c ? `${c.base_rev} = ${c.base_commit.slice(0, 12)} "${c.base_subject}"` : 'base'} → ${headName} (${r.mode})`);
  out.push('');
  out.push(...machineLines(r));
  out.push('', 'Head and base run as two forwarders, each started once on its own memif sockets and paused while the other is ' +
    'measured; every figure below is the median of per-pair ratios (head and base back to back, order drawn per pair), with its ' +
    'quartiles and the number of pairs.');
  const warn = modeWarning(r.cases);
  if (warn) out.push('', warn);
  if (r.crashes.length) out.push('', `> **Forwarder deaths:** ${r.crashes.map((x) => `${x.forwarder} during ${x.during}: ${x.how}`).join('; ')}`);
  if (r.errors.length) {
    out.push('', '> **Errors:**');
    for (const e of r.errors) out.push(`> - ${e.split('\n')[0]}`);
  }
  const caseOf = (f: ForwarderId, test: string): CaseResult | undefined => r.cases.find((x) => x.forwarder === f && x.test === test && x.frame_size === 64);
  const rows: string[][] = [];
  for (const test of ['max', 'scale'] as const) {
    const h = caseOf('linerate', test);
    const b = caseOf('linerate-base', test);
    if (!h || !b) continue;
    const p = h.paired?.['linerate-base'];
    const cr = p?.cpp_ratio;
    rows.push([
      test === 'max' ? '64B, main table' : `64B, ${fmtInt(h.routes)} routes (scale traffic)`,
      fmt(h.mpps, 2), fmt(b.mpps, 2), p ? `**${fmtPaired(p, 3)}**` : dash,
      p?.fast_share ? (p.same_mode ? fmtPaired(p.same_mode, 3) : p.fast_share.subject === null || p.fast_share.reference === null ? 'modes unknown' : 'none')
        : 'one mode',
      fmt(h.cycles_per_packet, 0), fmt(b.cycles_per_packet, 0), cr ? fmtPaired(cr, 3) : dash,
      ...REFERENCES.map((ref) => {
        const cell = (x: PairedRatio | undefined): string => (x ? fmtPaired(x) + sameModeNote(x) : dash);
        return `${cell(h.paired?.[ref])} / ${cell(b.paired?.[ref])}`;
      }),
    ]);
  }
  out.push('', '## Forwarding (closed loop)', '');
  out.push(table(['case', 'head Mpps', 'base Mpps', 'head / base', 'head / base, same-mode pairs', 'head cycles/pkt', 'base cycles/pkt',
    'head / base cycles/pkt', ...REFERENCES.map((f) => `head / base vs ${FORWARDER_LABEL[f]}`)], rows));
  for (const test of ['max', 'scale'] as const) {
    const line = modesLine(r.cases.filter((x) => x.test === test && x.frame_size === 64));
    if (line) out.push('', `${test === 'max' ? '64B' : 'Scale traffic'}: ${line}`);
  }
  const ra = c?.route_add;
  out.push('', '## Control plane', '');
  if (ra && ra.ratio) {
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    out.push(`- **Route add over gRPC** (${fmtInt(ra.routes)} routes in batches of ${fmtInt(ra.batch)}, requests encoded beforehand): ` +
      `head ${fmtInt(med(ra.head_routes_per_s))} routes/s, base ${fmtInt(med(ra.base_routes_per_s))} routes/s; ` +
      `head / base **${fmtPaired(ra.ratio, 3)}**.`);
  } else out.push('- Route add: not measured.');
  out.push('', '## How to read this', '');
  out.push('- **head / base** above 1 means the working tree forwards more (or adds routes faster) than the base revision; ' +
    'the quartiles say how far single pairs scatter. A change whose quartiles straddle 1 is within this host\'s noise. ' +
    '**Same-mode pairs**: where the host flipped between its fast and slow mode (two modes ≥ 1.6× apart), the pairs whose two trials ' +
    'fell in the same mode; the "Modes" line gives each forwarder\'s share of fast trials.');
  out.push('- **cycles/pkt**: linerate\'s worker busy TSC cycles ÷ received packets (StatsService) over the trials, median; ' +
    'below 1 in **head / base cycles/pkt** means the head spends fewer cycles per packet.');
  out.push('- The reference columns give each revision\'s own paired ratio to testpmd io and l3fwd, for context.');
  return out.join('\n') + '\n';
}
