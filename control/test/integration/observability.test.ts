/**
 * What an operator looks at, against the real linerate-dp on af_packet
 * vdevs run by the real `linerate serve`, after real packets (scapy):
 * Prometheus /metrics (strictly parsed, equal to `linerate stats --json`),
 * DPDK telemetry through Debian's dpdk-telemetry.py, the packet pool in
 * `linerate dataplane status`, the dataplane's log through `linerate
 * dataplane log` (and followed across a respawn), and gRPC health going
 * NOT_SERVING while the dataplane is gone.
 *
 *   w0.host (tests) ── veth ── p0 ┐
 *                                 linerate-dp
 *   w1.host (tests) ── veth ── p1 ┘
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { isAlive } from '../helpers/cleanup';
import { CLI, sleep, waitFor } from '../helpers/env';
import { dumpOnFailure, requireIntegration, startRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import * as pkt from '../helpers/pkt';
import type { PacketSpec } from '../helpers/pkt';
import { parsePrometheusText } from '../helpers/promtext';

const P0_V4 = '10.7.0.1';
const P1_V4 = '10.7.1.1';
const HOST0_V4 = '10.7.0.2';
const GW1_V4 = '10.7.1.2';
const GW1_MAC = '02:00:5e:00:07:11';
const FORWARDED = 20;
const BAD_CHECKSUM = 5;
const NO_ROUTE = 3;

/** Runs a program; resolves with stdout, rejects with its stderr. */
export function run(file: string, args: string[], input?: string, timeoutMs = 20000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    // A program that exits without reading stdin must not fail on EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

type Json = Record<string, unknown>;
const num = (v: unknown): number => Number(v ?? 0);
const key = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(',')}}`;

/**
 * The Prometheus series a Stats message (as `linerate stats --json` prints
 * it) must appear as: written from the proto's field names, independently
 * of control/src/metrics.ts. Left out: what moves without traffic (worker
 * polls, the control requests counter) and the rate gauges.
 */
function expectedSeries(s: Json): Map<string, number> {
  const out = new Map<string, number>();
  const put = (name: string, labels: Record<string, string>, v: unknown): void => { out.set(key(name, labels), num(v)); };
  for (const p of s.ports as Json[]) {
    const port = { port: String(p.name) };
    const rx = p.rx as Json;
    const tx = p.tx as Json;
    const dev = p.device as Json;
    put('linerate_port_rx_packets_total', port, rx.packets);
    put('linerate_port_rx_bytes_total', port, rx.bytes);
    put('linerate_port_tx_packets_total', port, tx.packets);
    put('linerate_port_tx_bytes_total', port, tx.bytes);
    put('linerate_port_forwarded_packets_total', port, p.forwarded);
    put('linerate_port_punted_packets_total', port, p.punts);
    put('linerate_port_dropped_packets_total', port, p.dropped);
    put('linerate_port_tx_dropped_packets_total', port, p.txDropped);
    for (const [reason, v] of Object.entries(p.drops as Json)) put('linerate_port_drops_total', { ...port, reason }, v);
    put('linerate_port_device_rx_packets_total', port, dev.ipackets);
    put('linerate_port_device_tx_packets_total', port, dev.opackets);
    put('linerate_port_device_rx_bytes_total', port, dev.ibytes);
    put('linerate_port_device_tx_bytes_total', port, dev.obytes);
    put('linerate_port_device_rx_missed_total', port, dev.imissed);
    put('linerate_port_device_rx_errors_total', port, dev.ierrors);
    put('linerate_port_device_tx_errors_total', port, dev.oerrors);
    put('linerate_port_device_rx_nombuf_total', port, dev.rxNombuf);
    put('linerate_port_link_up', port, p.linkUp ? 1 : 0);
    for (const q of p.rxQueues as Json[]) {
      const l = { ...port, queue: String(q.queue ?? 0), worker: String(q.worker) };
      put('linerate_rxq_rx_packets_total', l, (q.rx as Json).packets);
      put('linerate_rxq_rx_bytes_total', l, (q.rx as Json).bytes);
      put('linerate_rxq_forwarded_packets_total', l, q.forwarded);
      put('linerate_rxq_punted_packets_total', l, q.punts);
      for (const [reason, v] of Object.entries(q.drops as Json)) put('linerate_rxq_drops_total', { ...l, reason }, v);
    }
    for (const q of p.txQueues as Json[]) {
      const l = { ...port, queue: String(q.queue ?? 0) };
      put('linerate_txq_tx_packets_total', l, (q.tx as Json).packets);
      put('linerate_txq_tx_bytes_total', l, (q.tx as Json).bytes);
      put('linerate_txq_tx_dropped_packets_total', l, q.dropped);
    }
  }
  for (const w of s.workers as Json[]) {
    const l = { worker: String(w.worker ?? 0), lcore: String(w.lcore) };
    put('linerate_worker_rx_packets_total', l, (w.rx as Json).packets);
    put('linerate_worker_tx_packets_total', l, (w.tx as Json).packets);
    put('linerate_worker_dropped_packets_total', l, w.dropped);
    put('linerate_worker_busy_polls_total', l, w.busyPolls);
    put('linerate_worker_busy_cycles_total', l, w.busyCycles);
  }
  for (const [counter, v] of Object.entries(s.slowPath as Json)) {
    if (counter !== 'ctl_requests') put('linerate_slow_path_events_total', { counter }, v);
  }
  return out;
}

describe('integration: observability (metrics, telemetry, pool, health)', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  let p0Mac = '';
  const client = () => rig!.client();
  const cli = (...args: string[]) => run(process.execPath, [CLI, '--addr', `127.0.0.1:${rig!.serve.grpcPort}`, ...args]);
  const statsJson = async (): Promise<Json> => JSON.parse(await cli('stats', '--json')) as Json;

  before(async function () {
    requireIntegration(this);
    rig = await startRig('obs', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: [`${P0_V4}/24`] },
        { name: 'p1', device: wires[1].device(1), addresses: [`${P1_V4}/24`] },
      ],
      routes: [{ prefix: '198.51.100.0/24', via: GW1_V4, port: 'p1' }],
      neighbors: [{ address: GW1_V4, mac: GW1_MAC, port: 'p1' }],
    }));
    p0Mac = (await client().port.listPorts({})).ports.find((p) => p.name === 'p0')!.mac;
    const w0 = rig.wires[0];
    const base: PacketSpec = { kind: 'udp4', src_mac: w0.hostMac, dst_mac: p0Mac, src: HOST0_V4, dst: '198.51.100.7', ttl: 64 };
    const specs: PacketSpec[] = [
      ...Array.from({ length: FORWARDED }, (_, i) => ({ ...base, sport: 1000 + i, tag: `fwd-${i}` })),
      ...Array.from({ length: BAD_CHECKSUM }, (_, i) => ({ ...base, chksum: 0x1234 + i, tag: `bad-${i}` })),
      ...Array.from({ length: NO_ROUTE }, (_, i) => ({ ...base, dst: `203.0.113.${i + 1}`, tag: `noroute-${i}` })),
    ];
    const r = await pkt.exchange({ send: w0.host, sniff: [rig.wires[1].host], packets: specs, expect: FORWARDED, timeout: 3 });
    assert.equal(r.captured.filter((f) => f.decoded.tag?.startsWith('fwd-')).length, FORWARDED, 'forwarded frames out of p1');
    await waitFor('the drops to be counted', async () => {
      const s = await client().stats.getStats({});
      const d = s.ports.find((p) => p.name === 'p0')!.drops;
      return Number(d.bad_checksum ?? 0) === BAD_CHECKSUM && Number(d.no_route ?? 0) === NO_ROUTE;
    }, 10000, 200);
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  it('serves /metrics on its own loopback port, strictly parseable, equal to `linerate stats --json`', async () => {
    const status = await cli('dataplane', 'status');
    const url = `http://127.0.0.1:${rig!.serve.metricsPort}/metrics`;
    assert.match(status, new RegExp(`metrics: ${url.replace(/[.]/g, '\\.')}`));
    // A frame from the kernel (IPv6 DAD, MLD) may arrive between two reads: compare
    // a scrape taken between two identical `stats --json`.
    let compared = false;
    for (let attempt = 0; attempt < 10 && !compared; attempt++) {
      const before = expectedSeries(await statsJson());
      const fams = parsePrometheusText(await httpGet(url));
      const after = expectedSeries(await statsJson());
      if (JSON.stringify([...before]) !== JSON.stringify([...after])) {
        await sleep(300);
        continue;
      }
      const got = new Map<string, number>();
      for (const f of fams.values()) for (const s of f.samples) got.set(key(s.name, s.labels), s.value);
      for (const [k, v] of before) assert.equal(got.get(k), v, `${k}: /metrics says ${got.get(k)}, stats --json ${v}`);
      // Every drop reason /metrics reports, stats reports too (no extra series).
      for (const k of got.keys()) if (k.startsWith('linerate_port_drops_total{')) assert.ok(before.has(k), `unexpected ${k}`);
      assert.equal(got.get(key('linerate_port_drops_total', { port: 'p0', reason: 'bad_checksum' })), BAD_CHECKSUM);
      assert.equal(got.get(key('linerate_port_drops_total', { port: 'p0', reason: 'no_route' })), NO_ROUTE);
      assert.ok((got.get(key('linerate_port_tx_packets_total', { port: 'p1' })) ?? 0) >= FORWARDED);
      assert.equal(got.get('linerate_dataplane_attached{}'), 1);
      for (const g of ['linerate_port_rx_packets_per_second', 'linerate_worker_busy_ratio', 'linerate_mbufs_in_use']) {
        assert.equal(fams.get(g)?.type, 'gauge', `${g} is a gauge`);
      }
      compared = true;
    }
    assert.ok(compared, 'the counters never held still between two stats --json');
  });

  it('shows the packet pool in use vs its size in `linerate dataplane status`', async () => {
    const out = await cli('dataplane', 'status');
    const m = /mbufs: (\d+) in use of (\d+) \(([\d.]+) %\)/.exec(out);
    assert.ok(m, `no mbufs line in:\n${out}`);
    const [used, size] = [Number(m[1]), Number(m[2])];
    // af_packet copies frames into mbufs at rx: an idle forwarder holds next to none.
    assert.ok(size >= 1024 && used <= size, `mbufs ${used}/${size}`);
    const d = JSON.parse(await cli('dataplane', 'status', '--json')) as Json;
    assert.equal(num(d.mbufsSize), size);
    assert.ok(num(d.mbufsInUse) <= size);
    const s = await client().stats.getStats({});
    assert.ok(Number(s.ports[0].device!.rxNombuf) === 0, 'no allocation failure: the pool is not exhausted');
  });

  it('answers dpdk-telemetry.py: /ethdev/stats,0 and linerate\'s own commands', async () => {
    const prefix = rig!.serve.filePrefix;
    const ports = (await client().port.listPorts({})).ports;
    const p0 = ports.find((p) => p.name === 'p0')!;
    const out = await run('/usr/bin/dpdk-telemetry.py', ['-f', prefix],
      ['/ethdev/stats,' + p0.dpdkPortId, '/linerate/ports', '/linerate/port,p0', '/linerate/drops,p0', '/linerate/info',
        '/linerate/worker,0', '/linerate/port,nosuch'].join('\n') + '\n');
    const replies = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
    assert.equal(replies.length, 7, out);
    const [eth, list, port, drops, info, worker, bad] = replies;
    const s = await client().stats.getStats({});
    const sp0 = s.ports.find((p) => p.name === 'p0')!;
    const ethStats = eth['/ethdev/stats'] as Json;
    assert.ok(num(ethStats.ipackets) >= FORWARDED + BAD_CHECKSUM + NO_ROUTE, `ethdev ipackets ${String(ethStats.ipackets)}`);
    assert.deepEqual(list['/linerate/ports'], ['p0', 'p1']);
    const lp = port['/linerate/port'] as Json;
    assert.equal(lp.name, 'p0');
    assert.ok(num(lp.rx_packets) >= FORWARDED + BAD_CHECKSUM + NO_ROUTE);
    assert.ok(Math.abs(num(lp.rx_packets) - Number(sp0.rx!.packets)) <= 2, 'telemetry and GetStats read the same counters');
    const ld = drops['/linerate/drops'] as Json;
    assert.equal(num(ld.bad_checksum), BAD_CHECKSUM);
    assert.equal(num(ld.no_route), NO_ROUTE);
    const li = info['/linerate/info'] as Json;
    // 64-bit: JSON.parse rounds it; read the digits.
    assert.equal(/"boot_id": (\d+)/.exec(out)?.[1], BigInt(s.bootId).toString());
    assert.ok(num(li.mbufs_size) > 0);
    assert.equal(num((worker['/linerate/worker'] as Json).lcore), s.workers[0].lcore);
    assert.equal(bad['/linerate/port'], null, 'an unknown port is refused, not a crash');
  });

  it('shows the dataplane\'s own log through `linerate dataplane log`', async () => {
    const out = await cli('dataplane', 'log', '-n', '50');
    assert.match(out, new RegExp(`LINERATE: ${rig!.serve.opts.name} ready: 2 port\\(s\\), 1 worker\\(s\\)`));
    assert.match(out, /^=== \d{4}-\d\d-\d\dT\S+ \S*linerate-dp /m, 'the spawn header serve writes');
    assert.equal((await cli('dataplane', 'log', '-n', '1')).trimEnd().split('\n').length, 1);
  });

  it('reports NOT_SERVING while the dataplane is gone, SERVING once respawned (the log follows it)', async () => {
    const old = await client().dataplane.getDataplane({});
    // Follow the log across the respawn: the new dataplane's "ready" line arrives on the stream.
    const follow = client().dataplane.getDataplaneLog({ lines: 1, follow: true });
    const followed: string[] = [];
    follow.on('data', (m: { lines: string[] }) => followed.push(...m.lines));
    follow.on('error', () => undefined);
    await sleep(500);
    process.kill(old.pid, 'SIGKILL');
    await waitFor('old dataplane to exit', () => !isAlive(old.pid), 5000);
    await waitFor('health NOT_SERVING', async () => (await client().healthCheck('', { deadlineMs: 1000 })) === 'NOT_SERVING', 10000, 20);
    assert.equal(await client().healthCheck('linerate.v1.RouteService', { deadlineMs: 1000 }), 'NOT_SERVING');
    await waitFor('health SERVING again', async () => (await client().healthCheck('', { deadlineMs: 1000 })) === 'SERVING', 60000, 200);
    const now = await client().dataplane.getDataplane({});
    assert.notEqual(now.pid, old.pid);
    rig!.pids.add(now.pid);
    await waitFor('the respawned dataplane\'s ready line on the followed log', () => followed.some((l) => / ready: 2 port/.test(l)), 10000);
    assert.ok(followed.some((l) => l.startsWith('=== ')), `spawn header in ${JSON.stringify(followed)}`);
    follow.cancel();
  });

  describe('cleanup', () => {
    it('leaves no process, interface, socket, stats or hugepage file behind', () => {
      const r = rig;
      rig = undefined;
      stopRigAndCheckClean(r!);
    });
  });
});
