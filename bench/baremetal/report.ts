/**
 * The bare-metal kit's results: joins the trials that the Pktgen-DPDK script
 * (linerate-rfc2544.lua) wrote, as the generator saw them, with linerate's
 * own counters saved around each trial (`linerate stats --json`), and writes
 * the two CSVs an operator reads (bench/README.md "Bare metal"). Run by
 * bench/baremetal/run.sh: `node dist/bench/baremetal/report.js OUT_DIR`.
 *
 * Rates are what was sent and received over the time the script measured
 * TX running (`seconds`), never the requested percentage or LR_TRIAL_MS; a
 * trial that sent less than it was offered is generator-limited and no
 * pass; a size with no loss-free trial says so, with its best loss ratio
 * among the trials that reached their offered rate ("generator-limited"
 * where none did).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Verdict = 'pass' | 'loss' | 'generator-limited';

export interface Trial {
  trial: number;
  frameBytes: number;
  ratePct: number;
  offeredPps: number;
  seconds: number;
  tx: number;
  rx: number;
  lost: number;
  verdict: Verdict;
}

/** linerate's counters over one trial (differences of two snapshots). */
export interface DutDelta {
  rx: number;
  tx: number;
  dropped: number;
  /** by reason, summed over ports; only reasons that counted */
  drops: Record<string, number>;
  /** worker busy TSC cycles ÷ packets the workers received */
  cyclesPerPacket: number | null;
}

const TRIAL_HEADER = 'trial,frame_bytes,rate_pct,offered_pps,seconds,tx,rx,lost,sent_pps,rx_pps,verdict';

export function parseTrials(csv: string): Trial[] {
  const lines = csv.trim().split('\n');
  if (lines[0]?.trim() !== TRIAL_HEADER) throw new Error(`trials.csv: expected header ${TRIAL_HEADER}, got ${lines[0] ?? '(empty)'}`);
  return lines.slice(1).filter((l) => l.trim() !== '').map((l, i) => {
    const f = l.split(',');
    const num = (j: number, name: string): number => {
      const v = Number(f[j]);
      if (!Number.isFinite(v)) throw new Error(`trials.csv line ${i + 2}: ${name} is not a number: ${f[j]}`);
      return v;
    };
    const verdict = f[10]?.trim();
    if (verdict !== 'pass' && verdict !== 'loss' && verdict !== 'generator-limited') {
      throw new Error(`trials.csv line ${i + 2}: verdict must be pass, loss or generator-limited, got ${verdict}`);
    }
    return {
      trial: num(0, 'trial'), frameBytes: num(1, 'frame_bytes'), ratePct: num(2, 'rate_pct'), offeredPps: num(3, 'offered_pps'),
      seconds: num(4, 'seconds'), tx: num(5, 'tx'), rx: num(6, 'rx'), lost: num(7, 'lost'), verdict,
    };
  });
}

interface Snap {
  bootId?: string;
  ports?: { name: string; rx?: { packets?: string }; tx?: { packets?: string }; dropped?: string; drops?: Record<string, string> }[];
  workers?: { rx?: { packets?: string }; busyCycles?: string }[];
  dropped?: string;
}

const n = (x: string | number | undefined): number => Number(x ?? 0);

export function dutDelta(before: Snap, after: Snap): DutDelta | { error: string } {
  if (before.bootId !== after.bootId) return { error: 'dataplane restarted during the trial' };
  const sum = <T>(xs: T[] | undefined, f: (x: T) => number): number => (xs ?? []).reduce((a, x) => a + f(x), 0);
  const drops: Record<string, number> = {};
  for (const p of after.ports ?? []) {
    const b = before.ports?.find((q) => q.name === p.name);
    for (const [reason, v] of Object.entries(p.drops ?? {})) {
      const d = n(v) - n(b?.drops?.[reason]);
      if (d > 0) drops[reason] = (drops[reason] ?? 0) + d;
    }
  }
  const pkts = sum(after.workers, (w) => n(w.rx?.packets)) - sum(before.workers, (w) => n(w.rx?.packets));
  const cycles = sum(after.workers, (w) => n(w.busyCycles)) - sum(before.workers, (w) => n(w.busyCycles));
  return {
    rx: sum(after.ports, (p) => n(p.rx?.packets)) - sum(before.ports, (p) => n(p.rx?.packets)),
    tx: sum(after.ports, (p) => n(p.tx?.packets)) - sum(before.ports, (p) => n(p.tx?.packets)),
    dropped: n(after.dropped) - n(before.dropped),
    drops,
    cyclesPerPacket: pkts > 0 ? cycles / pkts : null,
  };
}

