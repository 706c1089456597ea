import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Controller } from '../../src/controller';
import { PortMap } from '../../src/dataplane/translate';
import type { Attachment } from '../../src/dataplane/supervisor';
import { silentLogger } from '../../src/log';
import { DesiredState } from '../../src/model/state';
import { validateAddNeighbors } from '../../src/tables/neighbor';
import { addBatch, validateRouteUpdates, writeBatch } from '../../src/tables/route';
import { RouteMap, routeMapOf } from '../../src/tables/route-map';
import { loadProto } from '../../src/proto';
import type { StateStore } from '../../src/state/store';
import { FakeDataplane, FakeWorld, fakeLimits } from './fake-dataplane';

async function setup(append: () => void): Promise<{ ctl: Controller; world: FakeWorld; journal: unknown[] }> {
  const world = new FakeWorld();
  const dp = new FakeDataplane(world);
  const hello = await dp.connect();
  const a: Attachment = { dp, hello, ports: new PortMap(await dp.portList()), stats: null };
  const journal: unknown[] = [];
  const store = { append: (c: unknown) => { append(); journal.push(c); }, needsCompaction: false } as unknown as StateStore;
  const ctl = new Controller({ state: new DesiredState(), store, limits: fakeLimits, log: silentLogger, attachment: () => a });
  return { ctl, world, journal };
}

describe('controller write path', () => {
  it('journals after the dataplane accepted, then updates the model', async () => {
    const { ctl, world, journal } = await setup(() => undefined);
    const n = await ctl.write((s, a) => validateRouteUpdates(addBatch({ routes: [{ prefix: '10.1.0.0/16', nextHops: [{ port: 'p0' }] }] }),
      s, a.ports, fakeLimits));
    assert.equal(n, 1);
    assert.equal(journal.length, 1);
    assert.ok(world.tables.routes.has('10.1.0.0/16') && ctl.state.routes.has('10.1.0.0/16'));
  });

  it('does not journal a batch the dataplane refused', async () => {
    const { ctl, world, journal } = await setup(() => undefined);
    world.failNext = { index: 0, code: status.INVALID_ARGUMENT, message: 'nope' };
    await assert.rejects(ctl.write((s, a) => validateAddNeighbors({ neighbors: [{ port: 'p1', address: '10.0.2.9', mac: '02:00:00:00:00:09' }] },
      s, a.ports, fakeLimits)), (e: { code: number; message: string }) => e.code === status.INVALID_ARGUMENT && /^neighbors\[0\]: dataplane: nope/.test(e.message));
    assert.equal(journal.length, 0);
    assert.equal(ctl.state.neighbors.size, 0);
  });

  it('undoes the dataplane change when the journal write fails', async () => {
    let fail = false;
    const { ctl, world } = await setup(() => { if (fail) throw new Error('ENOSPC: no space left on device'); });
    const w = (updates: Parameters<typeof writeBatch>[0]['updates']) =>
      ctl.write((s, a) => validateRouteUpdates(writeBatch({ updates }), s, a.ports, fakeLimits));
    await w([{ type: 'INSERT', route: { prefix: '10.1.0.0/16', nextHops: [{ port: 'p0' }] } },
      { type: 'INSERT', route: { prefix: '10.2.0.0/16', nextHops: [{ port: 'p0' }] } }]);
    fail = true;
    await assert.rejects(w([
      { type: 'MODIFY', route: { prefix: '10.1.0.0/16', nextHops: [{ port: 'p1', via: '10.0.2.2' }] } },
      { type: 'DELETE', route: { prefix: '10.2.0.0/16', nextHops: [] } },
      { type: 'INSERT', route: { prefix: '10.3.0.0/16', nextHops: [{ port: 'p1' }] } },
    ]), (e: { code: number; message: string }) => e.code === status.INTERNAL && /journal write failed .*ENOSPC.*undone/.test(e.message));
    assert.deepEqual([...world.tables.routes.keys()].sort(), ['10.1.0.0/16', '10.2.0.0/16']);
    assert.deepEqual(world.tables.routes.get('10.1.0.0/16')?.nextHops, [{ portId: 0 }]);
    assert.deepEqual([...ctl.state.routes.keys()].sort(), ['10.1.0.0/16', '10.2.0.0/16']);
  });

  it('route write path: a batch the dataplane refuses is in neither the table nor a replay of the journal', async () => {
    const { ctl, world } = await setup(() => undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lr-ctl-routes-'));
    try {
      const routes = routeMapOf(ctl.state.routes);
      routes.loadFiles(dir);
      const svc = loadProto().services.RouteService.service as unknown as Record<string, { requestSerialize(r: unknown): Buffer }>;
      const write = (updates: unknown[]) => {
        const req = { updates };
        return ctl.writeRoutes('Write', svc.Write.requestSerialize(req),
          (s, a) => validateRouteUpdates(writeBatch(req as Parameters<typeof writeBatch>[0]), s, a.ports, fakeLimits));
      };
      assert.equal(await write([{ type: 'INSERT', route: { prefix: '10.1.0.0/16', nextHops: [{ port: 'p0' }] } },
        { type: 'INSERT', route: { prefix: '10.2.0.0/16', nextHops: [{ port: 'p0' }] } }]), 2);
      // refused while its journal record is being written (the two overlap)
      world.failNext = { index: 1, code: status.RESOURCE_EXHAUSTED, message: 'table full' };
      await assert.rejects(write([
        { type: 'MODIFY', route: { prefix: '10.1.0.0/16', nextHops: [{ port: 'p1', via: '10.0.2.2' }] } },
        { type: 'DELETE', route: { prefix: '10.2.0.0/16' } },
        { type: 'INSERT', route: { prefix: '10.3.0.0/16', nextHops: [{ port: 'p1' }] } },
      ]), (e: { code: number; message: string }) => e.code === status.RESOURCE_EXHAUSTED && /^updates\[1\]: .*table full/.test(e.message));
      const want = [['10.1.0.0/16', 'p0'], ['10.2.0.0/16', 'p0']];
      const of = (m: RouteMap) => [...m.values()].map((r) => [r.prefix, r.nextHops.map((h) => h.port + (h.via ? ` via ${h.via}` : '')).join()]).sort();
      assert.deepEqual(of(routes), want, 'the table as before');
      assert.deepEqual([...world.tables.routes.keys()].sort(), ['10.1.0.0/16', '10.2.0.0/16'], 'the dataplane as before');
      assert.equal(routes.store.seq, 3, 'journaled: the first write, the refused one, its inverse');
      routes.closeFiles();
      const again = new RouteMap();
      again.loadFiles(dir);
      assert.deepEqual(of(again), want, 'the journal replays to the same table (record + its inverse)');
      again.closeFiles();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is UNAVAILABLE when detached', async () => {
    const ctl = new Controller({ state: new DesiredState(), store: null, limits: fakeLimits, log: silentLogger, attachment: () => null });
    await assert.rejects(ctl.write(() => ({ changes: [], fieldOf: String })), (e: { code: number }) => e.code === status.UNAVAILABLE);
  });
});
