import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DesiredState } from '../../src/model/state';
import type { Route } from '../../src/tables/route';
import type { Change } from '../../src/tables/table';
import { StateStore } from '../../src/state/store';
import { tempDir } from './helpers';

const route = (i: number, port = 'p0'): Route =>
  ({ prefix: `10.${(i >> 8) & 255}.${i & 255}.0/24`, family: 4, nextHops: [{ port, via: '10.0.1.2' }] });
const add = (r: Route): Change => ({ kind: 'route', op: 'add', entry: r });

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
      [add(route(1)), add(route(2))],
      [{ kind: 'address', op: 'add', entry: { port: 'p0', address: '10.0.1.1', prefixLen: 24, family: 4 } }],
      [{ kind: 'route', op: 'mod', entry: route(1, 'p1') }, { kind: 'route', op: 'del', entry: route(2) }],
      [{ kind: 'neighbor', op: 'add', entry: { port: 'p1', address: '10.0.2.9', mac: '02:00:00:00:00:09', family: 4 } }],
    ]);
    const { state, fresh, store } = await reload();
    store.close();
    assert.equal(fresh, false);
    assert.deepEqual([...state.routes.values()], [route(1, 'p1')]);
    assert.deepEqual([state.addresses.size, state.routes.size, state.neighbors.size], [1, 1, 1]);
    assert.deepEqual(state, written);
    // One line per batch, no rewrite.
    assert.equal(fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8').trim().split('\n').length, 4);
  });

  it('compacts into an atomic snapshot and keeps reloading the same state', async () => {
    const batches = Array.from({ length: 50 }, (_, b) => Array.from({ length: 20 }, (_, i) => add(route(b * 20 + i))));
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
    assert.equal(state.routes.size, 1000);
    assert.deepEqual(state, written);
  });

  it('skips journal lines already in the snapshot (crash between rename and truncate)', async () => {
    await writeBatches([[add(route(1))], [add(route(2))]]);
    const journal = fs.readFileSync(path.join(dir, 'journal.ndjson'));
    const s = new StateStore(dir);
    const { state } = await s.open();
    s.compact(state); // snapshot seq 2, journal emptied...
    s.close();
    fs.writeFileSync(path.join(dir, 'journal.ndjson'), journal); // ...but as if the truncation never happened
    const r = await reload();
    r.store.close();
    assert.deepEqual([...r.state.routes.keys()], [route(1).prefix, route(2).prefix]);
  });

  it('cuts a torn last line (crash during an append) and ignores a leftover tmp snapshot', async () => {
    await writeBatches([[add(route(1))], [add(route(2))]]);
    const jp = path.join(dir, 'journal.ndjson');
    fs.appendFileSync(jp, '{"seq":3,"changes":[{"kind":"route","op":"add","rou');
    fs.writeFileSync(path.join(dir, 'snapshot.ndjson.tmp'), 'garbage');
    const r = await reload();
    assert.equal(r.state.routes.size, 2);
    // The next batch lands on a clean line.
    r.store.append([add(route(3))]);
    r.store.close();
    assert.ok(!fs.existsSync(path.join(dir, 'snapshot.ndjson.tmp')));
    const r2 = await reload();
    r2.store.close();
    assert.equal(r2.state.routes.size, 3);
  });

  it('refuses a corrupt line in the middle and a second owner', async () => {
    await writeBatches([[add(route(1))], [add(route(2))]]);
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
    r.store.append([add(route(1))]);
    r.store.close();
    assert.deepEqual([r.state.addresses.size, r.state.routes.size, r.state.neighbors.size], [1, 1, 1]);
    assert.deepEqual(r.state.routes.get('10.8.0.0/16')?.nextHops, [{ port: 'p1' }]);
    // ...and writes the same format.
    const last = fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8').trim().split('\n').pop()!;
    assert.equal(last, `{"seq":3,"changes":[{"kind":"route","op":"add","route":${JSON.stringify(route(1))}}]}`);
  });

  it('takes over a lock left by a dead process', async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'lock'), '999999999\n');
    const r = await reload();
    r.store.close();
    assert.equal(r.fresh, true);
  });
});
