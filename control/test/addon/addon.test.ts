/**
 * The native addon against a real linerate-dp on null vdevs: handshake,
 * ports, route / neighbor / address batches and paged dumps, error codes
 * and indexes, input that must be refused without crashing, the stats
 * memory, request ordering, close() and a dataplane that dies.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  loadAddon,
  type AddonModule,
  type Dataplane,
  type DataplaneError,
  type HelloInfo,
  type RouteEntry,
  type StatsSnapshot,
} from '../../src/dataplane/addon';
import { ROOT } from '../helpers/env';
import { DataplaneProc } from './dataplane-proc';

const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 };

/** Awaits a rejection and returns it as a DataplaneError. */
async function rejection(p: Promise<unknown>): Promise<DataplaneError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error, 'rejects with an Error');
    return err as DataplaneError;
  }
  assert.fail('expected a rejection');
}

/** Route dumps without the routes that port addresses install. */
async function staticRoutes(dp: Dataplane, family: 0 | 4 | 6 = 0): Promise<RouteEntry[]> {
  return (await dp.routeDump(family)).filter((r) => !r.connected);
}

const byPrefix = (a: RouteEntry, b: RouteEntry): number => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0);

/** A /24 per integer, from 20.0.0.0/24 upwards. */
function v4Prefix(x: number): string {
  return `${20 + (x >>> 16)}.${(x >>> 8) & 255}.${x & 255}.0/24`;
}

describe('addon: module constants', () => {
  const addon = loadAddon();
  const read = (f: string): string => fs.readFileSync(path.join(ROOT, 'dataplane', 'include', f), 'utf8');
  const define = (src: string, name: string): number => {
    const m = new RegExp(`#define\\s+${name}\\s+\\(?(\\d+)`).exec(src);
    assert.ok(m, `${name} in header`);
    return Number(m[1]);
  };

  it('exports the drop reasons of the LR_DROP_REASONS X-macro, in order', () => {
    const src = read('lr_common.h');
    const entries = [...src.matchAll(/X\(\s*(\w+),\s*"([^"]+)",\s*"([^"]+)"\)/g)];
    assert.ok(entries.length > 0);
    assert.deepEqual(addon.dropReasons, entries.map((m) => m[2]));
    assert.deepEqual(addon.dropReasonHelp, entries.map((m) => m[3]));
  });

  it('exports the protocol version and limits of the headers', () => {
    const common = read('lr_common.h');
    const ctl = read('lr_ctl.h');
    assert.equal(addon.protocolVersion, define(ctl, 'LR_CTL_VERSION'));
    assert.deepEqual(addon.limits, {
      maxPorts: define(common, 'LR_MAX_PORTS'),
      maxQueues: define(common, 'LR_MAX_QUEUES'),
      maxWorkers: define(common, 'LR_MAX_WORKERS'),
      maxEcmp: define(common, 'LR_MAX_ECMP'),
      maxBatch: define(ctl, 'LR_CTL_MAX_BATCH'),
    });
  });
});

