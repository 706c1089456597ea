/**
 * Typed face of the native addon (addon/, built by cmake-js into
 * build/addon/Release/linerate_addon.node). The addon is the only code that
 * speaks the dataplane's control protocol (dataplane/include/lr_ctl.h) and
 * maps its stats memory (lr_stats.h); everything here is plain JS values:
 * addresses are strings, never bytes.
 *
 * Every method that talks to the socket runs off the JS thread and returns
 * a Promise. A failed request rejects with a DataplaneError whose `code` is
 * a gRPC status code (lr_status values are gRPC codes) and, for batches,
 * `index` = the first failing entry.
 */
import * as path from 'node:path';

export type Family = 4 | 6;
export type BatchOp = 'add' | 'del' | 'replace';

export interface HelloInfo {
  version: number;
  pid: number;
  bootId: bigint;
  startTimeNs: bigint;
  nPorts: number;
  nWorkers: number;
  statsPath: string;
  name: string;
}

export interface PortInfo {
  portId: number;
  name: string;
  driver: string;
  device: string;
  mac: string;          // "aa:bb:cc:dd:ee:ff"
  rxQueues: number;
  txQueues: number;
  mtu: number;
  linkUp: boolean;
  adminUp: boolean;
  speedMbps: number;
  dpdkPortId: number;
  rxOffloads: bigint;
  txOffloads: bigint;
}

export interface PortSet { portId: number; mtu?: number; adminUp?: boolean }

export interface AddrEntry { op?: BatchOp; portId: number; address: string; prefixLen: number }

export interface NextHop { portId: number; via?: string; weight?: number } // via absent = on-link

export interface RouteEntry {
  op?: BatchOp;          // batches only
  prefix: string;        // "10.0.0.0/8", "2001:db8::/32"
  nextHops: NextHop[];   // may be empty for 'del'
  connected?: boolean;   // dumps: installed by a port address
}

export type NeighState = 'static' | 'learned' | 'incomplete';
export interface NeighEntry {
  op?: BatchOp;          // batches only; batches push static entries
  portId: number;
  address: string;
  mac: string;
  state?: NeighState;    // dumps
  ageSeconds?: number;   // dumps
}

/** Flow tables (lr_flow.h): a wildcard rule (rte_acl) or an exact 5-tuple flow (rte_hash). */
export type FlowTableName = 'wildcard' | 'exact';
export type FlowAction = 'continue' | 'drop' | 'forward';
export interface FlowEntry {
  op?: BatchOp;          // batches only; 'del' reads table and id
  table: FlowTableName;
  id: number;            // rule id: one key space over both tables
  family?: Family;       // required but for 'del'
  priority?: number;     // wildcard: 0..65535, higher wins; ties: lower id wins
  action?: FlowAction;   // required but for 'del'
  inPort?: number;       // absent: any port
  proto?: number;        // absent: any protocol
  src?: string;          // prefix "10.0.0.0/8"; absent: /0 (dumps: always set)
  dst?: string;
  sportLo?: number; sportHi?: number;  // inclusive; absent: 0 / 65535
  dportLo?: number; dportHi?: number;
  dscp?: number; dscpMask?: number;
  tcpFlags?: number; tcpFlagsMask?: number;
  outPort?: number;      // forward
  via?: string;          // forward: gateway; absent = on-link
  mirrorPort?: number;   // present: mirror a copy of the frame as received
  setDscp?: number;      // present: rewrite the DSCP
  meter?: FlowMeter;     // present: trTCM per worker
  packets?: bigint;      // dumps: counters summed over workers
  bytes?: bigint;
}
/** trTCM (RFC 2698, colour-blind): rates in bytes per second, bursts in bytes. */
export interface FlowMeter {
  cir: number; cbs: number; pir: number; pbs: number;
  mode: 'drop-red' | 'mark';
  yellowDscp?: number; redDscp?: number;   // mark
}
/** One (port, RX queue) of the queue map (lr_queue_entry). */
export interface QueueEntry {
  portId: number;
  queue: number;
  worker: number;
  lcore: number;
  version: number;       // map version: 1 at start, +1 per applied move batch
  moves: number;         // times this queue was moved
  lastMoveNs: bigint;    // the last move batch's request-to-live time
}
export interface QueueMove { portId: number; queue: number; worker: number }

/** An RSS redirection table in the device's layout (lr_reta): retaSize / 64 groups of 64 entries with masks. */
export interface RetaGroup { mask: bigint; queues: number[] }
export interface Reta { portId: number; retaSize: number; rxQueues?: number; groups: RetaGroup[] }
/** A port's RSS hash fields (lr_rss_conf), as names of AddonModule.rssFields. */
export interface RssConf { portId: number; rxQueues: number; rssHf: bigint; fields: string[]; supported: string[]; defaults: string[] }

