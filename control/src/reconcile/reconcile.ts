/**
 * Reconcile: make the dataplane hold exactly the desired state. Dump its
 * addresses, routes (connected ones excluded: they follow the addresses)
 * and static neighbors, diff them with the model, and push the difference
 * in batches of at most maxBatch entries. Removals go first (routes, then
 * neighbors, then addresses), additions after (addresses, neighbors, then
 * routes, whose next hops may rely on them).
 *
 * diff() is pure; reconcile() does the I/O. An entry the dataplane refuses
 * is logged and skipped so that one bad entry cannot block the rest.
 */
import type * as dp from '../dataplane/addon';
import { PortMap, addrEntry, neighEntry, routeEntry, routeFromDp } from '../dataplane/translate';
import { canonicalIp } from '../model/net';
import { type DesiredState, addressKey, neighborKey, sameNextHops } from '../model/state';
import { silentLogger, type Logger } from '../log';

export interface DataplaneDump {
  addresses: dp.AddrEntry[];
  routes: dp.RouteEntry[];
  neighbors: dp.NeighEntry[];
}

export interface Plan {
  routeDel: dp.RouteEntry[];
  neighDel: dp.NeighEntry[];
  addrDel: dp.AddrEntry[];
  addrAdd: dp.AddrEntry[];
  neighAdd: dp.NeighEntry[];
  routeAdd: dp.RouteEntry[];
  /** Desired entries naming a port the dataplane does not have. */
  unknownPort: string[];
}

export function planSize(p: Plan): number {
  return p.routeDel.length + p.neighDel.length + p.addrDel.length + p.addrAdd.length + p.neighAdd.length + p.routeAdd.length;
}

/** What to push so that the dataplane (`dump`) matches `state`. */
export function diff(dump: DataplaneDump, state: DesiredState, ports: PortMap): Plan {
  const plan: Plan = { routeDel: [], neighDel: [], addrDel: [], addrAdd: [], neighAdd: [], routeAdd: [], unknownPort: [] };

  // Addresses: keyed by address; a changed port or length is a delete + add.
  const haveAddr = new Map<string, dp.AddrEntry>();
  for (const a of dump.addresses) haveAddr.set(canonicalIp(a.address), a);
  for (const [key, a] of haveAddr) {
    const want = state.addresses.get(key);
    if (!want || !ports.has(want.port) || ports.id(want.port) !== a.portId || want.prefixLen !== a.prefixLen) {
      plan.addrDel.push({ op: 'del', portId: a.portId, address: a.address, prefixLen: a.prefixLen });
    }
  }
  for (const a of state.addresses.values()) {
    if (!ports.has(a.port)) { plan.unknownPort.push(`address ${a.address} on ${a.port}`); continue; }
    const have = haveAddr.get(addressKey(a));
    if (!have || have.portId !== ports.id(a.port) || have.prefixLen !== a.prefixLen) plan.addrAdd.push(addrEntry(a, ports, 'add'));
  }

  // Static neighbors: learned and incomplete entries are the dataplane's own.
  const haveNeigh = new Map<string, dp.NeighEntry>();
  for (const n of dump.neighbors) {
    if (n.state !== undefined && n.state !== 'static') continue;
    haveNeigh.set(neighborKey({ port: ports.name(n.portId), address: canonicalIp(n.address) }), n);
  }
  for (const [key, n] of haveNeigh) {
    if (!state.neighbors.has(key)) plan.neighDel.push({ op: 'del', portId: n.portId, address: n.address, mac: n.mac });
  }
  for (const [key, n] of state.neighbors) {
    if (!ports.has(n.port)) { plan.unknownPort.push(`neighbor ${n.address} on ${n.port}`); continue; }
    const have = haveNeigh.get(key);
    if (!have || have.mac.toLowerCase() !== n.mac) plan.neighAdd.push(neighEntry(n, ports, 'replace'));
  }

  // Routes: compare next hops as sets; connected routes are derived, not diffed.
  const haveRoute = new Map<string, dp.RouteEntry>();
  for (const r of dump.routes) {
    if (r.connected) continue;
    const m = routeFromDp(r, ports);
    haveRoute.set(m.prefix, r);
    const want = state.routes.get(m.prefix);
    if (!want) plan.routeDel.push({ op: 'del', prefix: r.prefix, nextHops: [] });
  }
  for (const r of state.routes.values()) {
    const missing = r.nextHops.find((nh) => !ports.has(nh.port));
    if (missing) { plan.unknownPort.push(`route ${r.prefix} via ${missing.port}`); continue; }
    const have = haveRoute.get(r.prefix);
    if (!have || !sameNextHops(routeFromDp(have, ports).nextHops, r.nextHops)) plan.routeAdd.push(routeEntry(r, ports, 'replace'));
  }
  return plan;
}

export async function dumpDataplane(d: dp.Dataplane): Promise<DataplaneDump> {
  const [addresses, routes, neighbors] = [await d.addrDump(), await d.routeDump(0), await d.neighDump(0)];
  return { addresses, routes, neighbors };
}

export interface ReconcileResult { pushed: number; skipped: number; plan: Plan }

/** Pushes `entries` in batches; a refused entry (error.index) is logged and dropped, the rest retried. */
async function push<T>(what: string, entries: T[], send: (b: T[]) => Promise<void>, maxBatch: number,
  log: Logger): Promise<{ pushed: number; skipped: number }> {
  let pushed = 0;
  let skipped = 0;
  for (let i = 0; i < entries.length; i += maxBatch) {
    const chunk = entries.slice(i, i + maxBatch);
    while (chunk.length) {
      try {
        await send(chunk);
        pushed += chunk.length;
        break;
      } catch (e) {
        const idx = (e as { index?: number }).index;
        const code = (e as { code?: number }).code;
        // Only an entry-level refusal is skippable; anything else (socket gone) aborts.
        if (typeof idx !== 'number' || idx >= chunk.length || code === undefined || code === 13 || code === 14) throw e;
        log.warn({ what, entry: chunk[idx], err: (e as Error).message }, 'reconcile: dataplane refused an entry; skipping it');
        chunk.splice(idx, 1);
        skipped++;
      }
    }
  }
  return { pushed, skipped };
}

export async function reconcile(d: dp.Dataplane, ports: PortMap, state: DesiredState,
  opts: { maxBatch: number; log?: Logger }): Promise<ReconcileResult> {
  const log = opts.log ?? silentLogger;
  const plan = diff(await dumpDataplane(d), state, ports);
  for (const u of plan.unknownPort) log.warn({ entry: u }, 'reconcile: desired entry names a port the dataplane does not have');
  const steps: [string, unknown[], (b: never[]) => Promise<void>][] = [
    ['route del', plan.routeDel, (b) => d.routeBatch(b)],
    ['neighbor del', plan.neighDel, (b) => d.neighBatch(b)],
    ['address del', plan.addrDel, (b) => d.addrBatch(b)],
    ['address add', plan.addrAdd, (b) => d.addrBatch(b)],
    ['neighbor add', plan.neighAdd, (b) => d.neighBatch(b)],
    ['route add', plan.routeAdd, (b) => d.routeBatch(b)],
  ];
  let pushed = 0;
  let skipped = plan.unknownPort.length;
  for (const [what, entries, send] of steps) {
    if (!entries.length) continue;
    const r = await push(what, entries, send as (b: unknown[]) => Promise<void>, opts.maxBatch, log);
    pushed += r.pushed;
    skipped += r.skipped;
  }
  return { pushed, skipped, plan };
}
