// SPDX-License-Identifier: BSD-3-Clause
// `npm run bench -- --container`: the containerised benchmark of issue 13.
// linerate-pktgen ⇄ memif ⇄ linerate with both in containers (the image of
// control/deploy/Dockerfile on the private engine of control/deploy/engine.sh,
// linerate in host network mode with the README's least-privilege flags, the
// memif sockets on a shared named volume, the generator in a container of its
// own with no network), against the same pair on the bare host, in one run:
// 64-byte closed-loop trials in interleaved pairs (pairs.ts, the order drawn
// per pair), the side not measured paused with SIGSTOP (both sides alike:
// resident.ts), and the figure is the median of the per-pair ratios
// containerised Mpps ÷ bare Mpps (target >= 0.98), with each side's busy
// cycles per packet. Writes bench/results/container.{json,md}. Owned by the
// bench; this is the only implementation (bench/container/run.sh calls it).
//
// Placement, the same on both sides: the generator and the control plane
// (serve, the dataplane's main lcore) on CPU 0, the forwarding worker on
// CPU 1. The bare side gets it from the harness's own pinning (inherited);
// the container side from --cpuset-cpus and the config (system.controlPlaneCpus).

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { repoRoot } from '../lib/pktgen';
import { headInfo } from './compare';
import { Linerate } from './forwarders';
import { adoptProcesses, machineInfo, NoiseMonitor, readProcStat, stealPercent } from './machine';
import { sig } from './mathx';
import { type PairRule } from './pairs';
import { makePlan } from './plan';
import { alive, onCleanup } from './procs';
import { Progress } from './progress';
import { Resident } from './resident';
import type { CaseResult, PairedRatio, TrialRecord } from './results';
import { pairedRatio, Runner } from './runner';
import { FWD_CPU, GEN_CPU, Topology } from './topology';

/** The target of issue 13: containerised Mpps ÷ bare-host Mpps, same run. */
export const CONTAINER_TARGET = 0.98;
/** Where the memif sockets are inside both containers (the shared volume). */
const MEMIF_DIR = '/run/memif';

const ENGINE = path.join(repoRoot, 'control/deploy/engine.sh');
const RUN_DIR = process.env.LINERATE_DOCKER_RUN ?? '/run/linerate-docker';
const DOCKER_HOST = `unix://${RUN_DIR}/docker.sock`;
const IMAGE = process.env.LINERATE_IMAGE ?? 'linerate:dev';
// Debian's client (docker.io) matches its daemon (engine.sh says why).
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const dockerEnv = { ...process.env, DOCKER_HOST, LINERATE_IMAGE: IMAGE };

/** `docker ARGS` on the private engine: stdout, or throws with stderr. */
function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DOCKER, args, { env: dockerEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`docker ${args.slice(0, 3).join(' ')} ...: ${errOut.trim() || err.message}`));
      else resolve(out.trim());
    });
  });
}

function dockerSync(args: string[]): string {
  return execFileSync(DOCKER, args, { env: dockerEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 }).trim();
}

function engineSh(cmd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ENGINE, [cmd], { env: dockerEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`engine.sh ${cmd}: ${errOut.trim().split('\n').slice(-15).join('\n') || err.message}`));
      else resolve(out);
    });
  });
}

/**
 * `--ulimit memlock=-1:-1` where this host lets root raise RLIMIT_MEMLOCK,
 * else nothing (a sandboxed VM's root may not: README "Containers"); the
 * containers' CAP_IPC_LOCK covers DPDK either way.
 */
function memlockFlags(): string[] {
  const line = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line?.[2] === 'unlimited' ? ['--ulimit', 'memlock=-1:-1'] : [];
}

/**
 * The flags both DPDK containers run with: README "Containers", line by
 * line; and their CPU weight. Docker puts every container's cgroup under
 * /docker, whose weight (cpu.shares 1024) all containers share against each
 * host process's own 1024: under load from other processes, a container's
 * polling threads' CPU share is not what the same threads get on the bare
 * host (measured here, at the same busy cycles per packet: 0.20 and 2.10 of
 * the bare Mpps in two runs under different load). A cgroup under the root
 * with 1024 shares per polling thread (`--cgroup-parent / --cpu-shares`)
 * gives them the weight they have as host processes. Pure.
 */
