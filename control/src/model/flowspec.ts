/**
 * The readable flow syntax of the CLI (`linerate flow add`) and of the
 * config file's `flows:` section, turned into a FlowService Flow message
 * (which tables/flow.ts then validates like any request). Pure.
 *
 * Match: clauses joined by "and" (optional), e.g.
 *   ip src 10.0.0.0/8 and tcp dport 443
 *   ip6 dst 2001:db8::/32 and udp sport 1000-2000
 *   in-port p0 and dscp 46 and tcp flags syn/syn,ack
 *   any                      (everything of the family; "ip" alone too)
 * Clauses: ip | ip4 | ip6 (family; else taken from an address, default 4),
 * src|dst ADDR[/LEN] (an address alone is /32 or /128), tcp | udp | sctp |
 * icmp | icmpv6 | proto N, sport|dport N[-M], in-port NAME, dscp N[/MASK],
 * flags F[,F]/[MASKF,...] (fin syn rst psh ack urg ece cwr; no mask = the
 * flags given).
 * Action: drop | continue | forward PORT [via IP] (also "forward:PORT@IP").
 */
import type * as api from '../gen';
import { invalid } from '../errors';

export interface FlowSpec {
  id: number;
  /** The match expression. */
  match: string;
  action: string;
  priority?: number;
  /** Exact-match (5-tuple) table instead of the wildcard one. */
  exact?: boolean;
  mirror?: string;
  setDscp?: number;
  /** "cir=RATE,cbs=BYTES,pir=RATE,pbs=BYTES[,mark=YELLOW/RED]": rates in bytes/s; k, m, g multiply by 1000. */
  meter?: string;
}

const TCP_FLAGS: Readonly<Record<string, number>> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ece: 64, cwr: 128 };
const PROTO_WORDS = new Set(['tcp', 'udp', 'sctp', 'icmp', 'icmpv6']);

function flagBits(list: string, field: string): number {
  let bits = 0;
  for (const f of list.split(',')) {
    const b = TCP_FLAGS[f.toLowerCase()];
    if (b === undefined) throw invalid(field, `unknown TCP flag ${JSON.stringify(f)} (fin syn rst psh ack urg ece cwr)`);
    bits |= b;
  }
  return bits;
}

function portRange(text: string | undefined, field: string): api.PortRange {
  const m = text === undefined ? null : /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw invalid(field, `expected a port or a range N-M, got ${JSON.stringify(text ?? '')}`);
  return { first: Number(m[1]), last: Number(m[2] ?? m[1]) };
}

/** The match expression into a FlowMatch; `field` names it in errors. */
export function parseMatch(text: string, field: string): api.FlowMatch {
  const words = text.trim().split(/\s+/).filter((w) => w !== '' && w.toLowerCase() !== 'and');
  const m: api.FlowMatch = {};
  let family: 4 | 6 | undefined;
  const setFamily = (f: 4 | 6): void => {
    if (family !== undefined && family !== f) throw invalid(field, 'mixes IPv4 and IPv6');
    family = f;
  };
  const addr = (w: string | undefined, what: string): string => {
    if (!w) throw invalid(field, `${what} needs an address or prefix`);
    const f: 4 | 6 = w.includes(':') ? 6 : 4;
    setFamily(f);
    return w.includes('/') ? w : `${w}/${f === 4 ? 32 : 128}`;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i].toLowerCase();
    const next = (): string | undefined => words[++i];
    if (w === 'ip' || w === 'ip4' || w === 'ipv4') {
      if (w !== 'ip') setFamily(4);
    } else if (w === 'ip6' || w === 'ipv6') setFamily(6);
    else if (w === 'any') continue;
    else if (w === 'src') m.src = addr(next(), 'src');
    else if (w === 'dst') m.dst = addr(next(), 'dst');
    else if (PROTO_WORDS.has(w)) {
      if (m.protocol) throw invalid(field, `two protocols (${m.protocol}, ${w})`);
      m.protocol = w;
      if (w === 'icmpv6') setFamily(6);
    } else if (w === 'proto') {
      const p = next();
      if (!p || !/^\d{1,3}$/.test(p)) throw invalid(field, 'proto needs a number 0..255');
      m.protocol = p;
    } else if (w === 'sport') m.srcPort = portRange(next(), field);
    else if (w === 'dport') m.dstPort = portRange(next(), field);
    else if (w === 'in-port' || w === 'in_port' || w === 'iif') {
      const p = next();
      if (!p) throw invalid(field, `${w} needs a port name`);
      m.inPort = p;
    } else if (w === 'dscp') {
      const d = /^(\d{1,2})(?:\/(\d{1,2}|0x[0-9a-f]+))?$/i.exec(next() ?? '');
      if (!d) throw invalid(field, 'dscp needs N or N/MASK');
      m.dscp = { value: Number(d[1]), mask: d[2] === undefined ? 0 : Number(d[2]) };
    } else if (w === 'flags' || w === 'tcp-flags') {
      const f = next();
      if (!f) throw invalid(field, 'flags needs a list, e.g. syn or syn/syn,ack');
      const [v, k] = f.split('/');
      const value = v === '' || v === 'none' ? 0 : flagBits(v, field);
      m.tcpFlags = { value, mask: k === undefined ? value : flagBits(k, field) };
    } else {
      throw invalid(field, `unknown word ${JSON.stringify(words[i].slice(0, 32))} at position ${i + 1}`);
    }
  }
  m.family = family === 6 ? 'FAMILY_IPV6' : 'FAMILY_IPV4';
  return m;
}

