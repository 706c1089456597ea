/**
 * An in-memory stand-in for the addon's Dataplane and StatsReader, for unit
 * tests of the control-plane logic only (validation, write ordering,
 * reconcile, supervision). It keeps the protocol's semantics that the
 * control plane relies on: ADD of an existing key and DEL of a missing one
 * fail, a batch is all or nothing and a failure names the entry index.
 * Integration tests (control/test/integration) use the real dataplane.
 */
import type * as dp from '../../src/dataplane/addon';
import { subnetOf } from '../../src/model/net';

export const fakeLimits = { maxPorts: 16, maxQueues: 16, maxWorkers: 32, maxEcmp: 8, maxBatch: 64 };

function err(code: number, message: string, index?: number): dp.DataplaneError {
  const e = new Error(message) as dp.DataplaneError;
  e.code = code;
  if (index !== undefined) e.index = index;
  return e;
}

/** Shared state of one fake dataplane "process" (survives reconnections, not restarts). */
export class FakeWorld {
  ports: dp.PortInfo[];
  addrs = new Map<string, dp.AddrEntry>();
  routes = new Map<string, dp.RouteEntry>();
  neighs = new Map<string, dp.NeighEntry>();
  bootId = 1n;
  pid = process.pid;
  alive = true;
  batches: { kind: string; n: number }[] = [];
  /** Makes the next batch fail at this index with this code. */
  failNext: { index: number; code: number; message: string } | null = null;
  /** Entries (by key) the dataplane always refuses, to test reconcile skipping. */
  refuse = new Set<string>();
  rxPackets = 0n;
  busyCycles = 0n;
  connections: FakeDataplane[] = [];
  heartbeatNs: bigint | null = null;

  constructor(portNames: string[] = ['p0', 'p1']) {
    this.ports = portNames.map((name, i) => ({
      portId: i, name, driver: 'net_null', device: `net_null${i}`, mac: `02:00:00:00:00:0${i}`, rxQueues: 1, txQueues: 1,
      mtu: 1500, linkUp: true, adminUp: true, speedMbps: 10000, dpdkPortId: i, rxOffloads: 0n, txOffloads: 0n,
    }));
  }

  /** Simulates a dataplane restart: empty tables, new boot id, connections dropped. */
  restart(): void {
    this.addrs.clear();
    this.routes.clear();
    this.neighs.clear();
    this.bootId++;
    for (const c of this.connections) c.drop();
  }

  private apply<T extends { op?: dp.BatchOp }>(kind: string, table: Map<string, T>, ops: T[], key: (e: T) => string,
    check: (e: T, i: number) => void): void {
    if (this.failNext) {
      const f = this.failNext;
      this.failNext = null;
      throw err(f.code, f.message, f.index);
    }
    const shadow = new Map(table);
    ops.forEach((e, i) => {
      check(e, i);
      const k = key(e);
      if (this.refuse.has(k)) throw err(3, `refused ${k}`, i);
      if (e.op === 'add' && shadow.has(k)) throw err(6, `${k} exists`, i);
      if (e.op === 'del' && !shadow.has(k)) throw err(5, `${k} not found`, i);
      if (e.op === 'del') shadow.delete(k);
      else shadow.set(k, { ...e, op: undefined });
    });
    table.clear();
    for (const [k, v] of shadow) table.set(k, v);
    this.batches.push({ kind, n: ops.length });
  }

  portCheck = (portId: number, i: number): void => {
    if (!this.ports.some((p) => p.portId === portId)) throw err(5, `port_id ${portId}: unknown port`, i);
  };

  addrBatch(ops: dp.AddrEntry[]): void {
    this.apply('address', this.addrs, ops, (a) => a.address, (a, i) => this.portCheck(a.portId, i));
  }
  routeBatch(ops: dp.RouteEntry[]): void {
    this.apply('route', this.routes, ops, (r) => r.prefix, (r, i) => {
      for (const nh of r.nextHops) this.portCheck(nh.portId, i);
      if (r.op !== 'del' && r.nextHops.length === 0) throw err(3, 'n_nexthops: 0', i);
    });
  }
  neighBatch(ops: dp.NeighEntry[]): void {
    this.apply('neighbor', this.neighs, ops.map((n) => ({ ...n, state: 'static' as const })), (n) => `${n.portId}|${n.address}`,
      (n, i) => this.portCheck(n.portId, i));
  }

