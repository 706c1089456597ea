/**
 * Forwarding through the real linerate-dp on af_packet vdevs, programmed
 * over gRPC by the real `linerate serve`: IPv4 and IPv6 routes, ARP and
 * neighbor discovery, malformed packets dropped and counted by reason, and
 * a route deleted under traffic.
 *
 *   w0.host (tests) ── veth ── p0 ┐
 *                                 linerate-dp
 *   w1.host (tests) ── veth ── p1 ┘
 *
 * Checksums and TTLs of what comes out are checked against scapy's own
 * recomputation (control/test/pkt/pkt.py), not against the forwarder's.
 */
import * as assert from 'node:assert/strict';
import { dataplaneTables, dropCount, dumpOnFailure, requireIntegration, startRig, stopRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import { waitFor, sleep } from '../helpers/env';
import * as pkt from '../helpers/pkt';
import type { Frame, PacketSpec } from '../helpers/pkt';
import { TEST_PMD } from '../helpers/topology';

// Addresses live only inside the dataplane: the wires' kernel ends have none.
const P0_V4 = '10.1.0.1';
const P1_V4 = '10.1.1.1';
const P0_V6 = '2001:db8::1';
const P1_V6 = '2001:db8:1::1';
const HOST0_V4 = '10.1.0.2';
const HOST0_V6 = '2001:db8::2';
const GW1_V4 = '10.1.1.2';
const GW1_V6 = '2001:db8:1::2';
// Next-hop MACs differ from the veths' own: the output frame must take
// its destination from the neighbor table.
const GW0_MAC = '02:00:5e:00:00:10';
const GW1_MAC = '02:00:5e:00:00:11';

const ROUTES = [
  { prefix: '198.51.100.0/24', nextHops: [{ port: 'p1', via: GW1_V4 }] },
  { prefix: '198.51.100.128/25', nextHops: [{ port: 'p0', via: HOST0_V4 }] },
  { prefix: '2001:db8:99::/48', nextHops: [{ port: 'p1', via: GW1_V6 }] },
  { prefix: '2001:db8:99:8000::/49', nextHops: [{ port: 'p0', via: HOST0_V6 }] },
];

/** One's complement 16-bit addition. */
function onesAdd(a: number, b: number): number {
  const s = a + b;
  return (s & 0xffff) + (s >>> 16);
}

/** Hex of the IPv4 packet with TTL and header checksum masked out. */
function ipv4Invariant(hex: string): string {
  const ip = hex.slice(28);
  return ip.slice(0, 16) + '--' + ip.slice(18, 20) + '----' + ip.slice(24);
}

/** Hex of the IPv6 packet with the hop limit masked out. */
function ipv6Invariant(hex: string): string {
  const ip = hex.slice(28);
  return ip.slice(0, 14) + '--' + ip.slice(16);
}

describe('integration: forwarding through linerate-dp', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  let p0Mac = '';
  let p1Mac = '';

  const client = () => rig!.client();
  const w = (i: number) => rig!.wires[i];
  /** Sends on w0's host end, captures on both host ends. */
  const send = (packets: PacketSpec[], expect?: number, timeout = 2) =>
    pkt.exchange({ send: w(0).host, sniff: [w(0).host, w(1).host], packets, expect, timeout });
  const tagged = (frames: Frame[], tag: string) => frames.filter((f) => f.decoded.tag === tag);

  before(async function () {
    requireIntegration(this);
    rig = await startRig('fwd', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: [`${P0_V4}/24`, `${P0_V6}/64`] },
        { name: 'p1', device: wires[1].device(1), addresses: [`${P1_V4}/24`, `${P1_V6}/64`] },
      ],
    }));
    const ports = (await client().port.listPorts({})).ports;
    p0Mac = ports.find((p) => p.name === 'p0')!.mac;
    p1Mac = ports.find((p) => p.name === 'p1')!.mac;
    // Routes and neighbors are pushed over gRPC, not through the config.
    await client().neighbor.addNeighbors({
      neighbors: [
        { port: 'p1', address: GW1_V4, mac: GW1_MAC },
        { port: 'p1', address: GW1_V6, mac: GW1_MAC },
        { port: 'p0', address: HOST0_V4, mac: GW0_MAC },
        { port: 'p0', address: HOST0_V6, mac: GW0_MAC },
      ],
    });
    const res = await client().route.addRoutes({ routes: ROUTES });
    assert.equal(res.applied, ROUTES.length);
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => stopRig(rig));

  it(`reports the ${TEST_PMD} ports with the veths' MACs`, async () => {
    const ports = (await client().port.listPorts({})).ports;
    assert.deepEqual(ports.map((p) => p.name), ['p0', 'p1']);
    assert.equal(p0Mac, w(0).dpMac);
    assert.equal(p1Mac, w(1).dpMac);
    assert.equal(ports[0].driver, `net_${TEST_PMD}`);  // LINERATE_TEST_PMD (helpers/topology.ts)
    const routes = await client().route.listAllRoutes({ excludeConnected: true });
    assert.deepEqual(routes.map((r) => r.prefix).sort(), ROUTES.map((r) => r.prefix).sort());
  });

  it('forwards IPv4 by longest prefix, rewriting MACs and TTL with a correct checksum', async () => {
    // Some packets are built so that their header checksum sits on the
    // one's complement edges (0x0000, 0x00ff, 0xfeff, 0xff00, 0xfffe) where
    // an incremental update (RFC 1624) is easy to get wrong.
    const base: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.7', ttl: 64 };
    const probe = await pkt.build([{ ...base, id: 0 }]);
    const c0 = probe[0].decoded.ipv4!.chksum;
    const edges = [0x0000, 0x00ff, 0xfeff, 0xff00, 0xfffe].map((target, i) => ({
      ...base, tag: `v4-edge-${i}`, id: onesAdd(~target & 0xffff, c0) & 0xffff,
    }));
    const specs: PacketSpec[] = [
      { ...base, tag: 'v4-ttl64' },
      { ...base, dst: '198.51.100.9', ttl: 2, tag: 'v4-ttl2' },
      { ...base, dst: '198.51.100.11', ttl: 255, tag: 'v4-ttl255', payload_len: 400 },
      { ...base, kind: 'icmp4', dst: '198.51.100.13', ttl: 128, tag: 'v4-icmp' },
      ...edges,
      { ...base, dst: '198.51.100.200', tag: 'v4-more-specific' },
    ];
    const built = await pkt.build(specs);
    // The edge packets really have the checksums they are meant to test.
    assert.deepEqual(built.slice(4, 9).map((b) => b.decoded.ipv4!.chksum), [0x0000, 0x00ff, 0xfeff, 0xff00, 0xfffe]);

    const r = await send(specs, specs.length);
    for (const [i, spec] of specs.entries()) {
      const out = tagged(r.captured, spec.tag!);
      assert.equal(out.length, 1, `${spec.tag}: expected exactly one copy, got ${out.length}`);
      const f = out[0];
      const toP0 = spec.tag === 'v4-more-specific';
      assert.equal(f.iface, toP0 ? w(0).host : w(1).host, `${spec.tag}: wrong output port`);
      assert.equal(f.decoded.eth!.src, toP0 ? p0Mac : p1Mac, `${spec.tag}: source MAC`);
      assert.equal(f.decoded.eth!.dst, toP0 ? GW0_MAC : GW1_MAC, `${spec.tag}: destination MAC`);
      const ip = f.decoded.ipv4!;
      assert.equal(ip.ttl, spec.ttl! - 1, `${spec.tag}: TTL`);
      assert.ok(ip.chksum_ok, `${spec.tag}: IPv4 checksum 0x${ip.chksum.toString(16)} is not what scapy computes`);
      if (f.decoded.udp) assert.ok(f.decoded.udp.chksum_ok, `${spec.tag}: UDP checksum`);
      if (f.decoded.icmp) assert.ok(f.decoded.icmp.chksum_ok, `${spec.tag}: ICMP checksum`);
      assert.equal(ipv4Invariant(f.hex), ipv4Invariant(built[i].hex), `${spec.tag}: bytes other than TTL/checksum changed`);
    }
    // Nothing else came out (no copies, no stray frames).
    assert.equal(r.captured.length, specs.length, r.captured.map((f) => f.decoded.summary).join('\n'));
  });

  it('forwards IPv6 by longest prefix, rewriting MACs and hop limit', async () => {
    const base: PacketSpec = { kind: 'udp6', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V6, dst: '2001:db8:99::7', hlim: 64 };
    const specs: PacketSpec[] = [
      { ...base, tag: 'v6-hlim64' },
      { ...base, dst: '2001:db8:99:1::1', hlim: 2, tag: 'v6-hlim2' },
      { ...base, dst: '2001:db8:99::ffff', hlim: 255, tag: 'v6-hlim255', payload_len: 600 },
      { ...base, kind: 'icmp6_echo', dst: '2001:db8:99::9', tag: 'v6-echo' },
      { ...base, dst: '2001:db8:99:8000::1', tag: 'v6-more-specific' },
    ];
    const built = await pkt.build(specs);
    const r = await send(specs, specs.length);
    for (const [i, spec] of specs.entries()) {
      const out = tagged(r.captured, spec.tag!);
      assert.equal(out.length, 1, `${spec.tag}: expected exactly one copy, got ${out.length}`);
      const f = out[0];
      const toP0 = spec.tag === 'v6-more-specific';
      assert.equal(f.iface, toP0 ? w(0).host : w(1).host, `${spec.tag}: wrong output port`);
      assert.equal(f.decoded.eth!.src, toP0 ? p0Mac : p1Mac, `${spec.tag}: source MAC`);
      assert.equal(f.decoded.eth!.dst, toP0 ? GW0_MAC : GW1_MAC, `${spec.tag}: destination MAC`);
      assert.equal(f.decoded.ipv6!.hlim, spec.hlim! - 1, `${spec.tag}: hop limit`);
      if (f.decoded.udp) assert.ok(f.decoded.udp.chksum_ok, `${spec.tag}: UDP checksum`);
      if (f.decoded.icmp6_echo_request) assert.ok(f.decoded.icmp6_echo_request.cksum_ok, `${spec.tag}: ICMPv6 checksum`);
      assert.equal(ipv6Invariant(f.hex), ipv6Invariant(built[i].hex), `${spec.tag}: bytes other than the hop limit changed`);
    }
    assert.equal(r.captured.length, specs.length, r.captured.map((f) => f.decoded.summary).join('\n'));
  });

  it('answers an ARP request for its address with an ARP reply', async () => {
    const before = (await client().stats.getStats({})).slowPath;
    const r = await send([{ kind: 'arp_request', src_mac: w(0).hostMac, dst_mac: 'ff:ff:ff:ff:ff:ff', psrc: HOST0_V4, pdst: P0_V4 }], 1);
    const replies = r.captured.filter((f) => f.decoded.arp?.op === 2);
    assert.equal(replies.length, 1, r.captured.map((f) => `${f.iface} ${f.decoded.summary}`).join('\n'));
    const f = replies[0];
    assert.equal(f.iface, w(0).host, 'reply leaves on the port the request came in on');
    assert.deepEqual(f.decoded.eth, { src: p0Mac, dst: w(0).hostMac, type: 0x0806 });
    assert.deepEqual(f.decoded.arp, { op: 2, hwsrc: p0Mac, psrc: P0_V4, hwdst: w(0).hostMac, pdst: HOST0_V4 });
    const after = (await client().stats.getStats({})).slowPath;
    const delta = (k: string) => BigInt(after[k] ?? '0') - BigInt(before[k] ?? '0');
    assert.equal(delta('arp_request_rx'), 1n, 'arp_request_rx');
    assert.equal(delta('arp_reply_tx'), 1n, 'arp_reply_tx');
  });

  it('does not answer ARP for an address it does not own', async () => {
    const r = await send([{ kind: 'arp_request', src_mac: w(0).hostMac, psrc: HOST0_V4, pdst: '10.1.0.77' }], undefined, 1);
    assert.deepEqual(r.captured.map((f) => f.decoded.summary), []);
  });

  it('answers an IPv6 neighbor solicitation with a solicited advertisement', async () => {
    const r = await send([{ kind: 'nd_ns', src_mac: w(0).hostMac, src: HOST0_V6, target: P0_V6 }], 1);
    const nas = r.captured.filter((f) => f.decoded.nd_na);
    assert.equal(nas.length, 1, r.captured.map((f) => `${f.iface} ${f.decoded.summary}`).join('\n'));
    const f = nas[0];
    assert.equal(f.iface, w(0).host);
    assert.equal(f.decoded.eth!.src, p0Mac);
    assert.equal(f.decoded.eth!.dst, w(0).hostMac);
    assert.equal(f.decoded.ipv6!.src, P0_V6);
    assert.equal(f.decoded.ipv6!.dst, HOST0_V6);
    assert.equal(f.decoded.ipv6!.hlim, 255, 'ND packets carry hop limit 255 (RFC 4861)');
    const na = f.decoded.nd_na!;
    assert.equal(na.target, P0_V6);
    assert.equal(na.S, 1, 'solicited flag');
    assert.equal(na.R, 1, 'router flag: the forwarder is a router');
    assert.equal(na.lladdr, p0Mac, 'target link-layer address option');
    assert.ok(na.cksum_ok, 'ICMPv6 checksum');
  });

  describe('malformed packets are dropped and counted by reason', () => {
    const N = 3;
    const ok = (): PacketSpec => ({ kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.7', ttl: 64 });
    const ok6 = (): PacketSpec => ({ kind: 'udp6', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V6, dst: '2001:db8:99::7', hlim: 64 });
    const cases: { name: string; reason: string; spec: () => PacketSpec }[] = [
      { name: 'truncated IPv4 header', reason: 'truncated', spec: () => ({ ...ok(), truncate: 14 + 12 }) },
      { name: 'truncated IPv6 header', reason: 'truncated', spec: () => ({ ...ok6(), truncate: 14 + 30 }) },
      { name: 'IHL below 5', reason: 'bad_ihl', spec: () => ({ ...ok(), ihl: 3 }) },
      // 60-byte header in a 46-byte packet (total length matches the frame).
      { name: 'IHL beyond the packet', reason: 'bad_ihl', spec: () => ({ ...ok(), ihl: 15 }) },
      { name: 'total length beyond the frame', reason: 'bad_length', spec: () => ({ ...ok(), len: 400 }) },
      { name: 'total length below the header', reason: 'bad_length', spec: () => ({ ...ok(), len: 12 }) },
      { name: 'IPv6 payload length beyond the frame', reason: 'bad_length', spec: () => ({ ...ok6(), plen: 900 }) },
      { name: 'bad IPv4 header checksum', reason: 'bad_checksum', spec: () => ({ ...ok(), chksum: 0x1234 }) },
      { name: 'non-IP ethertype', reason: 'not_ip', spec: () => ({ ...ok(), ethertype: 0x88b5 }) },
      { name: 'TTL 1', reason: 'ttl_expired', spec: () => ({ ...ok(), ttl: 1 }) },
      { name: 'IPv6 hop limit 1', reason: 'ttl_expired', spec: () => ({ ...ok6(), hlim: 1 }) },
    ];

    for (const c of cases) {
      it(`${c.name} → ${c.reason}`, async () => {
        const spec = c.spec();
        if (c.reason === 'bad_checksum') {
          const [b] = await pkt.build([spec]);
          assert.equal(b.decoded.ipv4!.chksum_ok, false, 'the test packet must really carry a wrong checksum');
        }
        const before = await dropCount(client(), 'p0', c.reason);
        const r = await send(Array.from({ length: N }, (_, i) => ({ ...spec, tag: `bad-${i}` })), undefined, 0.5);
        // Nothing forwarded; an ICMP error back to the sender is allowed for TTL expiry only.
        const leaked = r.captured.filter((f) => f.iface === w(1).host || c.reason !== 'ttl_expired');
        assert.deepEqual(leaked.map((f) => `${f.iface} ${f.decoded.summary}`), []);
        const delta = await waitFor(`${c.reason} to count ${N}`, async () => {
          const d = (await dropCount(client(), 'p0', c.reason)) - before;
          return d >= BigInt(N) ? d : undefined;
        }, 5000);
        await sleep(200);
        assert.equal((await dropCount(client(), 'p0', c.reason)) - before, BigInt(N), `${c.reason} counted once per packet`);
        assert.equal(delta, BigInt(N));
      });
    }

    it('still forwards good packets after the bad ones', async () => {
      const r = await send([{ ...ok(), tag: 'after-bad' }], 1);
      assert.equal(tagged(r.captured, 'after-bad').filter((f) => f.iface === w(1).host).length, 1);
    });
  });

  describe('route deleted under traffic', () => {
    it('stops matching a route deleted under traffic, without a crash', async function () {
      this.timeout(60000);
      const dpBefore = await client().dataplane.getDataplane({});
      const noRouteBefore = await dropCount(client(), 'p0', 'no_route');
      const spec: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.7', ttl: 64, tag: 'live' };
      const streaming = pkt.stream({ send: w(0).host, sniff: [w(1).host], packets: [spec], durationS: 3, pps: 400 });
      await streaming.started;
      await sleep(1000);
      const tDelStart = Date.now() / 1000;
      const del = await client().route.deleteRoutes({ prefixes: ['198.51.100.0/24'] });
      const tDelEnd = Date.now() / 1000;
      assert.equal(del.applied, 1);
      const r = await streaming.done;

      const got = new Set(r.captured.map((c) => c.tag));
      const sentBefore = r.sent.filter((s) => s.t < tDelStart - 0.05);
      const sentAfter = r.sent.filter((s) => s.t > tDelEnd + 0.02);
      assert.ok(sentBefore.length > 100 && sentAfter.length > 100, `stream too thin: ${sentBefore.length} before, ${sentAfter.length} after`);
      const lostBefore = sentBefore.filter((s) => !got.has(s.tag));
      assert.equal(lostBefore.length, 0, `${lostBefore.length} packets lost while the route existed`);
      const leakedAfter = sentAfter.filter((s) => got.has(s.tag));
      assert.equal(leakedAfter.length, 0, `${leakedAfter.length} packets forwarded after the route was deleted`);
      // Every packet was either forwarded or dropped for lack of a route.
      const noRoute = await waitFor('no_route to settle', async () => {
        const n = (await dropCount(client(), 'p0', 'no_route')) - noRouteBefore;
        return n + BigInt(got.size) >= BigInt(r.sent.length) ? n : undefined;
      }, 5000);
      assert.equal(noRoute + BigInt(got.size), BigInt(r.sent.length), 'forwarded + no_route = sent');

      // Same dataplane, still attached, and the table is consistent.
      const dpAfter = await client().dataplane.getDataplane({});
      assert.equal(dpAfter.attached, true);
      assert.equal(dpAfter.pid, dpBefore.pid);
      assert.equal(dpAfter.bootId, dpBefore.bootId);
      const prefixes = (await client().route.listAllRoutes({ excludeConnected: true })).map((x) => x.prefix);
      assert.ok(!prefixes.includes('198.51.100.0/24'));
      assert.ok(prefixes.includes('198.51.100.128/25'));
      const inDataplane = (await dataplaneTables(rig!)).routes.map((x) => x.split(' ')[0]);
      assert.ok(!inDataplane.includes('198.51.100.0/24'), 'deleted in the dataplane');
      assert.ok(inDataplane.includes('198.51.100.128/25'));

      // Put back, it matches again.
      await client().route.addRoutes({ routes: [ROUTES[0]] });
      const again = await send([{ ...spec, tag: 'readded' }], 1);
      assert.equal(tagged(again.captured, 'readded').filter((f) => f.iface === w(1).host).length, 1);
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
