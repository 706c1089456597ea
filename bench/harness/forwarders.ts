// SPDX-License-Identifier: BSD-3-Clause
// The forwarders under test, each holding the two memif servers of the
// topology with its forwarding loop on the worker CPU:
//  - linerate: `linerate serve` as a child process (as an operator runs it),
//    which spawns linerate-dp; programmed only through the gRPC API;
//  - dpdk-testpmd --forward-mode=io: the ceiling (no header work);
//  - DPDK's l3fwd (LPM), built from Debian's dpdk-doc by
//    bench/scripts/build-l3fwd.sh: the classic LPM forwarder;
//  - with --compare REV, a second linerate built from REV in a temporary
//    worktree ("linerate-base").
// Each forwarder has its own topology (its own memif sockets), so that all
// of them can stay up for the whole run, paused (SIGSTOP) while another one
// is measured: switching takes milliseconds, and trials of two forwarders
// can run back to back (see resident.ts).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type * as api from '../../control/src/gen';
import { createClient, type LinerateClient } from '../../control/src/client';
import { type PktgenRun, repoRoot } from '../lib/pktgen';
import { alive, onCleanup, removeDpdkRuntime, start, type Started, stop, tail } from './procs';
import { RouteWriter } from './routeclient';
import type { ForwarderId } from './results';
import { mainTable } from './routes';
import { FWD_ADDR, FWD_CPU, GEN_ADDR, GEN_CPU, GEN_MAC, type Topology } from './topology';

export interface Forwarder {
  readonly id: ForwarderId;
  /** the memif sockets it serves */
  readonly topo: Topology;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Is it still forwarding (process alive)? */
  alive(): Promise<boolean>;
  /** After it died: how (exit status, log tail), then bring it back with the same configuration. */
  recover(): Promise<string>;
  /** processes to pause while another forwarder is measured, in the order to pause them (resumed in reverse) */
  pids(): number[];
  /** how its trials start the generator (default: linerate-pktgen on the host; the container bench: in a container) */
  readonly launchGenerator?: PktgenRun['launch'];
}

/**
 * A memif server that dies (the 22.11 PMD can crash when a client
 * disconnects while the worker polls) leaves its socket files behind, and
 * the next server cannot bind them: remove them (they are ours).
 */
function removeSockets(topo: Topology): void {
  for (const s of topo.sockets) rmSync(s, { force: true });
}

function exitText(p: Started | undefined): string {
  if (!p) return 'not started';
  const c = p.child;
  if (c.signalCode) return `killed by ${c.signalCode}`;
  return `exited with ${c.exitCode}; log: ${tail(p.output(), 4).replace(/\n/g, ' | ')}`;
}

const TESTPMD = process.env.LINERATE_TESTPMD ?? 'dpdk-testpmd';

/** A reference forwarder that is one child process serving the topology's memif sockets. */
abstract class ChildForwarder {
  protected proc?: Started;

  constructor(readonly topo: Topology) {}

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  pids(): number[] {
    const pid = this.proc?.child.pid;
    return pid && this.proc?.child.exitCode === null ? [pid] : [];
  }

  async alive(): Promise<boolean> {
    return !!this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  async recover(): Promise<string> {
    const how = exitText(this.proc);
    await this.stop();
    removeSockets(this.topo);
    await this.start();
    return how;
  }
}

/** dpdk-testpmd io: receive a burst, send it out of the other port unchanged. */
export class TestpmdIo extends ChildForwarder implements Forwarder {
  readonly id = 'testpmd-io' as const;

