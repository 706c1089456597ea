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
  neighBatch(ops: NeighEntry[]): Promise<void>;
  neighDump(family?: 0 | Family): Promise<NeighEntry[]>;
  statsClear(): Promise<void>;
  /** Starts a capture (lr_capture_start); rejects INVALID_ARGUMENT naming "capture.<field>", FAILED_PRECONDITION while one runs. */
  captureStart(c: CaptureStart): Promise<CaptureInfo>;
  /** Stops the running capture (the file is complete once this resolves). */
  captureStop(): Promise<CaptureInfo>;
  captureInfo(): Promise<CaptureInfo>;
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

export interface AddonModule {
  Dataplane: new () => Dataplane;
  StatsReader: new (statsPath: string) => StatsReader;  // mmaps read-only; throws if magic/version mismatch
  dropReasons: string[];           // index = enum lr_drop_reason
  dropReasonHelp: string[];
  protocolVersion: number;         // LR_CTL_VERSION
  limits: { maxPorts: number; maxQueues: number; maxWorkers: number; maxEcmp: number; maxBatch: number };
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
