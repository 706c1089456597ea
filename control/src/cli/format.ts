/** CLI output: tables (cli-table3) and human units. */
import Table from 'cli-table3';
import type * as api from '../gen';

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export const mpps = (x: number): string => x.toFixed(3);
export function bps(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} Gb/s`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} Mb/s`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} kb/s`;
  return `${x.toFixed(0)} b/s`;
}

export function routeLine(r: api.Route__Output): string {
  const nhs = r.nextHops.map((nh) => `${nh.via ? `via ${nh.via} ` : ''}port ${nh.port}${nh.weight && nh.weight > 1 ? ` weight ${nh.weight}` : ''}`);
  return `${r.prefix} ${nhs.join(' nexthop ')}${r.connected ? ' (connected)' : ''}`;
}

export function portsTable(ports: api.Port__Output[]): string {
  return table(
    ['port', 'device', 'driver', 'mac', 'link', 'mtu', 'rxq/txq', 'addresses', 'rx pkts', 'tx pkts', 'rx drop'],
    ports.map((p) => [
      p.name, p.device, p.driver, p.mac,
      p.linkUp ? `up${p.speedMbps ? ` ${p.speedMbps / 1000}G` : ''}` : 'down',
      p.mtu, `${p.rxQueues}/${p.txQueues}`, p.addresses.map((a) => a.cidr).join('\n'),
      p.counters?.rxPackets ?? '-', p.counters?.txPackets ?? '-', p.counters?.rxDropped ?? '-',
    ]),
  );
}

export function neighborsTable(ns: api.Neighbor__Output[]): string {
  return table(['port', 'address', 'mac', 'state', 'age'],
    ns.map((n) => [n.port, n.address, n.mac || '-', n.state.toLowerCase(), `${n.ageSeconds ?? 0}s`]));
}

const drops = (d: Record<string, string>): string =>
  Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' ') || '-';

/** Message fields may be null on the wire; the server always sets these. */
const NO_TRAFFIC: api.Traffic__Output = { packets: '0', bytes: '0', pps: 0, mpps: 0, bps: 0 };
const tr = (t: api.Traffic__Output | null): api.Traffic__Output => t ?? NO_TRAFFIC;

/** The live stats screen: ports, RX queues, workers. */
export function statsScreen(s: api.Stats__Output): string {
  const out: string[] = [];
  out.push(`linerate pid ${s.pid}  interval ${s.intervalSeconds.toFixed(2)} s  total rx ${mpps(tr(s.rx).mpps)} Mpps  tx ${mpps(tr(s.tx).mpps)} Mpps  dropped ${s.dropped}`);
  out.push(table(['port', 'link', 'rx Mpps', 'tx Mpps', 'rx rate', 'tx rate', 'rx pkts', 'tx pkts', 'punts', 'drops'],
    s.ports.map((p) => [p.name, p.linkUp ? 'up' : 'down', mpps(tr(p.rx).mpps), mpps(tr(p.tx).mpps), bps(tr(p.rx).bps), bps(tr(p.tx).bps),
      tr(p.rx).packets, tr(p.tx).packets, p.punts, drops(p.drops)])));
  out.push(table(['port/rxq', 'worker', 'rx Mpps', 'rx pkts', 'fwd', 'punts', 'drops'],
    s.ports.flatMap((p) => p.rxQueues.map((q) => [`${p.name}/${q.queue}`, q.worker < 0 ? '-' : q.worker, mpps(tr(q.rx).mpps),
      tr(q.rx).packets, q.forwarded, q.punts, q.dropped]))));
  out.push(table(['worker', 'lcore', 'rxqs', 'rx Mpps', 'tx Mpps', 'busy %', 'cycles/pkt', 'drops'],
    s.workers.map((w) => [w.worker, w.lcore, w.rxQueues, mpps(tr(w.rx).mpps), mpps(tr(w.tx).mpps), w.busyPercent.toFixed(1),
      w.cyclesPerPacket ? w.cyclesPerPacket.toFixed(0) : '-', w.dropped])));
  const slow = Object.entries(s.slowPath).filter(([, v]) => v !== '0').map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`slow path: ${slow || '-'}`);
  return out.join('\n');
}
