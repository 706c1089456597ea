/**
 * The route write path's decoder (addon/src/route_wire.cc) against the full
 * validation (control/src/tables/route.ts), on thousands of random requests,
 * valid and broken: whatever the decoder + RouteStore.check accept, the full
 * validation accepts with the same routes; whatever the full validation
 * refuses, the decoder refuses (so that the full path, with its
 * field-naming message, answers it). The decoder may refuse more (it hands
 * anything unusual over); how often it does so for valid requests is
 * bounded here, since the fast path must be the common path.
 */
import * as assert from 'node:assert/strict';
import { loadAddon } from '../../src/dataplane/addon';
import type * as api from '../../src/gen';
import { DesiredState } from '../../src/model/state';
import { loadProto } from '../../src/proto';
import { type Route, validateRouteUpdates, writeBatch, addBatch, deleteBatch, normalizeNextHops } from '../../src/tables/route';
import { routeMapOf } from '../../src/tables/route-map';
import type { Change } from '../../src/tables/table';

const { RouteBatch } = loadAddon();
const svc = loadProto().services.RouteService.service as unknown as Record<string, {
  requestSerialize(r: unknown): Buffer; requestDeserialize(b: Buffer): unknown;
}>;
const limits = { maxBatch: 64, maxEcmp: 8 };
const ports = new Set(['p0', 'p1', 'uplink-0']);

/** A small deterministic PRNG (xorshift32): the same requests on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function generator(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const oct = (): number => Math.floor(r() * 256);
  const v4 = (): string => `${pick([10, 10, 172, 192, 0, 127, 224, 255, 1])}.${oct()}.${oct()}.${oct()}`;
  const hex = (): string => Math.floor(r() * 0x10000).toString(16);
  const v6 = (): string => pick([
    () => `2001:db8:${hex()}:${hex()}::`,
    () => `2001:DB8:${hex()}:0:0:0:0:${hex()}`,
    () => `fe80::${hex()}`, () => '::', () => '::1', () => `ff02::${hex()}`,
    () => `::ffff:${v4()}`, () => `2001:db8::${hex()}%eth0`, () => '2001:db8:::1', () => `${hex()}:${hex()}::${hex()}`,
  ])();
  const mask4 = (a: string, len: number): string => {
    const n = a.split('.').reduce((acc, o) => (acc * 256) + Number(o), 0);
    const m = len === 0 ? 0 : Number((BigInt(n) >> BigInt(32 - len)) << BigInt(32 - len));
    return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
  };
  const prefix = (): string => pick([
    () => { const l = Math.floor(r() * 33); return `${mask4(v4(), l)}/${l}`; },
    () => { const l = Math.floor(r() * 33); return `${mask4(v4(), l)}/${l}`; },
    () => `${v4()}/${Math.floor(r() * 33)}`, // host bits, often
    () => `${v6()}/${pick([0, 32, 48, 64, 128, 129])}`,
    () => `2001:db8:${hex()}::/48`,
    () => pick(['10.0.0.0/08', '010.0.0.0/8', '10.0.0/24', '10.0.0.0', '10.0.0.0/33', '', ' 10.0.0.0/8', '10.0.0.0/8 ', '1e1.0.0.0/8', '0.0.0.0/0', '::/0']),
  ])();
  const hop = (): api.NextHop => {
    const h: api.NextHop = { port: pick(['p0', 'p0', 'p1', 'uplink-0', 'nope', '']) };
    const v = r();
    if (v < 0.35) h.via = v4();
    else if (v < 0.5) h.via = v6();
    else if (v < 0.55) h.via = pick(['not-an-ip', '10.0.0.256', '']);
    if (r() < 0.2) h.weight = pick([0, 1, 2, 100, 65535, 65536, 4000000000]);
    return h;
  };
  const hops = (): api.NextHop[] => Array.from({ length: pick([0, 1, 1, 1, 2, 3, 9]) }, hop);
  return { pick, prefix, hops };
}

/** The full path's verdict: the routes it would apply, or its error. */
function full(method: string, bytes: Buffer, state: DesiredState): { ok: true; changes: Change[] } | { ok: false; msg: string } {
  try {
    const req = svc[method].requestDeserialize(bytes);
    const b = method === 'Write' ? writeBatch(req as api.WriteRoutesRequest)
      : method === 'AddRoutes' ? addBatch(req as api.AddRoutesRequest) : deleteBatch(req as api.DeleteRoutesRequest);
    return { ok: true, changes: validateRouteUpdates(b, state, ports, limits).changes };
  } catch (e) {
    return { ok: false, msg: (e as Error).message };
  }
}

