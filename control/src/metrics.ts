/**
 * Prometheus endpoint of `linerate serve` (prom-client): GET /metrics on
 * config.metrics.listen, on by default on loopback (DEFAULT_METRICS_LISTEN,
 * 127.0.0.1:9464). Owned
 * by serve; written at scrape time from a fresh snapshot of the dataplane's
 * stats memory turned into the same Stats message GetStats returns
 * (stats/rates.ts buildStats), so that /metrics and `linerate stats --json`
 * always say the same thing under the same names:
 *
 *   linerate_port_*_total{port}                  port sums (Stats.ports[])
 *   linerate_port_drops_total{port,reason}       drops by reason (LR_DROP_REASONS names)
 *   linerate_port_device_*_total{port}           rte_eth_stats (Stats.ports[].device)
 *   linerate_rxq_*_total{port,queue,worker}      RX queues, linerate_rxq_drops_total{...,reason}
 *   linerate_txq_*_total{port,queue}             TX queues (TX queue i = worker i)
 *   linerate_worker_*_total{worker,lcore}        worker lcores: busy ratio, cycles/packet, rx/tx pps, RX queues polled
 *   linerate_rxq_busy_ratio{port,queue,worker}   a queue's estimated share of its worker (stats/rates.ts queueUsage)
 *   linerate_slow_path_events_total{counter}     LR_SLOW_COUNTERS names
 *   linerate_*_per_second, *_ratio, *_cycles_per_packet   gauges over the sampling period
 *   linerate_mbufs_in_use / linerate_mbufs_capacity   packet buffer pool
 *
 * Counters are exported as counters (PromQL rate() is the usual way); the
 * rate gauges are the dataplane's own view over the last ~1 s, the same
 * numbers `linerate stats` prints.
 */
import * as http from 'node:http';
import * as client from 'prom-client';
import type { Controller } from './controller';
import type { Supervisor } from './dataplane/supervisor';
import { buildStats, queueUsage } from './stats/rates';

type Labels = Record<string, string>;

/** A metric whose samples are set afresh at each scrape. */
interface Family { reset(): void; set(labels: Labels, v: number): void }

function counter(reg: client.Registry, name: string, help: string, labelNames: string[]): Family {
  const c = new client.Counter({ name, help, labelNames, registers: [reg] });
  return { reset: () => c.reset(), set: (l, v) => c.inc(l, v) };
}

function gauge(reg: client.Registry, name: string, help: string, labelNames: string[]): Family {
  const g = new client.Gauge({ name, help, labelNames, registers: [reg] });
  return { reset: () => g.reset(), set: (l, v) => g.set(l, v) };
}