export interface FlowStats {
  wildcardRules: number; exactRules: number; wildcardMax: number; exactMax: number;
  aclBytes: bigint; exactBytes: bigint; lastBuildNs: bigint; builds: bigint; meters: number;
}

/* ---- UPF (dataplane/include/lr_upf.h, addon/src/upf_js.h) ---- */
export type UpfInterface = 'access' | 'core';
export interface UpfPdr {
  id: number;
  precedence: number;
  sourceInterface: UpfInterface;
  qfi?: number;            // access: match this QFI; absent: any
  teid?: number;           // access: local F-TEID
  n3Address?: string;
  outerHeaderRemoval?: boolean;  // access (dumps: always true)
  ueAddress?: string;      // core: the UE IP
  farId: number;
  qerIds: number[];
  urrIds: number[];
}
export interface UpfFar {
  id: number;
  action: 'drop' | 'forward' | 'buffer';
  destinationInterface?: UpfInterface;   // forward
  outerHeaderCreation?: { teid: number; address: string; qfi: number };
}
export interface UpfQer {
  id: number; gateUl: 'open' | 'closed'; gateDl: 'open' | 'closed';
  mbrUl: number | bigint; mbrDl: number | bigint;   // bits/s, 0 = none (dumps: bigint)
  qfi: number;
}
export interface UpfUrr {
  id: number;
  ulPackets?: bigint; ulBytes?: bigint; dlPackets?: bigint; dlBytes?: bigint;   // reads
}
export interface UpfSessionEntry {
  /** batches: create / modify / delete, or the table ops add / replace / del */
  op?: BatchOp | 'create' | 'modify' | 'delete';
  seid: string | bigint;   // dumps: bigint
  pdrs: UpfPdr[];
  fars: UpfFar[];
  qers: UpfQer[];
  urrs: UpfUrr[];
}
export interface UpfResult { seid: bigint; code: number; message: string }
export interface UpfConfigEntry {
  op?: BatchOp;
  n3Address: string;
  /** port id -> interface */
  ports: Record<string, UpfInterface>;
}
export interface UpfStats {
  sessions: number; sessionsMax: number; ulKeys: number; dlKeys: number; bytes: bigint;
  counters: Record<string, bigint>;   // LR_UPF_COUNTERS names
}

export interface DataplaneError extends Error {
  code: number;          // gRPC status code
  index?: number;        // failing batch entry
}

export interface Dataplane {
  /**
   * Connects to the control socket and performs the versioned handshake.
   * Retries while the socket is missing or refuses, until timeoutMs; the
   * same timeout then bounds every later request's wait for its reply (a
   * timeout closes the connection: code 14).
   */
  connect(ctlPath: string, timeoutMs: number): Promise<HelloInfo>;
  /** Closes the connection; queued requests reject with code 14. */
  close(): void;
  readonly connected: boolean;
  portList(): Promise<PortInfo[]>;
  portSet(ops: PortSet[]): Promise<void>;
  addrBatch(ops: AddrEntry[]): Promise<void>;
  addrDump(): Promise<AddrEntry[]>;
  routeBatch(ops: RouteEntry[]): Promise<void>;
  routeDump(family?: 0 | Family): Promise<RouteEntry[]>;
  /** A RouteBatch (the route write path) as one all-or-nothing batch; `ports` maps its port names to ids. */
  routeBatchNative(batch: RouteBatch, ports: Readonly<Record<string, number>>): Promise<void>;
  /**
   * Reconcile of the FIB with a RouteStore, in C++: dumps every route and
   * diffs it with the table (optional: the fake dataplane has none).
   */
  routeReconcilePlan?(store: RouteStore, ports: Readonly<Record<string, number>>): Promise<RoutePlan>;
  /** Pushes a plan's deletions or additions; refused entries are left out and reported. */
  routePlanPush?(plan: RoutePlan, which: 'del' | 'add', maxBatch: number): Promise<{ pushed: number; refused: string[] }>;
  neighBatch(ops: NeighEntry[]): Promise<void>;
  neighDump(family?: 0 | Family): Promise<NeighEntry[]>;
  statsClear(): Promise<void>;
  flowBatch(ops: FlowEntry[]): Promise<void>;
  flowDump(family?: 0 | Family): Promise<FlowEntry[]>;
  /** One entry: the tables' sizes and the last classifier build. */
  flowStats(): Promise<FlowStats[]>;
  /** The (port, RX queue) -> worker map, port-major. */
  queueMap(): Promise<QueueEntry[]>;
  /** Moves queues between workers, all-or-nothing (RCU: never polled by two workers). */
  queueMove(moves: QueueMove[]): Promise<void>;
  /** The port's RSS redirection table; FAILED_PRECONDITION when the device has none. */
  retaGet(portId: number): Promise<Reta>;
  /** Writes the masked entries of `reta`; resolves with the table read back. */
  retaSet(reta: Reta): Promise<Reta>;
  /** One port's RX queue count (0: unchanged; txQueues: 0 or the worker count): that port is stopped, reconfigured and started; the others keep forwarding. */
  portQueues(ports: { portId: number; rxQueues: number; txQueues?: number }[]): Promise<void>;
  /** The port's RSS hash fields (names of rssFields); with `fields`, writes them first (read back). */
  rssConf(portId: number, fields?: string[]): Promise<RssConf>;
  /** Starts a capture (lr_capture_start); rejects INVALID_ARGUMENT naming "capture.<field>", FAILED_PRECONDITION while one runs. */
  captureStart(c: CaptureStart): Promise<CaptureInfo>;
  /** Stops the running capture (the file is complete once this resolves). */
  captureStop(): Promise<CaptureInfo>;
  captureInfo(): Promise<CaptureInfo>;
  /** Each session whole or not at all, independently: one result per session, in order. */
  upfSessionBatch(sessions: UpfSessionEntry[]): Promise<UpfResult[]>;
  /** All or nothing (the desired-state table); rejects with the failing session's index. */
  upfSessionWrite(ops: UpfSessionEntry[]): Promise<void>;
  /** One session with its URR counters; NOT_FOUND rejects. */
  upfSessionRead(seid: string | bigint): Promise<UpfSessionEntry>;
  upfSessionDump(): Promise<UpfSessionEntry[]>;
  /** The configuration as a one-entry table: 'del' clears it. */
  upfConfigWrite(ops: UpfConfigEntry[]): Promise<void>;
  upfConfigDump(): Promise<UpfConfigEntry[]>;
  upfStats(): Promise<UpfStats>;
}