const norm = (r: Route | { prefix: string; nextHops: Route['nextHops'] }, withHops: boolean): string =>
  JSON.stringify({ prefix: r.prefix, nextHops: withHops ? normalizeNextHops(r.nextHops) : [] });

describe('route write path: the decoder agrees with the full validation', () => {
  it('on 5000 random requests (Write, AddRoutes, DeleteRoutes) against a table with routes', async () => {
    const r = rng(20261202);
    const g = generator(r);
    const state = new DesiredState();
    const store = routeMapOf(state.routes).store;
    // A table with some routes, so that MODIFY/DELETE/INSERT meet present and absent prefixes.
    const present: string[] = [];
    for (let i = 0; i < 40; i++) present.push(`10.${i}.0.0/16`);
    store.applyMemory(RouteBatch.fromRoutes(present.map((prefix) => ({ op: 'add' as const, prefix, nextHops: [{ port: 'p0' }] }))));
    let fast = 0, validFull = 0, refused = 0;
    for (let n = 0; n < 5000; n++) {
      const method = g.pick(['Write', 'Write', 'AddRoutes', 'DeleteRoutes']);
      const size = g.pick([1, 1, 2, 3, 5]);
      const prefixes = Array.from({ length: size }, () => (r() < 0.3 ? g.pick(present) : g.prefix()));
      const req = method === 'Write'
        ? { updates: prefixes.map((prefix) => ({ type: g.pick(['INSERT', 'INSERT', 'MODIFY', 'DELETE', 'UNSPECIFIED']), route: { prefix, nextHops: g.hops() } })) }
        : method === 'AddRoutes' ? { routes: prefixes.map((prefix) => ({ prefix, nextHops: g.hops() })) } : { prefixes };
      const bytes = svc[method].requestSerialize(req);
      const want = full(method, bytes, state);
      const got = await RouteBatch.decode(method as 'Write', bytes, limits.maxEcmp);
      const accepted = typeof got !== 'string' && store.check(got, [...ports], limits.maxBatch) === null;
      if (!want.ok) {
        assert.equal(accepted, false, `${method} ${JSON.stringify(req)}: the decoder took what the full path refuses (${want.msg})`);
        refused++;
        continue;
      }
      if (!accepted) {
        validFull++;
        continue;
      }
      fast++;
      const ops = got.toRoutes();
      assert.equal(ops.length, want.changes.length);
      for (let i = 0; i < ops.length; i++) {
        const c: Change = want.changes[i];
        assert.equal(ops[i].op, c.op, `${JSON.stringify(req)}: op of update ${i}`);
        assert.equal(norm(ops[i].route, c.op !== 'del'), norm(c.entry as Route, c.op !== 'del'), `${JSON.stringify(req)}: update ${i}`);
      }
    }
    console.log(`      fast ${fast}, valid but left to the full path ${validFull}, refused ${refused}`);
    // Both kinds of request were met often enough for the comparison to mean something.
    assert.ok(fast > 300, `fast ${fast}`);
    assert.ok(refused > 500, `refused ${refused}`);
    // Valid requests the decoder hands over: only the rare forms it leaves to the full path.
    assert.ok(validFull <= fast / 10, `valid requests left to the full path: ${validFull} (fast: ${fast})`);
  });

  it('takes big batches in one piece and canonicalises what it stores', async () => {
    const routes = Array.from({ length: 5000 }, (_, i) => ({ prefix: `2001:DB8:${i.toString(16)}:0::/64`, nextHops: [{ port: 'p1', via: '2001:db8::1:0:0:1' }] }));
    const b = await RouteBatch.decode('AddRoutes', svc.AddRoutes.requestSerialize({ routes }), 8);
    assert.notEqual(typeof b, 'string');
    const state = new DesiredState();
    const store = routeMapOf(state.routes).store;
    if (typeof b === 'string') return;
    assert.equal(store.check(b, ['p1'], 65536), null);
    await store.commit(b);
    assert.equal(store.size, 5000);
    assert.deepEqual(state.routes.get('2001:db8:ab::/64'), { prefix: '2001:db8:ab::/64', family: 6, nextHops: [{ port: 'p1', via: '2001:db8::1:0:0:1' }] });
    // Listed in prefix order.
    const first = [...state.routes.keys()].slice(0, 3);
    assert.deepEqual(first, ['2001:db8::/64', '2001:db8:1::/64', '2001:db8:2::/64']);
  });
});
