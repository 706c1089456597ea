/**
 * Request validation: turns API messages into model Changes, checking the
 * whole request (syntax, known ports, existence in the desired state,
 * duplicates inside the batch) before anything is touched. Errors carry the
 * gRPC code and name the field with the proto's names, e.g.
 * "updates[3].route.prefix: host bits set in 10.0.0.1/8".
 */
import type * as api from '../api/types';
import { ApiError, exhausted, exists, invalid, notFound } from '../errors';
import { type Family, fastPrefix4, parseInterfaceAddress, parseIp, parseMac, parsePrefix } from './net';
import {
  type Address, type Change, type DesiredState, type Neighbor, type NextHop, type Route,
  addressKey, cidrOf, neighborKey,
} from './state';

export interface Limits { maxBatch: number; maxEcmp: number }

/** Port names the dataplane has. */
export interface PortNames { has(name: string): boolean }

/** Validated changes, and the request field each came from (to name a dataplane refusal). */
export interface Validated { changes: Change[]; fieldOf(index: number): string }

const indexed = (list: string) => (i: number): string => `${list}[${i}]`;

function checkBatchSize(n: number, field: string, limits: Limits): void {
  if (n === 0) throw invalid(field, 'empty: at least one entry is required');
  if (n > limits.maxBatch) throw exhausted(field, `${n} entries exceed the batch limit of ${limits.maxBatch}`);
}

function checkPort(name: unknown, field: string, ports: PortNames): string {
  if (typeof name !== 'string' || name === '') throw invalid(field, 'required');
  if (!ports.has(name)) throw notFound(field, `unknown port ${JSON.stringify(name)}`);
  return name;
}

/** Gateways and port names repeat across routes: share one string each (1M routes). */
const interned = new Map<string, string>();
function intern(x: string): string {
  const got = interned.get(x);
  if (got !== undefined) return got;
  if (interned.size < 65536) interned.set(x, x);
  return x;
}

/**
 * Single next-hop lists repeat across routes (same port and gateway): one
 * frozen list each, so that 1M routes keep a few next-hop objects, not 1M
 * (less to copy for the GC). Nothing mutates a stored route's next hops.
 */
const singleHops = new Map<string, NextHop[]>();
function sharedSingleHop(nh: NextHop): NextHop[] {
  const key = `${nh.port}|${nh.via ?? ''}|${nh.weight ?? ''}`;
  let list = singleHops.get(key);
  if (list === undefined) {
    list = Object.freeze([Object.freeze(nh)]) as unknown as NextHop[];
    if (singleHops.size < 65536) singleHops.set(key, list);
  }
  return list;
}

/** Parsed gateways by request text (they repeat across routes): canonical form, family, ipaddr.js range. */
const gateways = new Map<string, { address: string; family: Family; range: string }>();

const BAD_GATEWAY = new Set(['unspecified', 'multicast', 'broadcast', 'loopback']);

/** Field name of next hop j of entry i (built only on error). */
const hopField = (fieldAt: (i: number) => string, i: number, j: number): string => `${fieldAt(i)}.next_hops[${j}]`;

/**
 * A Route message into a model route, entry `at` of a list whose field
 * names `fieldAt` and `prefixFieldAt` build (functions of the index, so that
 * no closure is allocated per route); next hops are read only when
 * `withNextHops`. Field names are built only on error (batches are big).
 */
export function parseRoute(r: api.Route | null | undefined, at: number, fieldAt: (i: number) => string,
  prefixFieldAt: (i: number) => string, ports: PortNames, limits: Limits, withNextHops: boolean): Route {
  if (!r) throw invalid(fieldAt(at), 'required');
  let prefix = typeof r.prefix === 'string' ? fastPrefix4(r.prefix) : undefined;
  let family: Family = 4;
  if (prefix === undefined) {
    let pre;
    try {
      pre = parsePrefix(r.prefix, '');
    } catch (e) {
      throw reField(e, prefixFieldAt(at));
    }
    prefix = pre.cidr;
    family = pre.family;
  }
  const route: Route = { prefix, family, nextHops: [] };
  if (!withNextHops) return route;
  const nhs = r.nextHops ?? [];
  if (nhs.length === 0) throw invalid(`${fieldAt(at)}.next_hops`, 'at least one next hop is required');
  if (nhs.length > limits.maxEcmp) throw invalid(`${fieldAt(at)}.next_hops`, `${nhs.length} next hops exceed the limit of ${limits.maxEcmp}`);
  for (let j = 0; j < nhs.length; j++) {
    const nh = nhs[j];
    const port = nh?.port;
    if (typeof port !== 'string' || port === '') throw invalid(`${hopField(fieldAt, at, j)}.port`, 'required');
    if (!ports.has(port)) throw notFound(`${hopField(fieldAt, at, j)}.port`, `unknown port ${JSON.stringify(port)}`);
    const out: NextHop = { port: intern(port) };
    if (nh.via) {
      let via = gateways.get(nh.via);
      if (via === undefined) {
        let p;
        try {
          p = parseIp(nh.via, '');
        } catch (e) {
          throw reField(e, `${hopField(fieldAt, at, j)}.via`);
        }
        via = { address: intern(p.address), family: p.family, range: p.ip.range() };
        if (gateways.size < 65536) gateways.set(nh.via, via);
      }
      if (via.family !== family) throw invalid(`${hopField(fieldAt, at, j)}.via`, `IPv${via.family} gateway for an IPv${family} prefix`);
      if (BAD_GATEWAY.has(via.range)) throw invalid(`${hopField(fieldAt, at, j)}.via`, `${via.range} address ${via.address} cannot be a gateway`);
      out.via = via.address;
    }
    const w = nh.weight ?? 0;
    if (!Number.isInteger(w) || w < 0 || w > 65535) throw invalid(`${hopField(fieldAt, at, j)}.weight`, 'must be 0..65535');
    if (w > 1) out.weight = w;
    for (const prev of route.nextHops) {
      if (prev.port === out.port && prev.via === out.via) throw exists(hopField(fieldAt, at, j), `duplicate next hop ${out.via ?? 'on-link'} on ${out.port}`);
    }
    route.nextHops.push(out);
  }
  if (route.nextHops.length === 1) route.nextHops = sharedSingleHop(route.nextHops[0]);
  return route;
}

