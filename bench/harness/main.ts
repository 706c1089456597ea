// SPDX-License-Identifier: BSD-3-Clause
// `npm run bench [-- --quick]`: the linerate benchmark. Builds the memif
// topology (pktgen <-> forwarder <-> pktgen) on this machine, measures the
// reference forwarders (dpdk-testpmd io, DPDK l3fwd) and linerate on it in
// turn, and writes bench/results/latest.{json,md} and SVG charts. Targets
// are reported, never asserted: the exit status is 0 unless the harness
// itself failed to measure.

import { Command } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pktgenBinary, repoRoot } from '../lib/pktgen';
import { writeCharts } from './charts';
import { buildL3fwd, existsOnPath, type Forwarder, L3fwdLpm, Linerate, TestpmdIo, testpmdBinary } from './forwarders';
import { busyOthers, machineInfo, NoiseMonitor } from './machine';
import { makePlan, planSteps } from './plan';
import { cleanupAll, onCleanup, pinSelf } from './procs';
import { Progress } from './progress';
import { renderMarkdown } from './report';
import { type BenchResults, evaluateTargets, fillRatios, type ForwarderId } from './results';
import { Runner } from './runner';
import { GEN_CPU, Topology } from './topology';

interface Options {
  quick?: boolean;
  waitQuiet: string;
  out: string;
  references: boolean;
  l3fwd: boolean;
}

const program = new Command()
  .name('npm run bench --')
  .description('linerate benchmark: throughput, RFC 2544 NDR/PDR, latency, scale, control plane; vs testpmd io and l3fwd')
  .option('--quick', 'short trials and fewer cases (about 2 minutes)')
  .option('--out <dir>', 'where latest.json, latest.md and the charts go', path.join(repoRoot, 'bench/results'))
  .option('--no-references', 'skip the reference forwarders (no ratios)')
  .option('--no-l3fwd', 'skip DPDK l3fwd (testpmd io stays)')
  .option('--wait-quiet <s>', 'first wait up to S seconds for other processes to leave the CPUs alone', '0')
  .addHelpText('after', '\nSee bench/README.md for what each figure means.');