describe('addon: against linerate-dp', function () {
  this.timeout(60000);
  let addon: AddonModule;
  let proc: DataplaneProc;
  let dp: Dataplane;
  let hello: HelloInfo;

  before(async () => {
    addon = loadAddon();
    proc = new DataplaneProc();
    await proc.start();
    dp = new addon.Dataplane();
    hello = await dp.connect(proc.ctlPath, 5000);
  });

  after(() => {
    dp?.close();
    proc?.stop();
  });

  it('performs the handshake', () => {
    assert.equal(dp.connected, true);
    assert.equal(hello.version, addon.protocolVersion);
    assert.equal(hello.pid, proc.pid);
    assert.equal(hello.statsPath, proc.statsPath);
    assert.equal(hello.name, proc.tag);
    assert.equal(hello.nPorts, 2);
    assert.ok(hello.nWorkers >= 1);
    assert.equal(typeof hello.bootId, 'bigint');
    const now = BigInt(Date.now()) * 1000000n;
    assert.ok(hello.startTimeNs > now - 600n * 1000000000n && hello.startTimeNs <= now, 'start time is recent');
  });

  it('lists the ports in port-id order', async () => {
    const ports = await dp.portList();
    assert.deepEqual(ports.map((p) => p.name), ['p0', 'p1']);
    ports.forEach((p, i) => {
      assert.equal(p.portId, i);
      assert.match(p.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.match(p.driver, /null/);
      assert.ok(p.rxQueues >= 1 && p.txQueues >= 1);
      assert.ok(p.mtu >= 68);
      assert.equal(typeof p.rxOffloads, 'bigint');
    });
  });

  it('round-trips an IPv4 and IPv6 route batch through the paged dump', async () => {
    const routes: RouteEntry[] = [
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 0, via: '192.0.2.1', weight: 1 }] },
      { prefix: '198.51.100.0/24', nextHops: [{ portId: 1, weight: 1 }] },
      { prefix: '100.64.0.0/10', nextHops: [{ portId: 0, via: '192.0.2.1', weight: 2 }, { portId: 1, via: '192.0.2.9', weight: 3 }] },
      { prefix: '2001:db8::/32', nextHops: [{ portId: 1, via: 'fe80::1', weight: 1 }] },
      { prefix: '2001:db8:1:2::/64', nextHops: [{ portId: 0, weight: 1 }, { portId: 1, via: '2001:db8::99', weight: 4 }] },
      { prefix: '2001:db8:ff::/48', nextHops: [{ portId: 0, via: 'fe80::abcd:1', weight: 1 }] },
    ];
    await dp.routeBatch(routes.map((r) => ({ ...r, op: 'add' })));
    const got = (await staticRoutes(dp)).sort(byPrefix);
    const want = routes.map((r) => ({ ...r, connected: false })).sort(byPrefix);
    assert.deepEqual(got, want);
    assert.deepEqual((await staticRoutes(dp, 4)).sort(byPrefix), want.filter((r) => !r.prefix.includes(':')));
    assert.deepEqual((await staticRoutes(dp, 6)).sort(byPrefix), want.filter((r) => r.prefix.includes(':')));

    await dp.routeBatch(routes.map((r) => ({ op: 'del', prefix: r.prefix, nextHops: [] })));
    assert.deepEqual(await staticRoutes(dp), []);
  });

  it('round-trips default routes (/0)', async () => {
    const routes: RouteEntry[] = [
      { prefix: '0.0.0.0/0', nextHops: [{ portId: 0, via: '192.0.2.1', weight: 2 }, { portId: 1, via: '192.0.2.9', weight: 3 }] },
      { prefix: '::/0', nextHops: [{ portId: 0, via: 'fe80::abcd:1', weight: 1 }] },
    ];
    await dp.routeBatch(routes);
    assert.deepEqual((await staticRoutes(dp)).sort(byPrefix), routes.map((r) => ({ ...r, connected: false })).sort(byPrefix));
    await dp.routeBatch(routes.map((r) => ({ op: 'del', prefix: r.prefix, nextHops: [] })));
    assert.deepEqual(await staticRoutes(dp), []);
  });

  it('dumps more routes than one reply holds', async () => {
    const n = 10000; // LR_CTL_MAX_DUMP is 4096: three pages at least
    const batch: RouteEntry[] = [];
    for (let i = 0; i < n; i++) batch.push({ op: 'add', prefix: v4Prefix(i), nextHops: [{ portId: i % 2, via: '192.0.2.1', weight: 1 }] });
    await dp.routeBatch(batch);
    const got = await staticRoutes(dp, 4);
    assert.equal(got.length, n);
    assert.deepEqual(new Set(got.map((r) => r.prefix)), new Set(batch.map((r) => r.prefix)));
    await dp.routeBatch(batch.map((r) => ({ ...r, op: 'del' })));
    assert.equal((await staticRoutes(dp)).length, 0);
  });

  it('rejects a batch with the failing index and applies none of it', async () => {
    await dp.routeBatch([{ prefix: '172.16.0.0/12', nextHops: [{ portId: 0, weight: 1 }] }]);
    const before = await staticRoutes(dp);

    const dup = await rejection(dp.routeBatch([
      { op: 'add', prefix: '172.20.0.0/16', nextHops: [{ portId: 0 }] },
      { op: 'add', prefix: '2001:db8:5::/48', nextHops: [{ portId: 1 }] },
      { op: 'add', prefix: '172.16.0.0/12', nextHops: [{ portId: 1 }] },
    ]));
    assert.equal(dup.code, GRPC.ALREADY_EXISTS, dup.message);
    assert.equal(dup.index, 2);

    const missing = await rejection(dp.routeBatch([
      { op: 'add', prefix: '172.21.0.0/16', nextHops: [{ portId: 0 }] },
      { op: 'del', prefix: '172.22.0.0/16', nextHops: [] },
    ]));
    assert.equal(missing.code, GRPC.NOT_FOUND, missing.message);
    assert.equal(missing.index, 1);

    const hostBits = await rejection(dp.routeBatch([
      { op: 'add', prefix: '172.23.0.0/16', nextHops: [{ portId: 0 }] },
      { op: 'add', prefix: '172.24.1.0/16', nextHops: [{ portId: 0 }] },
    ]));
    assert.equal(hostBits.code, GRPC.INVALID_ARGUMENT, hostBits.message);
    assert.equal(hostBits.index, 1);

    const noPort = await rejection(dp.routeBatch([
      { op: 'add', prefix: '172.25.0.0/16', nextHops: [{ portId: 0 }] },
      { op: 'add', prefix: '172.26.0.0/16', nextHops: [{ portId: 0 }] },
      { op: 'add', prefix: '172.27.0.0/16', nextHops: [{ portId: 0 }, { portId: 7 }] },
    ]));
    assert.ok([GRPC.NOT_FOUND, GRPC.INVALID_ARGUMENT].includes(noPort.code), noPort.message);
    assert.equal(noPort.index, 2);

    assert.deepEqual(await staticRoutes(dp), before, 'nothing of the failed batches was applied');
    assert.equal(dp.connected, true, 'a refused batch keeps the connection');
    await dp.routeBatch([{ op: 'del', prefix: '172.16.0.0/12', nextHops: [] }]);
  });

  it('refuses malformed entries with INVALID_ARGUMENT and their index, without crashing', async () => {
    const good = { prefix: '192.0.2.0/24', nextHops: [{ portId: 0 }] };
    const long = '1'.repeat(10000);
    const bad: unknown[] = [
      { prefix: '10.0.0.0', nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/', nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/33', nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/-1', nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/8x', nextHops: [{ portId: 0 }] },
      { prefix: '::/129', nextHops: [{ portId: 0 }] },
      { prefix: '1.2.3.4.5/8', nextHops: [{ portId: 0 }] },
      { prefix: '256.0.0.0/8', nextHops: [{ portId: 0 }] },
      { prefix: 'fe80:::1/64', nextHops: [{ portId: 0 }] },
      { prefix: `${long}/8`, nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/8\u0000', nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/８', nextHops: [{ portId: 0 }] },
      { prefix: '', nextHops: [{ portId: 0 }] },
      { prefix: 42, nextHops: [{ portId: 0 }] },
      { prefix: null, nextHops: [{ portId: 0 }] },
      { nextHops: [{ portId: 0 }] },
      { prefix: '10.0.0.0/8', nextHops: 'p0' },
      { prefix: '10.0.0.0/8' },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 0, via: '2001:db8::1' }] },
      { prefix: '2001:db8::/32', nextHops: [{ portId: 0, via: '192.0.2.1' }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 0, via: 'gateway' }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: -1 }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 1.5 }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 70000 }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: '0' }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: NaN }] },
      { prefix: '10.0.0.0/8', nextHops: [{ portId: 0, weight: 'heavy' }] },
      { prefix: '10.0.0.0/8', nextHops: [null] },
      { prefix: '10.0.0.0/8', nextHops: Array.from({ length: 9 }, (_, i) => ({ portId: i % 2 })) },
      { op: 'upsert', prefix: '10.0.0.0/8', nextHops: [{ portId: 0 }] },
      { op: 1, prefix: '10.0.0.0/8', nextHops: [{ portId: 0 }] },
      null,
      undefined,
      7,
      '10.0.0.0/8',
      { get prefix(): string { throw new Error('getter'); }, nextHops: [] },
      new Proxy({}, { get: () => { throw new Error('proxy'); } }),
    ];
    const before = await staticRoutes(dp);
    for (const [i, entry] of bad.entries()) {
      const err = await rejection(dp.routeBatch([good, entry] as RouteEntry[]));
      assert.equal(err.code, GRPC.INVALID_ARGUMENT, `bad[${i}]: ${err.message}`);
      assert.equal(err.index, 1, `bad[${i}]: ${err.message}`);
    }
    const sparse = new Array<RouteEntry>(3);
    sparse[0] = good;
    const hole = await rejection(dp.routeBatch(sparse));
    assert.equal(hole.code, GRPC.INVALID_ARGUMENT);
    assert.equal(hole.index, 1);
    for (const notArray of [undefined, null, 5, 'x', { length: 1, 0: good }]) {
      const err = await rejection(dp.routeBatch(notArray as unknown as RouteEntry[]));
      assert.equal(err.code, GRPC.INVALID_ARGUMENT);
    }

    const badNeigh: unknown[] = [
      { portId: 0, address: '192.0.2.1', mac: '02:00:00:00:00' },
      { portId: 0, address: '192.0.2.1', mac: '02:00:00:00:00:0g' },
      { portId: 0, address: '192.0.2.1', mac: '02-00-00-00-00-01' },
      { portId: 0, address: '192.0.2.1', mac: '02:00:00:00:00:01:' },
      { portId: 0, address: '192.0.2.1' },
      { portId: 0, address: '192.0.2.1/32', mac: '02:00:00:00:00:01' },
      { portId: 0, address: 'host', mac: '02:00:00:00:00:01' },
      { address: '192.0.2.1', mac: '02:00:00:00:00:01' },
    ];
    for (const entry of badNeigh) {
      const err = await rejection(dp.neighBatch([{ portId: 0, address: '192.0.2.2', mac: '02:00:00:00:00:02' }, entry] as never));
      assert.equal(err.code, GRPC.INVALID_ARGUMENT, err.message);
      assert.equal(err.index, 1);
    }
    const badAddr: unknown[] = [
      { portId: 0, address: '192.0.2.1', prefixLen: 33 },
      { portId: 0, address: '2001:db8::1', prefixLen: 129 },
      { portId: 0, address: '192.0.2.1/24', prefixLen: 24 },
      { portId: 0, address: '192.0.2.1' },
    ];
    for (const entry of badAddr) {
      const err = await rejection(dp.addrBatch([{ portId: 0, address: '192.0.2.3', prefixLen: 24 }, entry] as never));
      assert.equal(err.code, GRPC.INVALID_ARGUMENT, err.message);
      assert.equal(err.index, 1);
    }
    const badSet = await rejection(dp.portSet([{ portId: 0 }, { portId: 0, adminUp: 'yes' } as never]));
    assert.equal(badSet.code, GRPC.INVALID_ARGUMENT);
    assert.equal(badSet.index, 1);
    for (const family of [1, 5, '4', -0.5]) {
      const err = await rejection(dp.routeDump(family as never));
      assert.equal(err.code, GRPC.INVALID_ARGUMENT);
    }

    assert.equal(dp.connected, true);
    assert.deepEqual(await staticRoutes(dp), before, 'refused batches were never sent');
  });

  it('refuses a batch larger than limits.maxBatch with RESOURCE_EXHAUSTED', async () => {
    const n = addon.limits.maxBatch + 1;
    const entry: RouteEntry = { op: 'del', prefix: '10.0.0.0/8', nextHops: [] };
    const err = await rejection(dp.routeBatch(new Array<RouteEntry>(n).fill(entry)));
    assert.equal(err.code, GRPC.RESOURCE_EXHAUSTED, err.message);
    assert.equal(dp.connected, true);
  });

  it('round-trips addresses and neighbors', async () => {
    await dp.addrBatch([
      { op: 'add', portId: 0, address: '192.0.2.1', prefixLen: 24 },
      { op: 'add', portId: 1, address: '2001:db8:aa::1', prefixLen: 64 },
    ]);
    const addrs = await dp.addrDump();
    assert.deepEqual(
      addrs.filter((a) => a.address === '192.0.2.1' || a.address === '2001:db8:aa::1').sort((a, b) => a.portId - b.portId),
      [
        { portId: 0, address: '192.0.2.1', prefixLen: 24 },
        { portId: 1, address: '2001:db8:aa::1', prefixLen: 64 },
      ],
    );
    const connected = (await dp.routeDump()).filter((r) => r.connected).map((r) => r.prefix).sort();
    assert.deepEqual(connected, ['192.0.2.0/24', '2001:db8:aa::/64']);

    await dp.neighBatch([
      { op: 'add', portId: 0, address: '192.0.2.7', mac: '02:00:00:00:00:07' },
      { op: 'add', portId: 1, address: '2001:db8:aa::7', mac: '02:AB:CD:EF:00:08' },
    ]);
    const neigh = (await dp.neighDump()).filter((n) => n.state === 'static').sort((a, b) => a.portId - b.portId);
    assert.deepEqual(neigh.map(({ portId, address, mac, state }) => ({ portId, address, mac, state })), [
      { portId: 0, address: '192.0.2.7', mac: '02:00:00:00:00:07', state: 'static' },
      { portId: 1, address: '2001:db8:aa::7', mac: '02:ab:cd:ef:00:08', state: 'static' },
    ]);
    neigh.forEach((n) => assert.equal(typeof n.ageSeconds, 'number'));
    assert.deepEqual((await dp.neighDump(6)).filter((n) => n.state === 'static').map((n) => n.address), ['2001:db8:aa::7']);

    await dp.neighBatch([
      { op: 'del', portId: 0, address: '192.0.2.7', mac: '02:00:00:00:00:07' },
      { op: 'del', portId: 1, address: '2001:db8:aa::7', mac: '02:ab:cd:ef:00:08' },
    ]);
    assert.deepEqual((await dp.neighDump()).filter((n) => n.state === 'static'), []);
    await dp.addrBatch([
      { op: 'del', portId: 0, address: '192.0.2.1', prefixLen: 24 },
      { op: 'del', portId: 1, address: '2001:db8:aa::1', prefixLen: 64 },
    ]);
    assert.deepEqual((await dp.routeDump()).filter((r) => r.connected), []);
  });

  it('sets port MTU and admin state', async () => {
    const [p0] = await dp.portList();
    await dp.portSet([{ portId: 0, mtu: 1400, adminUp: false }]);
    let now = (await dp.portList())[0];
    assert.equal(now.mtu, 1400);
    assert.equal(now.adminUp, false);
    await dp.portSet([{ portId: 0, mtu: p0.mtu, adminUp: true }]);
    now = (await dp.portList())[0];
    assert.equal(now.mtu, p0.mtu);
    assert.equal(now.adminUp, true);
  });

  it('runs requests one at a time, in call order', async () => {
    const prefix = '203.0.113.0/24';
    const results = await Promise.all([
      dp.routeBatch([{ op: 'add', prefix, nextHops: [{ portId: 1, weight: 1 }] }]),
      staticRoutes(dp, 4),
      dp.routeBatch([{ op: 'del', prefix, nextHops: [] }]),
      staticRoutes(dp, 4),
      dp.portList(),
    ]);
    assert.deepEqual(results[1].map((r) => r.prefix), [prefix]);
    assert.deepEqual(results[3], []);
    assert.equal(results[4].length, 2);
  });

  it('pushes 10k-route batches (prints routes/s)', async function () {
    const perBatch = 10000;
    const batches = 10;
    const make = (op: 'replace' | 'del', b: number): RouteEntry[] => {
      const out: RouteEntry[] = [];
      for (let i = 0; i < perBatch; i++) out.push({ op, prefix: v4Prefix(b * perBatch + i), nextHops: op === 'del' ? [] : [{ portId: i & 1, via: '192.0.2.1' }] });
      return out;
    };
    const adds = Array.from({ length: batches }, (_, b) => make('replace', b));
    let conv = 0n;
    const t0 = process.hrtime.bigint();
    for (const batch of adds) {
      const c0 = process.hrtime.bigint();
      const p = dp.routeBatch(batch);
      conv += process.hrtime.bigint() - c0;
      await p;
    }
    const t1 = process.hrtime.bigint();
    const total = perBatch * batches;
    // Two batches in flight: the next one converts while the dataplane applies the last.
    const dels = Array.from({ length: batches }, (_, b) => make('del', b));
    const t2 = process.hrtime.bigint();
    let inflight: Promise<void> = Promise.resolve();
    for (const batch of dels) {
      const p = dp.routeBatch(batch);
      await inflight;
      inflight = p;
    }
    await inflight;
    const t3 = process.hrtime.bigint();
    const rate = (ns: bigint): string => ((total * 1e9) / Number(ns)).toFixed(0);
    console.log(
      `      routeBatch, ${batches} x ${perBatch}: add ${rate(t1 - t0)} routes/s sequential ` +
        `(conversion ${(Number(conv) / total).toFixed(0)} ns/route on the JS thread), ` +
        `del ${rate(t3 - t2)} routes/s with two batches in flight`,
    );
    assert.equal((await staticRoutes(dp)).length, 0);
  });

  it('rejects queued requests on close() and reconnects', async () => {
    const pending = [dp.routeDump(), dp.portList(), dp.neighDump()];
    dp.close();
    assert.equal(dp.connected, false);
    const settled = await Promise.allSettled(pending);
    // The first one may have been answered already; the queued ones never ran.
    for (const s of settled.slice(1)) {
      assert.equal(s.status, 'rejected');
      assert.equal((s as PromiseRejectedResult).reason.code, GRPC.UNAVAILABLE);
    }
    const err = await rejection(dp.portList());
    assert.equal(err.code, GRPC.UNAVAILABLE);

    const again = await dp.connect(proc.ctlPath, 5000);
    assert.equal(again.bootId, hello.bootId, 'same dataplane');
    assert.equal(dp.connected, true);
    assert.equal((await dp.portList()).length, 2);
  });

  it('reports UNAVAILABLE and disconnects when the dataplane dies', async () => {
    proc.crash();
    const err = await rejection(dp.portList());
    assert.equal(err.code, GRPC.UNAVAILABLE, err.message);
    assert.equal(dp.connected, false);
    const t0 = Date.now();
    const again = await rejection(dp.connect(proc.ctlPath, 300));
    assert.equal(again.code, GRPC.UNAVAILABLE, again.message);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(dp.connected, false);
  });
});