  /** Connected routes the real dataplane derives from addresses. */
  routeDump(): dp.RouteEntry[] {
    const connected = [...this.addrs.values()].map((a): dp.RouteEntry =>
      ({ prefix: subnetOf(`${a.address}/${a.prefixLen}`), nextHops: [{ portId: a.portId }], connected: true }));
    return [...this.routes.values(), ...connected];
  }

  snapshot(): dp.StatsSnapshot {
    const zeroDrops = { no_route: 0n };
    return {
      tscHz: 1_000_000_000n, bootId: this.bootId, startTimeNs: 0n,
      heartbeatNs: this.heartbeatNs ?? BigInt(Date.now()) * 1_000_000n,
      pid: this.pid, nPorts: this.ports.length, nWorkers: 1, takenNs: process.hrtime.bigint(),
      slow: { punt_rx: 0n, arp_request_rx: 0n },
      ports: this.ports.map((p) => ({
        name: p.name, ipackets: this.rxPackets, opackets: this.rxPackets, ibytes: this.rxPackets * 64n, obytes: this.rxPackets * 64n,
        imissed: 0n, ierrors: 0n, oerrors: 0n, rxNombuf: 0n, linkUp: true, speedMbps: 10000, rxQueues: 1, txQueues: 1,
        rxq: [{ rxPackets: this.rxPackets, rxBytes: this.rxPackets * 64n, fwdPackets: this.rxPackets, puntPackets: 0n, drops: { ...zeroDrops }, worker: 0 }],
        txq: [{ txPackets: this.rxPackets, txBytes: this.rxPackets * 64n, txDropped: 0n }],
      })),
      workers: [{
        lcoreId: 1, rxQueues: this.ports.length, polls: 0n, busyPolls: 0n, busyCycles: this.busyCycles, idleCycles: 0n,
        rxPackets: this.rxPackets * BigInt(this.ports.length), txPackets: this.rxPackets * BigInt(this.ports.length), drops: 0n, rcuQuiescent: 0n,
      }],
    };
  }
}

/** The fake "connection" (one per new Dataplane()). */
export class FakeDataplane implements dp.Dataplane {
  private open = false;
  constructor(private readonly world: FakeWorld) {}

  private need(): FakeWorld {
    if (!this.open) throw err(14, 'not connected');
    return this.world;
  }
  drop(): void { this.open = false; }

  async connect(): Promise<dp.HelloInfo> {
    if (!this.world.alive) throw err(14, 'connect: ECONNREFUSED');
    this.open = true;
    this.world.connections.push(this);
    return {
      version: 1, pid: this.world.pid, bootId: this.world.bootId, startTimeNs: 0n, nPorts: this.world.ports.length,
      nWorkers: 1, statsPath: '/fake/stats', name: 'fake',
    };
  }
  close(): void { this.open = false; }
  get connected(): boolean { return this.open; }
  async portList(): Promise<dp.PortInfo[]> { return this.need().ports.map((p) => ({ ...p })); }
  async portSet(ops: dp.PortSet[]): Promise<void> {
    for (const o of ops) {
      const p = this.need().ports.find((x) => x.portId === o.portId);
      if (p && o.mtu) p.mtu = o.mtu;
    }
  }
  async addrBatch(ops: dp.AddrEntry[]): Promise<void> { this.need().addrBatch(ops); }
  async addrDump(): Promise<dp.AddrEntry[]> { return [...this.need().addrs.values()]; }
  async routeBatch(ops: dp.RouteEntry[]): Promise<void> { this.need().routeBatch(ops); }
  async routeDump(): Promise<dp.RouteEntry[]> { return this.need().routeDump(); }
  async neighBatch(ops: dp.NeighEntry[]): Promise<void> { this.need().neighBatch(ops); }
  async neighDump(): Promise<dp.NeighEntry[]> { return [...this.need().neighs.values()]; }
  async statsClear(): Promise<void> { this.need(); }
}

/** An AddonModule-shaped object bound to a world. */
export function fakeAddon(world: FakeWorld): Pick<dp.AddonModule, 'Dataplane' | 'StatsReader' | 'limits'> {
  return {
    Dataplane: class extends FakeDataplane { constructor() { super(world); } },
    StatsReader: class implements dp.StatsReader {
      snapshot(): dp.StatsSnapshot { return world.snapshot(); }
      close(): void { /* nothing mapped */ }
    } as unknown as new (p: string) => dp.StatsReader,
    limits: fakeLimits,
  };
}
