/**
 * Optional Prometheus endpoint (prom-client): GET /metrics on
 * config.metrics.listen. Values are read from the latest stats sample at
 * scrape time; counters are exported as counters, rates are left to PromQL.
 */
import * as http from 'node:http';
import * as client from 'prom-client';
import type { Controller } from './controller';
import type { Supervisor } from './dataplane/supervisor';

export function startMetrics(listen: string, ctl: Controller, sup: Supervisor): Promise<http.Server> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'linerate_control_' });
  const portLabels = ['port'];
  const rxPackets = new client.Counter({ name: 'linerate_port_rx_packets_total', help: 'Packets received by the workers', labelNames: portLabels, registers: [registry] });
  const txPackets = new client.Counter({ name: 'linerate_port_tx_packets_total', help: 'Packets sent', labelNames: portLabels, registers: [registry] });
  const rxBytes = new client.Counter({ name: 'linerate_port_rx_bytes_total', help: 'Bytes received', labelNames: portLabels, registers: [registry] });
  const txBytes = new client.Counter({ name: 'linerate_port_tx_bytes_total', help: 'Bytes sent', labelNames: portLabels, registers: [registry] });
  const drops = new client.Counter({ name: 'linerate_port_drops_total', help: 'Received packets dropped, by reason', labelNames: ['port', 'reason'], registers: [registry] });
  const workerBusy = new client.Counter({ name: 'linerate_worker_busy_cycles_total', help: 'TSC cycles in busy polls', labelNames: ['worker'], registers: [registry] });
  const workerRx = new client.Counter({ name: 'linerate_worker_rx_packets_total', help: 'Packets received by the worker', labelNames: ['worker'], registers: [registry] });
  const attached = new client.Gauge({ name: 'linerate_dataplane_attached', help: '1 while attached to a healthy dataplane', registers: [registry] });
  const tableSize = new client.Gauge({ name: 'linerate_desired_entries', help: 'Entries in the desired state', labelNames: ['table'], registers: [registry] });

  const collect = (): void => {
    attached.set(sup.isHealthy ? 1 : 0);
    for (const [table, n] of Object.entries(ctl.state.size)) tableSize.set({ table }, n);
    const s = ctl.snapshot();
    for (const m of [rxPackets, txPackets, rxBytes, txBytes, drops, workerBusy, workerRx]) m.reset();
    if (!s) return;
    for (const p of s.ports) {
      let rp = 0n, rb = 0n, tp = 0n, tb = 0n;
      const d: Record<string, bigint> = {};
      for (const q of p.rxq) {
        rp += q.rxPackets; rb += q.rxBytes;
        for (const [k, v] of Object.entries(q.drops)) d[k] = (d[k] ?? 0n) + v;
      }
      for (const q of p.txq) { tp += q.txPackets; tb += q.txBytes; }
      rxPackets.inc({ port: p.name }, Number(rp));
      rxBytes.inc({ port: p.name }, Number(rb));
      txPackets.inc({ port: p.name }, Number(tp));
      txBytes.inc({ port: p.name }, Number(tb));
      for (const [k, v] of Object.entries(d)) if (v) drops.inc({ port: p.name, reason: k }, Number(v));
    }
    s.workers.forEach((w, i) => {
      workerBusy.inc({ worker: String(i) }, Number(w.busyCycles));
      workerRx.inc({ worker: String(i) }, Number(w.rxPackets));
    });
  };

  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    collect();
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  });
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(i + 1)), host, () => resolve(server));
  });
}
