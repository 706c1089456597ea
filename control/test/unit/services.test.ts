/**
 * Every service over real gRPC (in-process server, client from
 * src/client.ts) on a fake dataplane: request validation (status code and
 * field in the message), all-or-nothing writes, reads, health, reflection.
 */
import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import type * as api from '../../src/gen';
import { type Harness, rejectsWith, startHarness } from './helpers';

const nh = (port: string, via = ''): api.NextHop => ({ port, via });
const ins = (prefix: string, ...nextHops: api.NextHop[]): api.RouteUpdate => ({ type: 'INSERT', route: { prefix, nextHops } });

describe('gRPC services on a fake dataplane', function () {
  this.timeout(20000);
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => { await h.close(); });

  describe('RouteService', () => {
    it('validates every field and names it', async () => {
      const w = (updates: api.RouteUpdate[]) => h.client.route.write({ updates });
      await rejectsWith(w([]), status.INVALID_ARGUMENT, /^updates: empty/);
      await rejectsWith(w([ins('10.1.0.0/16', nh('p0')), ins('10.0.0.1/8', nh('p0'))]), status.INVALID_ARGUMENT,
        /^updates\[1\]\.route\.prefix: host bits set/);
      await rejectsWith(w([ins('10.0.0.0/33', nh('p0'))]), status.INVALID_ARGUMENT, /^updates\[0\]\.route\.prefix: prefix length/);
      await rejectsWith(w([ins('banana/8', nh('p0'))]), status.INVALID_ARGUMENT, /^updates\[0\]\.route\.prefix: not an IP address/);
      await rejectsWith(w([ins('10.0.0.0', nh('p0'))]), status.INVALID_ARGUMENT, /^updates\[0\]\.route\.prefix: prefix length missing/);
      await rejectsWith(w([ins('', nh('p0'))]), status.INVALID_ARGUMENT, /^updates\[0\]\.route\.prefix: required/);
      await rejectsWith(w([{ type: 'UNSPECIFIED', route: { prefix: '10.0.0.0/8', nextHops: [nh('p0')] } }]), status.INVALID_ARGUMENT,
        /^updates\[0\]\.type: required/);
      await rejectsWith(w([{ type: 'INSERT', route: null }]), status.INVALID_ARGUMENT, /^updates\[0\]\.route: required/);
      await rejectsWith(w([ins('10.0.0.0/8')]), status.INVALID_ARGUMENT, /^updates\[0\]\.route\.next_hops: at least one/);
      await rejectsWith(w([ins('10.0.0.0/8', nh('p9'))]), status.NOT_FOUND, /^updates\[0\]\.route\.next_hops\[0\]\.port: unknown port "p9"/);
      await rejectsWith(w([ins('10.0.0.0/8', nh('p0', '2001:db8::1'))]), status.INVALID_ARGUMENT,
        /^updates\[0\]\.route\.next_hops\[0\]\.via: IPv6 gateway for an IPv4 prefix/);
      await rejectsWith(w([ins('10.0.0.0/8', nh('p0', '10.0.1.2'), nh('p0', '10.0.1.2'))]), status.ALREADY_EXISTS,
        /^updates\[0\]\.route\.next_hops\[1\]: duplicate next hop/);
      await rejectsWith(w([ins('10.0.0.0/8', ...Array.from({ length: 9 }, (_, i) => nh('p0', `10.0.1.${i + 2}`)))]),
        status.INVALID_ARGUMENT, /^updates\[0\]\.route\.next_hops: 9 next hops exceed the limit of 8/);
      await rejectsWith(w([ins('10.0.0.0/8', nh('p0')), ins('10.0.0.0/8', nh('p1'))]), status.ALREADY_EXISTS,
        /^updates\[1\]\.route\.prefix: 10\.0\.0\.0\/8 appears twice in the batch \(also updates\[0\]\)/);
      await rejectsWith(w([{ type: 'MODIFY', route: { prefix: '10.0.0.0/8', nextHops: [nh('p0')] } }]), status.NOT_FOUND,
        /^updates\[0\]\.route\.prefix: no route 10\.0\.0\.0\/8/);
      await rejectsWith(h.client.route.deleteRoutes({ prefixes: ['10.0.0.0/8'] }), status.NOT_FOUND, /^prefixes\[0\]: no route/);
      await rejectsWith(h.client.route.addRoutes({ routes: [{ prefix: '10.0.0.0/8', nextHops: [nh('')] }] }), status.INVALID_ARGUMENT,
        /^routes\[0\]\.next_hops\[0\]\.port: required/);
      // The limit comes from the addon (64 in the fake).
      await rejectsWith(w(Array.from({ length: 65 }, (_, i) => ins(`10.${i}.0.0/16`, nh('p0')))), status.RESOURCE_EXHAUSTED,
        /^updates: 65 entries exceed the batch limit of 64/);
      assert.equal(h.world.batches.filter((b) => b.kind === 'route').length, 0, 'nothing reached the dataplane');
      // Every refusal came from the full validation (the route write path hands it anything it does not take).
      assert.equal(h.server.controller.routeWrites.fast, 0);
      assert.ok(h.server.controller.routeWrites.full >= 10);
      assert.equal(h.server.controller.state.routes.size, 0);
    });

    it('inserts, modifies, deletes; lists and gets in canonical form', async () => {
      const r = await h.client.route.write({ updates: [
        ins('10.9.0.0/16', nh('p0', '10.0.1.2')),
        ins('2001:DB8:9:0::/64', nh('p1', '2001:db8:1:0:0:0:0:2'), { port: 'p0', via: '2001:db8:1::3', weight: 3 }),
        ins('0.0.0.0/0', nh('p1')),
      ] });
      assert.equal(r.applied, 3);
      assert.deepEqual(h.server.controller.routeWrites, { fast: 1, full: 0 }, 'a valid batch takes the fast path');
      await rejectsWith(h.client.route.addRoutes({ routes: [{ prefix: '10.9.0.0/16', nextHops: [nh('p1')] }] }), status.ALREADY_EXISTS,
        /^routes\[0\]\.prefix: route 10\.9\.0\.0\/16 already exists/);
      await h.client.route.write({ updates: [
        { type: 'MODIFY', route: { prefix: '10.9.0.0/16', nextHops: [nh('p1', '10.0.2.7')] } },
        { type: 'DELETE', route: { prefix: '0.0.0.0/0', nextHops: [] } },
      ] });
      const got = await h.client.route.getRoute({ prefix: '2001:db8:9::/64' });
      assert.equal(got.family, 'FAMILY_IPV6');
      assert.deepEqual(got.nextHops, [{ port: 'p1', via: '2001:db8:1::2', weight: 0 }, { port: 'p0', via: '2001:db8:1::3', weight: 3 }]);
      // The dataplane holds what the model holds.
      assert.deepEqual([...h.world.tables.routes.keys()].sort(), ['10.9.0.0/16', '2001:db8:9::/64']);
      assert.deepEqual(h.world.tables.routes.get('10.9.0.0/16')?.nextHops, [{ portId: 1, via: '10.0.2.7' }]);
      const all = await h.client.route.listAllRoutes({ pageSize: 1 });
      assert.deepEqual(all.filter((x) => !x.connected).map((x) => x.prefix), ['10.9.0.0/16', '2001:db8:9::/64']);
      assert.deepEqual(all.filter((x) => x.connected).map((x) => `${x.prefix}>${x.nextHops[0].port}`),
        ['10.0.1.0/24>p0', '2001:db8:1::/64>p0', '10.0.2.0/24>p1']);
      const v4 = await h.client.route.listAllRoutes({ family: 'FAMILY_IPV4', excludeConnected: true });
      assert.deepEqual(v4.map((x) => x.prefix), ['10.9.0.0/16']);
      assert.equal((await h.client.route.getRoute({ prefix: '10.0.2.0/24' })).connected, true);
      await rejectsWith(h.client.route.getRoute({ prefix: '10.8.0.0/16' }), status.NOT_FOUND, /^prefix: no route 10\.8\.0\.0\/16/);
      await rejectsWith(h.client.route.listAllRoutes({ pageSize: 100000 }), status.INVALID_ARGUMENT, /^page_size: at most 65536/);
    });

    it('streams a large table in pages', async () => {
      for (let b = 0; b < 40; b++) {
        await h.client.route.addRoutes({ routes: Array.from({ length: 64 }, (_, i) => ({ prefix: `172.${b}.${i}.0/24`, nextHops: [nh('p0', '10.0.1.2')] })) });
      }
      let pages = 0;
      let n = 0;
      for await (const page of h.client.route.listRoutes({ pageSize: 500, excludeConnected: true })) {
        pages++;
        n += page.routes.length;
        assert.ok(page.routes.length <= 500);
      }
      assert.equal(n, 2560);
      assert.equal(pages, 6);
    });

    it('is all-or-nothing when the dataplane refuses an entry, and names it', async () => {
      await h.client.route.addRoutes({ routes: [{ prefix: '10.7.0.0/16', nextHops: [nh('p0')] }] });
      h.world.failNext = { index: 2, code: status.RESOURCE_EXHAUSTED, message: 'route table full' };
      await rejectsWith(h.client.route.write({ updates: [
        { type: 'DELETE', route: { prefix: '10.7.0.0/16', nextHops: [] } }, ins('10.5.0.0/16', nh('p0')), ins('10.6.0.0/16', nh('p0')),
      ] }), status.RESOURCE_EXHAUSTED, /^updates\[2\]: dataplane: route table full/);
      assert.deepEqual([...h.server.controller.state.routes.keys()], ['10.7.0.0/16']);
      assert.deepEqual([...h.world.tables.routes.keys()], ['10.7.0.0/16']);
    });

    it('lands exactly the union of concurrent writers (the pipelined route path)', async () => {
      // 4 writers x 6 batches of 40 routes, all in flight at once; each writer then deletes its first batch.
      const prefix = (w: number, b: number, i: number): string => `10.${100 + w}.${b * 40 + i}.0/24`;
      const batch = (w: number, b: number) => Array.from({ length: 40 }, (_, i) => ({ prefix: prefix(w, b, i), nextHops: [nh(w % 2 ? 'p1' : 'p0')] }));
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        await Promise.all(Array.from({ length: 6 }, (_, b) => h.client.route.addRoutes({ routes: batch(w, b) })));
        await h.client.route.deleteRoutes({ prefixes: batch(w, 0).map((r) => r.prefix) });
      }));
      const want = new Set<string>();
      for (let w = 0; w < 4; w++) for (let b = 1; b < 6; b++) for (let i = 0; i < 40; i++) want.add(prefix(w, b, i));
      const model = [...h.server.controller.state.routes.keys()].filter((k) => k.startsWith('10.10'));
      assert.deepEqual(new Set(model), want);
      assert.deepEqual(new Set([...h.world.tables.routes.keys()].filter((k) => k.startsWith('10.10'))), want, 'the dataplane holds the same');
      const listed = (await h.client.route.listAllRoutes({ excludeConnected: true })).map((r) => r.prefix).filter((k) => k.startsWith('10.10'));
      assert.deepEqual(new Set(listed), want);
      assert.equal(h.server.controller.routeWrites.full, 0, 'every batch took the fast path');
    });

    it('serializes concurrent writes (no double insert)', async () => {
      const rs = await Promise.allSettled(Array.from({ length: 5 }, () =>
        h.client.route.addRoutes({ routes: [{ prefix: '10.4.0.0/16', nextHops: [nh('p0')] }] })));
      assert.equal(rs.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal(rs.filter((r) => r.status === 'rejected' && (r.reason as grpc.ServiceError).code === status.ALREADY_EXISTS).length, 4);
    });
  });

  describe('PortService', () => {
    it('lists ports with addresses and counters', async () => {
      h.world.rxPackets = 42n;
      const { ports } = await h.client.port.listPorts({});
      assert.deepEqual(ports.map((p) => p.name), ['p0', 'p1']);
      assert.deepEqual(ports[0].addresses.map((a) => a.cidr), ['10.0.1.1/24', '2001:db8:1::1/64']);
      assert.equal(ports[0].driver, 'net_null');
      assert.equal(ports[0].counters?.rxPackets, '42');
      assert.equal((await h.client.port.getPort({ name: 'p1' })).mac, '02:00:00:00:00:01');
      await rejectsWith(h.client.port.getPort({ name: 'x' }), status.NOT_FOUND, /^name: unknown port "x"/);
      await rejectsWith(h.client.port.getPort({ name: '' }), status.INVALID_ARGUMENT, /^name: required/);
    });

    it('adds and deletes addresses with validation', async () => {
      const add = (port: string, ...cidrs: string[]) => h.client.port.addAddresses({ port, addresses: cidrs.map((cidr) => ({ cidr })) });
      const del = (port: string, ...cidrs: string[]) => h.client.port.deleteAddresses({ port, addresses: cidrs.map((cidr) => ({ cidr })) });
      await rejectsWith(add('', '10.0.3.1/24'), status.INVALID_ARGUMENT, /^port: required/);
      await rejectsWith(add('p7', '10.0.3.1/24'), status.NOT_FOUND, /^port: unknown port "p7"/);
      await rejectsWith(add('p1'), status.INVALID_ARGUMENT, /^addresses: empty/);
      await rejectsWith(add('p1', '10.0.3.1/24', '10.0.3.300/24'), status.INVALID_ARGUMENT, /^addresses\[1\]\.cidr: not an IP address/);
      await rejectsWith(add('p1', '10.0.3.1'), status.INVALID_ARGUMENT, /^addresses\[0\]\.cidr: prefix length missing/);
      await rejectsWith(add('p1', '224.0.0.5/24'), status.INVALID_ARGUMENT, /^addresses\[0\]\.cidr: multicast/);
      await rejectsWith(add('p1', '10.0.1.1/24'), status.ALREADY_EXISTS, /^addresses\[0\]\.cidr: 10\.0\.1\.1 is already an address of p0/);
      await rejectsWith(add('p1', '10.0.3.1/24', '10.0.3.1/25'), status.ALREADY_EXISTS, /^addresses\[1\]\.cidr: 10\.0\.3\.1 appears twice/);
      const r = await add('p1', '10.0.3.1/24', '2001:db8:2::1/64');
      assert.deepEqual(r.addresses.map((a) => a.cidr), ['10.0.2.1/24', '10.0.3.1/24', '2001:db8:2::1/64']);
      assert.ok(h.world.tables.addresses.has('10.0.3.1') && h.world.tables.addresses.has('2001:db8:2::1'));
      await rejectsWith(del('p0', '10.0.3.1/24'), status.NOT_FOUND, /^addresses\[0\]\.cidr: 10\.0\.3\.1\/24 is not an address of p0/);
      await rejectsWith(del('p1', '10.0.3.1/16'), status.NOT_FOUND, /^addresses\[0\]\.cidr/);
      const d = await del('p1', '10.0.3.1/24');
      assert.deepEqual(d.addresses.map((a) => a.cidr), ['10.0.2.1/24', '2001:db8:2::1/64']);
      assert.ok(!h.world.tables.addresses.has('10.0.3.1'));
    });
  });

  describe('NeighborService', () => {
    it('validates, adds, lists (static + learned) and deletes', async () => {
      const add = (...ns: api.Neighbor[]) => h.client.neighbor.addNeighbors({ neighbors: ns });
      await rejectsWith(add({ port: 'p0', address: '10.0.1.9', mac: '02:00:00:00:00' }), status.INVALID_ARGUMENT, /^neighbors\[0\]\.mac: not a MAC/);
      await rejectsWith(add({ port: 'p0', address: '10.0.1.9', mac: '01:00:5e:00:00:01' }), status.INVALID_ARGUMENT, /^neighbors\[0\]\.mac: multicast/);
      await rejectsWith(add({ port: 'p0', address: '10.0.1.256', mac: '02:00:00:00:00:09' }), status.INVALID_ARGUMENT, /^neighbors\[0\]\.address: not an IP/);
      await rejectsWith(add({ port: 'p0', address: '', mac: '02:00:00:00:00:09' }), status.INVALID_ARGUMENT, /^neighbors\[0\]\.address: required/);
      await rejectsWith(add({ port: 'nope', address: '10.0.1.9', mac: '02:00:00:00:00:09' }), status.NOT_FOUND, /^neighbors\[0\]\.port: unknown port/);
      await rejectsWith(add({ port: 'p0', address: '10.0.1.9', mac: '02:00:00:00:00:09' }, { port: 'p0', address: '10.0.1.9', mac: '02:00:00:00:00:08' }),
        status.ALREADY_EXISTS, /^neighbors\[1\]\.address: 10\.0\.1\.9 on p0 appears twice/);
      assert.equal((await add({ port: 'p0', address: '10.0.1.9', mac: '02:AA:00:00:00:09' }, { port: 'p1', address: 'fe80::9', mac: '02:00:00:00:00:0a' })).applied, 2);
      await rejectsWith(add({ port: 'p0', address: '10.0.1.9', mac: '02:00:00:00:00:09' }), status.ALREADY_EXISTS,
        /^neighbors\[0\]\.address: static neighbor 10\.0\.1\.9 on p0 already exists/);
      // A learned entry, as the dataplane would report it.
      h.world.tables.neighbors.set('0|10.0.1.20', { portId: 0, address: '10.0.1.20', mac: '02:00:00:00:00:14', state: 'learned', ageSeconds: 7 });
      const { neighbors } = await h.client.neighbor.listNeighbors({});
      assert.deepEqual(neighbors.map((n) => [n.port, n.address, n.mac, n.state]), [
        ['p0', '10.0.1.9', '02:aa:00:00:00:09', 'STATIC'],
        ['p0', '10.0.1.20', '02:00:00:00:00:14', 'LEARNED'],
        ['p1', 'fe80::9', '02:00:00:00:00:0a', 'STATIC'],
      ]);
      assert.equal(neighbors[1].ageSeconds, 7);
      assert.equal((await h.client.neighbor.listNeighbors({ port: 'p1' })).neighbors.length, 1);
      await rejectsWith(h.client.neighbor.listNeighbors({ port: 'p5' }), status.NOT_FOUND, /^port: unknown port/);
      await rejectsWith(h.client.neighbor.deleteNeighbors({ neighbors: [{ port: 'p1', address: '10.0.1.9', mac: '' }] }), status.NOT_FOUND,
        /^neighbors\[0\]\.address: no static neighbor 10\.0\.1\.9 on p1/);
      assert.equal((await h.client.neighbor.deleteNeighbors({ neighbors: [{ port: 'p0', address: '10.0.1.9', mac: '' }] })).applied, 1);
      assert.ok(!h.world.tables.neighbors.has('0|10.0.1.9'));
    });
  });

  describe('StatsService', () => {
    it('returns counters and rates; WatchStats streams deltas', async () => {
      h.world.rxPackets = 1000n;
      const s = await h.client.stats.getStats({});
      assert.equal(s.ports.length, 2);
      assert.equal(s.ports[0].rx?.packets, '1000');
      assert.equal(s.ports[0].rxQueues[0].worker, 0);
      assert.equal(s.slowPath.arp_request_rx, '0');
      await rejectsWith(new Promise((resolve, reject) => {
        const st = h.client.stats.watchStats({ intervalMs: 50 });
        st.on('data', resolve);
        st.on('error', reject);
      }), status.INVALID_ARGUMENT, /^interval_ms: minimum 100/);

      const stream = h.client.stats.watchStats({ intervalMs: 100 });
      const got: api.Stats__Output[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (x: api.Stats__Output) => {
          got.push(x);
          h.world.rxPackets += 100_000n; // 100k packets per interval of ~0.1 s = ~1 Mpps
          h.world.busyCycles += 50_000_000n;
          if (got.length === 4) { stream.cancel(); resolve(); }
        });
        stream.on('error', (e: grpc.ServiceError) => (e.code === status.CANCELLED ? resolve() : reject(e)));
      });
      const last = got[3];
      assert.ok(last.intervalSeconds > 0.05 && last.intervalSeconds < 1, `interval ${last.intervalSeconds}`);
      const mpps = last.ports[0].rx!.mpps;
      const expect = 0.1 / last.intervalSeconds;
      assert.ok(Math.abs(mpps - expect) < 1e-6, `port mpps ${mpps} vs ${expect}`);
      assert.ok(Math.abs(last.ports[0].rx!.bps - expect * 1e6 * 64 * 8) < 1, 'bps from bytes');
      const w = last.workers[0];
      assert.ok(Math.abs(w.cyclesPerPacket - 50_000_000 / 200_000) < 1e-6, `cycles/pkt ${w.cyclesPerPacket}`);
      assert.ok(Math.abs(w.busyPercent - Math.min(100, (0.05 / last.intervalSeconds) * 100)) < 1e-6, `busy ${w.busyPercent}`);
    });
  });

  describe('health, reflection and DataplaneService', () => {
    it('reports SERVING while attached and NOT_SERVING when the dataplane goes', async () => {
      assert.equal(await h.client.healthCheck(''), 'SERVING');
      assert.equal(await h.client.healthCheck('linerate.v1.RouteService'), 'SERVING');
      const d = await h.client.dataplane.getDataplane({});
      assert.equal(d.attached, true);
      assert.equal(d.pid, process.pid);
      assert.equal(d.addresses, '3');
      h.world.alive = false;
      h.world.restart();
      await waitUntil(async () => (await h.client.healthCheck('')) === 'NOT_SERVING');
      await rejectsWith(h.client.route.addRoutes({ routes: [{ prefix: '10.3.0.0/16', nextHops: [nh('p0')] }] }), status.UNAVAILABLE,
        /dataplane not attached/);
      h.world.alive = true;
      await waitUntil(async () => (await h.client.healthCheck('')) === 'SERVING');
      // Reattached to a restarted dataplane: reconciled back.
      assert.deepEqual([...h.world.tables.addresses.keys()].sort(), ['10.0.1.1', '10.0.2.1', '2001:db8:1::1']);
      assert.equal((await h.client.dataplane.getDataplane({})).attaches, 2);
    });

    it('serves reflection (grpcurl list)', async () => {
      const client = new grpc.Client(h.server.address, grpc.credentials.createInsecure());
      // ServerReflectionInfo is a bidi stream of protobuf messages; a list request is field 3 (list_services) = "".
      const call = client.makeBidiStreamRequest('/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
        (b: Buffer) => b, (b: Buffer) => b);
      const reply = await new Promise<Buffer>((resolve, reject) => {
        call.on('data', (b: Buffer) => { resolve(b); call.end(); });
        call.on('error', reject);
        call.write(Buffer.from([0x3a, 0x00]));
      });
      client.close();
      const text = reply.toString('latin1');
      for (const s of ['linerate.v1.RouteService', 'linerate.v1.StatsService', 'grpc.health.v1.Health']) assert.ok(text.includes(s), `${s} listed`);
    });
  });
});

async function waitUntil(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not met in time');
}
