/**
 * The UPF user plane through the real linerate-dp on af_packet vdevs,
 * programmed over gRPC (SessionService, UpfService) by the real `linerate
 * serve`, with packets built by scapy's GTP-U layers and linerate's output
 * checked by scapy and by tshark:
 *
 *   w0.host (the gNB, 10.10.0.2) ── veth ── p0 ACCESS, N3 10.10.0.1 ┐
 *                                                                   ├ linerate-dp
 *   w1.host (the DN, via 10.20.0.2) ── veth ── p1 CORE  10.20.0.1    ┘
 *
 * Covered: uplink decapsulation (inner packet routed to N6), downlink
 * encapsulation (outer IPv4/UDP 2152/GTP-U with a DL PDU Session Container
 * carrying the FAR's QFI, decoded by tshark without expert warnings),
 * TEID / QFI / UE IP matching and precedence (and a MODIFY that changes
 * it), an IPv6 UE both ways, FAR drop, QER gate and MBR, URR counters
 * exact to the packet and byte,
 * malformed GTP-U dropped and counted by reason, Echo Request answered
 * (same sequence number, TEID 0, Recovery IE 0), bad session requests
 * rejected with the field named while the good ones of the batch apply, the
 * CLI, and sessions kept across a serve restart and reprogrammed into a
 * respawned dataplane.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isAlive } from '../helpers/cleanup';
import { CLI, waitFor } from '../helpers/env';
import { dumpOnFailure, requireIntegration, startRig, stopRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import * as pkt from '../helpers/pkt';
import type { Frame, PacketSpec } from '../helpers/pkt';
import { loadAddon } from '../../src/dataplane/addon';
import type * as api from '../../src/gen';

const N3 = '10.10.0.1';
const GNB = '10.10.0.2';
const P1_V4 = '10.20.0.1';
const DN_GW = '10.20.0.2';
const DN_GW_MAC = '02:00:5e:00:00:21';
const DN_HOST = '198.51.100.5';
const UE1 = '10.45.0.2';
const UE2 = '10.45.0.3';
const GNB_TEID = 0x0a0b0c0d;
const P1_V6 = '2001:db8:20::1';
const DN_GW6 = '2001:db8:20::2';
const DN_HOST6 = '2001:db8:99::5';
const UE6 = '2001:db8:45::2';

/** Session 1: uplink TEID 100 (PDR 1, any QFI, precedence 100; PDR 3, QFI 5, precedence 10, FAR drop), downlink UE1. */
function session1(prec3 = 10): api.Session {
  return {
    seid: '1',
    pdrs: [
      { id: 1, precedence: 100, sourceInterface: 'INTERFACE_ACCESS', localFTeid: { teid: 100, address: N3 }, farId: 1, qerIds: [1], urrIds: [1] },
      { id: 2, precedence: 100, sourceInterface: 'INTERFACE_CORE', ueAddress: UE1, farId: 2, qerIds: [1], urrIds: [1] },
      { id: 3, precedence: prec3, sourceInterface: 'INTERFACE_ACCESS', localFTeid: { teid: 100, address: N3 }, qfi: 5, farId: 3 },
    ],
    fars: [
      { id: 1, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_CORE' },
      { id: 2, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_ACCESS',
        outerHeaderCreation: { peer: { teid: GNB_TEID, address: GNB }, qfi: 9 } },
      { id: 3, action: 'FAR_ACTION_DROP' },
    ],
    qers: [{ id: 1, gateUl: 'GATE_OPEN', gateDl: 'GATE_OPEN', qfi: 9 }],
    urrs: [{ id: 1 }],
  };
}

/** Session 2: TEID 200 / UE2, downlink gate closed. */
function session2(): api.Session {
  return {
    seid: '2',
    pdrs: [
      { id: 1, precedence: 1, sourceInterface: 'INTERFACE_ACCESS', localFTeid: { teid: 200, address: N3 }, farId: 1, qerIds: [7], urrIds: [] },
      { id: 2, precedence: 1, sourceInterface: 'INTERFACE_CORE', ueAddress: UE2, farId: 2, qerIds: [7], urrIds: [] },
    ],
    fars: [
      { id: 1, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_CORE' },
      { id: 2, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_ACCESS',
        outerHeaderCreation: { peer: { teid: 0x2000, address: GNB }, qfi: 1 } },
    ],
    qers: [{ id: 7, gateUl: 'GATE_OPEN', gateDl: 'GATE_CLOSED' }],
    urrs: [],
  };
}

describe('integration: UPF (GTP-U, sessions)', function () {
  this.timeout(180000);
  let rig: Rig | undefined;
  let p0Mac = '';
  let p1Mac = '';
  const client = () => rig!.client();
  const w = (i: number) => rig!.wires[i];
  const tagged = (frames: Frame[], tag: string, iface: string) => frames.filter((f) => f.decoded.tag === tag && f.iface === iface);
  const cli = async (...args: string[]): Promise<string> =>
    (await promisify(execFile)(process.execPath, [CLI, '--addr', `127.0.0.1:${rig!.serve.grpcPort}`, ...args], { timeout: 30000 })).stdout;

  /** Uplink G-PDU from the gNB; payload_len bytes of inner UDP payload. */
  const ul = (tag: string, teid: number, qfi?: number, extra: Partial<PacketSpec> & Record<string, unknown> = {}): PacketSpec =>
    ({ kind: 'gtpu4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: GNB, dst: N3, teid, ...(qfi !== undefined ? { qfi } : {}),
      inner_src: UE1, inner_dst: DN_HOST, payload_len: 100, tag, ...extra }) as PacketSpec;
  /** Downlink packet from the DN to a UE. */
  const dl = (tag: string, ue: string, payload = 100): PacketSpec =>
    ({ kind: 'udp4', src_mac: w(1).hostMac, dst_mac: p1Mac, src: DN_HOST, dst: ue, ttl: 64, sport: 4001, dport: 4000, payload_len: payload, tag });
  const both = (packets: PacketSpec[], from: number, expect?: number) =>
    pkt.exchange({ send: w(from).host, sniff: [w(0).host, w(1).host], packets, expect, timeout: 1.5 });
  const upfDrops = async (): Promise<Record<string, bigint>> => {
    const s = await client().upf.getStats({});
    return Object.fromEntries(Object.entries(s.drops).map(([k, v]) => [k, BigInt(v)]));
  };
  const urr1 = async (): Promise<api.Urr__Output> => (await client().session.read({ seid: '1' })).urrs[0];
  /** Sessions as the dataplane itself holds them (a second control connection). */
  const dataplaneSessions = async (): Promise<string[]> => {
    const { Dataplane } = loadAddon();
    const dp = new Dataplane();
    await dp.connect(`${rig!.serve.runDir}/ctl.sock`, 5000);
    try {
      const cfg = await dp.upfConfigDump();
      return [...cfg.map((c) => `config ${c.n3Address} ${JSON.stringify(c.ports)}`),
        ...(await dp.upfSessionDump()).map((s) => `session ${s.seid} ${s.pdrs.length} pdrs ${s.fars.length} fars`)].sort();
    } finally {
      dp.close();
    }
  };

  before(async function () {
    requireIntegration(this);
    rig = await startRig('upf', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: [`${N3}/24`] },
        { name: 'p1', device: wires[1].device(1), addresses: [`${P1_V4}/24`, `${P1_V6}/64`] },
      ],
    }));
    const ports = (await client().port.listPorts({})).ports;
    p0Mac = ports.find((p) => p.name === 'p0')!.mac;
    p1Mac = ports.find((p) => p.name === 'p1')!.mac;
    await client().neighbor.addNeighbors({
      neighbors: [{ port: 'p0', address: GNB, mac: w(0).hostMac }, { port: 'p1', address: DN_GW, mac: DN_GW_MAC },
        { port: 'p1', address: DN_GW6, mac: DN_GW_MAC }],
    });
    await client().route.addRoutes({ routes: [
      { prefix: '198.51.100.0/24', nextHops: [{ port: 'p1', via: DN_GW }] },
      { prefix: '2001:db8:99::/48', nextHops: [{ port: 'p1', via: DN_GW6 }] },
    ] });
    const cfg = await client().upf.setConfig({ n3Address: N3, ports: { p0: 'INTERFACE_ACCESS', p1: 'INTERFACE_CORE' } });
    assert.equal(cfg.n3Address, N3);
    const r = await client().session.write({
      updates: [{ op: 'SESSION_OP_CREATE', session: session1() }, { op: 'SESSION_OP_CREATE', session: session2() }],
    });
    assert.deepEqual(r.statuses.map((s) => s.code), [0, 0], JSON.stringify(r.statuses));
    assert.equal(r.applied, 2);
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => stopRig(rig));

  it('uplink: outer IPv4/UDP/GTP-U removed, the inner packet routed to N6; QFI and precedence pick the PDR; FAR drop', async () => {
    const before = await upfDrops();
    const res = await both([ul('ul-any', 100, 9), ul('ul-none', 100), ul('ul-q5', 100, 5), ul('ul-teid', 999, 9)], 0, 2);
    for (const tag of ['ul-any', 'ul-none']) {
      const f = tagged(res.captured, tag, w(1).host);
      assert.equal(f.length, 1, `${tag} crossed to N6 (${res.captured.length} frames)`);
      const d = f[0].decoded;
      assert.equal(d.gtpu, undefined, 'no GTP-U left');
      assert.equal(d.udp!.dport, 5000);
      assert.equal(d.ipv4!.src, UE1);
      assert.equal(d.ipv4!.dst, DN_HOST);
      assert.equal(d.ipv4!.ttl, 63);
      assert.equal(d.ipv4!.len, 128);
      assert.equal(d.ipv4!.chksum_ok, true);
      assert.equal(d.eth!.dst, DN_GW_MAC);
      assert.equal(d.len, 14 + 128, 'the frame ends with the inner packet');
    }
    assert.equal(tagged(res.captured, 'ul-q5', w(1).host).length, 0, 'QFI 5: PDR 3 (precedence 10) drops');
    assert.equal(tagged(res.captured, 'ul-teid', w(1).host).length, 0);
    const after = await upfDrops();
    assert.equal(after.upf_far_drop - before.upf_far_drop, 1n);
    assert.equal(after.gtpu_unknown_teid - before.gtpu_unknown_teid, 1n);

    // MODIFY: PDR 3's precedence 200 now loses to PDR 1 (100): QFI 5 is forwarded
    const m = await client().session.write({ updates: [{ op: 'SESSION_OP_MODIFY', session: session1(200) }] });
    assert.equal(m.statuses[0].code, 0, m.statuses[0].message);
    const res2 = await both([ul('ul-q5b', 100, 5)], 0, 1);
    assert.equal(tagged(res2.captured, 'ul-q5b', w(1).host).length, 1);
    const m2 = await client().session.write({ updates: [{ op: 'SESSION_OP_MODIFY', session: session1() }] });
    assert.equal(m2.statuses[0].code, 0);
  });

  it('downlink: encapsulated towards the gNB with a DL PDU Session Container, valid for tshark; gate closed drops', async () => {
    const before = await upfDrops();
    const res = await both([dl('dl-1', UE1), dl('dl-2', UE2)], 1, 1);
    const f = tagged(res.captured, 'dl-1', w(0).host);
    assert.equal(f.length, 1, `dl-1 came out of N3 (${res.captured.length} frames)`);
    const d = f[0].decoded;
    assert.equal(d.eth!.dst, w(0).hostMac);
    assert.equal(d.ipv4!.src, N3);
    assert.equal(d.ipv4!.dst, GNB);
    assert.equal(d.ipv4!.proto, 17);
    assert.equal(d.ipv4!.chksum_ok, true);
    assert.equal(d.ipv4!.len, 20 + 8 + 16 + 128);
    assert.equal(d.udp!.sport, 2152);
    assert.equal(d.udp!.dport, 2152);
    assert.equal(d.udp!.chksum, 0, 'UDP checksum 0 (legal over IPv4)');
    assert.equal(d.gtpu!.type, 255);
    assert.equal(d.gtpu!.teid, GNB_TEID);
    assert.equal(d.gtpu!.E, 1);
    assert.equal(d.gtpu!.length, 4 + 4 + 128);
    assert.deepEqual(d.gtpu!.container, { type: 0, qfi: 9 });
    assert.equal(d.gtpu!.inner!.dst, UE1);
    assert.equal(d.gtpu!.inner!.ttl, 64, 'the inner packet as it came');
    const ts = await pkt.tshark([f[0].hex], ['gtp.message', 'gtp.teid', 'gtp.ext_hdr.pdu_ses_con.pdu_type',
      'gtp.ext_hdr.pdu_ses_con.qos_flow_id', 'ip.checksum.status', 'ip.dst']);
    assert.deepEqual(ts.rows[0], {
      'gtp.message': '0xff', 'gtp.teid': `0x${GNB_TEID.toString(16).padStart(8, '0')}`, 'gtp.ext_hdr.pdu_ses_con.pdu_type': '0',
      'gtp.ext_hdr.pdu_ses_con.qos_flow_id': '9', 'ip.checksum.status': '1,1', 'ip.dst': `${GNB},${UE1}`,
    });
    assert.doesNotMatch(ts.expert, /Warning|Error|Malformed/, ts.expert);
    assert.equal(tagged(res.captured, 'dl-2', w(0).host).length, 0, 'QER gate closed downlink');
    const after = await upfDrops();
    assert.equal(after.upf_qer_gate - before.upf_qer_gate, 1n);
  });

  it('an IPv6 UE: downlink by its IPv6 address (IPv6 in IPv4/UDP/GTP-U), uplink IPv6 inner packets', async () => {
    const s3: api.Session = {
      seid: '3',
      pdrs: [
        { id: 1, precedence: 1, sourceInterface: 'INTERFACE_ACCESS', localFTeid: { teid: 300, address: N3 }, farId: 1, urrIds: [1] },
        { id: 2, precedence: 1, sourceInterface: 'INTERFACE_CORE', ueAddress: UE6, farId: 2, urrIds: [1] },
      ],
      fars: [
        { id: 1, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_CORE' },
        { id: 2, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_ACCESS',
          outerHeaderCreation: { peer: { teid: 0x3000, address: GNB }, qfi: 3 } },
      ],
      urrs: [{ id: 1 }],
    };
    const c = await client().session.write({ updates: [{ op: 'SESSION_OP_CREATE', session: s3 }] });
    assert.equal(c.statuses[0].code, 0, c.statuses[0].message);
    const down = await both([{ kind: 'udp6', src_mac: w(1).hostMac, dst_mac: p1Mac, src: DN_HOST6, dst: UE6, hlim: 64,
      sport: 4001, dport: 4000, payload_len: 60, tag: 'v6-dl' }], 1, 1);
    const f = tagged(down.captured, 'v6-dl', w(0).host);
    assert.equal(f.length, 1, `v6-dl came out of N3 (${down.captured.length} frames)`);
    const d = f[0].decoded;
    assert.equal(d.ipv4!.dst, GNB);
    assert.equal(d.ipv4!.chksum_ok, true);
    assert.equal(d.gtpu!.teid, 0x3000);
    assert.deepEqual(d.gtpu!.container, { type: 0, qfi: 3 });
    assert.equal(d.gtpu!.inner!.dst, UE6);
    const ts = await pkt.tshark([f[0].hex], ['gtp.teid', 'gtp.ext_hdr.pdu_ses_con.qos_flow_id', 'ipv6.dst']);
    assert.deepEqual(ts.rows[0], { 'gtp.teid': '0x00003000', 'gtp.ext_hdr.pdu_ses_con.qos_flow_id': '3', 'ipv6.dst': UE6 });
    assert.doesNotMatch(ts.expert, /Warning|Error|Malformed/, ts.expert);
    const up = await both([ul('v6-ul', 300, undefined, { inner_src: UE6, inner_dst: DN_HOST6, payload_len: 40 })], 0, 1);
    const g = tagged(up.captured, 'v6-ul', w(1).host);
    assert.equal(g.length, 1, 'the inner IPv6 packet was routed to N6');
    assert.equal(g[0].decoded.gtpu, undefined);
    assert.equal(g[0].decoded.ipv6!.dst, DN_HOST6);
    assert.equal(g[0].decoded.ipv6!.hlim, 63);
    assert.equal(g[0].decoded.eth!.dst, DN_GW_MAC);
    const u = (await client().session.read({ seid: '3' })).urrs[0];
    assert.deepEqual([u.ulPackets, u.ulBytes, u.dlPackets, u.dlBytes], ['1', String(40 + 8 + 40), '1', String(40 + 8 + 60)]);
    const del = await client().session.write({ updates: [{ op: 'SESSION_OP_DELETE', session: { seid: '3' } }] });
    assert.equal(del.applied, 1);
  });

  it('QER MBR (trTCM, rte_meter): the burst passes, the rest is red and counted', async () => {
    // 8 kbit/s uplink: 1000 B/s of IP packets, a 4554-byte burst (3 full frames at least):
    // of 60 back-to-back 128-byte packets about 35 pass (plus what 1000 B/s refills meanwhile)
    const s2 = session2();
    s2.qers = [{ id: 7, gateUl: 'GATE_OPEN', gateDl: 'GATE_CLOSED', mbrUl: '8000' }];
    const m = await client().session.write({ updates: [{ op: 'SESSION_OP_MODIFY', session: s2 }] });
    assert.equal(m.statuses[0].code, 0, m.statuses[0].message);
    const before = await upfDrops();
    const specs = Array.from({ length: 60 }, (_, i) => ul(`mbr${i}`, 200, undefined));
    const res = await pkt.exchange({ send: w(0).host, sniff: [w(1).host], packets: specs, timeout: 1.5, gapMs: 0 });
    const passed = res.captured.filter((f) => f.decoded.tag?.startsWith('mbr')).length;
    const red = (await upfDrops()).upf_qer_mbr - before.upf_qer_mbr;
    const secs = (res.sent[res.sent.length - 1].t - res.sent[0].t);
    const allowed = Math.floor((4554 + 1000 * (secs + 0.05)) / 128);
    assert.ok(passed >= 35 && passed <= allowed, `${passed} passed in ${secs.toFixed(3)} s (35..${allowed} expected)`);
    assert.equal(BigInt(passed) + red, 60n, `${passed} passed + ${red} red`);
    const back = await client().session.write({ updates: [{ op: 'SESSION_OP_MODIFY', session: session2() }] });
    assert.equal(back.statuses[0].code, 0);
  });

  it('URR counters are exact to the packet and the byte, per direction', async () => {
    const u0 = await urr1();
    const sizes = [0, 1, 200, 999];
    const res = await both([
      ...sizes.map((n, i) => ul(`c-ul${i}`, 100, 9, { payload_len: n })),
      ul('c-drop', 100, 5),    // FAR drop: not counted
    ], 0, sizes.length);
    const res2 = await both(sizes.map((n, i) => dl(`c-dl${i}`, UE1, n)), 1, sizes.length);
    // the tag needs 4 + len("c-ulN;") bytes: short payloads grow to that
    const inner = (n: number, tag: string) => 20 + 8 + Math.max(n, 4 + tag.length + 1);
    assert.equal(res.captured.filter((f) => f.iface === w(1).host && f.decoded.tag?.startsWith('c-ul')).length, sizes.length);
    assert.equal(res2.captured.filter((f) => f.iface === w(0).host && f.decoded.tag?.startsWith('c-dl')).length, sizes.length);
    const u1 = await urr1();
    assert.equal(BigInt(u1.ulPackets) - BigInt(u0.ulPackets), BigInt(sizes.length));
    assert.equal(BigInt(u1.ulBytes) - BigInt(u0.ulBytes), BigInt(sizes.reduce((a, n, i) => a + inner(n, `c-ul${i}`), 0)));
    assert.equal(BigInt(u1.dlPackets) - BigInt(u0.dlPackets), BigInt(sizes.length));
    assert.equal(BigInt(u1.dlBytes) - BigInt(u0.dlBytes), BigInt(sizes.reduce((a, n, i) => a + inner(n, `c-dl${i}`), 0)));
  });

  it('malformed GTP-U is dropped and counted by reason', async () => {
    const before = await upfDrops();
    const GTP = 14 + 20 + 8;  // offset of the GTP-U header in the frame
    const specs = [
      ul('m-extlen0', 100, 9, { patch: [[GTP + 12, 0]] }),                // extension length 0
      ul('m-len', 100, 9, { patch: [[GTP + 2, 0x7f], [GTP + 3, 0xff]] }), // length beyond the frame
      ul('m-cont', 100, 9, { patch: [[GTP + 12, 40]] }),                  // container beyond the message
      ul('m-ext', 100, 9, { patch: [[GTP + 11, 0xc1]] }),                 // unknown, comprehension required
      ul('m-type', 100, undefined, { gtp_type: 26 }),                     // error indication: unsupported here
      ul('m-ver', 100, 9, { patch: [[GTP, 0x54]] }),                      // version 2
    ];
    const res = await both(specs, 0);
    assert.equal(res.captured.filter((f) => f.iface === w(1).host && f.decoded.tag?.startsWith('m-')).length, 0);
    const after = await upfDrops();
    const delta = (k: string) => after[k] - before[k];
    assert.equal(delta('gtpu_bad_ext'), 1n);
    assert.equal(delta('gtpu_bad_length'), 1n);
    assert.equal(delta('gtpu_bad_container'), 1n);
    assert.equal(delta('gtpu_unknown_ext'), 1n);
    assert.equal(delta('gtpu_unsupported_type'), 1n);
    assert.equal(delta('gtpu_bad_version'), 1n);
    // the dataplane is still forwarding
    const ok = await both([ul('m-after', 100, 9)], 0, 1);
    assert.equal(tagged(ok.captured, 'm-after', w(1).host).length, 1);
  });

  it('Echo Request to the N3 address: Echo Response, same sequence number, TEID 0, Recovery IE 0', async () => {
    const s0 = await client().upf.getStats({});
    const res = await pkt.exchange({
      send: w(0).host, sniff: [w(0).host], expect: 1, timeout: 2,
      packets: [{ kind: 'gtpu_echo', src_mac: w(0).hostMac, dst_mac: p0Mac, src: GNB, dst: N3, seq: 0x1234 } ],
    });
    const f = res.captured.filter((c) => c.decoded.gtpu?.type === 2);
    assert.equal(f.length, 1, `an echo response came back (${res.captured.length} frames)`);
    const d = f[0].decoded;
    assert.equal(d.ipv4!.src, N3);
    assert.equal(d.ipv4!.dst, GNB);
    assert.equal(d.ipv4!.chksum_ok, true);
    assert.equal(d.udp!.sport, 2152);
    assert.equal(d.udp!.dport, 2152);
    assert.equal(d.gtpu!.teid, 0);
    assert.equal(d.gtpu!.S, 1);
    assert.equal(d.gtpu!.seq, 0x1234);
    assert.deepEqual(d.gtpu!.echo_ies, [[14, '0e00']]);
    const ts = await pkt.tshark([f[0].hex], ['gtp.message', 'gtp.seq_number', 'gtp.recovery', 'gtp.teid']);
    assert.deepEqual(ts.rows[0], { 'gtp.message': '0x02', 'gtp.seq_number': '0x1234', 'gtp.recovery': '0', 'gtp.teid': '0x00000000' });
    assert.doesNotMatch(ts.expert, /Warning|Error|Malformed/, ts.expert);
    const s1 = await client().upf.getStats({});
    assert.equal(BigInt(s1.counters.echo_responses) - BigInt(s0.counters.echo_responses), 1n);
  });

  it('bad session requests are rejected whole with the field named; the good ones of the batch apply', async () => {
    const dangling = session1();
    dangling.seid = '10';
    dangling.pdrs![0] = { ...dangling.pdrs![0], localFTeid: { teid: 1000, address: N3 }, farId: 7 };
    dangling.pdrs![1] = { ...dangling.pdrs![1], ueAddress: '10.45.1.10' };
    dangling.pdrs!.length = 2;
    const dupPdr = session2();
    dupPdr.seid = '11';
    dupPdr.pdrs = [dupPdr.pdrs![0], { ...dupPdr.pdrs![1], id: 1, ueAddress: '10.45.1.11' }];
    dupPdr.pdrs[0] = { ...dupPdr.pdrs[0], localFTeid: { teid: 1100, address: N3 } };
    const teid0 = session2();
    teid0.seid = '12';
    teid0.pdrs = [{ ...teid0.pdrs![0], localFTeid: { teid: 0, address: N3 } }, { ...teid0.pdrs![1], ueAddress: '10.45.1.12' }];
    const ueUsed = session2();
    ueUsed.seid = '13';
    ueUsed.pdrs = [{ ...ueUsed.pdrs![0], localFTeid: { teid: 1300, address: N3 } }, { ...ueUsed.pdrs![1], ueAddress: UE1 }];
    const teidUsed = session2();
    teidUsed.seid = '14';
    teidUsed.pdrs = [{ ...teidUsed.pdrs![0], localFTeid: { teid: 100, address: N3 } }, { ...teidUsed.pdrs![1], ueAddress: '10.45.1.14' }];
    const danglingQer = session2();
    danglingQer.seid = '15';
    danglingQer.pdrs = [{ ...danglingQer.pdrs![0], localFTeid: { teid: 1500, address: N3 }, qerIds: [9] },
      { ...danglingQer.pdrs![1], ueAddress: '10.45.1.15' }];
    const good = session2();
    good.seid = '16';
    good.pdrs = [{ ...good.pdrs![0], localFTeid: { teid: 1600, address: N3 } }, { ...good.pdrs![1], ueAddress: '10.45.1.16' }];
    const r = await client().session.write({
      updates: [dangling, dupPdr, teid0, ueUsed, teidUsed, danglingQer, good].map((session) => ({ op: 'SESSION_OP_CREATE', session })),
    });
    const st = r.statuses;
    assert.equal(r.applied, 1);
    assert.match(st[0].message, /^updates\[0\]\.session\.pdrs\[0\]\.far_id: no FAR 7/);
    assert.match(st[1].message, /^updates\[1\]\.session\.pdrs\[1\]\.id: 1 is also pdrs\[0\]/);
    assert.match(st[2].message, /^updates\[2\]\.session\.pdrs\[0\]\.local_f_teid\.teid: TEID 0 is reserved/);
    assert.match(st[3].message, /^updates\[3\]\.session\.pdrs\[1\]\.ue_address: UE IP 10\.45\.0\.2 is used by session 1/);
    assert.match(st[4].message, /^updates\[4\]\.session\.pdrs\[0\]\.local_f_teid: F-TEID 100 at 10\.10\.0\.1 is used by session 1/);
    assert.match(st[5].message, /^updates\[5\]\.session\.pdrs\[0\]\.qer_ids\[0\]: no QER 9/);
    assert.deepEqual(st.map((s) => s.code), [3, 3, 3, 6, 6, 3, 0]);
    const listed = (await client().session.listAll({})).map((s) => s.seid);
    assert.deepEqual(listed, ['1', '2', '16'], 'only the good session exists');
    assert.deepEqual((await dataplaneSessions()).filter((s) => s.startsWith('session')).map((s) => s.split(' ')[1]).sort(),
      ['1', '16', '2']);
    const del = await client().session.write({ updates: [{ op: 'SESSION_OP_DELETE', session: { seid: '16' } }] });
    assert.equal(del.applied, 1);
  });

  it('CLI: session list / show with the counters, upf stats, session del of a missing SEID fails', async () => {
    const list = await cli('session', 'list');
    assert.match(list, /^session 1$/m);
    assert.match(list, /pdr 3 prec 10 access teid 100 @ 10\.10\.0\.1 qfi 5 -> far 3/);
    const show = await cli('session', 'show', '1');
    assert.match(show, /urr 1 ul \d+ pkts \d+ bytes, dl \d+ pkts \d+ bytes/);
    const stats = await cli('upf', 'stats');
    assert.match(stats, /^sessions 2\/4096/m);
    assert.match(stats, /drop gtpu_unknown_teid\s+[1-9]/);
    await assert.rejects(cli('session', 'del', '999'), /no session 999/);
  });

  it('sessions survive a serve restart, and a respawned dataplane is reprogrammed', async () => {
    const listedBefore = (await client().session.listAll({})).map((s) => JSON.stringify({ ...s, urrs: s.urrs.map((u) => u.id) }));
    const programmed = await dataplaneSessions();
    assert.equal(programmed.length, 3, programmed.join('\n'));
    const counted = await urr1();
    assert.ok(BigInt(counted.ulPackets) > 0n);
    // serve killed -9 and started again: same dataplane, same sessions, and reconcile
    // found them in place (the URR counters were not reset by a delete and re-create)
    await rig!.serve.kill9();
    await rig!.serve.start();
    const listed = (await client().session.listAll({})).map((s) => JSON.stringify({ ...s, urrs: s.urrs.map((u) => u.id) }));
    assert.deepEqual(listed, listedBefore);
    assert.deepEqual(await dataplaneSessions(), programmed);
    assert.deepEqual(await urr1(), counted, 'usage kept across the serve restart');
    // the dataplane killed too: the next serve spawns one and pushes the sessions and the config again
    const old = await client().dataplane.getDataplane({});
    await rig!.serve.kill9();
    process.kill(old.pid, 'SIGKILL');
    await waitFor('old dataplane to exit', () => !isAlive(old.pid), 5000);
    await rig!.serve.start();
    const dp = await client().dataplane.getDataplane({});
    rig!.pids.add(dp.pid);
    assert.notEqual(dp.pid, old.pid);
    assert.deepEqual(await dataplaneSessions(), programmed);
    assert.equal((await client().upf.getConfig({})).n3Address, N3);
    await waitFor('uplink and downlink on the new dataplane', async () => {
      const a = await both([ul('r-ul', 100, 9)], 0, 1);
      const b = await both([dl('r-dl', UE1)], 1, 1);
      return tagged(a.captured, 'r-ul', w(1).host).length === 1 && tagged(b.captured, 'r-dl', w(0).host).length === 1;
    }, 15000, 500);
  });

  describe('cleanup', () => {
    it('leaves no process, interface, socket, stats or hugepage file behind', () => {
      const r = rig!;
      rig = undefined;
      stopRigAndCheckClean(r);
    });
  });
});