export function dpdkFlags(cpus: string, pollingThreads: number, weighted = true): string[] {
  return ['--cap-drop', 'ALL', '--cap-add', 'IPC_LOCK', '--cap-add', 'SYS_NICE', ...memlockFlags(),
    '--security-opt', 'no-new-privileges', '--mount', 'type=bind,src=/dev/hugepages,dst=/dev/hugepages', '--cpuset-cpus', cpus,
    ...(weighted ? ['--cgroup-parent', '/', '--cpu-shares', String(1024 * pollingThreads)] : [])];
}

/** A free TCP port on the host's loopback (host network mode: the container's serve listens there). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The private engine for the run: started unless it answered already (then left running), and the image built. */
export class Engine {
  /** labels every container and volume of this run, for the cleanup */
  readonly label: string;
  private startedHere = false;
  image = { id: '', created: '' };
  version = '';
  /** the engine's nice value, which its containers inherit */
  nice = 0;
  /** the containers get their polling threads' CPU weight (dpdkFlags); false: Docker's default cgroup (--docker-cgroup) */
  weighted = true;

  constructor(readonly tag: string) {
    this.label = `linerate.bench=${tag}`;
  }

  private answering(): boolean {
    try {
      dockerSync(['version', '--format', '{{.Server.Version}}']);
      return true;
    } catch {
      return false;
    }
  }