  async start(): Promise<void> {
    const prefix = this.topo.prefix('testpmd');
    onCleanup('testpmd runtime dir', () => removeDpdkRuntime(prefix));
    removeSockets(this.topo);
    // stdbuf: testpmd's stdout is a pipe here, and its readiness line must not sit in a buffer
    this.proc = start('stdbuf', ['-oL', TESTPMD,
      '-l', `${GEN_CPU},${FWD_CPU}`, '--no-pci', '--in-memory', '--file-prefix', prefix,
      '--vdev', this.topo.serverDev(0), '--vdev', this.topo.serverDev(1),
      '--', '--forward-mode=io', '--auto-start', '--nb-cores=1', '--rxq=1', '--txq=1',
      '--burst=32', '--rxd=1024', '--txd=1024',
    ], path.join(this.topo.dir, 'testpmd.log'));
    // non-interactive testpmd forwards until a line (or EOF) arrives on stdin
    await this.proc.waitFor(/Press enter to exit/, 30_000, 'dpdk-testpmd');
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.child.stdin?.end();
    const t = setTimeout(() => this.proc?.child.kill('SIGTERM'), 10_000);
    await stop(this.proc, 'SIGTERM', 20_000).finally(() => clearTimeout(t));
    removeDpdkRuntime(this.topo.prefix('testpmd'));
  }
}

/** Builds l3fwd if needed; its path, or throws with the reason. */
export function buildL3fwd(): string {
  const script = path.join(repoRoot, 'bench/scripts/build-l3fwd.sh');
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return path.resolve(repoRoot, out.split('\n').pop() ?? '');
}

/** DPDK's l3fwd example, LPM lookup, one lcore polling both ports. */
export class L3fwdLpm extends ChildForwarder implements Forwarder {
  readonly id = 'l3fwd-lpm' as const;
  constructor(topo: Topology, private readonly binary: string) {
    super(topo);
  }

  async start(): Promise<void> {
    const prefix = this.topo.prefix('l3fwd');
    onCleanup('l3fwd runtime dir', () => removeDpdkRuntime(prefix));
    removeSockets(this.topo);
    this.proc = start(this.binary, [
      '-l', String(FWD_CPU), '--no-pci', '--in-memory', '--file-prefix', prefix,
      '--vdev', this.topo.serverDev(0), '--vdev', this.topo.serverDev(1),
      '--', '-p', '0x3', '--lookup', 'lpm', '--config', `(0,0,${FWD_CPU}),(1,0,${FWD_CPU})`,
      `--eth-dest=0,${GEN_MAC[0]}`, `--eth-dest=1,${GEN_MAC[1]}`,
      '--parse-ptype', // memif sets no packet types
    ], path.join(this.topo.dir, 'l3fwd.log'));
    await this.proc.waitFor(/entering main loop/, 30_000, 'l3fwd');
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    await stop(this.proc, 'SIGTERM', 10_000);
    removeDpdkRuntime(this.topo.prefix('l3fwd'));
  }
}

/** Worker counters of linerate at one instant (StatsService). */
export interface LinerateCounters {
  /** dataplane instance: counters restart with it */
  bootId: string;
  busyCycles: bigint;
  rxPackets: bigint;
  drops: Record<string, bigint>;
  tableSwaps: bigint;
  tscHz: number;
}

/**
 * linerate: `linerate serve --stop-dataplane` with a config naming only the
 * dataplane and its two memif ports; addresses, static neighbors (the
 * generator's MACs, so no packet waits for ARP) and routes go through gRPC.
 */
export interface LinerateOptions {
  /** "linerate-base" for the revision a --compare run measures against; "linerate-container" for the container bench's */
  id?: LinerateId;
  /** the checkout whose dist/ and build/ it runs (default: this one) */
  root?: string;
  /** more `dataplane:` settings of its config (the control bench's FIB sizes) */
  dataplane?: Record<string, unknown>;
  /** ports after p0 and p1 (the queue bench's net_null with a RETA) */
  ports?: Record<string, unknown>[];
  /** instance name stem instead of lrp-bench / lrp-base (two linerates of one id in one run) */
  name?: string;
  /** `system:` settings of its config (the control bench's split layout: controlPlaneCpus) */
  system?: Record<string, unknown>;
}

/** What a restart of `serve` or of the dataplane took, from its serve log. */
export interface Recovery {
  /** from the kill (or the new serve's spawn) to the end of the reconcile */
  total_ms: number;
  /** the reconcile alone (dump, diff, push), as serve logs it */
  reconcile_ms: number;
  /** entries the reconcile pushed */
  pushed: number;
}

/** The ids a linerate forwarder takes. */
export type LinerateId = 'linerate' | 'linerate-base' | 'linerate-container';

/** Instance names of the bench's linerates (EAL prefix linerate-NAME, stats file): unique per run. */
const INSTANCE_PREFIX: Record<LinerateId, string> = { linerate: 'lrp-bench', 'linerate-base': 'lrp-base', 'linerate-container': 'lrp-ctr' };

export class Linerate implements Forwarder {
  readonly id: LinerateId;
  readonly root: string;
  client!: LinerateClient;
  /** bulk route writes with pre-encoded requests (routeclient.ts) */
  writer!: RouteWriter;
  private proc?: Started;
  private dpPid = 0;
  readonly name: string;
  protected readonly dir: string;
  protected readonly extra: Record<string, unknown>;
  private readonly system: Record<string, unknown> | undefined;
  private readonly extraPorts: Record<string, unknown>[];
  /** serve's gRPC address */
  address = '';
  private serveArgs: string[] = [];