const mpps = (pps: number): string => (pps / 1e6).toFixed(4);
/** Gbit/s on the wire: 20 B of preamble and inter-frame gap per frame. */
const gbpsL1 = (pps: number, size: number): string => ((pps * (size + 20) * 8) / 1e9).toFixed(3);

export function trialsCsv(trials: Trial[], dut: (DutDelta | { error: string } | null)[]): string {
  const head = 'trial,frame_bytes,rate_pct,offered_mpps,seconds,sent_mpps,received_mpps,sent_gbps_l1,tx,rx,lost,loss_ratio,verdict,' +
    'dut_rx,dut_tx,dut_dropped,dut_drops,dut_cycles_per_packet';
  const rows = trials.map((t, i) => {
    const d = dut[i];
    const dcols = d === null || d === undefined ? ['', '', '', 'no linerate counters', '']
      : 'error' in d ? ['', '', '', d.error, '']
        : [d.rx, d.tx, d.dropped, Object.entries(d.drops).map(([k, v]) => `${k}=${v}`).join(' '), d.cyclesPerPacket?.toFixed(1) ?? ''];
    return [t.trial, t.frameBytes, t.ratePct.toFixed(3), mpps(t.offeredPps), t.seconds.toFixed(3), mpps(t.tx / t.seconds), mpps(t.rx / t.seconds),
      gbpsL1(t.tx / t.seconds, t.frameBytes), t.tx, t.rx, t.lost, t.tx > 0 ? (t.lost / t.tx).toExponential(3) : '', t.verdict,
      ...dcols].join(',');
  });
  return [head, ...rows].join('\n') + '\n';
}

/** Per frame size: the highest loss-free rate, or "none" with the best loss ratio seen. */
export function resultsCsv(trials: Trial[]): string {
  const head = 'frame_bytes,result,rate_pct,offered_mpps,sent_mpps,received_mpps,sent_gbps_l1,best_loss_ratio,trials,generator_limited_trials,trial';
  const sizes = [...new Set(trials.map((t) => t.frameBytes))];
  const rows = sizes.map((size) => {
    const ts = trials.filter((t) => t.frameBytes === size);
    const limited = ts.filter((t) => t.verdict === 'generator-limited').length;
    const pass = ts.filter((t) => t.verdict === 'pass').sort((a, b) => b.ratePct - a.ratePct)[0];
    if (pass) {
      return [size, 'zero-loss', pass.ratePct.toFixed(3), mpps(pass.offeredPps), mpps(pass.tx / pass.seconds), mpps(pass.rx / pass.seconds),
        gbpsL1(pass.tx / pass.seconds, size), '0', ts.length, limited, pass.trial].join(',');
    }
    // None loss-free: show the trial at its offered rate that lost the least
    // (a share of what it sent). A generator-limited trial is never that row's
    // figure: where every trial was, the row says so and shows the trial that
    // came nearest to its offered rate.
    const row = (result: string, t: Trial): string => [size, result, t.ratePct.toFixed(3), mpps(t.offeredPps), mpps(t.tx / t.seconds),
      mpps(t.rx / t.seconds), gbpsL1(t.tx / t.seconds, size), (t.lost / t.tx).toExponential(3), ts.length, limited, t.trial].join(',');
    const best = ts.filter((t) => t.verdict === 'loss' && t.tx > 0).sort((a, b) => a.lost / a.tx - b.lost / b.tx)[0];
    if (best) return row('none loss-free', best);
    const nearest = ts.filter((t) => t.tx > 0).sort((a, b) => b.tx / b.seconds / b.offeredPps - a.tx / a.seconds / a.offeredPps)[0];
    if (nearest) return row('generator-limited', nearest);
    return [size, 'none: nothing sent', '', '', '', '', '', '', ts.length, limited, ''].join(',');
  });
  return [head, ...rows].join('\n') + '\n';
}

export function writeReport(dir: string): { trials: string; results: string } {
  const trials = parseTrials(fs.readFileSync(path.join(dir, 'trials.csv'), 'utf8'));
  const read = (f: string): Snap | null => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Snap;
    } catch {
      return null;
    }
  };
  const dut = trials.map((t) => {
    const id = String(t.trial).padStart(3, '0');
    const b = read(`trial-${id}-before.json`);
    const a = read(`trial-${id}-after.json`);
    return b && a ? dutDelta(b, a) : null;
  });
  const out = { trials: trialsCsv(trials, dut), results: resultsCsv(trials) };
  fs.writeFileSync(path.join(dir, 'linerate-rfc2544-trials.csv'), out.trials);
  fs.writeFileSync(path.join(dir, 'linerate-rfc2544.csv'), out.results);
  return out;
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist/bench/baremetal/report.js OUT_DIR\n');
    process.exit(2);
  }
  const r = writeReport(dir);
  process.stdout.write(`${r.results}\n${r.trials}`);
}
