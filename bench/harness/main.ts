// SPDX-License-Identifier: BSD-3-Clause
// `npm run bench [-- --quick] [-- --compare REV]`: the linerate benchmark.
// Builds the memif topology (pktgen <-> forwarder <-> pktgen) on this
// machine, starts the reference forwarders (dpdk-testpmd io, DPDK l3fwd)
// and linerate once, each on its own sockets, paused while another one is
// measured, and takes every ratio in interleaved pairs (pairs.ts); trials
// disturbed by steal or other processes are repeated (repeat.ts). Writes
// bench/results/latest.{json,md} and SVG charts, or with --compare,
// compare.{json,md}; with --control, control.{json,md}; with --container,
// container.{json,md} (not part of the full run: see bench/README.md).
// Targets are reported, never asserted: the exit status
// is 0 unless the harness failed to measure, or a reference it was asked
// to measure could not be.

import { Command } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pktgenBinary, repoRoot } from '../lib/pktgen';
import { writeCharts } from './charts';
import { type BaseCheckout, prepareBase, runCompare } from './compare';
import { containerNote, type ContainerOptions, runContainer } from './container';
import { controlBench, controlPlan, controlReport } from './control';
import { QUEUE_LAYOUT, queueBench, queueReport } from './queues';
import { buildL3fwd, existsOnPath, type Forwarder, L3fwdLpm, Linerate, TestpmdIo, testpmdBinary } from './forwarders';
import { busyOthers, machineInfo, NoiseMonitor, readProcStat, stealPercent } from './machine';
import { median, sig } from './mathx';
import { type Comparison, mulberry32 } from './pairs';
import { compareSteps, makePlan, planSteps } from './plan';
import { cleanupAll, onCleanup, pinSelf } from './procs';
import { Progress } from './progress';
import { chooseReferences, ReferenceUnavailable, unmeasured } from './references';
import { renderCompareMarkdown, renderMarkdown } from './report';
import { Resident } from './resident';
import { type BenchResults, type CompareInfo, evaluateTargets, fillRatios, type ForwarderId } from './results';
import { Runner } from './runner';
import { FWD_CPU, GEN_CPU, Topology } from './topology';

interface Options {
  quick?: boolean;
  control?: boolean;
  split?: boolean;
  queues?: boolean;
  ndr?: string;
  container?: boolean;
  dockerCgroup?: boolean;
  pairs: string;
  seconds: string;
  waitQuiet: string;
  out: string;
  references: boolean;
  l3fwd: boolean;
  compare?: string;
  seed?: string;
  stealLimit?: string;
}

const program = new Command()
  .name('npm run bench --')
  .description('linerate benchmark: throughput, RFC 2544 NDR/PDR, latency, scale, control plane; vs testpmd io and l3fwd, in interleaved pairs')
  .option('--quick', 'short trials and fewer cases (about 3 minutes)')
  .option('--control', 'only the control-plane bench: route add/delete rates, ListRoutes, serve RSS, restart and respawn with 1M routes (control.json, control.md)')
  .option('--split', '--control: serve on the worker\'s CPU (no traffic flows; the worker sleeps when idle), as on a host whose control plane has its own CPUs ' +
    '(control-split.json, control-split.md); default: client, serve and the dataplane\'s main lcore share one CPU')
  .option('--queues', 'only the queue bench: NDR with two workers, then queue moves and RETA changes at 50 % of it, loss and request-to-live times (queues.json, queues.md)')
  .option('--ndr <mpps>', 'with --queues: offer 50 % of this NDR (measured elsewhere, e.g. an earlier queues.json) instead of searching it')
  .option('--container', 'only the container bench: linerate and linerate-pktgen in containers (private dockerd, memif on a volume) against the ' +
    'same pair on the bare host, in pairs (container.json, container.md); builds the image first (minutes when the tree changed)')
  .option('--pairs <n>', '--container: pairs at least (up to 4 more while the spread is wide)', '7')
  .option('--seconds <s>', '--container: steady seconds per trial', '3')
  .option('--docker-cgroup', '--container: leave the containers in Docker\'s default cgroup (one CPU weight for all containers) instead of their threads\' weight')
  .option('--compare <rev>', 'measure linerate built from REV (a temporary worktree) against the working tree, interleaved in one run')
  .option('--out <dir>', 'where latest.json, latest.md and the charts (or compare.json, compare.md) go', path.join(repoRoot, 'bench/results'))
  .option('--no-references', 'skip the reference forwarders (no ratios)')
  .option('--no-l3fwd', 'skip DPDK l3fwd (testpmd io stays); without it, an l3fwd that cannot be built fails the run')
  .option('--seed <n>', 'seed of the random pair orders (default: drawn, and written into the results)')
  .option('--steal-limit <pct>', 'repeat a trial during which the hypervisor stole more than this % of a CPU (default 5)')
  .option('--wait-quiet <s>', 'first wait up to S seconds for other processes to leave the CPUs alone', '0')
  .addHelpText('after', '\nSee bench/README.md for what each figure means.');