  async start(progress: Progress): Promise<void> {
    try {
      execFileSync(ENGINE, ['check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const out = (e as { stdout?: string }).stdout?.trim();
      throw new Error(`no Docker engine can be started here: ${out || (e as Error).message}`);
    }
    this.startedHere = !this.answering();
    onCleanup('container bench: containers, volumes, engine', () => this.cleanup());
    progress.phase(`engine: ${this.startedHere ? 'starting a private dockerd' : 'the private dockerd answers already'} (${DOCKER_HOST})`);
    await engineSh('start', 90_000);
    this.version = await docker(['version', '--format', '{{.Server.Version}}']);
    const dockerd = Number(readFileSync(path.join(RUN_DIR, 'dockerd.pid'), 'utf8').trim());
    // The containers inherit the engine's nice value (dockerd → containerd → shim → runc), the bare side the
    // harness's: under other processes' load a nicer container gets less CPU, and the ratio measures that.
    this.nice = os.getPriority(dockerd);
    if (this.nice !== os.getPriority()) {
      throw new Error(`the private dockerd (pid ${dockerd}) runs at nice ${this.nice} and the harness at nice ${os.getPriority()}: the containers ` +
        `would run at nice ${this.nice}, the bare side at ${os.getPriority()}. Stop it (control/deploy/engine.sh stop) and let the bench start it`);
    }
    // The containers' processes descend from the engine's shims, not from the harness: they are the run's own CPU, not others'.
    const shims = new Map<number, boolean>();
    adoptProcesses((pid, comm) => {
      if (pid === dockerd) return true;
      if (!comm.startsWith('containerd-shim')) return false;
      let ours = shims.get(pid);
      if (ours === undefined) {
        try {
          ours = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(RUN_DIR);
        } catch {
          ours = false;
        }
        shims.set(pid, ours);
      }
      return ours;
    });
    progress.phase(`image ${IMAGE}: docker build from the tracked tree (cached layers reused; cold, the base and the build take several minutes)`);
    const t0 = Date.now();
    await engineSh('image', 60 * 60_000);
    const [id, created] = (await docker(['image', 'inspect', '-f', '{{.Id}}|{{.Created}}', IMAGE])).split('|');
    this.image = { id, created };
    progress.result(`image ${IMAGE} ${id.slice(7, 19)} ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  }

  /** Removes this run's containers and volumes; stops the engine if this run started it. */
  private cleanup(): void {
    adoptProcesses(null);
    try {
      for (const what of [['ps', '-aq'], ['volume', 'ls', '-q']] as const) {
        const ids = dockerSync([...what, '--filter', `label=${this.label}`]).split('\n').filter(Boolean);
        if (!ids.length) continue;
        dockerSync(what[0] === 'ps' ? ['rm', '-f', '-v', ...ids] : ['volume', 'rm', '-f', ...ids]);
      }
    } catch (e) {
      process.stderr.write(`container bench cleanup: ${(e as Error).message}\n`);
    }
    if (this.startedHere) execFileSync(ENGINE, ['stop'], { env: dockerEnv, stdio: 'ignore' });
  }

  async volume(name: string): Promise<string> {
    await docker(['volume', 'create', '--label', this.label, name]);
    return name;
  }
}

/** The host pids of a container's processes: the entry point's (from docker) and its children's. */
function childOf(ppid: number, comm: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      if (s.slice(s.indexOf('(') + 1, close) === comm && Number(s.slice(close + 2).split(' ')[1]) === ppid) return Number(d);
    } catch {
      /* exited meanwhile */
    }
  }
  return 0;
}

/**
 * linerate in a container: `linerate serve --stop-dataplane` as the
 * container's PID 1 in host network mode (gRPC on the host's loopback, so
 * the harness programs and reads it as it does the bare one), memif server
 * ports on the shared volume, state on a volume of its own. Its trials run
 * linerate-pktgen in a second container on the same volume.
 */
export class ContainerLinerate extends Linerate {
  private initPid = 0;
  private dpHostPid = 0;
  private readonly container: string;
  private memifVolume = '';
  private trials = 0;
  /** the dataplane's pid as serve in the container reports it (its pid namespace) */
  private containerDpPid = 0;

  constructor(topo: Topology, private readonly engine: Engine) {
    super(topo, { id: 'linerate-container' });
    this.container = `${topo.tag}-lr`;
  }

  /** serve first, then the dataplane (resumed in reverse), host pids */
  override pids(): number[] {
    return [this.initPid, this.dpHostPid].filter((p) => p > 0 && alive(p));
  }

  /** linerate-pktgen in its own container: no network, the memif volume, the generator's CPU only. */
  readonly launchGenerator = (argv: string[]): { cmd: string; args: string[] } => ({
    cmd: DOCKER,
    args: ['-H', DOCKER_HOST, 'run', '--rm', '--name', `${this.topo.tag}-gen-${++this.trials}`, '--label', this.engine.label, '--network', 'none',
      ...dpdkFlags(String(GEN_CPU), 1, this.engine.weighted), '-v', `${this.memifVolume}:${MEMIF_DIR}`, '--entrypoint', 'linerate-pktgen', IMAGE, ...argv],
  });

  override async start(): Promise<void> {
    const cfgDir = path.join(this.dir, 'etc');
    mkdirSync(cfgDir, { recursive: true });
    const port = await freePort();
    writeFileSync(path.join(cfgDir, 'linerate.yaml'), YAML.stringify({
      name: this.name,
      grpc: { listen: `127.0.0.1:${port}` },
      metrics: { listen: '127.0.0.1:0' },
      dataplane: { lcores: `${GEN_CPU},${FWD_CPU}`, idleSleepUs: 0, ...this.extra },
      // serve's own threads (and the dataplane it spawns, until EAL places its lcores) on the
      // generator's CPU, as the bare serve is by inheritance: never on the polling core
      system: { controlPlaneCpus: String(GEN_CPU) },
      ports: [
        { name: 'p0', device: this.topo.serverDev(0) },
        { name: 'p1', device: this.topo.serverDev(1) },
      ],
    }));
    this.memifVolume = await this.engine.volume(`${this.topo.tag}-memif`);
    const state = await this.engine.volume(`${this.topo.tag}-state`);
    await docker(['run', '-d', '--name', this.container, '--label', this.engine.label, '--network', 'host', ...dpdkFlags(`${GEN_CPU},${FWD_CPU}`, 2, this.engine.weighted),
      '-v', `${state}:/var/lib/linerate`, '-v', `${cfgDir}:/etc/linerate:ro`, '-v', `${this.memifVolume}:${MEMIF_DIR}`,
      IMAGE, 'serve', '--config', '/etc/linerate/linerate.yaml', '--stop-dataplane']);
    this.initPid = Number(await docker(['inspect', '-f', '{{.State.Pid}}', this.container]));
    await this.connect(`127.0.0.1:${port}`, 60_000).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}; container log: ${await this.logTail()}`);
    });
    await this.attached(60_000);
    await this.program();
  }

