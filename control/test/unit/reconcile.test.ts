import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import type * as dp from '../../src/dataplane/addon';
import { PortMap } from '../../src/dataplane/translate';
import { dataplaneError } from '../../src/errors';
import { DesiredState } from '../../src/model/state';
import { diff, dumpDataplane, planSize, reconcile } from '../../src/reconcile/reconcile';
import { FakeDataplane, FakeWorld } from './fake-dataplane';
import { startHarness, tempDir } from './helpers';

function desired(): DesiredState {
  const s = new DesiredState();
  s.applyChanges([
    { kind: 'address', op: 'add', entry: { port: 'p0', address: '10.0.1.1', prefixLen: 24, family: 4 } },
    { kind: 'address', op: 'add', entry: { port: 'p1', address: '2001:db8:2::1', prefixLen: 64, family: 6 } },
    { kind: 'neighbor', op: 'add', entry: { port: 'p0', address: '10.0.1.9', mac: '02:00:00:00:00:09', family: 4 } },
    { kind: 'route', op: 'add', entry: { prefix: '10.8.0.0/16', family: 4, nextHops: [{ port: 'p0', via: '10.0.1.9' }] } },
    { kind: 'route', op: 'add', entry: { prefix: '2001:db8:8::/48', family: 6, nextHops: [{ port: 'p1', via: '2001:db8:2::9' }, { port: 'p0', via: undefined, weight: 2 }] } },
  ]);
  return s;
}

async function connected(world: FakeWorld): Promise<{ d: FakeDataplane; ports: PortMap }> {
  const d = new FakeDataplane(world);
  await d.connect();
  return { d, ports: new PortMap(await d.portList()) };
}