/** A capture as the dataplane takes it (lr_ctl.h lr_capture_start). */
export interface CaptureStart {
  portId: number;
  queue?: number;          // absent = every queue
  rx: boolean;
  tx: boolean;
  dropReason?: number;     // index in dropReasons: capture what it dropped (rx/tx false)
  snaplen: number;         // 0 = 65535
  rate: number;            // frames/s, 0 = 10000
  count: number;           // 0 = until stopped
  filter: string;          // tcpdump expression
  path: string;            // pcapng file the dataplane creates
}
export interface CaptureInfo {
  state: 'idle' | 'running' | 'done';
  id: number;
  written: bigint; matched: bigint; ringFull: bigint; rateLimited: bigint;
}

/* Stats memory snapshot: every counter is a bigint (64-bit counters). */
export interface RxQueueStats {
  rxPackets: bigint; rxBytes: bigint; fwdPackets: bigint; puntPackets: bigint;
  drops: Record<string, bigint>;   // keyed by dropReasons names
  worker: number;                  // -1 = queue not polled
}
export interface TxQueueStats { txPackets: bigint; txBytes: bigint; txDropped: bigint }
export interface WorkerStats {
  lcoreId: number; rxQueues: number; polls: bigint; busyPolls: bigint;
  busyCycles: bigint; idleCycles: bigint; rxPackets: bigint; txPackets: bigint;
  drops: bigint; rcuQuiescent: bigint;
}
export interface PortHwStats {
  name: string; ipackets: bigint; opackets: bigint; ibytes: bigint; obytes: bigint;
  imissed: bigint; ierrors: bigint; oerrors: bigint; rxNombuf: bigint;
  linkUp: boolean; speedMbps: number; rxQueues: number; txQueues: number;
  rxq: RxQueueStats[];   // length rxQueues
  txq: TxQueueStats[];   // length txQueues
}
export interface StatsSnapshot {
  tscHz: bigint; bootId: bigint; startTimeNs: bigint; heartbeatNs: bigint;
  pid: number; nPorts: number; nWorkers: number;
  /** The packet pool: mbufs in it and in use (rte_mempool_in_use_count: per-lcore caches count as free). */
  mbufs: { size: bigint; inUse: bigint };
  takenNs: bigint;   // CLOCK_MONOTONIC-based process.hrtime.bigint() at the copy
  slow: Record<string, bigint>;   // LR_SLOW_COUNTERS fields, snake_case as in lr_stats.h
  ports: PortHwStats[];
  workers: WorkerStats[];
}

export interface StatsReader {
  /** Copies the stats memory (no syscall) and decodes it. */
  snapshot(): StatsSnapshot;
  close(): void;
}

/* ---- the route write path (addon/src/route_js.h) ---- */

export type RouteMethod = 'Write' | 'AddRoutes' | 'DeleteRoutes';
export type RouteOp = 'add' | 'mod' | 'del';
/** A route in model form (control/src/tables/route.ts's Route): port names, canonical text. */
export interface ModelNextHop { port: string; via?: string; weight?: number }
export interface ModelRoute { prefix: string; family: Family; nextHops: ModelNextHop[] }