describe('addon: stats memory', function () {
  this.timeout(60000);
  let addon: AddonModule;
  let proc: DataplaneProc;
  let dp: Dataplane;
  let hello: HelloInfo;

  before(async () => {
    addon = loadAddon();
    // p0 receives (null PMD frames: zero MACs, not for us), p1 stays idle.
    proc = new DataplaneProc({ ports: ['p0=net_null0', 'p1=net_null1,no-rx=1'] });
    await proc.start();
    dp = new addon.Dataplane();
    hello = await dp.connect(proc.ctlPath, 5000);
  });

  after(() => {
    dp?.close();
    proc?.stop();
  });

  const sumDrops = (s: StatsSnapshot): bigint =>
    s.ports.flatMap((p) => p.rxq).reduce((t, q) => t + Object.values(q.drops).reduce((a, b) => a + b, 0n), 0n);

  it('decodes the snapshot shape', async () => {
    const reader = new addon.StatsReader(hello.statsPath);
    try {
      const s = reader.snapshot();
      const ports = await dp.portList();
      assert.equal(s.pid, hello.pid);
      assert.equal(s.bootId, hello.bootId);
      assert.equal(s.startTimeNs, hello.startTimeNs);
      assert.equal(s.nPorts, hello.nPorts);
      assert.equal(s.nWorkers, hello.nWorkers);
      assert.ok(s.tscHz > 0n);
      assert.equal(s.ports.length, s.nPorts);
      assert.equal(s.workers.length, s.nWorkers);
      s.ports.forEach((p, i) => {
        assert.equal(p.name, ports[i].name);
        assert.equal(p.rxQueues, ports[i].rxQueues);
        assert.equal(p.rxq.length, p.rxQueues);
        assert.equal(p.txq.length, p.txQueues);
        for (const q of p.rxq) {
          assert.deepEqual(Object.keys(q.drops), addon.dropReasons);
          assert.ok(q.worker >= 0 && q.worker < s.nWorkers);
        }
      });
      // LR_SLOW_COUNTERS' fields, in order, with their names unchanged.
      const header = fs.readFileSync(path.join(ROOT, 'dataplane', 'include', 'lr_stats.h'), 'utf8');
      const body = /#define LR_SLOW_COUNTERS\(X\)((?:.*\\\n)*.*)/.exec(header);
      assert.ok(body);
      const slowFields = [...body[1].matchAll(/X\((\w+),/g)].map((m) => m[1]);
      assert.ok(slowFields.length > 0);
      assert.deepEqual(Object.keys(s.slow), slowFields);
      assert.ok(s.slow.ctl_requests > 0n, 'our own requests are counted');
      const before = process.hrtime.bigint();
      const t = reader.snapshot().takenNs;
      assert.ok(t >= before && t <= process.hrtime.bigint(), 'takenNs is process.hrtime.bigint() time');
    } finally {
      reader.close();
    }
    assert.throws(() => reader.snapshot(), (e: DataplaneError) => typeof e.code === 'number');
  });

  it('shows counters moving and statsClear zeroing them', async () => {
    const reader = new addon.StatsReader(hello.statsPath);
    try {
      const a = reader.snapshot();
      await new Promise((r) => setTimeout(r, 300));
      const b = reader.snapshot();
      assert.ok(b.takenNs > a.takenNs);
      assert.ok(b.heartbeatNs > a.heartbeatNs, 'heartbeat advances');
      assert.ok(b.ports[0].rxq[0].rxPackets > a.ports[0].rxq[0].rxPackets, 'p0 receives');
      assert.ok(sumDrops(b) > sumDrops(a), 'frames not for us are dropped, by reason');
      assert.ok(b.workers[0].polls > a.workers[0].polls);
      assert.equal(b.ports[1].rxq[0].rxPackets, 0n, 'p1 (no-rx) receives nothing');

      await dp.statsClear();
      const c = reader.snapshot();
      assert.ok(c.ports[0].rxq[0].rxPackets < b.ports[0].rxq[0].rxPackets, 'cleared');
    } finally {
      reader.close();
    }
  });

  it('refuses a file that is not linerate stats memory', () => {
    const file = path.join(os.tmpdir(), `lra-${process.pid}-bogus.stats`);
    try {
      fs.writeFileSync(file, Buffer.alloc(fs.statSync(hello.statsPath).size));
      assert.throws(() => new addon.StatsReader(file), (e: DataplaneError) => e.code === 9 && /magic/.test(e.message));
      fs.writeFileSync(file, 'short');
      assert.throws(() => new addon.StatsReader(file), (e: DataplaneError) => e.code === 9);
    } finally {
      fs.rmSync(file, { force: true });
    }
    assert.throws(() => new addon.StatsReader(`${file}.missing`), (e: DataplaneError) => e.code === GRPC.UNAVAILABLE);
  });
});

describe('addon: a control socket that misbehaves', () => {
  // These peers are not linerate-dp: they stand for a hung or foreign process.
  let server: net.Server | undefined;
  const sock = path.join(os.tmpdir(), `lra-${process.pid}-peer.sock`);

  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    fs.rmSync(sock, { force: true });
  });

  const listen = async (onConn: (c: net.Socket) => void): Promise<void> => {
    fs.rmSync(sock, { force: true });
    server = net.createServer((c) => {
      c.on('error', () => undefined); // the addon hangs up on them
      onConn(c);
    });
    await new Promise<void>((r) => server!.listen(sock, r));
  };

  it('times out a peer that never answers with UNAVAILABLE', async () => {
    const conns: net.Socket[] = [];
    await listen((c) => conns.push(c));
    const dp = new (loadAddon().Dataplane)();
    const t0 = Date.now();
    const err = await rejection(dp.connect(sock, 300));
    const took = Date.now() - t0;
    assert.equal(err.code, GRPC.UNAVAILABLE, err.message);
    assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
    assert.equal(dp.connected, false);
    conns.forEach((c) => c.destroy());
  });

  it('drops a peer that answers garbage', async () => {
    await listen((c) => c.once('data', () => c.write(Buffer.alloc(256, 0x41))));
    const dp = new (loadAddon().Dataplane)();
    const err = await rejection(dp.connect(sock, 2000));
    assert.equal(err.code, GRPC.UNAVAILABLE, err.message);
    assert.equal(dp.connected, false);
  });

  it('refuses a peer of another protocol version with FAILED_PRECONDITION', async () => {
    const ctl = fs.readFileSync(path.join(ROOT, 'dataplane', 'include', 'lr_ctl.h'), 'utf8');
    const magic = Number(/#define LR_CTL_MAGIC\s+(0x[0-9a-f]+)u/.exec(ctl)?.[1]);
    const msgLen = Number(/#define LR_CTL_MSG_LEN\s+(\d+)/.exec(ctl)?.[1]);
    const version = loadAddon().protocolVersion + 1;
    await listen((c) =>
      c.once('data', (req: Buffer) => {
        // struct lr_ctl_hdr (24 bytes) + struct lr_ctl_status, OK, from a newer dataplane.
        const rep = Buffer.alloc(24 + 8 + msgLen);
        rep.writeUInt32LE(magic, 0);
        rep.writeUInt16LE(version, 4);
        rep.writeUInt16LE(req.readUInt16LE(6) | 0x8000, 6);
        rep.writeUInt32LE(req.readUInt32LE(8), 8);
        rep.writeUInt32LE(rep.length, 12);
        c.write(rep);
      }),
    );
    const dp = new (loadAddon().Dataplane)();
    const err = await rejection(dp.connect(sock, 2000));
    assert.equal(err.code, 9, err.message);
    assert.match(err.message, new RegExp(`version ${version}`));
    assert.equal(dp.connected, false);
  });

  it('rejects a bad socket path', async () => {
    const dp = new (loadAddon().Dataplane)();
    const err = await rejection(dp.connect('/tmp/' + 'x'.repeat(200), 100));
    assert.equal(err.code, GRPC.INVALID_ARGUMENT);
  });
});

describe('addon: hostile control clients', function () {
  this.timeout(60000);
  let addon: AddonModule;
  let proc: DataplaneProc;
  const isRoot = process.getuid?.() === 0;

  before(async function () {
    if (!isRoot) this.skip();
    addon = loadAddon();
    // Group nogroup may connect: a second, non-control-plane user of the socket.
    proc = new DataplaneProc({ extra: ['--ctl-gid', '65534', '--ctl-timeout-ms', '1000'] });
    await proc.start();
  });

  after(() => {
    proc?.stop();
  });

  it('attaches while 70 idle clients of another uid hold every ordinary slot', async () => {
    // Each flood connection says HELLO (so no HELLO timeout closes it) and then idles.
    const flood = [
      'import socket, struct, sys, time',
      'fds = []',
      'for i in range(70):',
      '    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])',
      // beyond the ordinary slots the dataplane closes at once: that may beat our HELLO
      '    try:',
      `        s.sendall(struct.pack("<IHHIIII", 0x4c524354, ${addon.protocolVersion}, 1, i + 1, 24, 0, 0)); fds.append(s)`,
      '    except (BrokenPipeError, ConnectionResetError):',
      '        s.close()',
      'print("ready", flush=True)',
      'time.sleep(60)',
    ].join('\n');
    const child = spawn('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '/usr/bin/python3', '-c', flood, proc.ctlPath],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('ready')) resolve(); });
        child.on('exit', (code) => reject(new Error(`flood exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 200));
      const dp = new addon.Dataplane();
      const t0 = Date.now();
      const hello = await dp.connect(proc.ctlPath, 2000);
      assert.equal(hello.pid, proc.pid);
      assert.ok(Date.now() - t0 < 1000, `attached after ${Date.now() - t0} ms`);
      assert.equal((await dp.portList()).length, 2);
      dp.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
