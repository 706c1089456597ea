/**
 * An in-memory stand-in for the addon's Dataplane and StatsReader, for unit
 * tests of the control-plane logic only (validation, write ordering,
 * reconcile, supervision). Its tables are the registered ones
 * (src/tables), keyed as the dataplane keys them. It keeps the protocol's
 * semantics that the control plane relies on: ADD of an existing key and
 * DEL of a missing one fail, a port id must exist, a batch is all or
 * nothing and a failure names the entry index.
 * Integration tests (control/test/integration) use the real dataplane.
 */
import { status } from '@grpc/grpc-js';
import type * as dp from '../../src/dataplane/addon';
import { dataplaneError } from '../../src/errors';
import { subnetOf } from '../../src/model/net';
import { type DpTableMaps, tables } from '../../src/tables';
import { routeTable } from '../../src/tables/route';
import type { AnyTable, Table } from '../../src/tables/table';

export const fakeLimits = { maxPorts: 16, maxQueues: 16, maxWorkers: 32, maxEcmp: 8, maxBatch: 64 };

/** Shared state of one fake dataplane "process" (survives reconnections, not restarts). */
export class FakeWorld {
  ports: dp.PortInfo[];
  /** Every registered table, keyed as the dataplane keys it (table.dpKey). */
  readonly tables = Object.fromEntries(tables.map((t) => [t.name, new Map()])) as unknown as DpTableMaps;
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
  /** Queue move batches received (QueueService), in order. */
  queueMoves: dp.QueueMove[][] = [];

  constructor(portNames: string[] = ['p0', 'p1']) {
    this.ports = portNames.map((name, i) => ({
      portId: i, name, driver: 'net_null', device: `net_null${i}`, mac: `02:00:00:00:00:0${i}`, rxQueues: 1, txQueues: 1,
      mtu: 1500, linkUp: true, adminUp: true, speedMbps: 10000, dpdkPortId: i, rxOffloads: 0n, txOffloads: 0n,
    }));
  }

  private table<E>(t: Table<unknown, E, string>): Map<string, E> {
    return (this.tables as unknown as Record<string, Map<string, E>>)[t.name];
  }

  /** Simulates a dataplane restart: empty tables, new boot id, connections dropped. */
  restart(): void {
    for (const t of tables) this.table(t as AnyTable).clear();
    this.bootId++;
    for (const c of this.connections) c.drop();
  }

  /** A batch of table `t`, all or nothing. */
  batch<E extends { op?: dp.BatchOp }>(t: Table<unknown, E, string>, ops: E[]): void {
    if (this.failNext) {
      const f = this.failNext;
      this.failNext = null;
      throw dataplaneError(f.code, f.message, f.index);
    }
    const table = this.table(t);
    const shadow = new Map(table);
    ops.forEach((e, i) => {
      for (const portId of t.dpPorts(e)) {
        if (!this.ports.some((p) => p.portId === portId)) throw dataplaneError(status.NOT_FOUND, `port_id ${portId}: unknown port`, i);
      }
      const k = t.dpKey(e);
      if (this.refuse.has(k)) throw dataplaneError(status.INVALID_ARGUMENT, `refused ${k}`, i);
      if (e.op === 'add' && shadow.has(k)) throw dataplaneError(status.ALREADY_EXISTS, `${k} exists`, i);
      if (e.op === 'del' && !shadow.has(k)) throw dataplaneError(status.NOT_FOUND, `${k} not found`, i);
      if (e.op === 'del') shadow.delete(k);
      else shadow.set(k, { ...e, op: undefined });
    });
    table.clear();
    for (const [k, v] of shadow) table.set(k, v);
    this.batches.push({ kind: t.kind, n: ops.length });
  }

  /** A dump of table `t`; routes also hold the connected routes the real dataplane derives from addresses. */
  dump<E>(t: Table<unknown, E, string>): E[] {
    const out: unknown[] = [...this.table(t).values()];
    if (t === (routeTable as AnyTable)) {
      for (const a of this.tables.addresses.values()) {
        out.push({ prefix: subnetOf(`${a.address}/${a.prefixLen}`), nextHops: [{ portId: a.portId }], connected: true });
      }
    }
    return out as E[];
  }