  constructor(readonly topo: Topology, o: LinerateOptions = {}) {
    this.id = o.id ?? 'linerate';
    this.extra = o.dataplane ?? {};
    this.system = o.system;
    this.root = o.root ?? repoRoot;
    // instance name: names the EAL prefix (linerate-NAME), socket and stats file
    this.name = `${o.name ?? INSTANCE_PREFIX[this.id]}-${process.pid}`.slice(0, 23);
    this.extraPorts = o.ports ?? [];
    this.dir = path.join(topo.dir, 'linerate');
  }

  /** `linerate serve` first (it would see a stale heartbeat otherwise), then the dataplane */
  pids(): number[] {
    const out: number[] = [];
    if (this.proc?.child.pid && this.proc.child.exitCode === null) out.push(this.proc.child.pid);
    if (this.dpPid && alive(this.dpPid)) out.push(this.dpPid);
    return out;
  }

  get gateways(): { out: api.NextHop; back: api.NextHop } {
    return { out: { port: 'p1', via: GEN_ADDR[1] }, back: { port: 'p0', via: GEN_ADDR[0] } };
  }

  async start(): Promise<void> {
    // every start is a fresh instance: no desired state from an earlier session
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const cfgFile = path.join(this.dir, 'linerate.yaml');
    writeFileSync(cfgFile, YAML.stringify({
      name: this.name,
      grpc: { listen: '127.0.0.1:0' },
      // any free port: two linerates of one run must not claim the default /metrics port
      metrics: { listen: '127.0.0.1:0' },
      dataplane: { lcores: `${GEN_CPU},${FWD_CPU}`, idleSleepUs: 0, ...this.extra },
      ...(this.system ? { system: this.system } : {}),
      ports: [
        { name: 'p0', device: this.topo.serverDev(0) },
        { name: 'p1', device: this.topo.serverDev(1) },
        ...this.extraPorts,
      ],
    }));
    onCleanup('linerate files', () => {
      if (this.dpPid && alive(this.dpPid)) process.kill(this.dpPid, 'SIGKILL');
      rmSync(`/dev/shm/linerate-${this.name}.stats`, { force: true });
      removeDpdkRuntime(`linerate-${this.name}`);
    });
    removeSockets(this.topo);
    const cli = path.join(this.root, 'dist/control/src/cli/main.js');
    this.serveArgs = [cli, 'serve', '--config', cfgFile, '--state-dir', path.join(this.dir, 'state'),
      '--run-dir', path.join(this.dir, 'run'), '--listen', '127.0.0.1:0', '--stop-dataplane'];
    await this.startServe();
    await this.waitAttached(60_000);
    await this.program();
  }

