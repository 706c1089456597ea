/**
 * Runs `linerate serve` (the real CLI, which spawns the real linerate-dp)
 * for a test: writes its config into a temp dir, picks a free gRPC port,
 * waits for health SERVING, and tears everything down by PID: serve, the
 * dataplane it spawned (detached, so it is not our child), the stats file
 * and the EAL run dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import YAML from 'yaml';
import { defer, isAlive, killSync, pidsWithMarker } from './cleanup';
import { CLI, DP_BIN, sleep, tempDir, waitFor } from './env';
import { connectClient, type TestClient } from './grpc';

export interface PortSpec { name: string; device: string; addresses?: string[]; mac?: string; mtu?: number; rpf?: 'off' | 'loose' | 'strict'; rxQueues?: number }
export interface RouteSpec { prefix: string; via?: string; port: string }
export interface NeighborSpec { address: string; mac: string; port: string }

export interface ServeOptions {
  /** Instance name, unique per run: names the socket, stats file and EAL prefix. */
  name: string;
  ports: PortSpec[];
  routes?: RouteSpec[];
  neighbors?: NeighborSpec[];
  /** Idle workers sleep (the test machine has 2 cores shared by everyone). */
  idleSleepUs?: number;
  /** More top-level config sections (e.g. `lab`). */
  extraConfig?: Record<string, unknown>;
  /** More `serve` arguments (e.g. --stop-dataplane). */
  serveArgs?: string[];
  /** More `dataplane` settings (e.g. table capacities), over the test defaults. */
  dataplane?: Record<string, unknown>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export class Serve {
  readonly dir: string;
  readonly configPath: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly statsPath: string;
  readonly filePrefix: string;
  readonly pidPath: string;
  readonly logPath: string;
  grpcPort = 0;
  /** Port of serve's /metrics on 127.0.0.1 (its own per test: serves never collide). */
  metricsPort = 0;
  proc: ChildProcess | undefined;
  client: TestClient | undefined;
  /** serve's stdout + stderr, for failure messages. */
  output = '';
  private undo: () => void;
  private dpPids = new Set<number>();

  constructor(readonly opts: ServeOptions) {
    this.dir = tempDir(opts.name);
    this.configPath = path.join(this.dir, 'linerate.yaml');
    this.stateDir = path.join(this.dir, 'state');
    this.runDir = path.join(this.dir, 'run');
    // Same derivations as control/src/config/schema.ts resolvePaths().
    this.statsPath = `/dev/shm/linerate-${opts.name}.stats`;
    this.filePrefix = `linerate-${opts.name}`;
    this.pidPath = path.join(this.runDir, 'dataplane.pid');
    this.logPath = path.join(this.runDir, 'dataplane.log');
    this.undo = defer(`serve ${opts.name}`, () => this.destroySync());
  }

  private writeConfig(): void {
    const cfg = {
      name: this.opts.name,
      grpc: { listen: `127.0.0.1:${this.grpcPort}` },
      metrics: { listen: `127.0.0.1:${this.metricsPort}` },
      runDir: this.runDir,
      dataplane: { binary: DP_BIN, lcores: '0,1', rxQueues: 1, idleSleepUs: this.opts.idleSleepUs ?? 50,
        // Test-sized tables: the 1M-route default takes ~1.4 GB of hugepages.
        routes4: 65536, routes6: 4096, neighbors: 1024, ...this.opts.dataplane },
      ports: this.opts.ports.map((p) => ({ ...p, addresses: p.addresses ?? [] })),
      routes: this.opts.routes ?? [],
      neighbors: this.opts.neighbors ?? [],
      ...this.opts.extraConfig,
    };
    fs.writeFileSync(this.configPath, YAML.stringify(cfg));
  }

  /** Starts serve (spawning the dataplane if none runs) and waits until it is SERVING and attached. */
  async start(timeoutMs = 60000): Promise<void> {
    if (!this.grpcPort) {
      this.grpcPort = await freePort();
      this.metricsPort = await freePort();
      this.writeConfig();
    }
    const args = [CLI, 'serve', '--config', this.configPath, '--state-dir', this.stateDir, '--listen', `127.0.0.1:${this.grpcPort}`, ...(this.opts.serveArgs ?? [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LINERATE_LOG_LEVEL: process.env.LINERATE_LOG_LEVEL ?? 'info' } });
    this.proc = proc;
    const append = (d: Buffer): void => {
      this.output += d.toString();
      if (this.output.length > 200000) this.output = this.output.slice(-100000);
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    let exited: string | undefined;
    // serve exiting is final: stop waiting at once.
    const died = new Promise<never>((_, reject) => proc.on('exit', (code, sig) => {
      exited = `serve exited (${sig ?? code})`;
      reject(new Error(exited));
    }));
    died.catch(() => undefined);
    this.client?.close();
    this.client = connectClient(`127.0.0.1:${this.grpcPort}`);
    const client = this.client;
    const ready = waitFor('serve to be SERVING and attached', async () => {
      if (exited) return true; // the race below already failed
      if ((await client.healthCheck('', { deadlineMs: 2000 })) !== 'SERVING') return false;
      const dp = await client.dataplane.getDataplane({}, { deadlineMs: 2000 });
      if (dp.pid) this.dpPids.add(dp.pid);
      return dp.attached;
    }, timeoutMs, 200);
    await Promise.race([ready, died]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- serve output ---\n${this.tail()}\n--- dataplane log ---\n${this.dpLog()}`);
    });
    this.rememberDataplane();
  }

  /** The dataplane's pid: from the pid file serve writes, else from its command line. */
  dataplanePid(): number | undefined {
    this.rememberDataplane();
    return [...this.dpPids].find((p) => isAlive(p));
  }

  private rememberDataplane(): void {
    try {
      const pid = Number(fs.readFileSync(this.pidPath, 'utf8').trim());
      if (pid > 0) this.dpPids.add(pid);
    } catch {
      /* not spawned yet */
    }
    for (const pid of pidsWithMarker(this.filePrefix)) this.dpPids.add(pid);
  }

  /** kill -9 serve only: the dataplane (own session) must keep forwarding. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    await gone;
    this.client?.close();
    this.client = undefined;
  }

  /** Graceful stop of serve (SIGTERM); the dataplane stays. */
  async stop(timeoutMs = 10000): Promise<void> {
    const proc = this.proc;
    this.client?.close();
    this.client = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = sleep(timeoutMs).then(() => 'timeout');
    if ((await Promise.race([gone.then(() => 'ok'), t])) === 'timeout') {
      proc.kill('SIGKILL');
      await gone;
    }
  }

  tail(lines = 40): string {
    return this.output.trimEnd().split('\n').slice(-lines).join('\n');
  }

  dpLog(lines = 30): string {
    try {
      return fs.readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no dataplane log)';
    }
  }

  /** Stops serve and the dataplane and removes every file they left. */
  destroy(): void {
    this.undo();
  }

  private destroySync(): void {
    this.client?.close();
    this.client = undefined;
    if (this.proc?.pid !== undefined) killSync(this.proc.pid);
    this.rememberDataplane();
    for (const pid of this.dpPids) killSync(pid, 5000);
    fs.rmSync(this.statsPath, { force: true });
    fs.rmSync(path.join('/var/run/dpdk', this.filePrefix), { recursive: true, force: true });
    // Control socket, pid file, dataplane log, persisted state.
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