/** "drop", "continue", "forward p1 via 10.0.0.1", "forward:p1@10.0.0.1". */
export function parseAction(text: string, field: string): api.FlowAction {
  const t = text.trim().replace(/^forward:/i, 'forward ').replace('@', ' via ');
  const w = t.split(/\s+/);
  switch (w[0]?.toLowerCase()) {
    case 'drop': if (w.length === 1) return { kind: 'DROP' }; break;
    case 'continue': case 'route': if (w.length === 1) return { kind: 'CONTINUE' }; break;
    case 'forward':
      if (w.length === 2) return { kind: 'FORWARD', port: w[1] };
      if (w.length === 4 && w[2].toLowerCase() === 'via') return { kind: 'FORWARD', port: w[1], via: w[3] };
      break;
    default: break;
  }
  throw invalid(field, `expected drop, continue or forward PORT [via IP], got ${JSON.stringify(text.slice(0, 64))}`);
}

/** The meter option: without mark=, red packets are dropped. */
export function parseMeter(text: string, field: string): api.Meter {
  const m: api.Meter = { mode: 'DROP_RED' };
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=');
    if (k === 'mark') {
      const d = /^(\d{1,2})\/(\d{1,2})$/.exec(v ?? '');
      if (!d) throw invalid(field, 'mark=YELLOW/RED takes two DSCPs, e.g. mark=10/14');
      Object.assign(m, { mode: 'MARK', yellowDscp: Number(d[1]), redDscp: Number(d[2]) });
      continue;
    }
    const n = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(v ?? '');
    if (!n || !['cir', 'cbs', 'pir', 'pbs'].includes(k)) throw invalid(field, `expected cir=,cbs=,pir=,pbs= and mark=, got ${JSON.stringify(part.slice(0, 32))}`);
    (m as Record<string, unknown>)[k] = Math.round(Number(n[1]) * mult[n[2].toLowerCase()]);
  }
  return m;
}

/** A spec into a Flow message (not validated yet). */
export function flowSpec(s: FlowSpec): api.Flow {
  const action = parseAction(s.action, 'action');
  if (s.mirror) action.mirrorPort = s.mirror;
  if (s.setDscp !== undefined) action.setDscp = { dscp: s.setDscp };
  if (s.meter) action.meter = parseMeter(s.meter, 'meter');
  return {
    id: s.id,
    table: s.exact ? 'FLOW_TABLE_EXACT' : 'FLOW_TABLE_WILDCARD',
    priority: s.priority ?? 0,
    match: parseMatch(s.match, 'match'),
    action,
  };
}

const PROTO_NAME: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

/** A Flow message back in the readable syntax (flow list). */
export function matchText(m: api.FlowMatch__Output | null): string {
  if (!m) return 'any';
  const out: string[] = [m.family === 'FAMILY_IPV6' ? 'ip6' : 'ip'];
  if (m.inPort) out.push(`in-port ${m.inPort}`);
  if (m.src) out.push(`src ${m.src}`);
  if (m.dst) out.push(`dst ${m.dst}`);
  if (m.protocol) out.push(PROTO_NAME[Number(m.protocol)] ?? (/^\d+$/.test(m.protocol) ? `proto ${m.protocol}` : m.protocol));
  const range = (r: api.PortRange__Output): string => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`);
  if (m.srcPort) out.push(`sport ${range(m.srcPort)}`);
  if (m.dstPort) out.push(`dport ${range(m.dstPort)}`);
  if (m.dscp) out.push(`dscp ${m.dscp.value}${m.dscp.mask && m.dscp.mask !== 63 ? `/${m.dscp.mask}` : ''}`);
  if (m.tcpFlags) {
    const names = (b: number): string => Object.entries(TCP_FLAGS).filter(([, v]) => b & v).map(([k]) => k).join(',') || 'none';
    out.push(`flags ${names(m.tcpFlags.value)}/${names(m.tcpFlags.mask)}`);
  }
  return out.join(' and ').replace(/^ip and /, 'ip ').replace(/^ip6 and /, 'ip6 ');
}
