/**
 * Keeps the control plane attached to a dataplane: connect to its control
 * socket, or spawn linerate-dp when none answers; hand each new attachment
 * to onAttach (the controller reconciles there); then watch it (socket
 * state, process liveness, stats heartbeat and boot id) and, when it goes,
 * report the detach and start over with exponential backoff.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddonModule, Dataplane, HelloInfo, StatsReader } from './addon';
import { PortMap } from './translate';
import { type SpawnSpec, logTail, removeStaleMemifSockets, runningDataplanePid, spawnDataplane } from './spawn';
import type { Logger } from '../log';
import { processAlive } from '../proc';

export { processAlive };

export interface Attachment {
  dp: Dataplane;
  hello: HelloInfo;
  ports: PortMap;
  stats: StatsReader | null;
}

export interface SupervisorOptions {
  ctlPath: string;
  /** How to start a dataplane; null = only attach to one started by someone else. */
  spawn: SpawnSpec | null;
  addon: Pick<AddonModule, 'Dataplane' | 'StatsReader'>;
  log: Logger;
  /** Called with each new attachment before it is reported healthy; a throw detaches. */
  onAttach: (a: Attachment) => Promise<void>;
  onDetach?: (reason: string) => void;
  /** Healthy = attached, onAttach done and the heartbeat fresh. */
  onHealth?: (healthy: boolean) => void;
  /** Wait for the socket to accept (a dataplane still starting). */
  connectTimeoutMs?: number;
  /** Bound on every control request's reply (a 64K-route batch on a big table takes a while). */
  requestTimeoutMs?: number;
  startTimeoutMs?: number;
  watchIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Supervisor {
  private current: Attachment | null = null;
  private ready = false;
  private healthy = false;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly waiters: (() => void)[] = [];
  attaches = 0;
  spawns = 0;
  lastError = '';

  constructor(private readonly o: SupervisorOptions) {}

  /** The live attachment once onAttach completed, else null. */
  get attachment(): Attachment | null {
    return this.ready ? this.current : null;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** Resolves once attached (onAttach done); rejects after timeoutMs. */
  waitAttached(timeoutMs: number): Promise<Attachment> {
    if (this.attachment) return Promise.resolve(this.attachment);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no dataplane attached after ${timeoutMs} ms${this.lastError ? ': ' + this.lastError : ''}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(this.attachment!);
      });
    });
  }

  /** Stops watching and closes the connection; the dataplane keeps running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.closeCurrent();
  }

  /** SIGTERM to the dataplane (pid from hello, else the pid file); SIGKILL after timeoutMs. */
  async stopDataplane(timeoutMs = 10000): Promise<boolean> {
    const pid = this.current?.hello.pid ?? (this.o.spawn ? runningDataplanePid(this.o.spawn) : undefined);
    if (!pid || !processAlive(pid)) return false;
    this.o.log.info({ pid }, 'stopping the dataplane');
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (processAlive(pid) && Date.now() < deadline) await sleep(50);
    if (processAlive(pid)) {
      this.o.log.warn({ pid }, 'dataplane ignored SIGTERM; killing it');
      process.kill(pid, 'SIGKILL');
      while (processAlive(pid)) await sleep(50);
    }
    if (this.o.spawn) fs.rmSync(this.o.spawn.pidPath, { force: true });
    return true;
  }

  private setHealth(h: boolean): void {
    if (h === this.healthy) return;
    this.healthy = h;
    this.o.onHealth?.(h);
  }

  private closeCurrent(): void {
    const a = this.current;
    this.current = null;
    this.ready = false;
    if (!a) return;
    try { a.dp.close(); } catch { /* already closed */ }
    try { a.stats?.close(); } catch { /* already closed */ }
  }

  private detach(reason: string): void {
    const was = this.ready;
    this.setHealth(false);
    this.closeCurrent();
    if (was) {
      if (this.stopped) this.o.log.info('detached from the dataplane');
      else this.o.log.warn({ reason }, 'detached from the dataplane');
      this.o.onDetach?.(reason);
    }
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(t); resolve(); };
    });
    this.wake = null;
  }

  private async run(): Promise<void> {
    const min = this.o.backoffMinMs ?? 500;
    const max = this.o.backoffMaxMs ?? 30000;
    let backoff = min;
    while (!this.stopped) {
      let attachedAt = 0;
      try {
        const a = await this.attachOnce();
        if (this.stopped) {
          this.current = a;
          break;
        }
        this.current = a;
        await this.o.onAttach(a);
        this.ready = true;
        this.attaches++;
        this.lastError = '';
        attachedAt = Date.now();
        this.o.log.info({ pid: a.hello.pid, bootId: a.hello.bootId.toString(16), ports: a.ports.list.map((p) => p.name) },
          'attached to the dataplane');
        this.setHealth(true);
        for (const w of this.waiters.splice(0)) w();
        this.detach(await this.watch(a));
      } catch (e) {
        this.lastError = (e as Error).message;
        this.o.log.error({ err: this.lastError }, 'dataplane attach failed');
        this.detach(this.lastError);
      }
      if (this.stopped) break;
      if (attachedAt && Date.now() - attachedAt > 30000) backoff = min;
      await this.pause(backoff);
      backoff = Math.min(backoff * 2, max);
    }
  }

  /**
   * Whether something accepts on the socket. A quick probe, because the
   * addon's connect keeps retrying a refused socket for its whole timeout,
   * which is also the (long) timeout of every later request.
   */
  private probe(): Promise<boolean> {
    if (!fs.existsSync(this.o.ctlPath)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const s = net.connect(this.o.ctlPath);
      const t = setTimeout(() => { s.destroy(); resolve(false); }, this.o.connectTimeoutMs ?? 2000);
      s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
      s.once('error', () => { clearTimeout(t); resolve(false); });
    });
  }

  private async tryConnect(): Promise<Attachment | null> {
    if (!(await this.probe())) return null;
    const dp = new this.o.addon.Dataplane();
    let hello: HelloInfo;
    try {
      hello = await dp.connect(this.o.ctlPath, this.o.requestTimeoutMs ?? 60000);
    } catch (e) {
      this.o.log.debug({ err: (e as Error).message }, 'control socket does not answer');
      dp.close();
      return null;
    }
    try {
      const ports = new PortMap(await dp.portList());
      let stats: StatsReader | null = null;
      try {
        stats = new this.o.addon.StatsReader(hello.statsPath);
      } catch (e) {
        this.o.log.warn({ err: (e as Error).message, path: hello.statsPath }, 'stats memory unreadable');
      }
      return { dp, hello, ports, stats };
    } catch (e) {
      dp.close();
      throw e;
    }
  }

  private async attachOnce(): Promise<Attachment> {
    const found = await this.tryConnect();
    if (found) return found;
    const spec = this.o.spawn;
    if (!spec) throw new Error(`no dataplane answers on ${this.o.ctlPath}`);
    let pid = runningDataplanePid(spec);
    if (pid) {
      this.o.log.info({ pid }, 'a dataplane is running but does not answer yet; waiting');
    } else {
      fs.rmSync(this.o.ctlPath, { force: true }); // stale socket of a dead dataplane
      const stale = await removeStaleMemifSockets(spec);
      if (stale.length) this.o.log.info({ sockets: stale }, 'removed the memif socket files a dead dataplane left');
      const child = spawnDataplane(spec);
      pid = child.pid;
      if (!pid) throw new Error(`cannot start ${spec.binary}`);
      this.spawns++;
      this.o.log.info({ pid, cmd: `${spec.binary} ${spec.args.join(' ')}`, log: spec.logPath }, 'spawned the dataplane');
      child.on('exit', (code, signal) => this.o.log.warn({ pid: child.pid, code, signal }, 'dataplane exited'));
    }
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60000);
    while (Date.now() < deadline && !this.stopped) {
      await sleep(200);
      if (!processAlive(pid)) throw new Error(`dataplane exited during start; ${spec.logPath}:\n${logTail(spec.logPath)}`);
      const a = await this.tryConnect();
      if (a) return a;
    }
    if (this.stopped) throw new Error('stopping');
    this.o.log.error({ pid }, 'dataplane does not answer on its control socket; killing it');
    process.kill(pid, 'SIGKILL');
    throw new Error(`dataplane pid ${pid} did not answer on ${this.o.ctlPath}`);
  }

  private watch(a: Attachment): Promise<string> {
    const every = this.o.watchIntervalMs ?? 500;
    const staleNs = BigInt(this.o.heartbeatTimeoutMs ?? 5000) * 1_000_000n;
    return new Promise((resolve) => {
      const done = (reason: string): void => {
        clearInterval(t);
        this.wake = null;
        resolve(reason);
      };
      const t = setInterval(() => {
        if (!a.dp.connected) return done('control socket closed');
        if (!processAlive(a.hello.pid)) return done('dataplane process exited');
        if (!a.stats) return;
        let snap;
        try {
          snap = a.stats.snapshot();
        } catch (e) {
          return done(`stats memory unreadable: ${(e as Error).message}`);
        }
        if (snap.bootId !== a.hello.bootId) return done('dataplane restarted (boot id changed)');
        const age = BigInt(Date.now()) * 1_000_000n - snap.heartbeatNs;
        const fresh = age < staleNs;
        if (fresh !== this.healthy) {
          this.o.log.warn({ heartbeatAgeMs: Number(age / 1_000_000n) }, fresh ? 'dataplane heartbeat back' : 'dataplane heartbeat stale');
        }
        this.setHealth(fresh);
      }, every);
      this.wake = () => done('stopping');
    });
  }
}
