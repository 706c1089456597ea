/**
 * The serve configuration (YAML), validated with zod. Errors name the field:
 * "ports[1].device: required". Routes and neighbors are the initial desired
 * state, used only when the state dir is empty (persisted state wins after
 * the first run).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { defaultDataplaneBinary } from '../paths';
import { parseInterfaceAddress, parseIp, parseMac, parsePrefix } from '../model/net';
import { flowSpec } from '../model/flowspec';
import { parseFlow } from '../tables/flow';

const ifName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'interface name: 1-15 characters [A-Za-z0-9_.-]');
const nsName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'namespace name: 1-64 characters [A-Za-z0-9_.-]');
const listen = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT');
const count = (min: number, max: number) => z.number().int().min(min).max(max);
/** The gRPC API also listens on a unix socket: "unix:/run/linerate/api.sock" (absolute path). */
const apiListen = z.string().regex(/^(unix:\/[^\0]+|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/,
  'expected HOST:PORT or unix:/absolute/path');
/** A file mode: a quoted octal string ("0660") or a YAML octal number (0o660); unquoted 0660 is decimal in YAML 1.2. */
const fileMode = z.union([
  z.string().regex(/^0?[0-7]{3}$/, 'octal mode such as "0660"').transform((s) => parseInt(s, 8)),
  z.number().int().min(0).max(0o777, 'at most 0o777: write the mode as a quoted octal string such as "0660"'),
]);
const filePath = z.string().min(1).max(4096);
/** Default address of serve's Prometheus /metrics: loopback only; 9464 is the port OpenTelemetry's Prometheus exporter uses. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';

export const TlsConfig = z.object({
  /** PEM certificate chain and private key of the server. */
  cert: filePath,
  key: filePath,
  /** PEM CA bundle client certificates must chain to (mutual TLS). */
  ca: filePath.optional(),
  /**
   * Refuse clients without a valid certificate signed by `ca`. Defaults to
   * true when `ca` is set; it cannot be false with `ca` (a certificate that
   * is requested but not verified proves nothing) nor true without it.
   */
  requireClientCert: z.boolean().optional(),
}).strict();

export const GrpcConfig = z.object({
  listen: apiListen.default('127.0.0.1:50051'),
  /** Mode of the unix socket file (unix: listen only). */
  socketMode: fileMode.default(0o660),
  /** Server TLS, mutual with `ca`. */
  tls: TlsConfig.optional(),
  /** Every call needs "authorization: Bearer <token>", the token being this file's content (trimmed). */
  token: z.object({ file: filePath }).strict().optional(),
  /** Allow plaintext on a non-loopback TCP address (warned about at every start); also serve --insecure. */
  insecure: z.boolean().default(false),
}).strict();
export type GrpcConfig = z.infer<typeof GrpcConfig>;

export const PortConfig = z.object({
  /** Operator's name, used in every API call. */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,30}$/, 'port name: a letter then up to 30 of [A-Za-z0-9_.-]'),
  /** PCI address (0000:03:00.0) or vdev devargs (net_af_packet0,iface=eth1). */
  device: z.string().min(1).max(191),
  /** RX queues of this port (default dataplane.rxQueues). */
  rxQueues: count(1, 16).optional(),
  mtu: count(68, 9702).optional(),
  /**
   * The port's MAC (unicast), set before the port starts: with DPDK's
   * default-MAC call (NICs), or as mac= in the devargs for memif, which
   * refuses that call. Default: the device's own.
   */
  mac: z.string().optional(),
  addresses: z.array(z.string()).default([]),
  /** Unicast reverse-path check of packets received here (RFC 3704): an ingress edge's anti-spoofing. */
  rpf: z.enum(['off', 'loose', 'strict']).default('off'),
}).strict();