/** The same error under another field name (parsers were called with field ''). */
function reField(e: unknown, field: string): unknown {
  return e instanceof ApiError ? new ApiError(e.code, `${field}: ${e.message}`) : e;
}

const updateTypes: Record<string, 'add' | 'mod' | 'del'> = {
  INSERT: 'add', MODIFY: 'mod', DELETE: 'del', 1: 'add', 2: 'mod', 3: 'del',
};

/**
 * A route batch as read by validateRouteUpdates: entry i has a type, a
 * route, and field names (built only to report an error).
 */
export interface RouteBatch {
  listField: string;
  length: number;
  type(i: number): unknown;
  route(i: number): api.Route | null | undefined;
  field(i: number): string;
  routeField(i: number): string;
  prefixField(i: number): string;
}

/** Write requests: updates[i] = {type, route}. */
export function writeBatch(req: api.WriteRoutesRequest): RouteBatch {
  const u = req.updates ?? [];
  return {
    listField: 'updates', length: u.length,
    type: (i) => u[i]?.type, route: (i) => u[i]?.route,
    field: indexed('updates'), routeField: (i) => `updates[${i}].route`, prefixField: (i) => `updates[${i}].route.prefix`,
  };
}

/** AddRoutes: routes[i], all INSERT. */
export function addBatch(req: api.AddRoutesRequest): RouteBatch {
  const r = req.routes ?? [];
  return {
    listField: 'routes', length: r.length,
    type: () => 'INSERT', route: (i) => r[i],
    field: indexed('routes'), routeField: indexed('routes'), prefixField: (i) => `routes[${i}].prefix`,
  };
}

/** DeleteRoutes: prefixes[i], all DELETE. */
export function deleteBatch(req: api.DeleteRoutesRequest): RouteBatch {
  const p = req.prefixes ?? [];
  return {
    listField: 'prefixes', length: p.length,
    type: () => 'DELETE', route: (i) => ({ prefix: p[i], nextHops: [] }),
    field: indexed('prefixes'), routeField: indexed('prefixes'), prefixField: indexed('prefixes'),
  };
}

/** RouteService.Write, AddRoutes and DeleteRoutes. */
export function validateRouteUpdates(b: RouteBatch, state: DesiredState, ports: PortNames, limits: Limits): Validated {
  checkBatchSize(b.length, b.listField, limits);
  const inBatch = new Map<string, number>();
  const changes: Change[] = new Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const op = updateTypes[String(b.type(i))];
    if (!op) throw invalid(`${b.field(i)}.type`, 'required: INSERT, MODIFY or DELETE');
    const route = parseRoute(b.route(i), i, b.routeField, b.prefixField, ports, limits, op !== 'del');
    const prev = inBatch.get(route.prefix);
    if (prev !== undefined) throw exists(b.prefixField(i), `${route.prefix} appears twice in the batch (also ${b.field(prev)})`);
    inBatch.set(route.prefix, i);
    const cur = state.routes.get(route.prefix);
    if (op === 'add' && cur) throw exists(b.prefixField(i), `route ${route.prefix} already exists`);
    if (op !== 'add' && !cur) throw notFound(b.prefixField(i), `no route ${route.prefix}`);
    // A delete journals the full old route so that it can be undone.
    changes[i] = { kind: 'route', op, route: op === 'del' ? cur! : route };
  }
  return { changes, fieldOf: b.field };
}