/** A decoded route write, held in C++. */
export interface RouteBatch {
  readonly length: number;
  /** The batch that undoes this one (after RouteStore.check), in reverse order. */
  inverse(): RouteBatch;
  /** As the addon's RouteEntry objects (the fake dataplane applies these). */
  toEntries(ports: Readonly<Record<string, number>>): RouteEntry[];
  toRoutes(): { op: RouteOp; route: ModelRoute }[];
  /** Frees the batch's memory now (it is empty afterwards). */
  release(): void;
}

export interface RouteBatchClass {
  /**
   * Decodes a Write / AddRoutes / DeleteRoutes request's protobuf bytes on a
   * worker thread. Resolves with the batch, or with the reason (a string)
   * it is not for the fast path: the caller then runs the full validation,
   * whose error names the field.
   */
  decode(method: RouteMethod, bytes: Buffer, maxEcmp: number): Promise<RouteBatch | string>;
  /** A batch of model routes (validated, canonical). */
  fromRoutes(updates: readonly { op: RouteOp; prefix: string; nextHops: readonly ModelNextHop[] }[]): RouteBatch;
}

/** The desired route table, in C++ (addon/src/route_store.h), with its own snapshot + journal files. */
export interface RouteStore {
  /** Loads dir's routes.snap + routes.journal and keeps the journal open; returns the last seq. */
  load(dir: string): number;
  /** Writes the table as dir's snapshot, empties the journal, keeps it open. */
  compact(dir: string): void;
  close(): void;
  readonly size: number;
  readonly seq: number;
  count(family?: Family): number;
  get(prefix: string): ModelRoute | undefined;
  /** null if `batch` holds against the table (and its ports exist), else why not; records what it replaces. */
  check(batch: RouteBatch, ports: readonly string[], maxBatch: number): string | null;
  /** Journals (fdatasync) and applies, on a worker thread. */
  commit(batch: RouteBatch): Promise<void>;
  /** commit's first half, on a worker thread: the batch's journal record, durable; the table unchanged. */
  journal(batch: RouteBatch): Promise<void>;
  /** commit's second half, on a worker thread: the batch applied to the table. */
  apply(batch: RouteBatch): Promise<void>;
  /** Applies in memory only, tolerantly (journal replays, seeds). */
  applyMemory(batch: RouteBatch): void;
  /** A frozen copy for a long read. */
  snapshot(): RouteSnapshot;
}

/** What reconcile pushes into the FIB (Dataplane.routeReconcilePlan). */
export interface RoutePlan {
  readonly dels: number;
  readonly adds: number;
  /** non-connected routes the FIB held */
  readonly dumped: number;
  /** desired routes through a port the dataplane lacks ("route 10.0.0.0/8 via p9") */
  readonly unknownPort: string[];
}

export interface RouteSnapshot {
  readonly length: number;
  /** The next n routes, or null at the end. */
  next(n: number): ModelRoute[] | null;
  /** The next ListRoutesResponse message of up to n routes of `family` (0: both), or null at the end. */
  encodePage(family: 0 | Family, n: number): Buffer | null;
}

export interface AddonModule {
  RouteBatch: RouteBatchClass;
  RouteStore: new () => RouteStore;
  Dataplane: new () => Dataplane;
  StatsReader: new (statsPath: string) => StatsReader;  // mmaps read-only; throws if magic/version mismatch
  dropReasons: string[];           // index = enum lr_drop_reason
  dropReasonHelp: string[];
  /** RSS hash field names (lr_ctl.h LR_RSS_FIELDS, RTE_ETH_RSS_* bit order). */
  rssFields: string[];
  /** DPDK's groups of them (RTE_ETH_RSS_IP, _TCP ...): name -> fields. */
  rssGroups: Record<string, string[]>;
  protocolVersion: number;         // LR_CTL_VERSION
  limits: { maxPorts: number; maxQueues: number; maxWorkers: number; maxEcmp: number; maxBatch: number };
  /** sched_setaffinity of thread `tid` (0: the caller); throws an Error with `errno`. */
  setThreadAffinity(tid: number, cpus: number[]): void;
  /** sched_getaffinity of thread `tid`: its CPUs, sorted. */
  getThreadAffinity(tid: number): number[];
}

let cached: AddonModule | undefined;

/** Loads the addon from build/addon (LINERATE_ADDON overrides the path). */
export function loadAddon(): AddonModule {
  if (!cached) {
    const root = path.resolve(__dirname, '..', '..', '..', '..');
    const file = process.env.LINERATE_ADDON ?? path.join(root, 'build', 'addon', 'Release', 'linerate_addon.node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(file) as AddonModule;
  }
  return cached;
}