/** RFC 1812 behaviour of the forwarder (dataplane options). */
export const RouterConfig = z.object({
  /** Forward IPv4 sources in 240/4 (reserved; martians by default). */
  allowClassE: z.boolean().default(false),
  /** Drop packets whose source is one of the forwarder's own addresses (a source lookup per packet). */
  dropOwnSource: z.boolean().default(false),
  /** ICMP errors (time exceeded, unreachable, too big) per second per input port; 0 sends none. */
  icmpRate: count(0, 100000).default(100),
  /** Packets held per neighbor while it resolves (Linux's unres_qlen); 0 drops them as no_neighbor. */
  neighborHold: count(0, 256).default(32),
  /** Learned + resolving neighbors per port; the least recently confirmed is evicted beyond it. Default: a quarter of the table. */
  neighborPortLimit: count(1, 1 << 20).optional(),
  /** Learn neighbors only from answers to linerate's own ARP requests / NS (no unsolicited ARP / NA). */
  neighborRepliesOnly: z.boolean().default(false),
  /**
   * Control-plane policing: packets per second per input port that may reach the slow path, by class
   * (LR_PUNT_CLASSES: arp, nd, icmp to our addresses, other to our addresses); 0 leaves a class unpoliced.
   * Unset classes keep the dataplane's defaults (1000, 1000, 1000, 100).
   */
  puntRates: z.object({
    arp: count(0, 10000000).optional(),
    nd: count(0, 10000000).optional(),
    icmp: count(0, 10000000).optional(),
    other: count(0, 10000000).optional(),
  }).strict().default({}),
}).strict();

export const RouteConfig = z.object({
  prefix: z.string(),
  via: z.string().optional(),
  port: z.string(),
}).strict();

export const NeighborConfig = z.object({
  address: z.string(),
  mac: z.string(),
  port: z.string(),
}).strict();

export const LabNamespace = z.object({
  /** Network namespace created for a host. */
  name: nsName,
  /** Host end of the veth pair (the DPDK port opens it with af_packet). */
  veth: ifName,
  /** Namespace end of the veth pair; default VETH-ns. */
  peer: ifName.optional(),
  /** Addresses of the namespace end (CIDR). */
  addresses: z.array(z.string()).default([]),
  /** Default gateways (one per family). */
  gateways: z.array(z.string()).default([]),
}).strict();

/** A flow rule in the readable syntax (model/flowspec.ts), e.g. match: "ip src 10.0.0.0/8 and tcp dport 443". */
const FlowConfig = z.object({
  /** Rule id (the key; unique over both tables). */
  id: count(0, 0xffffffff),
  /** Wildcard rules: 0..65535, higher wins (ties: lower id). */
  priority: count(0, 65535).optional(),
  match: z.string().min(1).max(1024),
  /** drop | continue | forward PORT [via IP] */
  action: z.string().min(1).max(256),
  /** The exact-match (5-tuple) table instead of the wildcard one. */
  exact: z.boolean().optional(),
  /** Port that gets a copy of every matching frame. */
  mirror: z.string().min(1).optional(),
  setDscp: count(0, 63).optional(),
  /** trTCM: "cir=RATE,cbs=BYTES,pir=RATE,pbs=BYTES[,mark=YELLOW/RED]" (bytes/s; k, m, g suffixes). */
  meter: z.string().min(1).max(256).optional(),
}).strict();

