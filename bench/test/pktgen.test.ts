// SPDX-License-Identifier: BSD-3-Clause
// Correctness of linerate-pktgen itself (not a benchmark): the packets it
// builds, checked field by field by an independent decoder (scapy), and
// its receive-side accounting, on real DPDK vdevs: pcap files, a memif
// loop inside one pktgen process, and a replayed pcap that this test
// mangles (drops, swaps, duplicates) so that the expected counts follow
// from what was done to it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { PktgenResult, pktgenBinary, repoRoot, runPktgen } from '../lib/pktgen';

const PYTHON = '/usr/bin/python3'; // Debian's, the one with scapy
const TOOL = path.join(repoRoot, 'bench/test/pcap_tool.py');
const MAGIC = 0x4b50524c;

interface Stamp { magic: number; flow: number; seq: number; tsc: number; ok: boolean; rest_zero: boolean }
interface Layer { kind: 'ipv4' | 'ipv6' | 'udp' | 'gtpu'; [field: string]: unknown }
interface Frame {
  len: number;
  eth?: { src: string; dst: string; type: number };
  layers: Layer[];
  stamp: Stamp | null;
}

let tmp = '';

function decode(pcap: string): Frame[] {
  return JSON.parse(execFileSync(PYTHON, [TOOL, 'decode', pcap], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Frame[];
}

/** base + i, for IPv4 and IPv6 text addresses */
function addrPlus(base: string, i: number): string {
  const bytes = ipaddr.parse(base).toByteArray();
  let carry = i;
  for (let k = bytes.length - 1; k >= 0 && carry > 0; k--) {
    const v = bytes[k] + carry;
    bytes[k] = v & 0xff;
    carry = Math.floor(v / 256);
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function normalize(addr: string): string {
  return ipaddr.parse(addr).toString();
}

/** Generates `count` packets into a pcap and decodes them. */
async function generate(name: string, args: string[]): Promise<{ frames: Frame[]; result: PktgenResult }> {
  const pcap = path.join(tmp, `${name}.pcap`);
  const { result } = await runPktgen({ tag: 'pcap', args: ['--tx-port', `net_pcap_${name},tx_pcap=${pcap}`, ...args] });
  return { frames: decode(pcap), result };
}

/** Header consistency any frame must have, whatever the mode. */
function checkConsistent(f: Frame, where: string): void {
  for (const l of f.layers) {
    const at = `${where} ${l.kind}`;
    switch (l.kind) {
      case 'ipv4':
        assert.equal(l.version, 4, at);
        assert.equal(l.ihl, 5, at);
        assert.equal(l.ttl, 64, at);
        assert.equal(l.proto, 17, at);
        assert.equal(l.len, l.actual_len, `${at}: total length`);
        assert.equal(l.chksum_ok, true, `${at}: header checksum`);
        break;
      case 'ipv6':
        assert.equal(l.version, 6, at);
        assert.equal(l.hlim, 64, at);
        assert.equal(l.nh, 17, at);
        assert.equal(l.plen, l.actual_plen, `${at}: payload length`);
        break;
      case 'udp':
        assert.equal(l.len, l.actual_len, `${at}: length`);
        assert.notEqual(l.chksum_ok, false, `${at}: checksum`);
        break;
      case 'gtpu':
        assert.equal(l.version, 1, at);
        assert.equal(l.pt, 1, at);
        assert.equal(l.type, 255, `${at}: G-PDU`);
        assert.equal(l.length, l.actual_length, `${at}: length`);
        break;
    }
  }
  // a checksum is mandatory for UDP over IPv6 (RFC 8200)
  f.layers.forEach((l, i) => {
    if (l.kind === 'udp' && f.layers[i - 1]?.kind === 'ipv6') assert.equal(l.chksum_ok, true, `${where}: IPv6 UDP checksum`);
  });
  assert.ok(f.stamp, `${where}: no stamp`);
  assert.equal(f.stamp.magic, MAGIC, `${where}: magic`);
  assert.equal(f.stamp.rest_zero, true, `${where}: payload after the stamp is not zero`);
}

/** Flows go round robin, each with its own sequence from 0. */
function checkRoundRobin(frames: Frame[], flows: number): void {
  frames.forEach((f, k) => {
    assert.equal(f.stamp?.flow, k % flows, `frame ${k}: flow`);
    assert.equal(f.stamp?.seq, Math.floor(k / flows), `frame ${k}: seq`);
  });
}

function memifLoop(name: string, devargs = ''): string[] {
  const sock = path.join(tmp, `${name}.sock`);
  const common = `socket=${sock},socket-abstract=no${devargs}`;
  return ['--tx-port', `net_memif_${name}s,role=server,${common}`, '--rx-port', `net_memif_${name}c,role=client,${common}`];
}

/** Latency figures are present and ordered. */
function checkLatency(r: PktgenResult): void {
  const l = r.latency_ns;
  assert.ok(l.samples > 0, 'no latency samples');
  assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
    `latency not ordered: ${JSON.stringify(l)}`);
  assert.ok(l.mean >= l.min && l.mean <= l.max, 'mean outside [min, max]');
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * expected,
    `${what}: ${actual} is not within ${tolerance * 100} % of ${expected}`);
}

describe('linerate-pktgen', function () {
  this.timeout(120_000);

  before(function () {
    assert.ok(existsSync(pktgenBinary()), `${pktgenBinary()} not built (npm run build)`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lrp-'));
  });
  after(function () {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('packet construction, decoded by scapy', function () {
    it('builds 64-byte IPv4/UDP frames, flows varying the addresses', async function () {
      const flows = 4;
      const { frames, result } = await generate('v4', [
        '--count', '64', '--flows', `${flows}`, '--src-mac', '02:00:00:00:00:01', '--dst-mac', '02:00:00:00:00:02',
      ]);
      assert.equal(result.tx.packets, 64);
      assert.equal(frames.length, 64);
      checkRoundRobin(frames, flows);
      frames.forEach((f, k) => {
        const flow = k % flows;
        checkConsistent(f, `frame ${k}`);
        assert.equal(f.len, 60, 'a 64-byte frame is 60 bytes before the FCS');
        assert.deepEqual(f.eth, { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', type: 0x0800 });
        assert.deepEqual(f.layers.map((l) => l.kind), ['ipv4', 'udp']);
        const [ip, udp] = f.layers;
        assert.equal(ip.src, addrPlus('10.0.0.1', flow));
        assert.equal(ip.dst, addrPlus('10.1.0.1', flow));
        assert.equal(udp.sport, 1024);
        assert.equal(udp.dport, 5001);
        assert.equal(udp.chksum, 0, 'IPv4 UDP carries no checksum');
      });
      assert.equal(result.tx.bytes, 64 * 60);
    });

    it('builds IPv6/UDP frames with a correct checksum, flows varying the ports', async function () {
      const flows = 3;
      const { frames } = await generate('v6', [
        '--count', '30', '--ipv6', '--size', '128', '--flows', `${flows}`, '--vary', 'sport,dport',
        '--src', '2001:db8:a::10', '--dst', '2001:db8:b::20', '--sport', '65534', '--dport', '7000',
      ]);
      assert.equal(frames.length, 30);
      checkRoundRobin(frames, flows);
      frames.forEach((f, k) => {
        const flow = k % flows;
        checkConsistent(f, `frame ${k}`);
        assert.equal(f.len, 124);
        assert.equal(f.eth?.type, 0x86dd);
        assert.deepEqual(f.layers.map((l) => l.kind), ['ipv6', 'udp']);
        const [ip, udp] = f.layers;
        assert.equal(ip.src, normalize('2001:db8:a::10'), 'addresses do not vary with --vary sport,dport');
        assert.equal(ip.dst, normalize('2001:db8:b::20'));
        assert.equal(udp.sport, (65534 + flow) % 65536, 'source port wraps');
        assert.equal(udp.dport, 7000 + flow);
        assert.notEqual(udp.chksum, 0);
      });
    });

    it('builds GTP-U (TEID per flow, PDU session container) around IPv4/UDP', async function () {
      const flows = 2;
      const teid = 0x1000;
      const { frames } = await generate('gtp4', [
        '--count', '20', '--gtpu', `${teid}`, '--qfi', '9', '--size', '128', '--flows', `${flows}`,
        '--outer-src', '172.16.0.1', '--outer-dst', '172.16.0.2',
      ]);
      assert.equal(frames.length, 20);
      checkRoundRobin(frames, flows);
      frames.forEach((f, k) => {
        const flow = k % flows;
        checkConsistent(f, `frame ${k}`);
        assert.equal(f.len, 124);
        assert.deepEqual(f.layers.map((l) => l.kind), ['ipv4', 'udp', 'gtpu', 'ipv4', 'udp']);
        const [outer, oudp, gtp, inner, iudp] = f.layers;
        assert.equal(outer.src, '172.16.0.1');
        assert.equal(outer.dst, '172.16.0.2');
        assert.equal(oudp.sport, 2152);
        assert.equal(oudp.dport, 2152);
        assert.equal(gtp.teid, teid + flow);
        assert.equal(gtp.e, 1, 'extension header flag');
        assert.deepEqual(gtp.ext, [{ type: 0x85, len: 1, pdu_type: 1, qfi: 9, next: 0 }]);
        assert.equal(inner.src, addrPlus('10.0.0.1', flow), 'UE address varies with the flow');
        assert.equal(inner.dst, '10.1.0.1');
        assert.equal(iudp.dport, 5001);
      });
    });

    it('builds GTP-U around IPv6/UDP without extension header', async function () {
      const { frames } = await generate('gtp6', ['--count', '8', '--gtpu', '7', '--ipv6', '--size', '200', '--flows', '2']);
      assert.equal(frames.length, 8);
      checkRoundRobin(frames, 2);
      frames.forEach((f, k) => {
        checkConsistent(f, `frame ${k}`);
        assert.equal(f.len, 196);
        assert.deepEqual(f.layers.map((l) => l.kind), ['ipv4', 'udp', 'gtpu', 'ipv6', 'udp']);
        assert.equal(f.layers[2].e, 0);
        assert.equal(f.layers[2].teid, 7 + (k % 2));
        assert.equal(f.layers[3].src, addrPlus('2001:db8::1', k % 2));
      });
    });

    it('sends IMIX 7:4:1 with every flow seeing every size', async function () {
      const flows = 5;
      const count = 12 * flows * 2; // two full rounds of the pattern per flow
      const { frames, result } = await generate('imix', ['--count', `${count}`, '--imix', '--flows', `${flows}`]);
      assert.equal(frames.length, count);
      checkRoundRobin(frames, flows);
      const bySize = new Map<number, number>();
      const perFlow = new Map<number, Set<number>>();
      frames.forEach((f, k) => {
        checkConsistent(f, `frame ${k}`);
        bySize.set(f.len, (bySize.get(f.len) ?? 0) + 1);
        const s = perFlow.get(k % flows) ?? new Set<number>();
        s.add(f.len);
        perFlow.set(k % flows, s);
      });
      // 64, 594 and 1518-byte frames, FCS not included in the capture
      assert.deepEqual([...bySize.entries()].sort((a, b) => a[0] - b[0]), [[60, (count * 7) / 12], [590, (count * 4) / 12], [1514, count / 12]]);
      for (const sizes of perFlow.values()) assert.equal(sizes.size, 3);
      near(result.config.mean_frame, (7 * 64 + 4 * 594 + 1518) / 12, 1e-9, 'mean frame');
      assert.equal(result.tx.bytes, frames.reduce((n, f) => n + f.len, 0));
    });

    it('refuses a frame size too small for the headers and the stamp', async function () {
      await assert.rejects(
        runPktgen({ tag: 'pcap', args: ['--tx-port', `net_pcap_small,tx_pcap=${path.join(tmp, 'small.pcap')}`, '--ipv6', '--size', '64', '--count', '1'] }),
        /below the minimum of 84/,
      );
    });
  });

  describe('through a memif loop in one process', function () {
    for (const mode of [
      { name: 'IPv4 64 B', args: [] as string[] },
      { name: 'IPv6 128 B', args: ['--ipv6', '--size', '128'] },
      { name: 'GTP-U 128 B', args: ['--gtpu', '100', '--qfi', '5', '--size', '128'] },
      { name: 'IMIX', args: ['--imix'] },
    ]) {
      it(`${mode.name}: closed loop at full speed loses, reorders and duplicates nothing`, async function () {
        const { result: r } = await runPktgen({
          tag: 'loop',
          args: [...memifLoop('cl'), '--retry', '--duration', '0.3', '--flows', '8', ...mode.args],
        });
        assert.ok(r.tx.packets > 10_000, `only ${r.tx.packets} packets sent`);
        assert.equal(r.tx.refused, 0, 'closed loop never drops');
        assert.equal(r.rx.foreign, 0);
        assert.equal(r.rx.matched, r.tx.packets);
        assert.equal(r.rx.unique, r.tx.packets);
        assert.equal(r.rx.span, r.tx.packets);
        assert.deepEqual([r.rx.duplicates, r.rx.reordered, r.rx.late], [0, 0, 0]);
        assert.deepEqual(r.loss, { basis: 'tx', sent: r.tx.packets, packets: 0, ratio: 0 });
        // no warm-up: every packet is a latency sample
        assert.equal(r.latency_ns.samples, r.rx.matched);
        checkLatency(r);
        // device counters agree with pktgen's own
        assert.equal(r.device.tx?.opackets, r.tx.packets);
        assert.equal(r.device.rx?.ipackets, r.rx.packets);
        assert.equal(r.device.rx?.ibytes, r.rx.bytes);
        near(r.device.rx?.steady_mpps ?? 0, r.rx.steady.mpps, 0.02, 'device vs pktgen rx Mpps');
      });
    }

    it('open loop: refused packets give their sequence numbers back', async function () {
      // a 64-slot memif ring and bursts of 256: most of every burst is refused
      const { result: r } = await runPktgen({
        tag: 'loop',
        args: [...memifLoop('ol', ',rsize=6'), '--burst', '256', '--duration', '0.2', '--flows', '3'],
      });
      assert.ok(r.tx.refused > 0, 'nothing was refused: the test did not exercise refusals');
      assert.equal(r.rx.unique, r.tx.packets);
      assert.equal(r.rx.span, r.tx.packets, 'holes in the sequence space');
      assert.equal(r.rx.reordered, 0);
      assert.equal(r.loss?.packets, 0);
    });

    it('paces to --rate-pct of --link-gbps with the TSC', async function () {
      const pct = 1;
      const gbps = 10;
      const expectPps = ((pct / 100) * gbps * 1e9) / ((64 + 20) * 8); // 20 B preamble + IFG
      const { result: r } = await runPktgen({
        tag: 'loop',
        args: [...memifLoop('pace'), '--rate-pct', `${pct}`, '--link-gbps', `${gbps}`, '--duration', '0.5'],
      });
      near(r.config.rate_pps ?? 0, expectPps, 1e-6, 'configured rate');
      // The schedule is absolute (a stall is caught up), so the packet count
      // is tight; the rate over the measured window moves with scheduling
      // noise on a shared 2-core machine, hence the wider band.
      near(r.tx.packets, expectPps * 0.5, 0.02, 'TX packets');
      near(r.tx.steady.pps, expectPps, 0.1, 'TX rate');
      near(r.rx.steady.pps, expectPps, 0.1, 'RX rate');
      assert.equal(r.loss?.packets, 0);
      checkLatency(r);
    });

    it('leaves the warm-up out of the steady rates and the latency', async function () {
      const pps = 100_000;
      const { result: r } = await runPktgen({
        tag: 'loop',
        args: [...memifLoop('warm'), '--rate-pps', `${pps}`, '--warmup', '0.2', '--duration', '0.3'],
      });
      near(r.tx.packets, pps * 0.5, 0.02, 'all packets');
      near(r.tx.steady.seconds, 0.3, 0.01, 'steady window');
      near(r.tx.steady.packets, pps * 0.3, 0.02, 'steady packets');
      near(r.rx.steady.packets, pps * 0.3, 0.05, 'steady packets received');
      near(r.latency_ns.samples, pps * 0.3, 0.05, 'latency samples (after warm-up only)');
      assert.equal(r.rx.unique, r.tx.packets, 'warm-up packets still count for loss');
    });

    it('prints progress lines while running', async function () {
      const { result: r, progress } = await runPktgen({
        tag: 'loop',
        args: [...memifLoop('prog'), '--rate-pps', '50000', '--duration', '0.55', '--progress', '100'],
      });
      assert.ok(progress.length >= 4, `${progress.length} progress lines`);
      for (let i = 1; i < progress.length; i++) {
        assert.ok(progress[i].t > progress[i - 1].t);
        assert.ok(progress[i].tx_packets >= progress[i - 1].tx_packets);
      }
      const first = progress[0];
      const last = progress[progress.length - 1];
      near((last.tx_packets - first.tx_packets) / (last.t - first.t), 50_000, 0.05, 'rate between progress lines');
      assert.ok(r.tx.packets >= progress[progress.length - 1].tx_packets);
    });

    it('splits TX and RX over two lcores', async function () {
      const count = 200_000;
      const { result: r } = await runPktgen({
        tag: 'loop',
        lcores: '0,1',
        args: [...memifLoop('split'), '--retry', '--count', `${count}`, '--flows', '16'],
      });
      assert.equal(r.config.lcores, 2);
      assert.equal(r.tx.packets, count);
      assert.equal(r.rx.unique, count);
      assert.equal(r.loss?.packets, 0);
      checkLatency(r);
    });
  });

  describe('receive accounting on a mangled replay', function () {
    it('counts loss, reordering, late packets, duplicates and foreign frames', async function () {
      const flows = 4;
      const perFlow = 100;
      const original = path.join(tmp, 'acct.pcap');
      const mangled = path.join(tmp, 'acct-mangled.pcap');
      await runPktgen({ tag: 'pcap', args: ['--tx-port', `net_pcap_acct,tx_pcap=${original}`, '--count', `${flows * perFlow}`, '--flows', `${flows}`] });
      const at = (flow: number, seq: number): number => seq * flows + flow; // round robin
      const ops = {
        drop: [at(0, 10), at(1, 20), at(1, 21), at(1, 22)],
        swap: [[at(2, 30), at(2, 31)]],
        // seq 5 arrives after seq 80 of its flow: beyond the 64-packet window
        move_after: [[at(0, 5), at(0, 80)]],
        dup: [at(3, 40)],
        bad_flow: [at(1, 50)],
        foreign: 2,
      };
      execFileSync(PYTHON, [TOOL, 'mangle', original, mangled, JSON.stringify(ops)]);

      const { result: r } = await runPktgen({
        tag: 'replay',
        args: ['--rx-port', `net_pcap_replay,rx_pcap=${mangled}`, '--flows', `${flows}`, '--duration', '0.3'],
      });
      const sent = flows * perFlow;
      const unique = sent - ops.drop.length - ops.bad_flow.length;
      assert.equal(r.rx.packets, sent - ops.drop.length + ops.dup.length + ops.foreign);
      assert.equal(r.rx.foreign, ops.foreign);
      assert.equal(r.rx.bad_flow, ops.bad_flow.length);
      assert.equal(r.rx.matched, unique + ops.dup.length);
      assert.equal(r.rx.unique, unique);
      assert.equal(r.rx.duplicates, ops.dup.length);
      assert.equal(r.rx.reordered, ops.swap.length + ops.move_after.length);
      assert.equal(r.rx.late, ops.move_after.length);
      // no sender in this process: loss comes from the sequence numbers
      assert.deepEqual(r.loss, {
        basis: 'sequence', sent, packets: ops.drop.length + ops.bad_flow.length,
        ratio: (ops.drop.length + ops.bad_flow.length) / sent,
      });
    });
  });
});
