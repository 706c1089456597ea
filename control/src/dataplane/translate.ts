/**
 * Model <-> addon entries: port names become port ids (the dataplane's
 * numbering), and a Change becomes the batch operation that applies it.
 */
import type * as dp from './addon';
import type { Address, Change, Neighbor, Route } from '../model/state';
import { canonicalIp, familyOf } from '../model/net';

/** The dataplane's ports by name and by id. */
export class PortMap {
  private readonly byName = new Map<string, dp.PortInfo>();
  private readonly byId = new Map<number, dp.PortInfo>();

  constructor(readonly list: readonly dp.PortInfo[]) {
    for (const p of list) {
      this.byName.set(p.name, p);
      this.byId.set(p.portId, p);
    }
  }
  has(name: string): boolean { return this.byName.has(name); }
  get(name: string): dp.PortInfo | undefined { return this.byName.get(name); }
  id(name: string): number {
    const p = this.byName.get(name);
    if (!p) throw new Error(`unknown port ${name}`);
    return p.portId;
  }
  name(id: number): string { return this.byId.get(id)?.name ?? `port${id}`; }
}

export type DpBatch =
  | { kind: 'address'; entries: dp.AddrEntry[] }
  | { kind: 'route'; entries: dp.RouteEntry[] }
  | { kind: 'neighbor'; entries: dp.NeighEntry[] };

export const addrEntry = (a: Address, ports: PortMap, op: dp.BatchOp): dp.AddrEntry =>
  ({ op, portId: ports.id(a.port), address: a.address, prefixLen: a.prefixLen });

export const routeEntry = (r: Route, ports: PortMap, op: dp.BatchOp): dp.RouteEntry => ({
  op,
  prefix: r.prefix,
  nextHops: op === 'del' ? [] : r.nextHops.map((nh) => {
    const out: dp.NextHop = { portId: ports.id(nh.port) };
    if (nh.via) out.via = nh.via;
    if (nh.weight) out.weight = nh.weight;
    return out;
  }),
});

export const neighEntry = (n: Neighbor, ports: PortMap, op: dp.BatchOp): dp.NeighEntry =>
  ({ op, portId: ports.id(n.port), address: n.address, mac: op === 'del' ? '00:00:00:00:00:00' : n.mac });

/**
 * Changes of one kind (one request) into one dataplane batch. Neighbors are
 * pushed with 'replace' so that a static entry takes over a learned one.
 */
export function toBatch(changes: readonly Change[], ports: PortMap): DpBatch {
  const kind = changes[0]?.kind ?? 'route';
  switch (kind) {
    case 'address':
      return { kind, entries: changes.map((c) => (c.kind === 'address' ? addrEntry(c.address, ports, c.op) : mixed())) };
    case 'route': {
      // Shared (frozen) next-hop lists of the model translate once per batch.
      const shared = new Map<readonly unknown[], dp.NextHop[]>();
      return {
        kind,
        entries: changes.map((c) => {
          if (c.kind !== 'route') return mixed();
          const op = c.op === 'mod' ? 'replace' : c.op;
          const nhs = c.route.nextHops;
          if (op === 'del' || !Object.isFrozen(nhs)) return routeEntry(c.route, ports, op);
          let nextHops = shared.get(nhs);
          if (nextHops === undefined) {
            nextHops = routeEntry(c.route, ports, op).nextHops;
            shared.set(nhs, nextHops);
          }
          return { op, prefix: c.route.prefix, nextHops };
        }),
      };
    }
    case 'neighbor':
      return {
        kind,
        entries: changes.map((c) => (c.kind === 'neighbor' ? neighEntry(c.neighbor, ports, c.op === 'add' ? 'replace' : 'del') : mixed())),
      };
  }
}

function mixed(): never {
  throw new Error('one batch holds one kind of entry');
}

/** The batch that undoes `changes`, given the state before them (for a failed journal write). */
export function inverseChanges(changes: readonly Change[], before: { routes: Map<string, Route> }): Change[] {
  return changes.slice().reverse().map((c): Change => {
    switch (c.kind) {
      case 'address': return { ...c, op: c.op === 'add' ? 'del' : 'add' };
      case 'neighbor': return { ...c, op: c.op === 'add' ? 'del' : 'add' };
      case 'route':
        if (c.op === 'add') return { ...c, op: 'del' };
        if (c.op === 'del') return { ...c, op: 'add' };
        return { kind: 'route', op: 'mod', route: before.routes.get(c.route.prefix) ?? c.route };
    }
  });
}

export async function sendBatch(d: dp.Dataplane, b: DpBatch): Promise<void> {
  switch (b.kind) {
    case 'address': return d.addrBatch(b.entries);
    case 'route': return d.routeBatch(b.entries);
    case 'neighbor': return d.neighBatch(b.entries);
  }
}

/** A dumped route in model form (port names, canonical addresses). */
export function routeFromDp(e: dp.RouteEntry, ports: PortMap): Route {
  const [addr, len] = e.prefix.split('/');
  return {
    prefix: `${canonicalIp(addr)}/${len}`,
    family: familyOf(addr),
    nextHops: e.nextHops.map((nh) => {
      const out: { port: string; via?: string; weight?: number } = { port: ports.name(nh.portId) };
      if (nh.via && !/^(0\.0\.0\.0|::)$/.test(nh.via)) out.via = canonicalIp(nh.via);
      if (nh.weight && nh.weight > 1) out.weight = nh.weight;
      return out;
    }),
  };
}