const validated = (list: string, changes: Change[]): Validated => ({ changes, fieldOf: indexed(list) });

/** PortService.AddAddresses. */
export function validateAddAddresses(req: api.AddAddressesRequest, state: DesiredState, ports: PortNames,
  limits: Limits): Validated {
  const port = checkPort(req.port, 'port', ports);
  checkBatchSize(req.addresses?.length ?? 0, 'addresses', limits);
  const inBatch = new Set<string>();
  return validated('addresses', req.addresses.map((a, i) => {
    const field = `addresses[${i}].cidr`;
    const p = parseInterfaceAddress(a?.cidr, field);
    const address: Address = { port, address: p.address, prefixLen: p.prefixLen, family: p.family };
    const key = addressKey(address);
    if (inBatch.has(key)) throw exists(field, `${p.address} appears twice in the request`);
    inBatch.add(key);
    const cur = state.addresses.get(key);
    if (cur) throw exists(field, `${p.address} is already an address of ${cur.port} (${cidrOf(cur)})`);
    return { kind: 'address', op: 'add', address };
  }));
}

/** PortService.DeleteAddresses. */
export function validateDeleteAddresses(req: api.DeleteAddressesRequest, state: DesiredState, ports: PortNames,
  limits: Limits): Validated {
  const port = checkPort(req.port, 'port', ports);
  checkBatchSize(req.addresses?.length ?? 0, 'addresses', limits);
  const inBatch = new Set<string>();
  return validated('addresses', req.addresses.map((a, i) => {
    const field = `addresses[${i}].cidr`;
    const p = parseInterfaceAddress(a?.cidr, field);
    const cur = state.addresses.get(p.address);
    if (!cur || cur.port !== port || cur.prefixLen !== p.prefixLen) throw notFound(field, `${p.cidr} is not an address of ${port}`);
    if (inBatch.has(p.address)) throw exists(field, `${p.address} appears twice in the request`);
    inBatch.add(p.address);
    return { kind: 'address', op: 'del', address: cur };
  }));
}

function parseNeighborKey(n: api.Neighbor | null | undefined, field: string, ports: PortNames): Neighbor {
  if (!n) throw invalid(field, 'required');
  const port = checkPort(n.port, `${field}.port`, ports);
  const ip = parseIp(n.address, `${field}.address`);
  if (['unspecified', 'multicast', 'broadcast', 'loopback'].includes(ip.ip.range())) {
    throw invalid(`${field}.address`, `${ip.ip.range()} address ${ip.address} cannot be a neighbor`);
  }
  return { port, address: ip.address, mac: '', family: ip.family };
}

/** NeighborService.AddNeighbors. */
export function validateAddNeighbors(req: api.AddNeighborsRequest, state: DesiredState, ports: PortNames,
  limits: Limits): Validated {
  checkBatchSize(req.neighbors?.length ?? 0, 'neighbors', limits);
  const inBatch = new Set<string>();
  return validated('neighbors', req.neighbors.map((n, i) => {
    const field = `neighbors[${i}]`;
    const neighbor = parseNeighborKey(n, field, ports);
    neighbor.mac = parseMac(n.mac, `${field}.mac`);
    const key = neighborKey(neighbor);
    if (inBatch.has(key)) throw exists(`${field}.address`, `${neighbor.address} on ${neighbor.port} appears twice in the request`);
    inBatch.add(key);
    if (state.neighbors.has(key)) throw exists(`${field}.address`, `static neighbor ${neighbor.address} on ${neighbor.port} already exists`);
    return { kind: 'neighbor', op: 'add', neighbor };
  }));
}

/** NeighborService.DeleteNeighbors. */
export function validateDeleteNeighbors(req: api.DeleteNeighborsRequest, state: DesiredState, ports: PortNames,
  limits: Limits): Validated {
  checkBatchSize(req.neighbors?.length ?? 0, 'neighbors', limits);
  const inBatch = new Set<string>();
  return validated('neighbors', req.neighbors.map((n, i) => {
    const field = `neighbors[${i}]`;
    const key = neighborKey(parseNeighborKey(n, field, ports));
    const cur = state.neighbors.get(key);
    if (!cur) throw notFound(`${field}.address`, `no static neighbor ${n.address} on ${n.port}`);
    if (inBatch.has(key)) throw exists(`${field}.address`, `${cur.address} on ${cur.port} appears twice in the request`);
    inBatch.add(key);
    return { kind: 'neighbor', op: 'del', neighbor: cur };
  }));
}

/** Family filter of list requests. */
export function parseFamily(f: unknown, field: string): 0 | 4 | 6 {
  switch (f) {
    case undefined: case null: case '': case 0: case 'FAMILY_UNSPECIFIED': return 0;
    case 4: case 'FAMILY_IPV4': return 4;
    case 6: case 'FAMILY_IPV6': return 6;
    default: throw invalid(field, `unknown family ${String(f)}`);
  }
}
