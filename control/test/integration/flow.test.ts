/**
 * Flow tables through the real linerate-dp on af_packet vdevs, programmed
 * over gRPC (FlowService) by the real `linerate serve`, checked on the
 * wire with scapy:
 *
 *   w0.host (tests) ── veth ── p0 ┐
 *   w1.host (tests) ── veth ── p1 ├ linerate-dp
 *   w2.host (tests) ── veth ── p2 ┘
 *
 * Traffic enters on p0; routes lead to p1; flows drop it, forward it to
 * p2, or let it continue to routing with a mirror copy on p2. Covered:
 * priority order, the first and last port of a range and one beyond,
 * /32 and /0 and /128 prefixes, IPv6, drop vs forward vs mirror (the copy
 * is byte-identical to the frame sent), DSCP rewrite, counters exact to
 * the packet and the byte, and the batch semantics of Write
 * (ROLLBACK_ON_ERROR leaves nothing behind; CONTINUE_ON_ERROR applies the
 * good updates and names each bad one), read back from the dataplane
 * itself with a second control connection.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI } from '../helpers/env';
import { dumpOnFailure, requireIntegration, startRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import { rejection, Status } from '../helpers/grpc';
import * as pkt from '../helpers/pkt';
import type { Frame, PacketSpec } from '../helpers/pkt';
import { loadAddon } from '../../src/dataplane/addon';
import type * as api from '../../src/gen';

const P0_V4 = '10.1.0.1';
const P1_V4 = '10.1.1.1';
const P2_V4 = '10.1.2.1';
const P0_V6 = '2001:db8::1';
const P1_V6 = '2001:db8:1::1';
const HOST0_V4 = '10.1.0.2';
const HOST0_V6 = '2001:db8::2';
const GW1_V4 = '10.1.1.2';
const GW1_V6 = '2001:db8:1::2';
const GW2_V4 = '10.1.2.2';
const GW1_MAC = '02:00:5e:00:00:11';
const GW2_MAC = '02:00:5e:00:00:12';

/** A wildcard flow message; `m` and `a` fill the match and the action. */
function wild(id: number, priority: number, m: api.FlowMatch, a: api.FlowAction): api.Flow {
  return { id, table: 'FLOW_TABLE_WILDCARD', priority, match: { family: 'FAMILY_IPV4', ...m }, action: a };
}
const insert = (flow: api.Flow): api.FlowUpdate => ({ type: 'INSERT', flow });