  private async logTail(): Promise<string> {
    return docker(['logs', '--tail', '6', this.container]).catch((e: unknown) => (e as Error).message);
  }

  /** Until serve reports an attached dataplane other than `notPid` (pids of the container's namespace); then its host pid. */
  private async attached(ms: number, notPid = 0): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = await this.client.dataplane.getDataplane({}).catch(() => undefined);
      if (d?.attached && d.pid !== notPid) {
        this.dpHostPid = childOf(this.initPid, 'linerate-dp');
        if (this.dpHostPid) {
          this.containerDpPid = d.pid;
          return;
        }
      }
      if (Date.now() > deadline) throw new Error(`linerate container: no dataplane attached within ${ms / 1000} s; log: ${await this.logTail()}`);
      if (!alive(this.initPid)) throw new Error(`linerate container exited; log: ${await this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  override async alive(): Promise<boolean> {
    return this.initPid > 0 && alive(this.initPid) && this.dpHostPid > 0 && alive(this.dpHostPid);
  }

  /** The dataplane died: serve (in the container) respawns and reprograms it; wait for that. */
  override async recover(): Promise<string> {
    if (!alive(this.initPid)) throw new Error(`linerate container exited; log: ${await this.logTail()}`);
    await this.attached(90_000, this.containerDpPid);
    return 'dataplane gone (respawned by serve in the container)';
  }

  override async stop(): Promise<void> {
    try {
      this.client?.close();
      this.writer?.close();
    } catch {
      /* already closed */
    }
    await docker(['stop', '-t', '20', this.container], 40_000).catch(() => undefined);
    await docker(['rm', '-f', '-v', this.container]).catch(() => undefined);
    this.initPid = 0;
    this.dpHostPid = 0;
  }
}

/** bench/results/container.json */
export interface ContainerResults {
  schema: 1;
  command: string;
  started_at: string;
  finished_at: string;
  duration_s: number;
  commit: string;
  dirty: boolean;
  seed: number;
  image: { name: string; id: string; created: string };
  engine: { docker: string; host: string; nice: number };
  machine: ReturnType<typeof machineInfo>;
  settings: {
    frame_size: number; flows: number; seconds: number; warmup_s: number; pairs: PairRule;
    generator_cpu: number; forwarder_cpus: string; linerate_flags: string[]; pktgen_flags: string[];
  };
  /** per pair: both sides' Mpps and busy cycles/packet, the ratio, which ran first */
  pairs: { pair: number; first: 'container' | 'bare'; bare_mpps: number; container_mpps: number; ratio: number;
    bare_cpp: number | null; container_cpp: number | null }[];
  /** containerised ÷ bare, the median of the per-pair ratios with its spread (and the cycles/packet ratio) */
  ratio: PairedRatio | null;
  target: { name: string; target: number; value: number | null; met: boolean | null };
  cases: CaseResult[];
  noise: ReturnType<NoiseMonitor['finish']> & { reruns: number; disturbed_trials: number; steal_run_percent: Record<string, number> };
  errors: string[];
  trials_log: TrialRecord[];
}

/**
 * The full run's line on the container target: not measured in it (the
 * image build alone takes minutes whenever the tree changed; bench/README.md),
 * so it says where the figure is, and the last one recorded.
 */
export function containerNote(file: string): string {
  const what = `Containerised Mpps ÷ bare-host Mpps (target ≥ ${CONTAINER_TARGET}): not in this run; measured by npm run bench -- --container`;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ContainerResults;
    const v = r.target.value;
    return `-  ${what}; last recorded ${v === null ? 'nothing' : v.toFixed(3)} on ${r.finished_at.slice(0, 10)} ` +
      `(${r.ratio?.pairs ?? 0} pairs, commit ${r.commit.slice(0, 12)}; ${path.relative(process.cwd(), file)})`;
  } catch {
    return `-  ${what} (bench/results/container.md)`;
  }
}

const f2 = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? '–' : x.toFixed(d));

export function renderContainerMarkdown(r: ContainerResults): string {
  const out: string[] = [];
  const bare = r.cases.find((c) => c.forwarder === 'linerate');
  const ctr = r.cases.find((c) => c.forwarder === 'linerate-container');
  out.push('# Containerised linerate vs bare host (issue 13)', '');
  out.push(`${r.finished_at}, commit ${r.commit.slice(0, 12)}${r.dirty ? ' (with uncommitted changes)' : ''}, image ${r.image.name} ` +
    `${r.image.id.slice(7, 19)}, Docker ${r.engine.docker}; ${r.machine.cpu_description ?? r.machine.cpu_model}.`, '');
  out.push(`Command: \`${r.command}\``, '');
  const t = r.target;
  out.push(`**${t.name}: ${t.value === null ? 'not measured' : t.value.toFixed(3)}** (target ≥ ${t.target}: ` +
    `${t.met === null ? 'not measured' : t.met ? 'MET' : 'NOT MET'})` +
    (r.ratio ? `; quartiles ${r.ratio.p25.toFixed(3)}–${r.ratio.p75.toFixed(3)}, min ${r.ratio.min.toFixed(3)}, max ${r.ratio.max.toFixed(3)}, ` +
      `${r.ratio.pairs} pairs, spread (IQR ÷ median) ${(r.ratio.spread * 100).toFixed(1)} %` : '') + '.', '');
  if (r.ratio?.cpp_ratio) {
    out.push(`Busy cycles per packet, container ÷ bare: ${r.ratio.cpp_ratio.median.toFixed(3)} ` +
      `(quartiles ${r.ratio.cpp_ratio.p25.toFixed(3)}–${r.ratio.cpp_ratio.p75.toFixed(3)}).`, '');
  }
  out.push('| side | Mpps (median) | trials | busy cycles/pkt | core cycles/pkt |', '|---|---|---|---|---|');
  for (const [label, c] of [['bare host', bare], ['container', ctr]] as const) {
    out.push(`| ${label} | ${f2(c?.mpps)} | ${c?.trials.map((x) => x.toFixed(2)).join(', ') ?? '–'} | ${f2(c?.cycles_per_packet, 0)} | ${f2(c?.core_cycles_per_packet, 0)} |`);
  }
  out.push('', '| pair | first | bare Mpps | container Mpps | container ÷ bare | bare cycles/pkt | container cycles/pkt |', '|---|---|---|---|---|---|---|');
  for (const p of r.pairs) {
    out.push(`| ${p.pair} | ${p.first} | ${p.bare_mpps.toFixed(3)} | ${p.container_mpps.toFixed(3)} | ${p.ratio.toFixed(4)} | ${f2(p.bare_cpp, 0)} | ${f2(p.container_cpp, 0)} |`);
  }
  const st = r.noise.steal_run_percent;
  out.push('', `Noise: ${r.noise.reruns} trials run again (steal or others' CPU), ${r.noise.disturbed_trials} disturbed trials kept; ` +
    `steal over the run ${Object.entries(st).map(([k, v]) => `${k} ${v} %`).join(', ')}; load ${r.noise.loadavg_start.join('/')} → ${r.noise.loadavg_end.join('/')}` +
    (r.noise.busy_others.length ? `; busy others: ${r.noise.busy_others.map((b) => `${b.comm} ${b.cpu_percent} %`).join(', ')}` : '') + '.', '');
  if (r.errors.length) out.push('Errors:', '', ...r.errors.map((e) => `- ${e.split('\n')[0]}`), '');
  out.push('## How it was measured', '');
  out.push(`- ${r.settings.frame_size}-byte UDP, ${r.settings.flows} flows, closed loop (the generator retries what the ring refuses), ` +
    `${r.settings.seconds} s steady window after ${r.settings.warmup_s} s warm-up per trial, linerate-pktgen ⇄ memif ⇄ linerate (IPv4 LPM, ` +
    'the main bench\'s route table, programmed over gRPC on both sides).');
  out.push('- **bare host**: `linerate serve` and `linerate-pktgen` as processes of the harness, the memif sockets in a temporary directory.');
  out.push(`- **container**: \`linerate serve\` in the image, \`docker run --network host ${r.settings.linerate_flags.join(' ')}\`, the memif sockets ` +
    `on a named volume at ${MEMIF_DIR}; linerate-pktgen in a second container, \`docker run --network none ${r.settings.pktgen_flags.join(' ')}\`, on the same volume.`);
  out.push(r.settings.linerate_flags.includes('--cgroup-parent')
    ? '- CPU weight: each container in a cgroup of its own under the root with 1024 shares per polling thread (`--cgroup-parent / --cpu-shares`), ' +
      'the weight its threads have as host processes; in Docker\'s default cgroup (/docker: one weight of 1024 for every container together) ' +
      'their CPU share under other processes\' load is not the bare side\'s (`--docker-cgroup` measures that).'
    : '- CPU weight: Docker\'s default cgroup (/docker: one weight of 1024 for every container together, against each host process\'s own 1024).');
  out.push(`- The same placement on both sides: generator, serve and the dataplane's main lcore on CPU ${r.settings.generator_cpu}, the worker on ` +
    `CPU ${FWD_CPU} (the container: \`--cpuset-cpus ${r.settings.forwarder_cpus}\` and \`system.controlPlaneCpus: "${r.settings.generator_cpu}"\`).`);
  out.push('- Both linerates stay up for the whole run; the one not measured is paused with SIGSTOP (serve, then the dataplane; for the container, ' +
    'the host pids of its processes), so that two polling workers never share the core. Pairs: the two trials back to back in an order drawn ' +
    `per pair (seed ${r.seed}); the figure is the median of the per-pair ratios. Trials disturbed by steal or by other processes are run again (the ` +
    'engine, its shims and the containers count as the run\'s own processes).');
  out.push('- **busy cycles/pkt**: the worker\'s busy TSC cycles ÷ packets received, from each linerate\'s StatsService over the trial. ' +
    '**core cycles/pkt**: TSC Hz ÷ forwarded pps.');
  return out.join('\n') + '\n';
}