async function waitQuiet(quietS: number): Promise<void> {
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
}

/** --control: the control-plane bench alone (bench/harness/control.ts). */
async function runControl(quick: boolean, out: string, quietS: number, split: boolean): Promise<number> {
  await waitQuiet(quietS);
  // As on a real host: the control plane (this client, serve, the dataplane's main lcore) on the
  // housekeeping CPU, never on the forwarding worker's (children inherit the affinity).
  // --split: serve pins itself to the other CPU (system.controlPlaneCpus), whose worker
  // sleeps when it finds no packet (none flow here): serve and the dataplane's main lcore
  // then run side by side, as on a host with CPUs to spare for the control plane.
  const pinned = pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-control-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const plan = controlPlan(quick);
  const routes6 = Math.max(65536, Math.ceil(plan.v6Routes * 1.2));
  const lr = new Linerate(new Topology(dir, `lrp-control-${process.pid}`), split
    ? { dataplane: { routes6, idleSleepUs: 20 }, system: { controlPlaneCpus: String(FWD_CPU) } }
    : { dataplane: { routes6 } });
  const stopAll = (): void => { void lr.stop().finally(() => cleanupAll()).finally(() => process.exit(130)); };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  const say = (s: string): void => { process.stderr.write(`${s}\n`); };
  try {
    say(`linerate control bench${quick ? ' (quick)' : ''}: ${plan.routes} IPv4 routes, ${plan.v6Routes} IPv6, batches ${plan.batches.join('/')}, ${plan.reps} runs each; ` +
      (split ? `client and the dataplane's main lcore on CPU ${GEN_CPU}, serve on CPU ${FWD_CPU} beside the idle worker (sleeps 20 µs per empty poll)`
        : `client, serve and the dataplane's main lcore on CPU ${GEN_CPU}${pinned ? '' : ' (taskset missing: not pinned)'}, the worker on CPU ${FWD_CPU}`));
    await lr.start();
    const r = await controlBench(lr, plan, say);
    mkdirSync(out, { recursive: true });
    const name = split ? 'control-split' : 'control';
    const layout = split ? `serve on CPU ${FWD_CPU} (system.controlPlaneCpus) beside the idle worker; client and the dataplane's main lcore on CPU ${GEN_CPU}`
      : `client, serve and the dataplane's main lcore on CPU ${GEN_CPU}; the worker on CPU ${FWD_CPU}`;
    writeFileSync(path.join(out, `${name}.json`), JSON.stringify({ finished_at: new Date().toISOString(), plan, layout, ...r }, null, 2) + '\n');
    writeFileSync(path.join(out, `${name}.md`), controlReport(r, layout));
    say(`written: ${path.join(out, `${name}.md`)}`);
    return 0;
  } finally {
    await lr.stop();
    await cleanupAll();
  }
}

/** Moves and RETA changes in the queue bench (each). */
const QUEUE_CHANGES = { quick: 6, full: 20 };

/**
 * The queue bench on its own linerate (QUEUE_LAYOUT) in `pool`: started,
 * warmed up, its closed-loop maximum and NDR searched with a runner of its
 * own (its figures stay out of latest.json), then queueBench; writes
 * queues.{json,md} into `out` and stops it.
 */