/** The registry and its collect(): exported for tests (no HTTP needed). */
export function metricsRegistry(ctl: Controller, sup: Supervisor): { registry: client.Registry; collect: () => void } {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'linerate_control_' });
  const P = ['port'];
  const Q = ['port', 'queue', 'worker'];
  const T = ['port', 'queue'];
  const W = ['worker', 'lcore'];
  const c = (n: string, h: string, l: string[]) => counter(registry, n, h, l);
  const g = (n: string, h: string, l: string[]) => gauge(registry, n, h, l);
  const m = {
    portRxPackets: c('linerate_port_rx_packets_total', 'Packets received by the workers', P),
    portRxBytes: c('linerate_port_rx_bytes_total', 'Bytes received by the workers (frames without FCS)', P),
    portTxPackets: c('linerate_port_tx_packets_total', 'Packets sent', P),
    portTxBytes: c('linerate_port_tx_bytes_total', 'Bytes sent', P),
    portForwarded: c('linerate_port_forwarded_packets_total', 'Packets received and handed to a TX queue', P),
    portPunts: c('linerate_port_punted_packets_total', 'Packets received and handed to the slow path', P),
    portDropped: c('linerate_port_dropped_packets_total', 'Packets received and dropped, all reasons', P),
    portDrops: c('linerate_port_drops_total', 'Packets received and dropped, by reason', ['port', 'reason']),
    portTxDropped: c('linerate_port_tx_dropped_packets_total', 'Packets refused by the device on transmit', P),
    devIpackets: c('linerate_port_device_rx_packets_total', 'Packets received by the device (rte_eth_stats ipackets)', P),
    devOpackets: c('linerate_port_device_tx_packets_total', 'Packets sent by the device (opackets)', P),
    devIbytes: c('linerate_port_device_rx_bytes_total', 'Bytes received by the device (ibytes)', P),
    devObytes: c('linerate_port_device_tx_bytes_total', 'Bytes sent by the device (obytes)', P),
    devImissed: c('linerate_port_device_rx_missed_total', 'Packets dropped by the device for lack of an RX descriptor (imissed)', P),
    devIerrors: c('linerate_port_device_rx_errors_total', 'Erroneous received packets (ierrors)', P),
    devOerrors: c('linerate_port_device_tx_errors_total', 'Failed transmissions (oerrors)', P),
    devNombuf: c('linerate_port_device_rx_nombuf_total', 'RX mbuf allocation failures (rx_nombuf)', P),
    linkUp: g('linerate_port_link_up', '1 while the device reports link up', P),
    speed: g('linerate_port_link_speed_bits_per_second', 'Link speed reported by the device, 0 when unknown', P),
    portRxPps: g('linerate_port_rx_packets_per_second', 'Receive rate over the last sampling period', P),
    portRxBps: g('linerate_port_rx_bits_per_second', 'Receive rate in bits (frame bytes x 8)', P),
    portTxPps: g('linerate_port_tx_packets_per_second', 'Transmit rate over the last sampling period', P),
    portTxBps: g('linerate_port_tx_bits_per_second', 'Transmit rate in bits (frame bytes x 8)', P),
    rxqPackets: c('linerate_rxq_rx_packets_total', 'Packets received on the RX queue', Q),
    rxqBytes: c('linerate_rxq_rx_bytes_total', 'Bytes received on the RX queue', Q),
    rxqForwarded: c('linerate_rxq_forwarded_packets_total', 'Packets of the RX queue handed to a TX queue', Q),
    rxqPunts: c('linerate_rxq_punted_packets_total', 'Packets of the RX queue handed to the slow path', Q),
    rxqDrops: c('linerate_rxq_drops_total', 'Packets of the RX queue dropped, by reason', [...Q, 'reason']),
    rxqPps: g('linerate_rxq_rx_packets_per_second', 'Receive rate of the RX queue over the last sampling period', Q),
    rxqBps: g('linerate_rxq_rx_bits_per_second', 'Receive rate of the RX queue in bits (frame bytes x 8)', Q),
    rxqBusy: g('linerate_rxq_busy_ratio', 'Estimated share of the sampling period its worker spent on the RX queue (the worker\'s busy ratio split by packets), 0..1', Q),
    txqPackets: c('linerate_txq_tx_packets_total', 'Packets sent on the TX queue', T),
    txqBytes: c('linerate_txq_tx_bytes_total', 'Bytes sent on the TX queue', T),
    txqDropped: c('linerate_txq_tx_dropped_packets_total', 'Packets the device refused on the TX queue', T),
    txqPps: g('linerate_txq_tx_packets_per_second', 'Transmit rate of the TX queue over the last sampling period', T),
    workerRx: c('linerate_worker_rx_packets_total', 'Packets received by the worker', W),
    workerTx: c('linerate_worker_tx_packets_total', 'Packets sent by the worker', W),
    workerDropped: c('linerate_worker_dropped_packets_total', 'Packets the worker dropped, all reasons', W),
    workerPolls: c('linerate_worker_polls_total', 'Loop iterations of the worker', W),
    workerBusyPolls: c('linerate_worker_busy_polls_total', 'Loop iterations that received at least one packet', W),
    workerBusyCycles: c('linerate_worker_busy_cycles_total', 'TSC cycles spent in busy iterations', W),
    workerRxPps: g('linerate_worker_rx_packets_per_second', 'Receive rate of the worker over the last sampling period', W),
    workerTxPps: g('linerate_worker_tx_packets_per_second', 'Transmit rate of the worker over the last sampling period', W),
    workerRxQueues: g('linerate_worker_rx_queues', 'RX queues the worker polls (the queue map)', W),
    workerBusy: g('linerate_worker_busy_ratio', 'Share of the last sampling period spent in busy iterations, 0..1', W),
    workerCpp: g('linerate_worker_cycles_per_packet', 'Busy TSC cycles per received packet over the last sampling period', W),
    slow: c('linerate_slow_path_events_total', 'Slow-path (main lcore) counters, by LR_SLOW_COUNTERS name', ['counter']),
    rxTotalPps: g('linerate_rx_packets_per_second', 'Receive rate, all ports', []),
    txTotalPps: g('linerate_tx_packets_per_second', 'Transmit rate, all ports', []),
    mbufsInUse: g('linerate_mbufs_in_use', 'Packet buffers of the dataplane pool in use (rte_mempool_in_use_count); a leak grows this', []),
    mbufsCapacity: g('linerate_mbufs_capacity', 'Packet buffers in the dataplane pool', []),
    tscHz: g('linerate_dataplane_tsc_hertz', 'TSC frequency of the dataplane machine', []),
    start: g('linerate_dataplane_start_time_seconds', 'Start time of the dataplane, seconds since the epoch', []),
  };
  const attached = new client.Gauge({ name: 'linerate_dataplane_attached', help: '1 while attached to a healthy dataplane', registers: [registry] });
  const tableSize = new client.Gauge({ name: 'linerate_desired_entries', help: 'Entries in the desired state', labelNames: ['table'], registers: [registry] });

  const n = (s: string): number => Number(s);
  const collect = (): void => {
    attached.set(sup.isHealthy ? 1 : 0);
    for (const [table, v] of Object.entries(ctl.state.size)) tableSize.set({ table }, v);
    for (const f of Object.values(m)) f.reset();
    const cur = ctl.snapshot();
    if (!cur) return;
    const s = buildStats(cur, ctl.previousSample(cur));
    m.rxTotalPps.set({}, s.rx.pps);
    m.txTotalPps.set({}, s.tx.pps);
    m.tscHz.set({}, n(s.tscHz));
    m.start.set({}, Number(cur.startTimeNs) / 1e9);
    m.mbufsInUse.set({}, Number(cur.mbufs.inUse));
    m.mbufsCapacity.set({}, Number(cur.mbufs.size));
    for (const p of s.ports) {
      const port = { port: p.name };
      m.portRxPackets.set(port, n(p.rx.packets));
      m.portRxBytes.set(port, n(p.rx.bytes));
      m.portTxPackets.set(port, n(p.tx.packets));
      m.portTxBytes.set(port, n(p.tx.bytes));
      m.portForwarded.set(port, n(p.forwarded));
      m.portPunts.set(port, n(p.punts));
      m.portDropped.set(port, n(p.dropped));
      for (const [reason, v] of Object.entries(p.drops)) m.portDrops.set({ ...port, reason }, n(v));
      m.portTxDropped.set(port, n(p.txDropped));
      const d = p.device;
      m.devIpackets.set(port, n(d.ipackets));
      m.devOpackets.set(port, n(d.opackets));
      m.devIbytes.set(port, n(d.ibytes));
      m.devObytes.set(port, n(d.obytes));
      m.devImissed.set(port, n(d.imissed));
      m.devIerrors.set(port, n(d.ierrors));
      m.devOerrors.set(port, n(d.oerrors));
      m.devNombuf.set(port, n(d.rxNombuf));
      m.linkUp.set(port, p.linkUp ? 1 : 0);
      m.speed.set(port, p.speedMbps * 1e6);
      m.portRxPps.set(port, p.rx.pps);
      m.portRxBps.set(port, p.rx.bps);
      m.portTxPps.set(port, p.tx.pps);
      m.portTxBps.set(port, p.tx.bps);
      for (const q of p.rxQueues) {
        const l = { port: p.name, queue: String(q.queue), worker: String(q.worker) };
        m.rxqPackets.set(l, n(q.rx.packets));
        m.rxqBytes.set(l, n(q.rx.bytes));
        m.rxqForwarded.set(l, n(q.forwarded));
        m.rxqPunts.set(l, n(q.punts));
        for (const [reason, v] of Object.entries(q.drops)) m.rxqDrops.set({ ...l, reason }, n(v));
        m.rxqPps.set(l, q.rx.pps);
        m.rxqBps.set(l, q.rx.bps);
      }
      for (const q of p.txQueues) {
        const l = { port: p.name, queue: String(q.queue) };
        m.txqPackets.set(l, n(q.tx.packets));
        m.txqBytes.set(l, n(q.tx.bytes));
        m.txqDropped.set(l, n(q.dropped));
        m.txqPps.set(l, q.tx.pps);
      }
    }
    for (const w of s.workers) {
      const l = { worker: String(w.worker), lcore: String(w.lcore) };
      m.workerRx.set(l, n(w.rx.packets));
      m.workerTx.set(l, n(w.tx.packets));
      m.workerDropped.set(l, n(w.dropped));
      m.workerPolls.set(l, n(w.polls));
      m.workerBusyPolls.set(l, n(w.busyPolls));
      m.workerBusyCycles.set(l, n(w.busyCycles));
      m.workerRxPps.set(l, w.rx.pps);
      m.workerTxPps.set(l, w.tx.pps);
      m.workerRxQueues.set(l, w.rxQueues);
      m.workerBusy.set(l, w.busyPercent / 100);
      m.workerCpp.set(l, w.cyclesPerPacket);
    }
    for (const q of queueUsage(s)) m.rxqBusy.set({ port: q.port, queue: String(q.queue), worker: String(q.worker) }, q.busyPercent / 100);
    for (const [counter, v] of Object.entries(s.slowPath)) m.slow.set({ counter }, n(v));
  };
  return { registry, collect };
}

/**
 * Serves GET /metrics on `listen` ("HOST:PORT"; port 0 picks a free one).
 * Resolves with the server once bound; its address() says where.
 */
export function startMetrics(listen: string, ctl: Controller, sup: Supervisor): Promise<http.Server> {
  const { registry, collect } = metricsRegistry(ctl, sup);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('linerate serves /metrics only\n');
      return;
    }
    try {
      collect();
    } catch (e) {
      res.writeHead(500).end((e as Error).message);
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  });
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(i + 1)), host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