export interface ContainerOptions {
  out: string;
  /** false: the containers in Docker's default cgroup (/docker, one weight for all), to show what that costs */
  weighted: boolean;
  pairs: number;
  seconds: number;
  seed: number;
  rng: () => number;
  command: string;
}

/** --container: both linerates up, pairs, results written; the exit status. */
export async function runContainer(o: ContainerOptions, dir: string, say: (s: string) => void): Promise<number> {
  const started = new Date();
  const tag = `lrp-ctr-${process.pid}`;
  const h = headInfo();
  const progress = new Progress(5);
  const engine = new Engine(tag);
  engine.weighted = o.weighted;
  const errors: string[] = [];
  const plan = makePlan(true);
  const rule: PairRule = { minPairs: o.pairs, maxPairs: o.pairs + 4, maxSpread: 0.03 };
  plan.maxSeconds = o.seconds;
  plan.maxPairs = rule;
  const pool = new Resident();
  const noise = new NoiseMonitor();
  const runner = new Runner(plan, pool, progress, o.rng, () => noise.maybeTick());
  mkdirSync(path.join(dir, 'bare'), { recursive: true });
  mkdirSync(path.join(dir, 'ctr'), { recursive: true });
  const bare = new Linerate(new Topology(path.join(dir, 'bare'), tag));
  const ctr = new ContainerLinerate(new Topology(path.join(dir, 'ctr'), tag, MEMIF_DIR), engine);
  let stat0 = readProcStat();
  let ratio: PairedRatio | null = null;
  let pairs: ContainerResults['pairs'] = [];
  try {
    await engine.start(progress);
    stat0 = readProcStat();
    for (const f of [bare, ctr]) {
      progress.phase(`${f.id}: start (gRPC-programmed)`);
      await pool.start(f);
      await runner.warmUp(f);
    }
    runner.phase(`64B maximum rate: container / bare, in pairs (${rule.minPairs} to ${rule.maxPairs}, ${o.seconds} s trials)`);
    const traffic = runner.mainTraffic(64);
    const { runs, paired } = await runner.pairedMax(traffic, o.seconds, rule, [{ subject: ctr, reference: bare }], 'container 64B');
    runner.casesFromPairs('max', () => traffic, runs, paired);
    const p = paired[0];
    if (p) {
      ratio = pairedRatio(p);
      pairs = p.pairs.map((x, i) => ({
        pair: i + 1, first: x.first === 'subject' ? 'container' : 'bare', bare_mpps: sig(x.reference.value, 5), container_mpps: sig(x.subject.value, 5),
        ratio: sig(x.ratio, 4), bare_cpp: x.reference.cpp == null ? null : sig(x.reference.cpp, 4), container_cpp: x.subject.cpp == null ? null : sig(x.subject.cpp, 4),
      }));
    }
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
    progress.warn(errors[errors.length - 1].split('\n').slice(0, 6).join('\n           '));
  } finally {
    progress.end();
    await pool.stopAll((f, e) => errors.push(`${f.id} stop: ${(e as Error).message}`));
  }
  const stat1 = readProcStat();
  const steal: Record<string, number> = {};
  for (const k of stat1.keys()) steal[k] = sig(stealPercent(stat0, stat1, k === 'cpu' ? null : [Number(k.slice(3))]), 3);
  const finished = new Date();
  const value = ratio ? ratio.median : null;
  const results: ContainerResults = {
    schema: 1,
    command: o.command,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    commit: h.commit,
    dirty: h.dirty,
    seed: o.seed,
    image: { name: IMAGE, ...engine.image },
    engine: { docker: engine.version, host: DOCKER_HOST, nice: engine.nice },
    machine: machineInfo(runner.tscHz),
    settings: {
      frame_size: 64, flows: plan.mainFlows, seconds: o.seconds, warmup_s: plan.warmup, pairs: rule, generator_cpu: GEN_CPU,
      forwarder_cpus: `${GEN_CPU},${FWD_CPU}`, linerate_flags: dpdkFlags(`${GEN_CPU},${FWD_CPU}`, 2, engine.weighted), pktgen_flags: dpdkFlags(String(GEN_CPU), 1, engine.weighted),
    },
    pairs,
    ratio,
    target: { name: 'Containerised Mpps ÷ bare-host Mpps, same run', target: CONTAINER_TARGET, value, met: value === null ? null : value >= CONTAINER_TARGET },
    cases: runner.cases,
    noise: { ...noise.finish(), reruns: runner.reruns, disturbed_trials: runner.disturbed, steal_run_percent: steal },
    errors,
    trials_log: runner.log,
  };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(path.join(o.out, 'container.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(o.out, 'container.md'), renderContainerMarkdown(results));
  const t = results.target;
  say(`\n  ${t.met === null ? '-' : t.met ? 'MET    ' : 'NOT MET'}  ${t.name}: ${value === null ? 'not measured' : value.toFixed(3)}` +
    `${ratio ? ` (quartiles ${ratio.p25.toFixed(3)}–${ratio.p75.toFixed(3)}, ${ratio.pairs} pairs)` : ''} (target ≥ ${t.target})`);
  say(`wrote ${path.join(o.out, 'container.json')} and container.md (${results.duration_s} s)`);
  if (errors.length) say(`\n${errors.length} error(s):\n  ${errors.map((e) => e.split('\n')[0]).join('\n  ')}`);
  return value === null ? 1 : 0;
}
