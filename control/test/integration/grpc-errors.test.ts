/**
 * Bad requests over real gRPC to the real serve + linerate-dp: each gets
 * the right status code, a message naming the offending field, and changes
 * nothing (the tables read back identical, in the control plane and in the
 * dataplane's own dump).
 */
import * as assert from 'node:assert/strict';
import type * as api from '../../src/gen';
import { dataplaneTables, dumpOnFailure, requireIntegration, startRig, stopRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import { rejection, Status } from '../helpers/grpc';

const BASE_ROUTES: (api.Route & { prefix: string })[] = [
  { prefix: '192.0.2.0/24', nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
  { prefix: '2001:db8:77::/48', nextHops: [{ port: 'p1', via: '2001:db8:2:1::2' }] },
];
const BASE_NEIGHBORS: api.Neighbor[] = [{ port: 'p1', address: '10.2.1.2', mac: '02:00:5e:00:01:01' }];

/** Batch limit of the dataplane (LR_CTL_MAX_BATCH). */
const MAX_BATCH = 65536;

describe('integration: bad gRPC input is refused and applies nothing', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  const client = () => rig!.client();

  /** Routes (configured and connected), sorted, as the API lists them. */
  async function routeTable(): Promise<string[]> {
    const routes = await client().route.listAllRoutes({});
    return routes.map((r) => `${r.prefix} ${r.connected ? 'connected' : ''} ${r.nextHops.map((n) => `${n.port}/${n.via}`).join(',')}`).sort();
  }
  async function neighborTable(): Promise<string[]> {
    const n = (await client().neighbor.listNeighbors({})).neighbors;
    return n.filter((x) => x.state === 'STATIC').map((x) => `${x.port} ${x.address} ${x.mac}`).sort();
  }
  async function addressTable(): Promise<string[]> {
    const ports = (await client().port.listPorts({})).ports;
    return ports.flatMap((p) => p.addresses.map((a) => `${p.name} ${a.cidr}`)).sort();
  }

  let routesBefore: string[] = [];
  let neighborsBefore: string[] = [];
  let addressesBefore: string[] = [];
  let dataplaneBefore: Awaited<ReturnType<typeof dataplaneTables>>;

  before(async function () {
    requireIntegration(this);
    rig = await startRig('err', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: ['10.2.0.1/24'] },
        { name: 'p1', device: wires[1].device(1), addresses: ['10.2.1.1/24', '2001:db8:2:1::1/64'] },
      ],
    }));
    await client().neighbor.addNeighbors({ neighbors: BASE_NEIGHBORS });
    await client().route.addRoutes({ routes: BASE_ROUTES });
    routesBefore = await routeTable();
    neighborsBefore = await neighborTable();
    addressesBefore = await addressTable();
    dataplaneBefore = await dataplaneTables(rig);
    assert.ok(routesBefore.some((r) => r.startsWith('192.0.2.0/24')));
    // The dataplane holds the 2 routes plus the 3 connected subnets, and the neighbor.
    assert.equal(dataplaneBefore.routes.length, 5, dataplaneBefore.routes.join('\n'));
    assert.equal(dataplaneBefore.neighbors.length, 1);
  });

  afterEach(async function () {
    dumpOnFailure(this, rig);
    // A failed test may have changed the tables: put the baseline back so
    // that the next test reports its own result, not this one's.
    if (this.currentTest?.state === 'failed' && rig?.serve.client) await restoreBaseline();
  });

  async function restoreBaseline(): Promise<void> {
    const routes = await client().route.listAllRoutes({ excludeConnected: true });
    const base = new Set(BASE_ROUTES.map((r) => r.prefix));
    const extra = routes.map((r) => r.prefix).filter((p) => !base.has(p));
    if (extra.length) await client().route.deleteRoutes({ prefixes: extra });
    const have = new Set(routes.map((r) => r.prefix));
    const missing = BASE_ROUTES.filter((r) => !have.has(r.prefix));
    if (missing.length) await client().route.addRoutes({ routes: missing });
    const statics = (await client().neighbor.listNeighbors({})).neighbors.filter((n) => n.state === 'STATIC');
    const extraN = statics.filter((n) => !BASE_NEIGHBORS.some((b) => b.port === n.port && b.address === n.address));
    if (extraN.length) await client().neighbor.deleteNeighbors({ neighbors: extraN });
  }

  after(() => stopRig(rig));

  /** Asserts the call failed with `code` and a message naming `field`, and nothing changed. */
  async function refused(call: Promise<unknown>, code: Status, field: RegExp): Promise<void> {
    const err = await rejection(call);
    assert.equal(err.code, code, `expected ${Status[code]}, got ${Status[err.code] ?? err.code}: ${err.details}`);
    assert.match(err.details, field, `message should name the field: ${err.details}`);
    assert.deepEqual(await routeTable(), routesBefore, 'route table changed');
    assert.deepEqual(await neighborTable(), neighborsBefore, 'neighbor table changed');
    assert.deepEqual(await addressTable(), addressesBefore, 'addresses changed');
    // And in the dataplane itself, not only in the control plane's desired state.
    assert.deepEqual(await dataplaneTables(rig!), dataplaneBefore, 'dataplane tables changed');
  }

  describe('INVALID_ARGUMENT', () => {
    for (const [what, prefix] of [
      ['prefix length over 32', '10.9.0.0/33'],
      ['host bits set', '10.9.0.1/16'],
      ['not an address', '10.9.0.256/24'],
      ['no prefix length', '10.9.0.0'],
      ['IPv6 prefix length over 128', '2001:db8::/129'],
    ] as const) {
      it(`bad prefix (${what}) names routes[1].prefix`, async () => {
        await refused(client().route.addRoutes({
          routes: [
            { prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
            { prefix, nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
          ],
        }), Status.INVALID_ARGUMENT, /routes\[1\]\.prefix/);
      });
    }

    it('bad prefix inside a Write batch names updates[2].route.prefix', async () => {
      await refused(client().route.write({
        updates: [
          { type: 'INSERT', route: { prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '10.2.1.2' }] } },
          { type: 'DELETE', route: { prefix: '192.0.2.0/24', nextHops: [] } },
          { type: 'INSERT', route: { prefix: '10.9.0.0/15', nextHops: [{ port: 'p1', via: '10.2.1.2' }] } },
        ],
      }), Status.INVALID_ARGUMENT, /updates\[2\]\.route\.prefix/);
    });

    it('a 16 MiB prefix is refused at once, quoting only its start, while another call is answered', async () => {
      const t0 = Date.now();
      const other = client().port.listPorts({}).then(() => Date.now() - t0);
      await refused(client().route.addRoutes({ routes: [{ prefix: '1'.repeat(16 << 20), nextHops: [{ port: 'p1', via: '10.2.1.2' }] }] }),
        Status.INVALID_ARGUMENT, /^routes\[0\]\.prefix: 16777216 characters, at most 256: "1{64}"\.\.\. \(16777216 characters\)$/);
      const took = Date.now() - t0;
      assert.ok(took < 3000, `refused after ${took} ms`);
      assert.ok(await other < 3000, 'ListPorts answered meanwhile');
    });

    it('gateway of the other family names the next hop', async () => {
      await refused(client().route.addRoutes({
        routes: [{ prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '2001:db8:2:1::2' }] }],
      }), Status.INVALID_ARGUMENT, /routes\[0\]\.next_?hops\[0\]\.via/i);
    });

    it('a route without next hops names next_hops', async () => {
      await refused(client().route.addRoutes({ routes: [{ prefix: '10.8.0.0/16', nextHops: [] }] }),
        Status.INVALID_ARGUMENT, /routes\[0\]\.next_?hops/i);
    });

    it('a bad neighbor MAC names neighbors[0].mac', async () => {
      await refused(client().neighbor.addNeighbors({ neighbors: [{ port: 'p1', address: '10.2.1.9', mac: '02:00:5e:00:01' }] }),
        Status.INVALID_ARGUMENT, /neighbors\[0\]\.mac/);
    });
  });

  describe('NOT_FOUND', () => {
    it('unknown next-hop port names routes[1].next_hops[0].port', async () => {
      await refused(client().route.addRoutes({
        routes: [
          { prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
          { prefix: '10.9.0.0/16', nextHops: [{ port: 'p9', via: '10.2.1.2' }] },
        ],
      }), Status.NOT_FOUND, /routes\[1\]\.next_?hops\[0\]\.port/i);
    });

    it('unknown port in GetPort and AddAddresses names the port', async () => {
      await refused(client().port.getPort({ name: 'p9' }), Status.NOT_FOUND, /p9/);
      await refused(client().port.addAddresses({ port: 'p9', addresses: [{ cidr: '10.3.0.1/24' }] }), Status.NOT_FOUND, /port/);
    });

    it('deleting an absent route names prefixes[1]', async () => {
      await refused(client().route.deleteRoutes({ prefixes: ['192.0.2.0/24', '203.0.113.0/24'] }),
        Status.NOT_FOUND, /prefixes\[1\]/);
    });

    it('modifying an absent route names updates[0]', async () => {
      await refused(client().route.write({
        updates: [{ type: 'MODIFY', route: { prefix: '203.0.113.0/24', nextHops: [{ port: 'p1', via: '10.2.1.2' }] } }],
      }), Status.NOT_FOUND, /updates\[0\]/);
    });

    it('GetRoute of an absent prefix', async () => {
      const err = await rejection(client().route.getRoute({ prefix: '203.0.113.0/24' }));
      assert.equal(err.code, Status.NOT_FOUND);
    });
  });

  describe('ALREADY_EXISTS', () => {
    it('inserting an existing route names routes[1].prefix', async () => {
      await refused(client().route.addRoutes({
        routes: [
          { prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
          { prefix: '192.0.2.0/24', nextHops: [{ port: 'p0', via: '10.2.0.2' }] },
        ],
      }), Status.ALREADY_EXISTS, /routes\[1\]\.prefix/);
    });

    it('the same prefix twice in one batch names the second', async () => {
      await refused(client().route.addRoutes({
        routes: [
          { prefix: '10.8.0.0/16', nextHops: [{ port: 'p1', via: '10.2.1.2' }] },
          { prefix: '10.8.0.0/16', nextHops: [{ port: 'p0', via: '10.2.0.2' }] },
        ],
      }), Status.ALREADY_EXISTS, /routes\[1\]\.prefix/);
    });

    it('an existing static neighbor names neighbors[0]', async () => {
      await refused(client().neighbor.addNeighbors({ neighbors: [{ ...BASE_NEIGHBORS[0], mac: '02:00:5e:00:01:02' }] }),
        Status.ALREADY_EXISTS, /neighbors\[0\]/);
    });

    it('an address another port owns', async () => {
      await refused(client().port.addAddresses({ port: 'p0', addresses: [{ cidr: '10.2.1.1/24' }] }),
        Status.ALREADY_EXISTS, /addresses\[0\]/);
    });
  });

  describe('RESOURCE_EXHAUSTED', () => {
    it(`a batch of ${MAX_BATCH + 1} routes (over the dataplane's batch limit)`, async () => {
      const routes: api.Route[] = [];
      for (let i = 0; i <= MAX_BATCH; i++) {
        routes.push({ prefix: `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, nextHops: [{ port: 'p1', via: '10.2.1.2' }] });
      }
      await refused(client().route.addRoutes({ routes }), Status.RESOURCE_EXHAUSTED, /routes/);
    });
  });

  describe('afterwards', () => {
    it('a valid batch still applies after all the refusals, then deletes cleanly', async () => {
      const routes: (api.Route & { prefix: string })[] = [];
      for (let i = 0; i < 1000; i++) routes.push({ prefix: `100.64.${i >> 8}.${i & 255}/32`, nextHops: [{ port: 'p1', via: '10.2.1.2' }] });
      assert.equal((await client().route.addRoutes({ routes })).applied, 1000);
      assert.equal((await routeTable()).length, routesBefore.length + 1000);
      assert.equal((await dataplaneTables(rig!)).routes.length, dataplaneBefore.routes.length + 1000);
      assert.equal((await client().route.deleteRoutes({ prefixes: routes.map((r) => r.prefix) })).applied, 1000);
      assert.deepEqual(await routeTable(), routesBefore);
      assert.deepEqual(await dataplaneTables(rig!), dataplaneBefore);
    });
  });

  // Last child suite: mocha runs a suite's own tests before its child suites.
  describe('cleanup', () => {
    it('leaves no process, interface, socket, stats or hugepage file behind', () => {
      const r = rig!;
      rig = undefined;
      stopRigAndCheckClean(r);
    });
  });
});
