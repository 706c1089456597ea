import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DesiredState } from '../../src/model/state';
import { loadAddon } from '../../src/dataplane/addon';
import type { Neighbor } from '../../src/tables/neighbor';
import type { Route } from '../../src/tables/route';
import { routeMapOf } from '../../src/tables/route-map';
import type { Change } from '../../src/tables/table';
import { StateStore } from '../../src/state/store';
import { tempDir } from './helpers';

// The JSON journal holds every table but routes (which the addon's RouteStore persists): neighbors stand in.
const neigh = (i: number, port = 'p0'): Neighbor =>
  ({ port, address: `10.${(i >> 8) & 255}.${i & 255}.9`, mac: '02:00:00:00:00:09', family: 4 });
const add = (n: Neighbor): Change => ({ kind: 'neighbor', op: 'add', entry: n });
const route = (i: number, port = 'p0'): Route =>
  ({ prefix: `10.${(i >> 8) & 255}.${i & 255}.0/24`, family: 4, nextHops: [{ port, via: '10.0.1.2' }] });

describe('state store (journal + snapshot)', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir('store'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Applies batches through a store the way the controller does: journal then model. */
  async function writeBatches(batches: Change[][], opts = {}): Promise<DesiredState> {
    const s = new StateStore(dir, opts);
    const { state } = await s.open();
    for (const b of batches) {
      s.append(b);
      state.applyChanges(b);
      if (s.needsCompaction) s.compact(state);
    }
    s.close();
    return state;
  }

  async function reload(): Promise<{ state: DesiredState; fresh: boolean; store: StateStore }> {
    const store = new StateStore(dir);
    const r = await store.open();
    return { ...r, store };
  }

  it('starts fresh, then reloads every appended batch', async () => {
    const r0 = await reload();
    assert.equal(r0.fresh, true);
    r0.store.close();
    const written = await writeBatches([
      [add(neigh(1)), add(neigh(2))],
      [{ kind: 'address', op: 'add', entry: { port: 'p0', address: '10.0.1.1', prefixLen: 24, family: 4 } }],
      [{ kind: 'neighbor', op: 'del', entry: neigh(1) }],
      [{ kind: 'neighbor', op: 'add', entry: { port: 'p1', address: '10.0.2.9', mac: '02:00:00:00:00:09', family: 4 } }],
    ]);
    const { state, fresh, store } = await reload();
    store.close();
    assert.equal(fresh, false);
    assert.deepEqual([...state.neighbors.values()], [neigh(2), { port: 'p1', address: '10.0.2.9', mac: '02:00:00:00:00:09', family: 4 }]);
    assert.deepEqual([state.addresses.size, state.routes.size, state.neighbors.size], [1, 0, 2]);
    assert.deepEqual([...state.neighbors], [...written.neighbors]);
    // One line per batch, no rewrite.
    assert.equal(fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8').trim().split('\n').length, 4);
  });

  it('compacts into an atomic snapshot and keeps reloading the same state', async () => {
    const batches = Array.from({ length: 50 }, (_, b) => Array.from({ length: 20 }, (_, i) => add(neigh(b * 20 + i))));
    const written = await writeBatches(batches, { compactBytes: 20_000 });
    const snap = fs.readFileSync(path.join(dir, 'snapshot.ndjson'), 'utf8').trim().split('\n');
    const header = JSON.parse(snap[0]) as { format: string; seq: number };
    assert.equal(header.format, 'linerate-snapshot');
    assert.ok(header.seq > 0 && header.seq <= 50);
    assert.ok(fs.statSync(path.join(dir, 'journal.ndjson')).size < 20_000, 'journal was truncated by compaction');
    assert.ok(!fs.existsSync(path.join(dir, 'snapshot.ndjson.tmp')));
    const { state, store } = await reload();
    assert.equal(store.lastSeq, 50);
    store.close();
    assert.equal(state.neighbors.size, 1000);
    assert.deepEqual([...state.neighbors], [...written.neighbors]);
  });

  it('skips journal lines already in the snapshot (crash between rename and truncate)', async () => {
    await writeBatches([[add(neigh(1))], [add(neigh(2))]]);
    const journal = fs.readFileSync(path.join(dir, 'journal.ndjson'));
    const s = new StateStore(dir);
    const { state } = await s.open();
    s.compact(state); // snapshot seq 2, journal emptied...
    s.close();
    fs.writeFileSync(path.join(dir, 'journal.ndjson'), journal); // ...but as if the truncation never happened
    const r = await reload();
    r.store.close();
    assert.deepEqual([...r.state.neighbors.values()], [neigh(1), neigh(2)]);
  });

  it('cuts a torn last line (crash during an append) and ignores a leftover tmp snapshot', async () => {
    await writeBatches([[add(neigh(1))], [add(neigh(2))]]);
    const jp = path.join(dir, 'journal.ndjson');
    fs.appendFileSync(jp, '{"seq":3,"changes":[{"kind":"neighbor","op":"add","nei');
    fs.writeFileSync(path.join(dir, 'snapshot.ndjson.tmp'), 'garbage');
    const r = await reload();
    assert.equal(r.state.neighbors.size, 2);
    // The next batch lands on a clean line.
    r.store.append([add(neigh(3))]);
    r.store.close();
    assert.ok(!fs.existsSync(path.join(dir, 'snapshot.ndjson.tmp')));
    const r2 = await reload();
    r2.store.close();
    assert.equal(r2.state.neighbors.size, 3);
  });

  it('refuses a corrupt line in the middle and a second owner', async () => {
    await writeBatches([[add(neigh(1))], [add(neigh(2))]]);
    const s = new StateStore(dir);
    await s.open();
    await assert.rejects(new StateStore(dir).open(), /in use by pid/);
    s.close();
    const jp = path.join(dir, 'journal.ndjson');
    const lines = fs.readFileSync(jp, 'utf8').split('\n');
    lines[0] = '{broken';
    fs.writeFileSync(jp, lines.join('\n'));
    await assert.rejects(new StateStore(dir).open(), /journal.ndjson:1: corrupt/);
  });

  it('reads a state dir written before the table registry (same record format)', async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'snapshot.ndjson'), [
      '{"format":"linerate-snapshot","version":1,"seq":1}',
      '{"kind":"address","op":"add","address":{"port":"p0","address":"10.0.1.1","prefixLen":24,"family":4}}',
      '{"kind":"neighbor","op":"add","neighbor":{"port":"p0","address":"10.0.1.9","mac":"02:00:00:00:00:09","family":4}}',
      '{"kind":"route","op":"add","route":{"prefix":"10.8.0.0/16","family":4,"nextHops":[{"port":"p0","via":"10.0.1.9"}]}}',
    ].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'journal.ndjson'),
      '{"seq":2,"changes":[{"kind":"route","op":"mod","route":{"prefix":"10.8.0.0/16","family":4,"nextHops":[{"port":"p1"}]}}]}\n');
    const r = await reload();
    r.store.append([add(neigh(2))]);
    r.store.close();
    assert.deepEqual([r.state.addresses.size, r.state.routes.size, r.state.neighbors.size], [1, 1, 1]);
    assert.deepEqual(r.state.routes.get('10.8.0.0/16')?.nextHops, [{ port: 'p1' }]);
    // ...writes the same format...
    const last = fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8').trim().split('\n').pop()!;
    assert.equal(last, `{"seq":3,"changes":[{"kind":"neighbor","op":"add","neighbor":${JSON.stringify(neigh(2))}}]}`);
    // ...and has moved the routes out of the JSON files into the route store's.
    assert.ok(!fs.readFileSync(path.join(dir, 'snapshot.ndjson'), 'utf8').includes('"route"'));
    assert.ok(fs.existsSync(path.join(dir, 'routes.snap')));
    const r2 = await reload();
    r2.store.close();
    assert.deepEqual([...r2.state.routes.values()], [{ prefix: '10.8.0.0/16', family: 4, nextHops: [{ port: 'p1' }] }]);
    assert.equal(r2.state.neighbors.size, 2);
  });

  it('keeps routes in the route store: committed batches reload, a torn record is cut off', async () => {
    const { RouteBatch } = loadAddon();
    const s = new StateStore(dir);
    const { state } = await s.open();
    s.compact(state);
    const store = routeMapOf(state.routes).store;
    for (let b = 0; b < 4; b++) {
      const batch = RouteBatch.fromRoutes(Array.from({ length: 100 }, (_, i) => ({ op: 'add' as const, ...route(b * 100 + i) })));
      assert.equal(store.check(batch, ['p0'], 65536), null);
      await store.commit(batch);
    }
    const mod = RouteBatch.fromRoutes([{ op: 'mod', ...route(5, 'p1') }, { op: 'del', ...route(6) }]);
    assert.equal(store.check(mod, ['p0', 'p1'], 65536), null);
    await store.commit(mod);
    assert.equal(store.check(mod, ['p0', 'p1'], 65536), 'prefix absent', 'route 6 is gone');
    s.close();
    // A torn append (crash during the write of a batch that was never acknowledged).
    const jp = path.join(dir, 'routes.journal');
    const whole = fs.statSync(jp).size;
    fs.appendFileSync(jp, Buffer.from('LRRJ\x10\x00\x00\x00garbage'));
    const r = await reload();
    assert.equal(r.state.routes.size, 399);
    assert.deepEqual(r.state.routes.get(route(5).prefix), route(5, 'p1'));
    assert.equal(r.state.routes.get(route(6).prefix), undefined);
    assert.equal(routeMapOf(r.state.routes).store.seq, 5);
    r.store.close();
    assert.equal(fs.statSync(jp).size, whole, 'the torn record was cut off');
    const r2 = await reload();
    assert.equal(r2.state.routes.size, 399);
    r2.store.close();
  });

  it('takes over a lock left by a dead process', async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'lock'), '999999999\n');
    const r = await reload();
    r.store.close();
    assert.equal(r.fresh, true);
  });
});