export const ConfigSchema = z.object({
  /** Instance name: socket, stats file and EAL file prefix derive from it. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,22}$/, 'name: 1-23 characters [A-Za-z0-9_-]'),
  grpc: GrpcConfig.default(() => ({ listen: '127.0.0.1:50051', socketMode: 0o660, insecure: false })),
  /**
   * Prometheus /metrics endpoint: on by default on loopback. `enabled: false`
   * or `listen: ''` turns it off; port 0 picks a free port (logged, and in
   * `linerate dataplane status`). It is never fatal: when the address cannot
   * be bound, serve logs the error and runs without it.
   */
  metrics: z.object({
    enabled: z.boolean().default(true),
    listen: z.union([z.literal(''), listen]).default(DEFAULT_METRICS_LISTEN),
  }).strict().default(() => ({ enabled: true, listen: DEFAULT_METRICS_LISTEN })),
  /** Desired state (snapshot + journal); default /var/lib/linerate/NAME. */
  stateDir: z.string().min(1).optional(),
  /** Control socket and dataplane log; default /run/linerate/NAME. */
  runDir: z.string().min(1).optional(),
  dataplane: z.object({
    binary: z.string().min(1).default(defaultDataplaneBinary),
    lcores: z.string().regex(/^[0-9,-]+$/, 'lcores: EAL list such as "0,1" or "0-3"').default('0,1'),
    /** Extra EAL arguments; a --lcores there replaces `lcores` (EAL takes one of the two). */
    eal: z.array(z.string()).default([]),
    /** RX queues per port (RSS over them). */
    rxQueues: count(1, 16).default(1),
    rxd: count(64, 16384).default(1024),
    txd: count(64, 16384).default(1024),
    burst: count(1, 64).default(32),
    /** mbufs in the pool; default sized by the dataplane from ports and queues. */
    mbufs: count(1024, 1 << 26).optional(),
    /** Table capacities (dataplane defaults: 1M IPv4 routes, 64K IPv6 routes, 16K neighbors). */
    routes4: count(1024, 1 << 24).optional(),
    routes6: count(1024, 1 << 22).optional(),
    neighbors: count(64, 1 << 20).optional(),
    /** Flow table capacities (dataplane defaults: 65536 wildcard rules, 65536 exact flows). */
    flows: count(64, 1 << 20).optional(),
    flowsExact: count(64, 1 << 24).optional(),
    /** Sleep of an idle worker in µs (0 = pure busy polling). */
    idleSleepUs: count(0, 100000).default(0),
    /** false adds --no-pci (vdevs only). */
    pci: z.boolean().default(false),
    /** Start linerate-dp when no dataplane answers on the control socket. */
    spawn: z.boolean().default(true),
    /**
     * Who may use the control socket (linerate-dp --ctl-*). Root and the
     * dataplane's own uid always may; ctlUid (default: the uid serve runs as)
     * owns the socket and stats file and has reserved connection slots;
     * ctlGid gives both to a group (socket 0660, stats 0640; else 0600).
     */
    ctlUid: count(0, 0xfffffffe).optional(),
    ctlGid: count(0, 0xfffffffe).optional(),
    /** Clients that send no HELLO, leave a message half sent or read no reply are closed after this. */
    ctlTimeoutMs: count(100, 3600000).default(5000),
    /** Idle clients other than ctlUid are closed after this (0 = never). */
    ctlIdleTimeoutS: count(0, 604800).default(300),
  }).strict().default(() => ({
    binary: defaultDataplaneBinary, lcores: '0,1', eal: [], rxQueues: 1, rxd: 1024, txd: 1024, burst: 32,
    idleSleepUs: 0, pci: false, spawn: true, ctlTimeoutMs: 5000, ctlIdleTimeoutS: 300,
  })),
  ports: z.array(PortConfig).min(1),
  router: RouterConfig.default({
    allowClassE: false, dropOwnSource: false, icmpRate: 100, neighborHold: 32, neighborRepliesOnly: false, puntRates: {},
  }),
  routes: z.array(RouteConfig).default([]),
  neighbors: z.array(NeighborConfig).default([]),
  /** Initial flow rules (FlowService), as routes: used while the state dir is empty. */
  flows: z.array(FlowConfig).default([]),
  lab: z.object({ namespaces: z.array(LabNamespace).min(1) }).strict().optional(),
  /** Queue -> worker policy (QueueService.Rebalance run by serve itself). */
  queues: z.object({
    rebalance: z.object({
      /** Seconds between checks; 0 = off (the default). */
      intervalS: count(0, 86400).default(0),
      /** Only when the busiest worker is at least this busy, %. */
      loadThresholdPercent: z.number().min(0).max(100).default(95),
      /** Only when the plan lowers the busiest worker's load by at least this share, %. */
      improvementPercent: z.number().min(0).max(100).default(25),
    }).strict().default(() => ({ intervalS: 0, loadThresholdPercent: 95, improvementPercent: 25 })),
  }).strict().default(() => ({ rebalance: { intervalS: 0, loadThresholdPercent: 95, improvementPercent: 25 } })),
  /**
   * The host as IrqService and CoreService see it: procfs and sysfs roots
   * (a prepared tree in tests) and the CPUs serve pins its own threads to.
   */
  system: z.object({
    procRoot: z.string().min(1).default('/proc'),
    sysRoot: z.string().min(1).default('/sys'),
    /**
     * Pin serve's threads (Node's main thread, libuv pool, V8 workers) at
     * start: a CPU list, or "housekeeping" (online CPUs less the worker
     * lcores, isolcpus and nohz_full). Default: not pinned.
     */
    controlPlaneCpus: z.union([z.literal('housekeeping'),
      z.string().regex(/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/, 'CPU list such as "0" or "0-1,4", or "housekeeping"')]).optional(),
  }).strict().default(() => ({ procRoot: '/proc', sysRoot: '/sys' })),
}).strict().superRefine((cfg, ctx) => {
  const check = (p: (string | number)[], fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      // The parsers prefix their field argument: pass '' and keep the path in `p`.
      ctx.addIssue({ code: 'custom', path: p, message: e instanceof Error ? e.message : String(e) });
    }
  };
  const tls = cfg.grpc.tls;
  if (tls?.requireClientCert === true && tls.ca === undefined) {
    ctx.addIssue({ code: 'custom', path: ['grpc', 'tls', 'ca'], message: 'required with requireClientCert: true' });
  }
  if (tls?.requireClientCert === false && tls.ca !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['grpc', 'tls', 'requireClientCert'],
      message: 'cannot be false with ca (client certificates would be requested but not verified); leave out ca for server-only TLS' });
  }
  const names = new Set<string>();
  cfg.ports.forEach((port, i) => {
    if (names.has(port.name)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `duplicate port name ${port.name}` });
    names.add(port.name);
    port.addresses.forEach((a, j) => check(['ports', i, 'addresses', j], () => parseInterfaceAddress(a, '')));
    if (port.mac !== undefined) {
      check(['ports', i, 'mac'], () => {
        parseMac(port.mac, '');
        if (/(^|,)mac=/.test(port.device)) throw new Error('the device string sets mac= already; give the MAC once');
      });
    }
  });
  const knownPort = (p: (string | number)[], name: string): void => {
    if (!names.has(name)) ctx.addIssue({ code: 'custom', path: p, message: `unknown port ${name}` });
  };
  cfg.routes.forEach((r, i) => {
    check(['routes', i, 'prefix'], () => {
      const pre = parsePrefix(r.prefix, '');
      if (r.via !== undefined) {
        check(['routes', i, 'via'], () => {
          if (parseIp(r.via, '').family !== pre.family) throw new Error(`family differs from ${r.prefix}`);
        });
      }
    });
    knownPort(['routes', i, 'port'], r.port);
  });
  cfg.neighbors.forEach((n, i) => {
    check(['neighbors', i, 'address'], () => parseIp(n.address, ''));
    check(['neighbors', i, 'mac'], () => parseMac(n.mac, ''));
    knownPort(['neighbors', i, 'port'], n.port);
  });
  const flowIds = new Set<number>();
  cfg.flows.forEach((f, i) => {
    if (flowIds.has(f.id)) ctx.addIssue({ code: 'custom', path: ['flows', i, 'id'], message: `duplicate flow id ${f.id}` });
    flowIds.add(f.id);
    check(['flows', i], () => parseFlow(flowSpec(f), 'flow', names, false));
  });
  cfg.lab?.namespaces.forEach((ns, i) => {
    ns.addresses.forEach((a, j) => check(['lab', 'namespaces', i, 'addresses', j], () => parseInterfaceAddress(a, '')));
    ns.gateways.forEach((g, j) => check(['lab', 'namespaces', i, 'gateways', j], () => parseIp(g, '')));
  });
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[], source?: string) {
    super(`${source ? source + ': ' : ''}invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** "ports[1].device" from a zod path. */
export function fieldPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** Validates a parsed object; throws ConfigError listing every issue as "field: message". */
export function parseConfig(input: unknown, source?: string): Config {
  const r = ConfigSchema.safeParse(input, { error: (iss) => (iss.input === undefined ? 'required' : undefined) });
  if (r.success) return r.data;
  const issues = r.error.issues.map((iss) => {
    const msg = iss.message.replace(/^: /, '');
    if (iss.code === 'unrecognized_keys') return `${fieldPath(iss.path) || '(top level)'}: unknown field ${iss.keys.join(', ')}`;
    return `${fieldPath(iss.path) || '(top level)'}: ${msg}`;
  });
  throw new ConfigError(issues, source);
}

/** Reads and validates a config file (YAML or JSON); a ConfigError names each bad field. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([(e as Error).message], file);
  }
  return loadConfigText(text, file);
}

/** Validates a config's text as loadConfigFile does, `source` naming it in errors. */
export function loadConfigText(text: string, source?: string): Config {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError([(e as Error).message], source);
  }
  return parseConfig(doc, source);
}

/** Paths derived from a config (defaults filled). */
export interface Resolved {
  config: Config;
  stateDir: string;
  runDir: string;
  ctlPath: string;
  statsPath: string;
  logPath: string;
  pidPath: string;
  filePrefix: string;
}

export function resolvePaths(config: Config, over: { stateDir?: string; runDir?: string } = {}): Resolved {
  const stateDir = path.resolve(over.stateDir ?? config.stateDir ?? `/var/lib/linerate/${config.name}`);
  const runDir = path.resolve(over.runDir ?? config.runDir ?? `/run/linerate/${config.name}`);
  return {
    config,
    stateDir,
    runDir,
    ctlPath: path.join(runDir, 'ctl.sock'),
    statsPath: `/dev/shm/linerate-${config.name}.stats`,
    logPath: path.join(runDir, 'dataplane.log'),
    pidPath: path.join(runDir, 'dataplane.pid'),
    filePrefix: `linerate-${config.name}`,
  };
}