async function main(): Promise<number> {
  const opts = program.parse(process.argv).opts<Options>();
  const plan = makePlan(!!opts.quick);
  const started = new Date();

  for (const [what, p] of [['linerate-pktgen', pktgenBinary()], ['linerate-dp', path.join(repoRoot, 'build/dp/dataplane/linerate-dp')],
    ['linerate CLI', path.join(repoRoot, 'dist/control/src/cli/main.js')]]) {
    if (!existsSync(p)) throw new Error(`${what} not built: ${p} (run npm run build)`);
  }
  const quietS = Number(opts.waitQuiet);
  if (!(quietS >= 0)) throw new Error(`--wait-quiet: expected seconds, got ${opts.waitQuiet}`);
  // quiet = nobody else busy for 5 s in a row (neighbours' benchmarks come in bursts)
  for (let t0 = Date.now(), quiet = 0; quiet < (quietS > 0 ? 5 : 1);) {
    const busy = await busyOthers();
    if (!busy.length) {
      quiet++;
      continue;
    }
    quiet = 0;
    const who = busy.map((p) => `${p.comm} (pid ${p.pid}) ${p.cpu_percent} %`).join(', ');
    if (Date.now() - t0 >= quietS * 1000) {
      process.stderr.write(`note: the CPUs are shared right now: ${who}; figures will be noisy (--wait-quiet S waits for a quiet moment)\n`);
      break;
    }
    process.stderr.write(`waiting for a quiet machine: ${who}\n`);
    await new Promise((r) => setTimeout(r, 3000));
  }
  const pinned = pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-bench-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const topo = new Topology(dir, `lrp-bench-${process.pid}`);
  const noise = new NoiseMonitor();

  const references: BenchResults['references'] = {};
  const refs: Forwarder[] = [];
  if (opts.references) {
    if (existsOnPath(testpmdBinary)) {
      refs.push(new TestpmdIo(topo));
      references['testpmd-io'] = { available: true };
    } else references['testpmd-io'] = { available: false, reason: `${testpmdBinary} not found (apt-get install dpdk)` };
    if (opts.l3fwd) {
      try {
        refs.push(new L3fwdLpm(topo, buildL3fwd()));
        references['l3fwd-lpm'] = { available: true };
      } catch (e) {
        references['l3fwd-lpm'] = { available: false, reason: `cannot build l3fwd: ${(e as Error).message.split('\n').slice(-3).join(' ')}` };
      }
    } else references['l3fwd-lpm'] = { available: false, reason: 'skipped (--no-l3fwd)' };
  }

  const progress = new Progress(planSteps(plan, refs.length));
  process.stderr.write(`linerate bench (${plan.mode}): topology in ${dir}; generator on CPU ${GEN_CPU}, forwarder worker on CPU 1` +
    `${pinned ? '' : ' (taskset missing: harness not pinned)'}\n`);
  const runner = new Runner(plan, topo, progress, () => noise.maybeTick());
  const errors: string[] = [];

  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.end();
    process.stderr.write(`\n${sig}: stopping everything the bench started...\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const fail = (what: string, e: unknown): void => {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    errors.push(msg);
    progress.warn(msg.split('\n').slice(0, 6).join('\n           '));
  };
  /** Starts `f`, runs each step (a failed step is reported and the next one runs), stops `f`. */
  const session = async (what: string | null, f: Forwarder, steps: [string, () => Promise<unknown>][]): Promise<void> => {
    try {
      if (what) progress.phase(`${f.id}: start (${what})`);
      runner.use(f);
      await f.start();
      for (const [name, step] of steps) {
        if (interrupted) return;
        await step().catch((e: unknown) => fail(`${f.id} ${name}`, e));
      }
    } catch (e) {
      fail(f.id, e);
    } finally {
      await f.stop().catch((e: unknown) => fail(`${f.id} stop`, e));
    }
  };

  try {
    const lr = new Linerate(topo);
    // the 64B maximum of every forwarder, in rounds (see Runner.roundTrial)
    for (let r = 1; r <= plan.maxTrials && !interrupted; r++) {
      progress.phase(`round ${r}/${plan.maxTrials}: 64B maximum rate of each forwarder`);
      for (const f of [...refs, lr]) await session(null, f, [['64B round', () => runner.roundTrial(f, r, plan.maxTrials)]]);
    }
    runner.finishRounds();
    for (const f of refs) {
      await session('reference', f, [
        ['sizes', () => runner.sizes(f)],
        ...(f.id === 'testpmd-io' ? [['scale traffic', () => runner.scaleReference(f)] as [string, () => Promise<void>]] : []),
        ...(plan.referenceSearch ? [
          ['NDR/PDR', () => runner.search(f)],
          ['latency', () => runner.latency(f)],
        ] as [string, () => Promise<unknown>][] : []),
      ]);
    }
    await session('gRPC-programmed', lr, [
      ['sizes', () => runner.sizes(lr)],
      ['NDR/PDR', () => runner.search(lr)],
      ['latency', () => runner.latency(lr)],
      ['scale', () => runner.scaleUp(lr)],
      ['route add', () => runner.routeAddRate(lr)],
      ['churn', () => runner.churnTest(lr, runner.routeAdd?.routes ?? 0)],
      ['scale, second pass', () => runner.scaleDown(lr)],
    ]);
    runner.finishScale(lr);
  } finally {
    progress.end();
    await cleanupAll();
  }

  fillRatios(runner.cases);
  const finished = new Date();
  const results: BenchResults = {
    schema: 1,
    mode: plan.mode,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    machine: machineInfo(runner.tscHz),
    noise: { ...noise.finish(), reruns: runner.reruns, disturbed_trials: runner.disturbed },
    settings: { ...plan, generator_cpu: GEN_CPU, forwarder_cpu: 1, burst: 64, memif_ring: 1024 },
    references,
    cases: runner.cases,
    route_add: runner.routeAdd,
    churn: runner.churn,
    crashes: runner.crashes,
    targets: [],
    errors,
  };
  results.targets = evaluateTargets(results);

  mkdirSync(opts.out, { recursive: true });
  const json = path.join(opts.out, 'latest.json');
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  let charts: { file: string; title: string }[] = [];
  try {
    charts = await writeCharts(results, opts.out);
  } catch (e) {
    errors.push(`charts: ${(e as Error).message}`);
  }
  writeFileSync(path.join(opts.out, 'latest.md'), renderMarkdown(results, charts));

  process.stdout.write('\nTargets (reported, not asserted):\n');
  for (const t of results.targets) {
    const v = t.value === null ? 'not measured' : t.unit === 'x'
      ? `${t.value.toFixed(2)} x${t.value_best != null ? ` (best trials ${t.value_best.toFixed(2)} x)` : ''}` : `${Math.round(t.value)} ${t.unit}`;
    process.stdout.write(`  ${t.met === null ? '-' : t.met ? 'MET    ' : 'NOT MET'}  ${t.name}: ${v} (target ${t.target})\n`);
  }
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), json)}, latest.md and ${charts.length} charts in ${path.relative(process.cwd(), opts.out) || '.'} ` +
    `(${results.duration_s} s)\n`);
  if (errors.length) process.stderr.write(`\n${errors.length} error(s):\n  ${errors.map((e) => e.split('\n')[0]).join('\n  ')}\n`);
  return runner.cases.length === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);

export type { ForwarderId };