describe('integration: flow tables', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  let p0Mac = '';
  let p2Mac = '';

  const client = () => rig!.client();
  const w = (i: number) => rig!.wires[i];
  const send = (packets: PacketSpec[], expect?: number, timeout = 2) =>
    pkt.exchange({ send: w(0).host, sniff: [w(0).host, w(1).host, w(2).host], packets, expect, timeout });
  const tagged = (frames: Frame[], tag: string, iface?: string) =>
    frames.filter((f) => f.decoded.tag === tag && (iface === undefined || f.iface === iface));
  const counters = async (): Promise<Map<number, { packets: bigint; bytes: bigint }>> => {
    const out = new Map<number, { packets: bigint; bytes: bigint }>();
    for (const f of await client().flow.readAll({})) out.set(Number(f.id), { packets: BigInt(f.packets), bytes: BigInt(f.bytes) });
    return out;
  };
  /** Flow ids in the dataplane, read over its own socket (not the desired state). */
  const dataplaneFlowIds = async (): Promise<number[]> => {
    const { Dataplane } = loadAddon();
    const dp = new Dataplane();
    await dp.connect(`${rig!.serve.runDir}/ctl.sock`, 5000);
    try {
      return (await dp.flowDump(0)).map((f) => f.id).sort((a, b) => a - b);
    } finally {
      dp.close();
    }
  };
  const clearFlows = async (): Promise<void> => {
    const all = await client().flow.readAll({});
    if (all.length) await client().flow.write({ updates: all.map((f) => ({ type: 'DELETE', flow: { id: f.id, table: f.table } })) });
  };

  before(async function () {
    requireIntegration(this);
    rig = await startRig('flow', 3, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: [`${P0_V4}/24`, `${P0_V6}/64`] },
        { name: 'p1', device: wires[1].device(1), addresses: [`${P1_V4}/24`, `${P1_V6}/64`] },
        { name: 'p2', device: wires[2].device(2), addresses: [`${P2_V4}/24`] },
      ],
    }));
    const ports = (await client().port.listPorts({})).ports;
    p0Mac = ports.find((p) => p.name === 'p0')!.mac;
    p2Mac = ports.find((p) => p.name === 'p2')!.mac;
    await client().neighbor.addNeighbors({
      neighbors: [
        { port: 'p1', address: GW1_V4, mac: GW1_MAC },
        { port: 'p1', address: GW1_V6, mac: GW1_MAC },
        { port: 'p2', address: GW2_V4, mac: GW2_MAC },
      ],
    });
    await client().route.addRoutes({
      routes: [
        { prefix: '198.51.100.0/24', nextHops: [{ port: 'p1', via: GW1_V4 }] },
        { prefix: '2001:db8:99::/48', nextHops: [{ port: 'p1', via: GW1_V6 }] },
      ],
    });
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => {
    if (rig) stopRigAndCheckClean(rig);
  });

  it('priority order, port-range and prefix edges, drop vs forward vs mirror, counters exact', async () => {
    const r = await client().flow.write({
      updates: [
        // drop UDP to 198.51.100.0/24 ports 1000-2000 ...
        insert(wild(1, 10, { dst: '198.51.100.0/24', protocol: 'udp', dstPort: { first: 1000, last: 2000 } }, { kind: 'DROP' })),
        // ... but the /32 at a higher priority goes out of p2
        insert(wild(2, 20, { dst: '198.51.100.7/32' }, { kind: 'FORWARD', port: 'p2', via: GW2_V4 })),
        // the rest is routed, with a copy on p2
        insert(wild(3, 5, { dst: '0.0.0.0/0' }, { kind: 'CONTINUE', mirrorPort: 'p2' })),
      ],
    });
    assert.equal(r.applied, 3);
    const base: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, ttl: 64, payload_len: 60 };
    const specs: PacketSpec[] = [
      { ...base, dst: '198.51.100.7', dport: 1500, tag: 'fwd' },          // flow 2 (20 beats 10)
      { ...base, dst: '198.51.100.8', dport: 1000, tag: 'drop-first' },   // flow 1, first port
      { ...base, dst: '198.51.100.8', dport: 2000, tag: 'drop-last' },    // flow 1, last port
      { ...base, dst: '198.51.100.8', dport: 999, tag: 'mirror-below' },  // flow 3
      { ...base, dst: '198.51.100.8', dport: 2001, tag: 'mirror-above' }, // flow 3
    ];
    const res = await send(specs, 5);
    const sent = new Map(res.sent.map((s) => [s.decoded.tag, s]));
    // forwarded to p2 with the neighbor's MAC, nothing on p1
    const fwd = tagged(res.captured, 'fwd', w(2).host);
    assert.equal(fwd.length, 1, 'fwd: one frame out of p2');
    assert.equal(fwd[0].decoded.eth!.dst, GW2_MAC);
    assert.equal(fwd[0].decoded.eth!.src, p2Mac);
    assert.equal(fwd[0].decoded.ipv4!.ttl, 63);
    assert.equal(fwd[0].decoded.ipv4!.chksum_ok, true);
    assert.equal(tagged(res.captured, 'fwd', w(1).host).length, 0);
    // dropped: nowhere
    for (const t of ['drop-first', 'drop-last']) assert.equal(tagged(res.captured, t).filter((f) => f.iface !== w(0).host).length, 0, `${t} leaked`);
    // continued: routed out of p1, and a byte-identical copy of the frame as sent on p2
    for (const t of ['mirror-below', 'mirror-above']) {
      const routed = tagged(res.captured, t, w(1).host);
      assert.equal(routed.length, 1, `${t}: routed out of p1`);
      assert.equal(routed[0].decoded.eth!.dst, GW1_MAC);
      const copy = tagged(res.captured, t, w(2).host);
      assert.equal(copy.length, 1, `${t}: one mirror copy on p2`);
      assert.equal(copy[0].hex, sent.get(t)!.hex, `${t}: the mirror copy differs from the frame sent`);
    }
    // counters: exact to the packet and the byte (frames as received)
    const len = (t: string): bigint => BigInt(sent.get(t)!.hex.length / 2);
    const c = await counters();
    assert.deepEqual(c.get(1), { packets: 2n, bytes: len('drop-first') + len('drop-last') });
    assert.deepEqual(c.get(2), { packets: 1n, bytes: len('fwd') });
    assert.deepEqual(c.get(3), { packets: 2n, bytes: len('mirror-below') + len('mirror-above') });
    const drops = (await client().stats.getStats({})).ports.find((p) => p.name === 'p0')!.drops;
    assert.equal(BigInt(drops.flow_drop ?? '0') >= 2n, true, 'flow_drop counted');
    await clearFlows();
  });

  it('ties: the lower id wins among equal priorities; MODIFY moves a rule', async () => {
    await client().flow.write({
      updates: [
        insert(wild(20, 7, { dst: '198.51.100.0/24' }, { kind: 'DROP' })),
        insert(wild(11, 7, { dst: '198.51.100.0/24' }, { kind: 'FORWARD', port: 'p2', via: GW2_V4 })),
      ],
    });
    const base: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.9' };
    let res = await send([{ ...base, tag: 'tie' }], 1);
    assert.equal(tagged(res.captured, 'tie', w(2).host).length, 1, 'id 11 (forward) should win over id 20 (drop)');
    // MODIFY: id 20 up to priority 8 now wins
    await client().flow.write({ updates: [{ type: 'MODIFY', flow: wild(20, 8, { dst: '198.51.100.0/24' }, { kind: 'DROP' }) }] });
    res = await send([{ ...base, tag: 'tie2' }], undefined, 1);
    assert.equal(tagged(res.captured, 'tie2').filter((f) => f.iface !== w(0).host).length, 0, 'id 20 (drop) should win now');
    await clearFlows();
  });

  it('IPv6: /128 and /64 prefixes, DSCP rewrite on IPv4', async () => {
    await client().flow.write({
      updates: [
        insert({ id: 30, table: 'FLOW_TABLE_WILDCARD', priority: 2, match: { family: 'FAMILY_IPV6', dst: '2001:db8:99::7/128' }, action: { kind: 'DROP' } }),
        insert({ id: 31, table: 'FLOW_TABLE_WILDCARD', priority: 1, match: { family: 'FAMILY_IPV6', src: '2001:db8::/64' }, action: { kind: 'CONTINUE' } }),
        insert(wild(32, 1, { src: `${HOST0_V4}/32` }, { kind: 'CONTINUE', setDscp: { dscp: 46 } })),
      ],
    });
    const b6: PacketSpec = { kind: 'udp6', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V6 };
    const b4: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.20' };
    const res = await send([{ ...b6, dst: '2001:db8:99::7', tag: 'v6-drop' }, { ...b6, dst: '2001:db8:99::8', tag: 'v6-pass' },
      { ...b4, tag: 'v4-dscp' }], 2);
    assert.equal(tagged(res.captured, 'v6-drop').filter((f) => f.iface !== w(0).host).length, 0);
    assert.equal(tagged(res.captured, 'v6-pass', w(1).host).length, 1);
    const d = tagged(res.captured, 'v4-dscp', w(1).host);
    assert.equal(d.length, 1);
    assert.equal(parseInt(d[0].hex.slice(30, 32), 16) >> 2, 46, 'DSCP rewritten to EF');
    assert.equal(d[0].decoded.ipv4!.chksum_ok, true, 'IPv4 checksum after the DSCP rewrite');
    const c = await counters();
    assert.equal(c.get(30)!.packets, 1n);
    assert.equal(c.get(31)!.packets, 1n);
    assert.equal(c.get(32)!.packets, 1n);
    await clearFlows();
  });

  it('meter: a burst far above the rates is green for cbs, yellow up to pbs, red beyond (marked or dropped)', async () => {
    const base: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.40', payload_len: 58 };
    const frameLen = 100; // 14 + 20 + 8 + 58
    const meter = (mode: 'MARK' | 'DROP_RED'): api.Meter => ({ cir: 10, cbs: frameLen, pir: 20, pbs: 2 * frameLen, mode, yellowDscp: 10, redDscp: 14 });
    await client().flow.write({ updates: [insert(wild(60, 1, { dst: '198.51.100.40/32' }, { kind: 'CONTINUE', meter: meter('MARK') }))] });
    const specs = Array.from({ length: 6 }, (_, i) => ({ ...base, tag: `m${i}` }));
    let res = await send(specs, 6);
    const dscps = specs.map((p) => tagged(res.captured, p.tag, w(1).host).map((f) => parseInt(f.hex.slice(30, 32), 16) >> 2));
    assert.deepEqual(dscps, [[0], [10], [14], [14], [14], [14]], 'green, yellow, then red (MARK)');
    // DROP_RED (a MODIFY: a fresh meter with full buckets)
    await client().flow.write({ updates: [{ type: 'MODIFY', flow: wild(60, 1, { dst: '198.51.100.40/32' }, { kind: 'CONTINUE', meter: meter('DROP_RED') }) }] });
    const drops0 = BigInt((await client().stats.getStats({})).ports.find((p) => p.name === 'p0')!.drops.flow_meter_drop ?? '0');
    res = await send(specs.map((p) => ({ ...p, tag: `d${p.tag}` })), 2);
    assert.equal(res.captured.filter((f) => f.iface === w(1).host && f.decoded.tag?.startsWith('dm')).length, 2, 'green and yellow pass');
    const drops1 = BigInt((await client().stats.getStats({})).ports.find((p) => p.name === 'p0')!.drops.flow_meter_drop ?? '0');
    assert.equal(drops1 - drops0, 4n, 'four red dropped as flow_meter_drop');
    const [f] = await client().flow.readAll({});
    assert.equal(f.action?.meter?.mode, 'DROP_RED');
    assert.equal(f.packets, '12', 'every metered packet counted, dropped or not');
    await clearFlows();
  });

  it('CLI: flow add with the readable syntax, list with counters, stats, del; a bad rule names its field', async () => {
    const cli = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
      try {
        const r = await promisify(execFile)(process.execPath, [CLI, '--addr', `127.0.0.1:${rig!.serve.grpcPort}`, ...args], { timeout: 30000 });
        return { ...r, code: 0 };
      } catch (e) {
        const x = e as { stdout: string; stderr: string; code: number };
        return { stdout: x.stdout, stderr: x.stderr, code: x.code };
      }
    };
    let r = await cli('flow', 'add', '--id', '70', '--priority', '10', 'ip dst 198.51.100.50/32 and udp dport 1000-2000', '--action', 'drop');
    assert.equal(r.code, 0, r.stderr);
    r = await cli('flow', 'add', '--priority', '10', 'ip dst 198.51.100.51', '--action', 'forward p2 via 10.1.2.2', '--mirror', 'p1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'flow 71');
    const res = await send([{ kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.50', dport: 1000, tag: 'cli' }],
      undefined, 1);
    assert.equal(tagged(res.captured, 'cli').filter((f) => f.iface !== w(0).host).length, 0, 'dropped by the CLI rule');
    r = await cli('flow', 'list');
    assert.match(r.stdout, /70 {2}prio 10 +ip dst 198\.51\.100\.50\/32 and udp and dport 1000-2000 -> drop {2}\[1 pkts, \d+ bytes\]/);
    assert.match(r.stdout, /71 {2}prio 10 +ip dst 198\.51\.100\.51\/32 -> forward p2 via 10\.1\.2\.2 mirror p1 {2}\[0 pkts, 0 bytes\]/);
    r = await cli('flow', 'stats');
    assert.match(r.stdout, /^wildcard: 2\/65536 rules, classifier [\d.]+ MB, last build [\d.]+ ms/);
    r = await cli('flow', 'add', '--id', '72', 'udp dport 9-1', '--action', 'drop');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /INVALID_ARGUMENT: updates\[0\]\.flow\.match\.dst_port: range 9-1 is reversed/);
    r = await cli('flow', 'del', '70', '71');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await client().flow.readAll({})).length, 0);
  });

  it('ROLLBACK_ON_ERROR: a bad update fails the batch naming its field, nothing is left behind', async () => {
    await client().flow.write({ updates: [insert(wild(40, 1, {}, { kind: 'CONTINUE' }))] });
    const before = await dataplaneFlowIds();
    const refused = async (updates: api.FlowUpdate[], code: Status, msg: RegExp): Promise<void> => {
      const err = await rejection(client().flow.write({ updates }));
      assert.equal(err.code, code, `expected ${Status[code]}, got ${Status[err.code]}: ${err.details}`);
      assert.match(err.details, msg);
      assert.deepEqual(await dataplaneFlowIds(), before, 'the dataplane changed');
      assert.deepEqual((await client().flow.readAll({})).map((f) => Number(f.id)), [40], 'the desired state changed');
    };
    const good = insert(wild(41, 1, {}, { kind: 'DROP' }));
    await refused([good, insert(wild(42, 1, { protocol: 'udp', dstPort: { first: 90, last: 80 } }, { kind: 'DROP' }))],
      Status.INVALID_ARGUMENT, /^updates\[1\]\.flow\.match\.dst_port: range 90-80 is reversed/);
    await refused([good, insert(wild(42, 1, { src: '10.0.0.1/8' }, { kind: 'DROP' }))],
      Status.INVALID_ARGUMENT, /^updates\[1\]\.flow\.match\.src: host bits set/);
    await refused([good, insert(wild(42, 1, {}, { kind: 'FORWARD', port: 'p9' }))],
      Status.NOT_FOUND, /^updates\[1\]\.flow\.action\.port: unknown port "p9"/);
    await refused([good, insert(wild(42, 70000, {}, { kind: 'DROP' }))],
      Status.INVALID_ARGUMENT, /^updates\[1\]\.flow\.priority: 70000 is out of range 0\.\.65535/);
    await refused([good, insert(wild(40, 1, {}, { kind: 'DROP' }))], Status.ALREADY_EXISTS, /^updates\[1\]\.flow\.id: flow 40 already exists/);
    await refused([good, { type: 'DELETE', flow: { id: 77, table: 'FLOW_TABLE_WILDCARD' } }], Status.NOT_FOUND, /^updates\[1\]\.flow\.id: no flow 77/);
    // the dataplane's own check (an exact 5-tuple pinned twice) is all or nothing too
    const exact = (id: number): api.Flow => ({
      id, table: 'FLOW_TABLE_EXACT', match: { family: 'FAMILY_IPV4', src: `${HOST0_V4}/32`, dst: '198.51.100.30/32', protocol: 'udp',
        srcPort: { first: 5, last: 5 }, dstPort: { first: 6, last: 6 } }, action: { kind: 'DROP' },
    });
    await refused([good, insert(exact(43)), insert(exact(44))], Status.ALREADY_EXISTS, /^updates\[2\]: dataplane: .*already exists/);
    await clearFlows();
  });

  it('CONTINUE_ON_ERROR: the good updates are applied, each bad one gets its status in order', async () => {
    await client().flow.write({ updates: [insert(wild(50, 1, {}, { kind: 'CONTINUE' }))] });
    const exact = (id: number, dport: number): api.Flow => ({
      id, table: 'FLOW_TABLE_EXACT', match: { family: 'FAMILY_IPV4', src: `${HOST0_V4}/32`, dst: '198.51.100.31/32', protocol: 'udp',
        srcPort: { first: 7, last: 7 }, dstPort: { first: dport, last: dport } }, action: { kind: 'DROP' },
    });
    const r = await client().flow.write({
      atomicity: 'CONTINUE_ON_ERROR',
      updates: [
        insert(wild(51, 3, { dst: '198.51.100.128/25' }, { kind: 'DROP' })),
        insert(wild(52, 3, { dst: '198.51.100.129/25' }, { kind: 'DROP' })),   // host bits
        insert(exact(53, 9)),
        insert(wild(50, 1, {}, { kind: 'DROP' })),                            // exists
        insert(exact(54, 9)),                                                 // same 5-tuple as 53: the dataplane refuses it
        { type: 'DELETE', flow: { id: 99, table: 'FLOW_TABLE_WILDCARD' } },   // missing
        insert(wild(55, 4, { inPort: 'p7' }, { kind: 'DROP' })),                 // unknown port
      ],
    });
    assert.equal(r.applied, 2);
    assert.deepEqual(r.statuses.map((s) => s.code), [0, Status.INVALID_ARGUMENT, 0, Status.ALREADY_EXISTS, Status.ALREADY_EXISTS,
      Status.NOT_FOUND, Status.NOT_FOUND]);
    assert.match(r.statuses[1].message, /^updates\[1\]\.flow\.match\.dst: host bits set/);
    assert.match(r.statuses[3].message, /^updates\[3\]\.flow\.id: flow 50 already exists/);
    assert.match(r.statuses[4].message, /^updates\[4\]: dataplane: /);
    assert.match(r.statuses[5].message, /^updates\[5\]\.flow\.id: no flow 99/);
    assert.match(r.statuses[6].message, /^updates\[6\]\.flow\.match\.in_port: unknown port "p7"/);
    assert.deepEqual(await dataplaneFlowIds(), [50, 51, 53]);
    assert.deepEqual((await client().flow.readAll({})).map((f) => Number(f.id)), [50, 51, 53]);
    // the exact flow works on the wire
    const res = await send([{ kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.31', sport: 7, dport: 9, tag: 'pinned' },
      { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.31', sport: 7, dport: 10, tag: 'other' }], 1);
    assert.equal(tagged(res.captured, 'pinned').filter((f) => f.iface !== w(0).host).length, 0, 'the pinned flow is dropped');
    assert.equal(tagged(res.captured, 'other', w(1).host).length, 1, 'another port is routed');
    const stats = await client().flow.getFlowStats({});
    assert.equal(stats.wildcardRules, 2);
    assert.equal(stats.exactRules, 1);
    assert.ok(Number(stats.aclBytes) > 0);
    await clearFlows();
  });
});
