/**
 * serve's Prometheus /metrics on a fake dataplane: on by default, its own
 * address per server (port 0), off with enabled: false or listen: '', not
 * fatal when its address is taken; the exposition parses with a strict
 * text-format parser and says what GetStats says. The same comparison
 * against the real dataplane after real packets is in
 * integration/observability.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { DEFAULT_METRICS_LISTEN, parseConfig } from '../../src/config/schema';
import { ROOT } from '../helpers/env';
import { parsePrometheusText, sampleValue } from '../helpers/promtext';
import { baseConfig, type Harness, startHarness } from './helpers';

/** GET http://address/path: status and body. */
export function httpGet(address: string, p = '/metrics'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.get(`http://${address}${p}`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    }).on('error', reject);
  });
}

describe('Prometheus /metrics', function () {
  this.timeout(20000);
  let h: Harness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('is on by default on loopback', () => {
    const c = parseConfig(baseConfig());
    assert.deepEqual(c.metrics, { enabled: true, listen: DEFAULT_METRICS_LISTEN });
    assert.match(DEFAULT_METRICS_LISTEN, /^127\.0\.0\.1:\d+$/);
    assert.equal(parseConfig(baseConfig({ metrics: { listen: '' } })).metrics.listen, '');
    assert.throws(() => parseConfig(baseConfig({ metrics: { listen: 'nowhere' } })), /metrics\.listen/);
    assert.throws(() => parseConfig(baseConfig({ metrics: { port: 1 } } as never)), /metrics: unknown field port/);
  });

  it('parses strictly and matches GetStats', async () => {
    h = await startHarness();
    h.world.rxPackets = 1234n;
    h.world.busyCycles = 99n;
    const addr = h.server.metricsAddress;
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.equal((await h.client.dataplane.getDataplane({})).metricsAddress, addr);
    const r = await httpGet(addr);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheusText(r.body);
    const stats = await h.client.stats.getStats({});
    for (const p of stats.ports) {
      const l = { port: p.name };
      assert.equal(sampleValue(fams, 'linerate_port_rx_packets_total', l), Number(p.rx!.packets));
      assert.equal(sampleValue(fams, 'linerate_port_rx_bytes_total', l), Number(p.rx!.bytes));
      assert.equal(sampleValue(fams, 'linerate_port_tx_packets_total', l), Number(p.tx!.packets));
      assert.equal(sampleValue(fams, 'linerate_port_forwarded_packets_total', l), Number(p.forwarded));
      assert.equal(sampleValue(fams, 'linerate_port_device_rx_packets_total', l), Number(p.device!.ipackets));
      assert.equal(sampleValue(fams, 'linerate_port_link_up', l), 1);
      assert.equal(sampleValue(fams, 'linerate_port_link_speed_bits_per_second', l), 10e9);
      assert.equal(sampleValue(fams, 'linerate_rxq_rx_packets_total', { ...l, queue: '0', worker: '0' }), Number(p.rx!.packets));
      assert.equal(sampleValue(fams, 'linerate_txq_tx_packets_total', { ...l, queue: '0' }), Number(p.tx!.packets));
    }
    assert.equal(sampleValue(fams, 'linerate_worker_busy_cycles_total', { worker: '0', lcore: '1' }), 99);
    // The load series per worker and per queue exist (gauges; their values under traffic: integration/queue.test.ts).
    assert.equal(sampleValue(fams, 'linerate_worker_rx_queues', { worker: '0', lcore: '1' }), stats.workers[0].rxQueues);
    for (const g of ['linerate_worker_tx_packets_per_second', 'linerate_rxq_busy_ratio', 'linerate_rxq_rx_bits_per_second']) {
      assert.equal(fams.get(g)?.type, 'gauge', g);
    }
    assert.ok(sampleValue(fams, 'linerate_rxq_busy_ratio', { port: 'p0', queue: '0', worker: '0' }) !== undefined);
    assert.equal(sampleValue(fams, 'linerate_mbufs_in_use'), 1024);
    assert.equal(sampleValue(fams, 'linerate_mbufs_capacity'), 8192);
    assert.equal(sampleValue(fams, 'linerate_dataplane_attached'), 1);
    assert.equal(sampleValue(fams, 'linerate_slow_path_events_total', { counter: 'punt_rx' }), 0);
    assert.equal(fams.get('linerate_port_rx_packets_total')?.type, 'counter');
    assert.equal(fams.get('linerate_port_rx_packets_per_second')?.type, 'gauge');
    assert.ok(sampleValue(fams, 'linerate_control_process_cpu_seconds_total') !== undefined, 'process metrics of serve');
    assert.equal((await httpGet(addr, '/')).status, 404);
  });

  it('is off with enabled: false or listen: ""', async () => {
    h = await startHarness({ metrics: { enabled: false } });
    assert.equal(h.server.metricsAddress, '');
    assert.equal((await h.client.dataplane.getDataplane({})).metricsAddress, '');
  });

  it('serve runs without it when its address is taken', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      // startHarness passes metricsListen 127.0.0.1:0; the config's address is used when that is absent.
      h = await startHarness({ metrics: { listen: `127.0.0.1:${port}` } }, undefined, undefined, { server: { metricsListen: undefined } });
      assert.equal(h.server.metricsAddress, '');
      assert.equal((await h.client.dataplane.getDataplane({})).attached, true);
    } finally {
      busy.close();
    }
  });
});

describe('Grafana dashboard (control/grafana/linerate.json)', () => {
  it('queries only series that /metrics exports', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dash = require(path.join(ROOT, 'control', 'grafana', 'linerate.json')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const h = await startHarness();
    try {
      const fams = parsePrometheusText((await httpGet(h.server.metricsAddress)).body);
      // Declared families: a drop reason's series appears once it counts something.
      const names = new Set([...fams.keys(), ...[...fams.values()].flatMap((f) => f.samples.map((s) => s.name))]);
      let n = 0;
      for (const p of dash.panels) {
        for (const t of p.targets) {
          for (const m of t.expr.match(/\blinerate_[a-z_]+/g) ?? []) {
            assert.ok(names.has(m), `panel "${p.title}" queries ${m}, which /metrics does not export`);
            n++;
          }
        }
      }
      assert.ok(n >= 20, `only ${n} series references`);
    } finally {
      await h.close();
    }
  });
});