  snapshot(): dp.StatsSnapshot {
    const zeroDrops = { no_route: 0n };
    return {
      tscHz: 1_000_000_000n, bootId: this.bootId, startTimeNs: 0n,
      heartbeatNs: this.heartbeatNs ?? BigInt(Date.now()) * 1_000_000n,
      pid: this.pid, nPorts: this.ports.length, nWorkers: 1, takenNs: process.hrtime.bigint(),
      mbufs: { size: 8192n, inUse: 1024n },
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

/** Table methods (addrBatch, routeDump, ...) are made from the registry in the constructor. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface FakeDataplane extends dp.Dataplane {}

/** The fake "connection" (one per new Dataplane()). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FakeDataplane {
  private open = false;
  constructor(private readonly world: FakeWorld) {
    const self = this as unknown as Record<string, unknown>;
    for (const t of tables as readonly AnyTable[]) {
      self[t.addon.batch] = async (ops: { op?: dp.BatchOp }[]) => this.need().batch(t, ops);
      self[t.addon.dump] = async () => this.need().dump(t);
    }
  }

  private need(): FakeWorld {
    if (!this.open) throw dataplaneError(status.UNAVAILABLE, 'not connected');
    return this.world;
  }
  drop(): void { this.open = false; }

  async connect(): Promise<dp.HelloInfo> {
    if (!this.world.alive) throw dataplaneError(status.UNAVAILABLE, 'connect: ECONNREFUSED');
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
  async statsClear(): Promise<void> { this.need(); }
  /** One worker (worker 0 on lcore 1) polls every queue; moves are recorded, never applied. */
  async queueMap(): Promise<dp.QueueEntry[]> {
    const w = this.need();
    return w.ports.flatMap((p) => Array.from({ length: p.rxQueues }, (_, queue) => ({
      portId: p.portId, queue, worker: 0, lcore: 1, version: 1 + w.queueMoves.length, moves: 0, lastMoveNs: 0n,
    })));
  }
  async queueMove(moves: dp.QueueMove[]): Promise<void> { this.need().queueMoves.push(moves.map((m) => ({ ...m }))); }
  /** A session as stored (the fake counts no traffic: counters zero); NOT_FOUND when absent. */
  async upfSessionRead(seid: string | bigint): Promise<dp.UpfSessionEntry> {
    const e = this.need().tables.sessions.get(String(seid));
    if (!e) throw dataplaneError(status.NOT_FOUND, `seid: no session ${seid}`);
    return { ...e, urrs: e.urrs.map((u) => ({ id: u.id, ulPackets: 0n, ulBytes: 0n, dlPackets: 0n, dlBytes: 0n })) };
  }
  /** The route write path's batches, as the RouteEntry batch they stand for. */
  async routeBatchNative(b: dp.RouteBatch, ports: Readonly<Record<string, number>>): Promise<void> {
    return this.need().batch(routeTable, b.toEntries(ports));
  }
}

/** An AddonModule-shaped object bound to a world. */
export function fakeAddon(world: FakeWorld): Pick<dp.AddonModule, 'Dataplane' | 'StatsReader' | 'limits' | 'dropReasons' | 'rssFields' | 'rssGroups'> {
  return {
    Dataplane: class extends FakeDataplane { constructor() { super(world); } },
    StatsReader: class implements dp.StatsReader {
      snapshot(): dp.StatsSnapshot { return world.snapshot(); }
      close(): void { /* nothing mapped */ }
    } as unknown as new (p: string) => dp.StatsReader,
    limits: fakeLimits,
    dropReasons: ['truncated', 'no_route', 'bad_checksum'],
    rssFields: ['ipv4', 'ipv4-tcp', 'ipv6'],
    rssGroups: { tcp: ['ipv4-tcp'] },
  };
}
