/**
 * `linerate serve` in-process: opens the state dir, starts the gRPC server
 * (linerate.v1 services, health checking, reflection) and the supervisor
 * that attaches to (or spawns) the dataplane and reconciles it. Exported
 * for tests: startServer({ config, stateDir, listen: '127.0.0.1:0' }).
 * Transport and authentication (TLS, token, unix socket, plaintext refusal)
 * come from transport.ts; reload() re-reads their files (SIGHUP in serve).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { type Config, ConfigError, type Resolved, resolvePaths } from './config/schema';
import { checkPlaintext, clearStaleSocket, loadTls, readToken, ReloadableServerCredentials, tokenInterceptor,
  unixPath } from './transport';
import { Controller } from './controller';
import { addressInUse, claimInstance } from './instance';
import { type AddonModule, loadAddon } from './dataplane/addon';
import { spawnSpec } from './dataplane/spawn';
import { type Attachment, Supervisor, type SupervisorOptions } from './dataplane/supervisor';
import { createLogger, type Logger } from './log';
import { startMetrics } from './metrics';
import { DesiredState } from './model/state';
import { loadProto } from './proto';
import { captureService } from './services/capture';
import { controlPlaneCpus, coreService } from './services/core';
import { dataplaneService } from './services/dataplane';
import { flowService } from './services/flow';
import { guardService, receiveLimit } from './services/guard';
import { irqService } from './services/irq';
import { neighborService } from './services/neighbor';
import { portService } from './services/port';
import { queueService, startRebalancePolicy } from './services/queue';
import { routeService } from './services/route';
import { statsService } from './services/stats';
import { QueueSettings } from './state/queues';
import { sessionService, upfService } from './services/upf';
import { StateStore } from './state/store';
import { pinControlPlane, threadsCpus } from './system/affinity';
import { addOrder, tableOf } from './tables';
import { type Change, change } from './tables/table';

export interface ServerOptions {
  config: Config;
  /** Override config.stateDir / runDir / grpc.listen ("127.0.0.1:0" picks a free port). */
  stateDir?: string;
  runDir?: string;
  listen?: string;
  log?: Logger;
  /** The addon module (default: build/addon). Tests may pass a fake. */
  addon?: Pick<AddonModule, 'Dataplane' | 'StatsReader' | 'limits' | 'dropReasons' | 'rssFields' | 'rssGroups'>;
  /** serve --insecure: allow plaintext on a non-loopback address (as grpc.insecure: true). */
  insecure?: boolean;
  /** Call reload() on SIGHUP until stop() (serve does; tests may). */
  reloadOnSighup?: boolean;
  /** Override config.metrics.listen ("" = off, port 0 = any free port). */
  metricsListen?: string;
  /** Override config.dataplane.spawn. */
  spawn?: boolean;
  /** The file `config` was read from: named in the collision errors a second instance gets (instance.ts). */
  configFile?: string;
  /**
   * Runs once the state dir is locked and the gRPC port bound, before the
   * dataplane is attached or spawned (serve creates the lab here, so that a
   * second serve that cannot start never touches the first one's lab).
   */
  beforeAttach?: () => Promise<void>;
  /** Supervisor timings (tests). */
  timings?: Partial<Pick<SupervisorOptions, 'connectTimeoutMs' | 'startTimeoutMs' | 'watchIntervalMs' | 'heartbeatTimeoutMs' | 'backoffMinMs' | 'backoffMaxMs'>>;
}

export interface LinerateServer {
  /** "host:port" actually bound, or "unix:/path". */
  address: string;
  port: number;
  paths: Resolved;
  controller: Controller;
  supervisor: Supervisor;
  health: HealthImplementation;
  log: Logger;
  /** "host:port" /metrics is served on, "" when off or when its address could not be bound. */
  metricsAddress: string;
  waitAttached(timeoutMs: number): Promise<Attachment>;
  /**
   * Reads the TLS files and the token file again; new connections and calls
   * use them. On any error the old ones stay in force and the error is thrown.
   */
  reload(): void;
  /** Closes gRPC and detaches; the dataplane keeps running unless stopDataplane. */
  stop(opts?: { stopDataplane?: boolean }): Promise<void>;
}

/** The config's entries of every table as changes (initial desired state), dependencies first. */
export function initialChanges(config: Config): Change[] {
  return addOrder.flatMap((t) => (t.fromConfig?.(config) ?? []).map((entry) => change(t, 'add', entry)));
}

function seed(config: Config): DesiredState {
  const state = new DesiredState();
  for (const c of initialChanges(config)) {
    try {
      state.applyChanges([c]);
    } catch {
      throw new ConfigError([`${c.kind} ${tableOf(c.kind).describe(c.entry)}: defined twice`]);
    }
  }
  return state;
}