  private async startServe(): Promise<void> {
    this.proc = start(process.execPath, this.serveArgs, path.join(this.topo.dir, `${this.id}-serve.log`));
    const m = await this.proc.waitFor(/"address":"([^"]+)"[^\n]*"msg":"gRPC listening"/, 60_000, 'linerate serve');
    await this.connect(m[1]);
  }

  /** gRPC clients to serve at `address` (replacing earlier ones), once it answers. */
  protected async connect(address: string, timeoutMs = 10_000): Promise<void> {
    this.client?.close();
    this.writer?.close();
    this.address = address;
    this.client = createClient(address);
    this.writer = new RouteWriter(address);
    await this.client.waitReady(timeoutMs);
  }

  /** pid of the dataplane serve runs (0 before it attached) */
  get dataplanePid(): number {
    return this.dpPid && alive(this.dpPid) ? this.dpPid : 0;
  }

  /** pid of `linerate serve` (0 if not running) */
  get servePid(): number {
    return this.proc?.child.pid && this.proc.child.exitCode === null ? this.proc.child.pid : 0;
  }

  /** the serve log's n-th (1-based) "reconciled" line, once it is there */
  private async reconciled(n: number, timeoutMs: number): Promise<{ ms: number; pushed: number }> {
    const re = /\{[^\n]*"msg":"reconciled"[^\n]*\}/g;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = [...(this.proc?.output() ?? '').matchAll(re)];
      if (all.length >= n) {
        const j = JSON.parse(all[n - 1][0]) as { ms: number; pushed: number };
        return { ms: j.ms, pushed: j.pushed };
      }
      if (Date.now() > deadline) throw new Error(`linerate: no reconcile within ${timeoutMs / 1000} s; serve log: ${tail(this.proc?.output() ?? '', 4)}`);
      if (this.proc?.child.exitCode !== null) throw new Error(`linerate serve ${exitText(this.proc)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * kill -9 of `serve` alone (the dataplane keeps forwarding), then a new
   * serve on the same state dir: until it has re-attached and reconciled.
   */
  async restartServe(): Promise<Recovery> {
    if (!this.proc) throw new Error('linerate serve is not running');
    this.proc.child.kill('SIGKILL');
    await this.proc.exited;
    const t0 = Date.now();
    await this.startServe();
    const r = await this.reconciled(1, 120_000);
    await this.waitAttached(60_000);
    return { total_ms: Date.now() - t0, reconcile_ms: r.ms, pushed: r.pushed };
  }

  /** kill -9 of the dataplane: until serve's supervisor has started a new one and reprogrammed it. */
  async respawnDataplane(): Promise<Recovery> {
    const before = [...(this.proc?.output() ?? '').matchAll(/"msg":"reconciled"/g)].length;
    const dead = this.dpPid;
    const t0 = Date.now();
    process.kill(dead, 'SIGKILL');
    const r = await this.reconciled(before + 1, 120_000);
    const total = Date.now() - t0;
    await this.waitAttached(60_000, dead);
    return { total_ms: total, reconcile_ms: r.ms, pushed: r.pushed };
  }

  /** Waits for serve to report an attached dataplane (other than `notPid`). */
  private async waitAttached(ms: number, notPid = 0): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = await this.client.dataplane.getDataplane({}).catch(() => undefined);
      if (d?.attached && d.pid !== notPid && alive(d.pid)) {
        this.dpPid = d.pid;
        return;
      }
      if (Date.now() > deadline) throw new Error(`linerate: no dataplane attached within ${ms / 1000} s; serve log: ${tail(this.proc?.output() ?? '', 4)}`);
      if (this.proc?.child.exitCode !== null) throw new Error(`linerate serve ${exitText(this.proc)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async alive(): Promise<boolean> {
    return !!this.proc && this.proc.child.exitCode === null && this.dpPid > 0 && alive(this.dpPid);
  }

  /**
   * The dataplane died: serve's supervisor starts a new one and reconciles
   * the desired state (addresses, neighbors, every route) into it, which
   * is what an operator gets; the bench only clears the stale memif
   * sockets that would make the new one fail, and waits.
   */
  async recover(): Promise<string> {
    if (!this.proc || this.proc.child.exitCode !== null) throw new Error(`linerate serve ${exitText(this.proc)}`);
    const dead = this.dpPid;
    const m = [...this.proc.output().matchAll(/\{[^\n]*"msg":"dataplane exited"[^\n]*\}/g)].pop();
    let how = 'dataplane gone';
    if (m) {
      const j = JSON.parse(m[0]) as { code: number | null; signal: string | null };
      how = `dataplane ${j.signal ? `killed by ${j.signal}` : `exited with ${j.code}`}`;
    }
    removeSockets(this.topo);
    await this.waitAttached(90_000, dead);
    return how;
  }

  /** Addresses, static neighbors for the generator's MACs, the main table. */
  protected async program(): Promise<void> {
    for (const [i, port] of (['p0', 'p1'] as const).entries()) {
      await this.client.port.addAddresses({ port, addresses: [{ cidr: FWD_ADDR[i] }] });
    }
    await this.client.neighbor.addNeighbors({
      neighbors: [
        { port: 'p0', address: GEN_ADDR[0], mac: GEN_MAC[0] },
        { port: 'p1', address: GEN_ADDR[1], mac: GEN_MAC[1] },
      ],
    });
    await this.client.route.addRoutes({ routes: mainTable(this.gateways) });
  }

  async counters(): Promise<LinerateCounters> {
    const s = await this.client.stats.getStats({});
    const drops: Record<string, bigint> = {};
    for (const p of s.ports) for (const [k, v] of Object.entries(p.drops)) drops[k] = (drops[k] ?? 0n) + BigInt(v);
    return {
      bootId: s.bootId,
      busyCycles: s.workers.reduce((a, w) => a + BigInt(w.busyCycles), 0n),
      rxPackets: s.workers.reduce((a, w) => a + BigInt(w.rx?.packets ?? 0), 0n),
      drops,
      tableSwaps: BigInt(s.slowPath.table_swaps ?? '0'),
      tscHz: Number(s.tscHz),
    };
  }

  async stop(): Promise<void> {
    try {
      this.client?.close();
      this.writer?.close();
    } catch {
      /* already closed */
    }
    if (this.proc) await stop(this.proc, 'SIGTERM', 20_000);
    if (this.dpPid && alive(this.dpPid)) {
      process.kill(this.dpPid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(this.dpPid); i++) await new Promise((r) => setTimeout(r, 100));
    }
    rmSync(`/dev/shm/linerate-${this.name}.stats`, { force: true });
    removeDpdkRuntime(`linerate-${this.name}`);
  }
}

/** Busy cycles per received packet between two counter snapshots (null if none received). */
export function cyclesPerPacket(a: LinerateCounters, b: LinerateCounters): number | null {
  if (a.bootId !== b.bootId) return null;
  const pkts = b.rxPackets - a.rxPackets;
  return pkts > 0n ? Number(b.busyCycles - a.busyCycles) / Number(pkts) : null;
}

/** Per-reason drop deltas (only non-zero). */
export function dropDelta(a: LinerateCounters, b: LinerateCounters): Record<string, number> {
  const out: Record<string, number> = {};
  if (a.bootId !== b.bootId) return { dataplane_restarted: 1 };
  for (const [k, v] of Object.entries(b.drops)) {
    const d = Number(v - (a.drops[k] ?? 0n));
    if (d) out[k] = d;
  }
  return out;
}

export function existsOnPath(cmd: string): boolean {
  if (cmd.includes('/')) return existsSync(cmd);
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, cmd)));
}
export const testpmdBinary = TESTPMD;
