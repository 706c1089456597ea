/**
 * The route table (RouteService writes; the dataplane's FIB): model entry,
 * request validation with field-naming errors, translation to and from the
 * addon's RouteEntry, and its place in reconcile and the journal. Connected
 * routes are the dataplane's own (derived from port addresses) and are not
 * desired state here.
 *
 * Batches are big (65536 routes, 1M-route tables), so parsing shares what
 * repeats across routes: port names, gateways, and single next-hop lists.
 */
import type * as dp from '../dataplane/addon';
import type { PortMap } from '../dataplane/translate';
import { ApiError, exists, invalid, notFound, quote } from '../errors';
import type * as api from '../gen';
import { type Family, canonicalIp, familyOf, fastPrefix4, parseIp, parsePrefix } from '../model/net';
import type { DesiredState } from '../model/state';
import { RouteMap } from './route-map';
import {
  type Limits, type Op, type PortNames, type Validated, type WriteBatch, defineTable, indexed, validateWrite,
} from './table';

export interface NextHop { port: string; via?: string; weight?: number }
export interface Route { prefix: string; family: Family; nextHops: NextHop[] }

/** Next hops in a canonical order with default weights dropped (for equality). */
export function normalizeNextHops(nhs: NextHop[]): NextHop[] {
  return nhs
    .map((nh) => {
      const out: NextHop = { port: nh.port };
      if (nh.via) out.via = nh.via;
      if (nh.weight && nh.weight !== 1) out.weight = nh.weight;
      return out;
    })
    .sort((a, b) => (a.port + '|' + (a.via ?? '')).localeCompare(b.port + '|' + (b.via ?? '')));
}

export function sameNextHops(a: NextHop[], b: NextHop[]): boolean {
  return JSON.stringify(normalizeNextHops(a)) === JSON.stringify(normalizeNextHops(b));
}

/* ---- parsing ---- */

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

/** The same error under another field name (parsers were called with field ''). */
function reField(e: unknown, field: string): unknown {
  return e instanceof ApiError ? new ApiError(e.code, `${field}: ${e.message}`) : e;
}

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
    if (!ports.has(port)) throw notFound(`${hopField(fieldAt, at, j)}.port`, `unknown port ${quote(port)}`);
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

/* ---- requests ---- */

const updateTypes: Record<string, Op> = {
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
  const batch: WriteBatch<Route> = {
    listField: b.listField, length: b.length, field: b.field, keyField: b.prefixField,
    op(i) {
      const op = updateTypes[String(b.type(i))];
      if (!op) throw invalid(`${b.field(i)}.type`, 'required: INSERT, MODIFY or DELETE');
      return op;
    },
    entry: (i, op) => parseRoute(b.route(i), i, b.routeField, b.prefixField, ports, limits, op !== 'del'),
  };
  return validateWrite(routeTable, batch, state, limits);
}

/* ---- dataplane ---- */

/**
 * Addon next hops of the model's shared (frozen) next-hop lists, translated
 * once per list and port map, not once per route.
 */
const sharedDpHops = new WeakMap<PortMap, WeakMap<readonly NextHop[], dp.NextHop[]>>();

function translateHops(nhs: NextHop[], ports: PortMap): dp.NextHop[] {
  return nhs.map((nh) => {
    const out: dp.NextHop = { portId: ports.id(nh.port) };
    if (nh.via) out.via = nh.via;
    if (nh.weight) out.weight = nh.weight;
    return out;
  });
}

function dpNextHops(nhs: NextHop[], ports: PortMap): dp.NextHop[] {
  if (!Object.isFrozen(nhs)) return translateHops(nhs, ports);
  let byList = sharedDpHops.get(ports);
  if (byList === undefined) sharedDpHops.set(ports, (byList = new WeakMap()));
  let out = byList.get(nhs);
  if (out === undefined) byList.set(nhs, (out = translateHops(nhs, ports)));
  return out;
}

/** A dumped route in model form (port names, canonical addresses). */
export function routeFromDp(e: dp.RouteEntry, ports: PortMap): Route {
  const [addr, len] = e.prefix.split('/');
  return {
    prefix: `${canonicalIp(addr)}/${len}`,
    family: familyOf(addr),
    nextHops: e.nextHops.map((nh) => {
      const out: NextHop = { port: ports.name(nh.portId) };
      if (nh.via && !/^(0\.0\.0\.0|::)$/.test(nh.via)) out.via = canonicalIp(nh.via);
      if (nh.weight && nh.weight > 1) out.weight = nh.weight;
      return out;
    }),
  };
}

export const routeTable = defineTable<Route, dp.RouteEntry, 'routes'>({
  kind: 'route',
  name: 'routes',
  order: 2, // next hops rely on addresses (on-link) and neighbors (gateways)
  key: (r) => r.prefix,
  describe: (r) => r.prefix,
  exists: (_cur, r) => `route ${r.prefix} already exists`,
  missing: (r) => `no route ${r.prefix}`,

  addon: { batch: 'routeBatch', dump: 'routeDump' },
  writeOps: { add: 'add', mod: 'replace', del: 'del' },
  toEntry: (r, op, ports) => ({ op, prefix: r.prefix, nextHops: op === 'del' ? [] : dpNextHops(r.nextHops, ports) }),
  deleteEntry: (have) => ({ op: 'del', prefix: have.prefix, nextHops: [] }),
  dumpKey: (have, ports) => (have.connected ? null : routeFromDp(have, ports).prefix),
  same: (have, want, ports) => sameNextHops(routeFromDp(have, ports).nextHops, want.nextHops),
  reconcileOp: 'replace',
  missingPort(r, ports) {
    const gone = r.nextHops.find((nh) => !ports.has(nh.port));
    return gone && `route ${r.prefix} via ${gone.port}`;
  },
  dpKey: (e) => e.prefix,
  dpPorts: (e) => e.nextHops.map((nh) => nh.portId),
  newMap: () => new RouteMap(),

  fromConfig: (config) => config.routes.map((r) => {
    const p = parsePrefix(r.prefix, r.prefix);
    const nh: NextHop = { port: r.port };
    if (r.via) nh.via = parseIp(r.via, r.via).address;
    return { prefix: p.cidr, family: p.family, nextHops: [nh] };
  }),
});