async function queuePhase(o: { plan: ReturnType<typeof makePlan>; pool: Resident; progress: Progress; rng: () => number; tick: () => void;
  topo: Topology; out: string; ndr?: number }): Promise<void> {
  const lr = new Linerate(o.topo, { name: 'lrp-queue', dataplane: QUEUE_LAYOUT.dataplane, ports: QUEUE_LAYOUT.ports });
  const runner = new Runner(o.plan, o.pool, o.progress, o.rng, o.tick);
  // p1 has a TX queue per worker, each a memif ring of its own: the generator reads both
  runner.rxQueues = 2;
  try {
    runner.phase('queues: linerate with 2 workers (start)');
    await o.pool.start(lr);
    await runner.warmUp(lr);
    if (o.ndr) {
      runner.ndr.set(lr.id, o.ndr);
    } else {
      runner.phase('queues: 64B maximum rate, 2 workers');
      await runner.maxPaired(64, o.plan.maxSeconds, o.plan.maxPairs, [], [lr]);
      await runner.search(lr);
    }
    const r = await queueBench(lr, runner, o.plan, o.progress, o.plan.mode === 'quick' ? QUEUE_CHANGES.quick : QUEUE_CHANGES.full,
      o.ndr ? 'given (--ndr), not searched in this run' : 'searched in this run (RFC 2544, 64B)');
    const finished = new Date().toISOString();
    mkdirSync(o.out, { recursive: true });
    writeFileSync(path.join(o.out, 'queues.json'), JSON.stringify({ finished_at: finished, mode: o.plan.mode, ...r,
      cases: runner.cases, trials_log: runner.log }, null, 2) + '\n');
    writeFileSync(path.join(o.out, 'queues.md'), queueReport(r, finished));
    o.progress.result(`queues: ${r.met ? 'MET' : 'NOT MET'}; written ${path.join(o.out, 'queues.md')}`);
  } finally {
    // the pool stops it with the others (Resident.stopAll)
    o.pool.pauseActive();
  }
}

/** --queues: the queue bench alone. */
async function runQueues(quick: boolean, out: string, quietS: number, rng: () => number, ndr?: number): Promise<number> {
  await waitQuiet(quietS);
  const pinned = pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-queues-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const plan = makePlan(quick);
  const progress = new Progress(12);
  const noise = new NoiseMonitor();
  process.stderr.write(`linerate queue bench${quick ? ' (quick)' : ''}: generator and main lcore on CPU ${GEN_CPU}, both workers on CPU ${FWD_CPU}` +
    `${pinned ? '' : ' (taskset missing: not pinned)'}\n`);
  const pool = new Resident();
  try {
    await queuePhase({ plan, pool, progress, rng, tick: () => noise.maybeTick(), topo: new Topology(dir, `lrp-queues-${process.pid}`), out, ndr });
    return 0;
  } finally {
    progress.end();
    await pool.stopAll(() => undefined);
    await cleanupAll();
  }
}

/** --container: the container bench alone (bench/harness/container.ts). */
async function runContainerBench(o: ContainerOptions, quietS: number): Promise<number> {
  const stopAll = (): void => { void cleanupAll().finally(() => process.exit(130)); };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  await waitQuiet(quietS);
  const pinned = pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-container-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const say = (s: string): void => { process.stderr.write(`${s}\n`); };
  say(`linerate container bench: ${o.pairs}+ pairs of ${o.seconds} s, 64B, container / bare; generator and control plane on CPU ${GEN_CPU}` +
    `${pinned ? '' : ' (taskset missing: not pinned)'}, the worker on CPU ${FWD_CPU}; seed ${o.seed}`);
  try {
    return await runContainer(o, dir, say);
  } finally {
    await cleanupAll();
  }
}