describe('reconcile', () => {
  it('fills an empty dataplane, then finds nothing to do', async () => {
    const world = new FakeWorld();
    const { d, ports } = await connected(world);
    const state = desired();
    const r = await reconcile(d, ports, state, { maxBatch: 64 });
    assert.equal(r.pushed, 5);
    assert.equal(r.skipped, 0);
    assert.deepEqual(world.batches.map((b) => b.kind), ['address', 'neighbor', 'route']);
    assert.deepEqual(world.tables.routes.get('2001:db8:8::/48')?.nextHops, [{ portId: 1, via: '2001:db8:2::9' }, { portId: 0, weight: 2 }]);
    const again = diff(await dumpDataplane(d), state, ports);
    assert.equal(planSize(again), 0, JSON.stringify(again));
  });

  it('removes stale entries, replaces changed ones and leaves learned neighbors and connected routes alone', async () => {
    const world = new FakeWorld();
    const { d, ports } = await connected(world);
    const state = desired();
    await reconcile(d, ports, state, { maxBatch: 64 });
    // Drift: a stale route, a changed route (next hops as a different-order set is NOT a change), an address
    // on the wrong port, a wrong MAC, a stale static neighbor, a learned one.
    await d.routeBatch([
      { op: 'add', prefix: '192.168.0.0/16', nextHops: [{ portId: 1 }] },
      { op: 'replace', prefix: '10.8.0.0/16', nextHops: [{ portId: 1, via: '10.0.1.9' }] },
      { op: 'replace', prefix: '2001:db8:8::/48', nextHops: [{ portId: 0, weight: 2 }, { portId: 1, via: '2001:db8:2:0::9' }] },
    ]);
    world.tables.addresses.set('10.0.1.1', { portId: 1, address: '10.0.1.1', prefixLen: 24 });
    world.tables.neighbors.set('0|10.0.1.9', { portId: 0, address: '10.0.1.9', mac: '02:00:00:00:00:99', state: 'static' });
    world.tables.neighbors.set('1|10.0.2.5', { portId: 1, address: '10.0.2.5', mac: '02:00:00:00:00:05', state: 'static' });
    world.tables.neighbors.set('1|10.0.2.6', { portId: 1, address: '10.0.2.6', mac: '02:00:00:00:00:06', state: 'learned' });

    const plan = diff(await dumpDataplane(d), state, ports);
    assert.deepEqual(plan.del.routes.map((r) => r.prefix), ['192.168.0.0/16']);
    assert.deepEqual(plan.add.routes.map((r) => [r.op, r.prefix]), [['replace', '10.8.0.0/16']]);
    assert.deepEqual(plan.del.addresses.map((a) => [a.portId, a.address]), [[1, '10.0.1.1']]);
    assert.deepEqual(plan.add.addresses.map((a) => [a.portId, a.address]), [[0, '10.0.1.1']]);
    assert.deepEqual(plan.del.neighbors.map((n) => n.address), ['10.0.2.5']);
    assert.deepEqual(plan.add.neighbors.map((n) => [n.op, n.address, n.mac]), [['replace', '10.0.1.9', '02:00:00:00:00:09']]);

    await reconcile(d, ports, state, { maxBatch: 64 });
    assert.deepEqual(world.tables.routes.get('10.8.0.0/16')?.nextHops, [{ portId: 0, via: '10.0.1.9' }]);
    assert.ok(!world.tables.routes.has('192.168.0.0/16'));
    assert.equal(world.tables.addresses.get('10.0.1.1')?.portId, 0);
    assert.equal(world.tables.neighbors.get('1|10.0.2.6')?.state, 'learned', 'learned entry untouched');
    assert.ok(!world.tables.neighbors.has('1|10.0.2.5'));
  });

  it('splits into batches of maxBatch and skips an entry the dataplane refuses', async () => {
    const world = new FakeWorld();
    const { d, ports } = await connected(world);
    const state = new DesiredState();
    state.applyChanges(Array.from({ length: 150 }, (_, i) => ({
      kind: 'route' as const, op: 'add' as const,
      entry: { prefix: `10.${i}.0.0/16`, family: 4 as const, nextHops: [{ port: 'p1' }] },
    })));
    // A desired entry naming a port the dataplane lacks is reported, not pushed.
    state.applyChanges([{ kind: 'route', op: 'add', entry: { prefix: '10.200.0.0/16', family: 4, nextHops: [{ port: 'gone' }] } }]);
    world.refuse.add('10.77.0.0/16');
    const r = await reconcile(d, ports, state, { maxBatch: 64 });
    assert.deepEqual(world.batches.map((b) => b.n), [64, 63, 22]);
    assert.equal(r.pushed, 149);
    assert.equal(r.skipped, 2);
    assert.deepEqual(r.plan.unknownPort, ['route 10.200.0.0/16 via gone']);
    assert.equal(world.tables.routes.size, 149);
  });

  it('aborts on a connection error instead of skipping', async () => {
    const world = new FakeWorld();
    const { d, ports } = await connected(world);
    const broken: dp.Dataplane = Object.assign(Object.create(d) as dp.Dataplane, {
      routeBatch: async () => { throw dataplaneError(status.UNAVAILABLE, 'socket closed', 0); },
      addrDump: () => d.addrDump(), routeDump: () => d.routeDump(), neighDump: () => d.neighDump(),
    });
    await assert.rejects(reconcile(broken, ports, desired(), { maxBatch: 64 }), /socket closed/);
  });

  it('serve restart: config applied once, persisted writes win, a restarted dataplane is refilled', async function () {
    this.timeout(20000);
    const dir = tempDir('restart');
    try {
      const world = new FakeWorld();
      let h = await startHarness({ routes: [{ prefix: '10.50.0.0/16', port: 'p0' }] }, world, dir);
      await h.client.route.write({ updates: [
        { type: 'DELETE', route: { prefix: '10.50.0.0/16', nextHops: [] } },
        { type: 'INSERT', route: { prefix: '10.60.0.0/16', nextHops: [{ port: 'p1', via: '10.0.2.2' }] } },
      ] });
      await h.client.port.deleteAddresses({ port: 'p1', addresses: [{ cidr: '10.0.2.1/24' }] });
      await h.close();
      // The dataplane kept running (same world); it restarts while serve is down and comes back empty.
      world.restart();
      h = await startHarness({ routes: [{ prefix: '10.50.0.0/16', port: 'p0' }] }, world, dir);
      assert.deepEqual([...world.tables.routes.keys()], ['10.60.0.0/16'], 'the config route stays deleted');
      assert.deepEqual([...world.tables.addresses.keys()].sort(), ['10.0.1.1', '2001:db8:1::1']);
      const all = await h.client.route.listAllRoutes({ excludeConnected: true });
      assert.deepEqual(all.map((r) => r.prefix), ['10.60.0.0/16']);
      await h.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
