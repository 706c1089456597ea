/**
 * Control-plane policing of the real linerate-dp (issue 15): an ARP flood
 * at the forwarder's own address, beside a forwarded stream on the same
 * port, is cut to the port's ARP rate (router.puntRates.arp) before it
 * takes punt-ring slots; the stream loses nothing, and every flooded
 * request is accounted for: answered, or dropped as policed_arp.
 *
 *   w0.host (tests) ── veth ── p0 (10.3.0.1/24)   stream + flood in
 *   w1.host (tests) ── veth ── p1 (10.3.1.1/24)   stream out, via 10.3.1.2
 */
import * as assert from 'node:assert/strict';
import { dropCount, dumpOnFailure, requireIntegration, startRig, stopRig, type Rig } from '../helpers/fixture';
import { waitFor } from '../helpers/env';
import * as pkt from '../helpers/pkt';
import type { PacketSpec } from '../helpers/pkt';

const ARP_RATE = 50;  // per second on p0: the bucket holds max(32, rate / 10)
const FLOOD = 3000;

describe('integration: control-plane policing', function () {
  this.timeout(180000);
  let rig: Rig | undefined;
  let p0Mac = '';
  const client = () => rig!.client();
  const w = (i: number) => rig!.wires[i];
  const slow = async (k: string): Promise<bigint> => BigInt((await client().stats.getStats({})).slowPath[k] ?? '0');

  before(async function () {
    requireIntegration(this);
    rig = await startRig('police', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: ['10.3.0.1/24'] },
        { name: 'p1', device: wires[1].device(1), addresses: ['10.3.1.1/24'] },
      ],
      extraConfig: { router: { puntRates: { arp: ARP_RATE } } },
    }));
    p0Mac = (await client().port.listPorts({})).ports.find((p) => p.name === 'p0')!.mac;
    await client().neighbor.addNeighbors({ neighbors: [{ port: 'p1', address: '10.3.1.2', mac: '02:00:5e:00:03:12' }] });
    await client().route.addRoutes({ routes: [{ prefix: '198.51.100.0/24', nextHops: [{ port: 'p1', via: '10.3.1.2' }] }] });
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => stopRig(rig));

  it(`cuts an ARP flood to ${ARP_RATE}/s, counted as policed_arp, while the stream beside it loses nothing`, async () => {
    const req0 = await slow('arp_request_rx');
    const pol0 = await dropCount(client(), 'p0', 'policed_arp');
    const full0 = await dropCount(client(), 'p0', 'punt_full');
    const spec: PacketSpec = { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: '10.3.0.2', dst: '198.51.100.7', ttl: 64, tag: 'beside' };
    const streaming = pkt.stream({ send: w(0).host, sniff: [w(1).host], packets: [spec], durationS: 4, pps: 200 });
    await streaming.started;
    const flood: PacketSpec[] = Array.from({ length: FLOOD }, (_, i) => ({
      kind: 'arp_request', src_mac: `02:68:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      dst_mac: 'ff:ff:ff:ff:ff:ff', psrc: `10.3.0.${(i % 200) + 20}`, pdst: '10.3.0.1',
    }));
    const t0 = Date.now();
    await pkt.exchange({ send: w(0).host, sniff: [w(1).host], packets: flood, timeout: 0.2, gapMs: 0 });
    const floodS = (Date.now() - t0) / 1000;
    const r = await streaming.done;

    const got = new Set(r.captured.map((c) => c.tag));
    const lost = r.sent.filter((s) => !got.has(s.tag));
    assert.ok(r.sent.length > 400, `stream too thin: ${r.sent.length}`);
    assert.equal(lost.length, 0, `${lost.length} of ${r.sent.length} forwarded packets lost beside the flood`);

    // Every flooded request reached the slow path or was policed (or, never expected here, found the ring full).
    const policed = await waitFor('the flood accounted for', async () => {
      const p = (await dropCount(client(), 'p0', 'policed_arp')) - pol0;
      const q = (await slow('arp_request_rx')) - req0;
      const f = (await dropCount(client(), 'p0', 'punt_full')) - full0;
      return p + q + f >= BigInt(FLOOD) ? p : undefined;
    }, 10000);
    const answered = (await slow('arp_request_rx')) - req0;
    assert.equal(policed + answered + (await dropCount(client(), 'p0', 'punt_full')) - full0, BigInt(FLOOD));
    // At most the bucket plus the rate over the flood's duration got through.
    const allowed = BigInt(Math.ceil(Math.max(32, ARP_RATE / 10) + ARP_RATE * (floodS + 1)));
    assert.ok(answered <= allowed, `${answered} ARP requests reached the slow path, more than ${allowed}`);
    assert.ok(policed >= BigInt(FLOOD) - allowed, `only ${policed} policed`);
    console.log(`      flood of ${FLOOD} ARP requests in ${floodS.toFixed(2)} s: ${answered} answered, ${policed} policed; ` +
      `stream beside it: ${r.sent.length} sent, ${lost.length} lost`);
  });
});