async function main(): Promise<number> {
  const opts = program.parse(process.argv).opts<Options>();
  const plan = makePlan(!!opts.quick);
  if (opts.stealLimit !== undefined) {
    const v = Number(opts.stealLimit);
    if (!(v > 0)) throw new Error(`--steal-limit: expected a percentage, got ${opts.stealLimit}`);
    plan.stealLimit = v;
  }
  const seed = opts.seed !== undefined ? Number(opts.seed) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  const rng = mulberry32(seed);
  const started = new Date();
  const comparing = opts.compare !== undefined;

  for (const [what, p] of [['linerate-pktgen', pktgenBinary()], ['linerate-dp', path.join(repoRoot, 'build/dp/dataplane/linerate-dp')],
    ['linerate CLI', path.join(repoRoot, 'dist/control/src/cli/main.js')]]) {
    if (!existsSync(p)) throw new Error(`${what} not built: ${p} (run npm run build)`);
  }
  const quietS = Number(opts.waitQuiet);
  if (!(quietS >= 0)) throw new Error(`--wait-quiet: expected seconds, got ${opts.waitQuiet}`);
  if (opts.control) return runControl(!!opts.quick, opts.out, quietS, !!opts.split);
  const givenNdr = opts.ndr === undefined ? undefined : Number(opts.ndr);
  if (givenNdr !== undefined && !(givenNdr > 0)) throw new Error(`--ndr: expected Mpps, got ${opts.ndr}`);
  if (opts.queues) return runQueues(!!opts.quick, opts.out, quietS, rng, givenNdr);
  if (opts.container) {
    const pairs = Number(opts.pairs);
    const seconds = Number(opts.seconds);
    if (!(Number.isInteger(pairs) && pairs >= 1)) throw new Error(`--pairs: expected a whole number >= 1, got ${opts.pairs}`);
    if (!(seconds > 0)) throw new Error(`--seconds: expected seconds, got ${opts.seconds}`);
    return runContainerBench({ out: opts.out, weighted: !opts.dockerCgroup, pairs, seconds, seed, rng, command: `npm run bench -- ${process.argv.slice(2).join(' ')}` }, quietS);
  }

  // references first: one that cannot be measured fails the run before it spends minutes
  const choice = chooseReferences({ references: opts.references, l3fwd: opts.l3fwd },
    { testpmd: () => existsOnPath(testpmdBinary), buildL3fwd });

  let interrupted = false;
  let progress = new Progress(1);
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.end();
    process.stderr.write(`\n${sig}: stopping everything the bench started...\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // the base revision is built before the harness pins itself to one CPU (children inherit it)
  let checkout: BaseCheckout | undefined;
  if (comparing) checkout = await prepareBase(opts.compare ?? 'HEAD', progress);

  await waitQuiet(quietS);
  const pinned = pinSelf(GEN_CPU);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-bench-'));
  onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const topo = (what: string): Topology => {
    mkdirSync(path.join(dir, what), { recursive: true });
    return new Topology(path.join(dir, what), `lrp-bench-${process.pid}`);
  };
  const noise = new NoiseMonitor();
  const stat0 = readProcStat();

  const refs: Forwarder[] = choice.measure.map((id) => (id === 'testpmd-io' ? new TestpmdIo(topo(id)) : new L3fwdLpm(topo(id), choice.l3fwdBinary ?? '')));
  const lr = new Linerate(topo('linerate'));
  const base = checkout ? new Linerate(topo('linerate-base'), { id: 'linerate-base', root: checkout.root }) : undefined;
  const all: Forwarder[] = [...refs, lr, ...(base ? [base] : [])];

  progress = new Progress(comparing ? compareSteps(plan, refs.length) : planSteps(plan, refs.length));
  process.stderr.write(`linerate bench (${plan.mode}${comparing ? `, compare with ${opts.compare}` : ''}): topology in ${dir}; ` +
    `generator on CPU ${GEN_CPU}, forwarder worker on CPU ${FWD_CPU}${pinned ? '' : ' (taskset missing: harness not pinned)'}; ` +
    `pairs in random order (seed ${seed}); a trial with more than ${plan.stealLimit} % steal or ${plan.noiseLimit} % of others' CPU is repeated\n`);
  const pool = new Resident();
  const runner = new Runner(plan, pool, progress, rng, () => noise.maybeTick());
  const errors: string[] = [];
  const fail = (what: string, e: unknown): void => {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    errors.push(msg);
    progress.warn(msg.split('\n').slice(0, 6).join('\n           '));
  };
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    if (interrupted) return;
    await fn().catch((e: unknown) => fail(what, e));
  };
  const up = new Set<Forwarder>();
  let compare: CompareInfo | undefined;

  try {
    // every forwarder up once (each paused while the next starts), with one unreported warm-up trial
    for (const f of all) {
      if (interrupted) break;
      progress.phase(`${f.id}: start${f instanceof Linerate ? ' (gRPC-programmed)' : ''}`);
      try {
        await pool.start(f);
        await runner.warmUp(f);
        up.add(f);
      } catch (e) {
        fail(`${f.id} start`, e);
      }
    }
    runner.stopping = interrupted;
    const upRefs = refs.filter((f) => up.has(f));
    const lrUp = up.has(lr);

    if (comparing && base && checkout) {
      if (!lrUp || !up.has(base)) throw new Error('head or base linerate did not start: nothing to compare');
      compare = await runCompare({ runner, plan, head: lr, base, refs: upRefs, checkout, step });
    } else if (lrUp) {
      const comps: Comparison<Forwarder>[] = upRefs.map((r) => ({ subject: lr, reference: r }));
      for (const size of plan.sizes) {
        await step(`max ${size}B`, async () => {
          runner.phase(`${size}B maximum rate${comps.length ? `: linerate with ${upRefs.map((r) => r.id).join(', ')}, in pairs` : ''}`);
          await runner.maxPaired(size, size === 64 ? plan.maxSeconds : plan.sweepSeconds, size === 64 ? plan.maxPairs : plan.sweepPairs, comps, [lr]);
        });
      }
      if (plan.referenceSearch) {
        for (const f of upRefs) {
          await step(`${f.id} NDR/PDR`, () => runner.search(f));
          await step(`${f.id} latency`, () => runner.latency(f));
        }
      }
      await step('linerate NDR/PDR', () => runner.search(lr));
      await step('linerate latency', () => runner.latency(lr));
      const io = upRefs.find((r) => r.id === 'testpmd-io');
      await step('scale', () => runner.scale(lr, io));
      runner.finishScale();
      await step('route add', () => runner.routeAddRate(lr));
      await step('churn', () => runner.churnTest(lr, runner.routeAdd?.routes ?? 0));
      // the full run only (--quick stays short): moves and RETA changes on a 2-worker linerate of its own
      if (plan.mode === 'full') {
        await step('queues', () => queuePhase({ plan, pool, progress, rng, tick: () => noise.maybeTick(), topo: topo('linerate-queues'), out: opts.out }));
      }
    }
  } catch (e) {
    fail('run', e);
  } finally {
    progress.end();
    await pool.stopAll((f, e) => fail(`${f.id} stop`, e));
    await cleanupAll();
  }

  // a reference that was to be measured and was not fails the run
  const missing = unmeasured(choice, (id) => runner.cases.some((c) => c.forwarder === id && c.test === 'max' && c.frame_size === 64));
  for (const m of missing) {
    errors.push(m.message);
    choice.references[m.id] = { available: false, reason: m.message };
  }

  fillRatios(runner.cases);
  const finished = new Date();
  const stat1 = readProcStat();
  const runSteal: Record<string, number> = {};
  for (const k of stat1.keys()) runSteal[k] = sig(stealPercent(stat0, stat1, k === 'cpu' ? null : [Number(k.slice(3))]), 3);
  const kept = runner.log.filter((t) => t.repeated === null && t.case !== 'warm-up' && !t.case.startsWith('route add'));
  const allSteals = runner.log.map((t) => t.steal);
  const results: BenchResults = {
    schema: 2,
    mode: plan.mode,
    method: 'paired',
    seed,
    ...(compare ? { compare } : {}),
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    machine: machineInfo(runner.tscHz, {
      run_percent: runSteal,
      trial_median_percent: kept.length ? sig(median(kept.map((t) => t.steal)), 3) : null,
      trial_max_percent: allSteals.length ? sig(Math.max(...allSteals), 3) : null,
      trials_over_limit: runner.log.filter((t) => t.steal > plan.stealLimit).length,
    }),
    noise: {
      ...noise.finish(), reruns: runner.reruns, disturbed_trials: runner.disturbed,
      repeats: { ...runner.budget.byReason, budget: runner.budget.total },
      limits: { steal_percent: plan.stealLimit, others_percent: plan.noiseLimit, retries: plan.noiseRetries },
    },
    settings: { ...plan, generator_cpu: GEN_CPU, forwarder_cpu: FWD_CPU, burst: 64, memif_ring: 1024, resident_forwarders: true },
    references: choice.references,
    cases: runner.cases,
    route_add: runner.routeAdd,
    churn: runner.churn,
    crashes: runner.crashes,
    targets: [],
    errors,
    trials_log: runner.log,
  };
  results.targets = comparing ? [] : evaluateTargets(results);

  mkdirSync(opts.out, { recursive: true });
  const stem = comparing ? 'compare' : 'latest';
  const json = path.join(opts.out, `${stem}.json`);
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  let charts: { file: string; title: string }[] = [];
  if (comparing) {
    writeFileSync(path.join(opts.out, 'compare.md'), renderCompareMarkdown(results));
    process.stdout.write('\n' + renderCompareMarkdown(results).split('\n## How to read')[0] + '\n');
  } else {
    try {
      charts = await writeCharts(results, opts.out);
    } catch (e) {
      errors.push(`charts: ${(e as Error).message}`);
    }
    writeFileSync(path.join(opts.out, 'latest.md'), renderMarkdown(results, charts));
    process.stdout.write('\nTargets (reported, not asserted):\n');
    for (const t of results.targets) {
      const v = t.value === null ? 'not measured' : t.unit === 'x'
        ? `${t.value.toFixed(2)} x${t.spread ? ` (quartiles ${t.spread.p25.toFixed(2)}–${t.spread.p75.toFixed(2)}, ${t.spread.pairs} pair${t.spread.pairs === 1 ? '' : 's'})` : ''}` +
          `${t.value_best != null ? ` (best trials ${t.value_best.toFixed(2)} x)` : ''}` : `${Math.round(t.value)} ${t.unit}`;
      process.stdout.write(`  ${t.met === null ? '-' : t.met ? 'MET    ' : 'NOT MET'}  ${t.name}: ${v} (target ${t.target})\n`);
    }
    process.stdout.write(`  ${containerNote(path.join(repoRoot, 'bench/results/container.json'))}\n`);
  }
  const st = results.machine.steal;
  process.stdout.write(`\nmachine: ${results.machine.cpu_description ?? results.machine.cpu_model}; steal over the run ` +
    `${Object.entries(st?.run_percent ?? {}).map(([k, v]) => `${k} ${v} %`).join(', ')}; per trial median ${st?.trial_median_percent ?? '–'} %, ` +
    `max ${st?.trial_max_percent ?? '–'} %; repeats: ${runner.budget.byReason.steal} for steal, ${runner.budget.byReason.others} for others' CPU, ` +
    `${runner.budget.byReason.stalled} stalled; ${runner.disturbed} disturbed trials kept\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), json)}, ${stem}.md${charts.length ? ` and ${charts.length} charts` : ''} in ` +
    `${path.relative(process.cwd(), opts.out) || '.'} (${results.duration_s} s)\n`);
  if (errors.length) process.stderr.write(`\n${errors.length} error(s):\n  ${errors.map((e) => e.split('\n')[0]).join('\n  ')}\n`);
  return runner.cases.length === 0 || missing.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    const loud = e instanceof ReferenceUnavailable;
    process.stderr.write(`${loud ? '\n' : ''}bench: ${e instanceof Error ? e.message : String(e)}\n`);
    await cleanupAll();
    process.exit(loud ? 2 : 1);
  },
);

export type { ForwarderId };