function bind(server: grpc.Server, listen: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(listen, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Binds a unix socket with mode `mode`: created 0600 (umask) so that no one else can connect before the chmod. */
async function bindUnix(server: grpc.Server, file: string, creds: grpc.ServerCredentials, mode: number): Promise<void> {
  await clearStaleSocket(file);
  const old = process.umask(0o177);
  try {
    await bind(server, `unix:${file}`, creds);
  } finally {
    process.umask(old);
  }
  fs.chmodSync(file, mode);
}

export async function startServer(opts: ServerOptions): Promise<LinerateServer> {
  const { config } = opts;
  const log = opts.log ?? createLogger();
  const paths = resolvePaths(config, { stateDir: opts.stateDir, runDir: opts.runDir });
  const addon = opts.addon ?? loadAddon();
  const listen = opts.listen ?? config.grpc.listen;
  // Transport settings are checked and their files read before anything else is touched.
  const plaintextWarning = checkPlaintext(config.grpc, listen, !!opts.insecure);
  const tlsCfg = config.grpc.tls;
  const creds = tlsCfg
    ? new ReloadableServerCredentials(loadTls(tlsCfg), tlsCfg.requireClientCert ?? tlsCfg.ca !== undefined)
    : grpc.ServerCredentials.createInsecure();
  const tokenFile = config.grpc.token?.file;
  let token = tokenFile !== undefined ? readToken(tokenFile) : null;
  if (plaintextWarning) log.warn(plaintextWarning);

  // Another serve of the same name or run dir would take over this one's dataplane.
  const metricsListen = config.metrics.enabled ? (opts.metricsListen ?? config.metrics.listen) : '';
  const releaseInstance = claimInstance(paths, { spawns: opts.spawn ?? config.dataplane.spawn, metricsListen, configFile: opts.configFile });
  const store = new StateStore(paths.stateDir, { log });
  let state: DesiredState;
  try {
    const loaded = await store.open();
    state = loaded.state;
    if (loaded.fresh) {
      state = seed(config);
      store.compact(state);
      log.info({ dir: paths.stateDir, ...state.size }, 'state dir initialised from the config');
    } else {
      log.info({ dir: paths.stateDir, ...state.size }, 'state loaded');
    }
  } catch (e) {
    store.close();
    releaseInstance();
    throw e;
  }

  const { packageDefinition, services, serviceNames } = loadProto();
  const health = new HealthImplementation({ '': 'NOT_SERVING', ...Object.fromEntries(serviceNames.map((s) => [s, 'NOT_SERVING'])) });
  const setHealth = (ok: boolean): void => {
    for (const s of ['', ...serviceNames]) health.setStatus(s, ok ? 'SERVING' : 'NOT_SERVING');
  };

  let supervisor: Supervisor | undefined;
  let queueSettings: QueueSettings;
  try {
    queueSettings = new QueueSettings(paths.stateDir);
  } catch (e) {
    store.close();
    releaseInstance();
    throw e;
  }
  const controller = new Controller({
    state,
    store,
    limits: { maxBatch: addon.limits.maxBatch, maxEcmp: addon.limits.maxEcmp },
    log,
    portMtu: new Map(config.ports.filter((p) => p.mtu !== undefined).map((p) => [p.name, p.mtu!])),
    attachment: () => supervisor?.attachment ?? null,
    afterAttach: (a) => queueSettings.apply(a, log),
  });
  supervisor = new Supervisor({
    ctlPath: paths.ctlPath,
    spawn: (opts.spawn ?? config.dataplane.spawn) ? spawnSpec(paths) : null,
    addon,
    log,
    onAttach: (a) => controller.onAttach(a),
    onHealth: setHealth,
    ...opts.timings,
  });

  const metricsInfo = { name: config.name, ctlPath: paths.ctlPath, logPath: paths.logPath, address: '' };
  // A full batch (65536 routes with next hops) is well over gRPC's 4 MiB default; the
  // limit is the largest valid batch (arithmetic in receiveLimit), nothing more.
  const recvLimit = receiveLimit(addon.limits.maxBatch, addon.limits.maxEcmp);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': recvLimit,
    'grpc.max_send_message_length': 64 << 20,
    interceptors: token ? [tokenInterceptor(() => token)] : [],
  });
  server.addService(...guardService(services.PortService.service, portService(controller, log)));
  server.addService(...guardService(services.RouteService.service, routeService(controller, log), {
    rawRequests: ['Write', 'AddRoutes', 'DeleteRoutes'], rawResponses: ['ListRoutes'],
  }));
  server.addService(...guardService(services.NeighborService.service, neighborService(controller, log)));
  server.addService(...guardService(services.StatsService.service, statsService(controller, log)));
  server.addService(...guardService(services.FlowService.service, flowService(controller, log)));
  server.addService(...guardService(services.SessionService.service, sessionService(controller, log)));
  server.addService(...guardService(services.UpfService.service, upfService(controller, addon.dropReasons, log)));
  server.addService(...guardService(services.DataplaneService.service,
    dataplaneService(controller, supervisor, metricsInfo, log)));
  server.addService(...guardService(services.CaptureService.service,
    captureService(controller, { runDir: paths.runDir, dropReasons: addon.dropReasons }, log)));
  server.addService(...guardService(services.QueueService.service, queueService(controller, queueSettings, log, { fields: addon.rssFields, groups: addon.rssGroups })));
  const system = config.system;
  server.addService(...guardService(services.IrqService.service, irqService({
    roots: { procRoot: system.procRoot, sysRoot: system.sysRoot }, stateDir: paths.stateDir, dataplane: config.dataplane }, log)));
  // The native affinity call is a plain system call: the real addon's, also next to a fake dataplane.
  const setAffinity = () => loadAddon().setThreadAffinity;
  server.addService(...guardService(services.CoreService.service, coreService(controller,
    { sysRoot: system.sysRoot, dataplane: config.dataplane, setAffinity }, log)));
  health.addToServer(server);
  // Reflection also describes grpc.health.v1 so that grpcurl can call it.
  const healthDefinition = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);

  const sockFile = unixPath(listen);
  let port = 0;
  try {
    if (sockFile !== null) await bindUnix(server, sockFile, creds, config.grpc.socketMode);
    else port = await bind(server, listen, creds);
  } catch (e) {
    server.forceShutdown();
    store.close();
    releaseInstance();
    if (e instanceof ConfigError) throw e;
    throw new Error(addressInUse(listen, e as Error) ?? `cannot listen on ${listen}: ${(e as Error).message}`);
  }
  const address = sockFile !== null ? listen : `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  log.info({ address, tls: tlsCfg ? (tlsCfg.ca ? 'mutual' : 'server') : 'off', token: token !== null,
    ...(sockFile !== null ? { mode: config.grpc.socketMode.toString(8) } : {}) }, 'gRPC listening');

  const reload = (): void => {
    // Everything is read before anything is swapped: a bad file changes nothing.
    const nextTls = tlsCfg ? loadTls(tlsCfg) : null;
    const nextToken = tokenFile !== undefined ? readToken(tokenFile) : null;
    if (nextTls && creds instanceof ReloadableServerCredentials) creds.update(nextTls);
    token = nextToken;
    log.info({ tls: !!nextTls, token: nextToken !== null }, 'credentials reloaded');
  };
  const onSighup = (): void => {
    try {
      reload();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'reload failed; the previous credentials stay in force');
    }
  };
  if (opts.reloadOnSighup) process.on('SIGHUP', onSighup);

  let metrics: http.Server | undefined;
  if (metricsListen !== '') {
    try {
      metrics = await startMetrics(metricsListen, controller, supervisor);
      const a = metrics.address() as AddressInfo;
      metricsInfo.address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      log.info({ address: metricsInfo.address }, 'Prometheus metrics on /metrics');
    } catch (e) {
      // Observability must not take the control plane down: run without it, loudly.
      log.error({ address: metricsListen, err: (e as Error).message }, 'cannot serve /metrics; running without it');
    }
  }

  if (system.controlPlaneCpus !== undefined) {
    // Before the dataplane is attached or spawned: what serve starts from now on inherits it.
    try {
      const cpus = controlPlaneCpus(system.controlPlaneCpus, system.sysRoot, config.dataplane, 'system.controlPlaneCpus');
      log.info({ cpus: threadsCpus(pinControlPlane(setAffinity(), cpus)) }, 'control plane pinned');
    } catch (e) {
      server.forceShutdown();
      process.off('SIGHUP', onSighup);
      metrics?.close();
      store.close();
      releaseInstance();
      throw new ConfigError([(e as Error).message]);
    }
  }
  if (opts.beforeAttach) {
    try {
      await opts.beforeAttach();
    } catch (e) {
      server.forceShutdown();
      process.off('SIGHUP', onSighup);
      metrics?.close();
      store.close();
      releaseInstance();
      throw e;
    }
  }
  supervisor.start();
  controller.startSampling();
  const stopRebalance = startRebalancePolicy(controller, queueSettings, config.queues.rebalance, log);
  const sup = supervisor;

  let stopped = false;
  return {
    address,
    port,
    paths,
    controller,
    supervisor: sup,
    health,
    log,
    get metricsAddress() { return metricsInfo.address; },
    waitAttached: (ms) => sup.waitAttached(ms),
    reload,
    async stop(o = {}) {
      if (stopped) return;
      stopped = true;
      process.off('SIGHUP', onSighup);
      setHealth(false);
      controller.stopSampling();
      stopRebalance();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
        server.tryShutdown(() => { clearTimeout(t); resolve(); });
      });
      // grpc-js leaves the socket file behind; it is ours (bindUnix made it).
      if (sockFile !== null) fs.rmSync(sockFile, { force: true });
      metrics?.close();
      // Let a write in flight finish (journal included) before closing the store.
      await controller.exclusive(async () => undefined);
      await sup.stop();
      if (o.stopDataplane && (await sup.stopDataplane())) {
        // DPDK leaves its runtime dir behind even with --in-memory.
        fs.rmSync(path.join(process.getuid?.() === 0 ? '/var/run/dpdk' : `${process.env.XDG_RUNTIME_DIR ?? '/tmp'}/dpdk`,
          paths.filePrefix), { recursive: true, force: true });
      }
      store.close();
      releaseInstance();
    },
  };
}
