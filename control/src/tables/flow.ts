/**
 * The flow tables (FlowService writes; the dataplane's `flow` stage reads:
 * dataplane/include/lr_flow.h): model entry, request validation with
 * field-naming errors (the same rules the dataplane enforces, checked here
 * first so that a message names the request's field), translation to and
 * from the addon's FlowEntry, and its place in reconcile and the journal.
 *
 * One table, both dataplane tables (wildcard and exact): a flow's id is its
 * key across both, as in the dataplane.
 */
import { status } from '@grpc/grpc-js';
import type * as dp from '../dataplane/addon';
import type { PortMap } from '../dataplane/translate';
import { ApiError, invalid } from '../errors';
import type * as api from '../gen';
import { type Family, canonicalIp, parseFamily, parseIp, parsePrefix } from '../model/net';
import { flowSpec } from '../model/flowspec';
import type { DesiredState } from '../model/state';
import {
  type Limits, type Op, type PortNames, type Validated, type WriteBatch, checkPort, defineTable, validateWrite,
} from './table';

export const FLOW_PRIO_MAX = 65535;

export type FlowTableName = dp.FlowTableName;
export type FlowAction = dp.FlowAction;

/** Value under a mask; mask covers the field's bits that are compared. */
export interface Masked { value: number; mask: number }

/** A flow in canonical form: absent fields match anything. */
export interface Flow {
  id: number;
  table: FlowTableName;
  priority: number;
  family: Family;
  inPort?: string;
  proto?: number;
  src?: string;            // canonical prefix, never /0 (absent instead)
  dst?: string;
  sport?: [number, number];  // never [0, 65535] (absent instead)
  dport?: [number, number];
  dscp?: Masked;
  tcpFlags?: Masked;
  action: FlowAction;
  outPort?: string;        // forward
  via?: string;            // forward; absent = on-link
  mirrorPort?: string;
  setDscp?: number;
  /** trTCM; yellowDscp and redDscp only with mode 'mark'. */
  meter?: dp.FlowMeter;
}

/* ---- parsing ---- */

export const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };
const L4 = new Set([6, 17, 132]);

/** "tcp", "17", "" (any) -> protocol number or undefined. */
export function parseProtocol(text: string, field: string): number | undefined {
  if (text === '') return undefined;
  const named = PROTOCOLS[text.toLowerCase()];
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return Number(text);
  throw invalid(field, `unknown protocol ${JSON.stringify(text.slice(0, 32))}: tcp, udp, sctp, icmp, icmpv6 or 0..255`);
}

function parseRange(r: api.PortRange | null | undefined, field: string, max: number): [number, number] | undefined {
  if (!r) return undefined;
  const first = Number(r.first ?? 0), last = Number(r.last ?? 0);
  if (!Number.isInteger(first) || first < 0 || first > max) throw invalid(`${field}.first`, `must be 0..${max}`);
  if (!Number.isInteger(last) || last < 0 || last > max) throw invalid(`${field}.last`, `must be 0..${max}`);
  if (first > last) throw invalid(field, `range ${first}-${last} is reversed`);
  return first === 0 && last === max ? undefined : [first, last];
}

function parseMasked(m: api.Masked | null | undefined, field: string, bits: number): Masked | undefined {
  if (!m) return undefined;
  const all = (1 << bits) - 1;
  const value = Number(m.value ?? 0);
  const mask = Number(m.mask ?? 0) || all;
  if (!Number.isInteger(value) || value < 0 || value > all) throw invalid(`${field}.value`, `must be 0..${all}`);
  if (!Number.isInteger(mask) || mask < 0 || mask > all) throw invalid(`${field}.mask`, `must be 0..${all}`);
  if (value & ~mask) throw invalid(field, `value 0x${value.toString(16)} has bits outside mask 0x${mask.toString(16)}`);
  return { value, mask };
}

function parseFlowPrefix(text: string | undefined, field: string, family: Family): string | undefined {
  if (!text) return undefined;
  const p = parsePrefix(text, field);
  if (p.family !== family) throw invalid(field, `IPv${p.family} prefix in an IPv${family} flow`);
  return p.prefixLen === 0 ? undefined : p.cidr;
}

const meterModes: Record<string, dp.FlowMeter['mode']> = { DROP_RED: 'drop-red', MARK: 'mark', 1: 'drop-red', 2: 'mark' };

function parseMeter(m: api.Meter, f: string): dp.FlowMeter {
  const n = (v: unknown, field: string, min: number): number => {
    const x = Number(v ?? 0);
    if (!Number.isSafeInteger(x) || x < min) throw invalid(`${f}.${field}`, `must be an integer >= ${min}`);
    return x;
  };
  const cir = n(m.cir, 'cir', 1), cbs = n(m.cbs, 'cbs', 1), pir = n(m.pir, 'pir', 1), pbs = n(m.pbs, 'pbs', 1);
  if (pir < cir) throw invalid(`${f}.pir`, `${pir} is below cir ${cir}`);
  if (cbs > 0xffffffff || pbs > 0xffffffff) throw invalid(`${f}.${cbs > 0xffffffff ? 'cbs' : 'pbs'}`, 'at most 4294967295 bytes');
  const mode = meterModes[String(m.mode)];
  if (!mode) throw invalid(`${f}.mode`, 'required: DROP_RED or MARK');
  const out: dp.FlowMeter = { cir, cbs, pir, pbs, mode };
  if (mode === 'mark') {
    for (const k of ['yellowDscp', 'redDscp'] as const) {
      const d = Number(m[k] ?? 0);
      if (!Number.isInteger(d) || d < 0 || d > 63) throw invalid(`${f}.${k === 'yellowDscp' ? 'yellow_dscp' : 'red_dscp'}`, 'must be 0..63');
      out[k] = d;
    }
  }
  return out;
}

const tableNames: Record<string, FlowTableName> = {
  FLOW_TABLE_WILDCARD: 'wildcard', FLOW_TABLE_EXACT: 'exact', 1: 'wildcard', 2: 'exact',
};
const actionNames: Record<string, FlowAction> = {
  CONTINUE: 'continue', DROP: 'drop', FORWARD: 'forward', 1: 'continue', 2: 'drop', 3: 'forward',
};

/**
 * A Flow message into a model flow. `f` names the message ("updates[3].flow");
 * with `keyOnly` (deletes) only the id and the table are read.
 */
export function parseFlow(m: api.Flow | null | undefined, f: string, ports: PortNames, keyOnly: boolean): Flow {
  if (!m) throw invalid(f, 'required');
  const id = Number(m.id ?? 0);
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw invalid(`${f}.id`, 'must be 0..4294967295');
  const table = tableNames[String(m.table)];
  if (!table) throw invalid(`${f}.table`, 'required: FLOW_TABLE_WILDCARD or FLOW_TABLE_EXACT');
  const flow: Flow = { id, table, priority: 0, family: 4, action: 'continue' };
  if (keyOnly) return flow;

  const mt = m.match;
  if (!mt) throw invalid(`${f}.match`, 'required (at least its family)');
  const family = parseFamily(mt.family, `${f}.match.family`);
  if (family === 0) throw invalid(`${f}.match.family`, 'required: FAMILY_IPV4 or FAMILY_IPV6');
  flow.family = family;
  if (Number(mt.vlan ?? 0) !== 0) throw new ApiError(status.UNIMPLEMENTED, `${f}.match.vlan: VLAN-tagged frames are not parsed yet`);
  if (mt.inPort) flow.inPort = checkPort(mt.inPort, `${f}.match.in_port`, ports);
  const src = parseFlowPrefix(mt.src, `${f}.match.src`, family);
  const dst = parseFlowPrefix(mt.dst, `${f}.match.dst`, family);
  if (src) flow.src = src;
  if (dst) flow.dst = dst;
  const proto = parseProtocol(mt.protocol ?? '', `${f}.match.protocol`);
  if (proto !== undefined) flow.proto = proto;
  const sport = parseRange(mt.srcPort, `${f}.match.src_port`, 65535);
  const dport = parseRange(mt.dstPort, `${f}.match.dst_port`, 65535);
  if ((sport || dport) && (proto === undefined || !L4.has(proto))) {
    throw invalid(`${f}.match.${sport ? 'src_port' : 'dst_port'}`, 'ports need protocol tcp, udp or sctp');
  }
  if (sport) flow.sport = sport;
  if (dport) flow.dport = dport;
  const dscp = parseMasked(mt.dscp, `${f}.match.dscp`, 6);
  if (dscp) flow.dscp = dscp;
  const tcpFlags = parseMasked(mt.tcpFlags, `${f}.match.tcp_flags`, 8);
  if (tcpFlags) {
    if (proto !== 6) throw invalid(`${f}.match.tcp_flags`, 'needs protocol tcp');
    flow.tcpFlags = tcpFlags;
  }

  const prio = Number(m.priority ?? 0);
  if (table === 'wildcard') {
    if (!Number.isInteger(prio) || prio < 0 || prio > FLOW_PRIO_MAX) throw invalid(`${f}.priority`, `${prio} is out of range 0..${FLOW_PRIO_MAX}`);
    flow.priority = prio;
  } else {
    const max = family === 4 ? 32 : 128;
    if (prio !== 0) throw invalid(`${f}.priority`, `exact flows have no priority (got ${prio})`);
    if (flow.inPort || dscp || tcpFlags) throw invalid(`${f}.match.${flow.inPort ? 'in_port' : dscp ? 'dscp' : 'tcp_flags'}`, 'an exact flow matches the 5-tuple only');
    if (proto === undefined) throw invalid(`${f}.match.protocol`, 'an exact flow names its protocol');
    for (const [name, p] of [['src', mt.src], ['dst', mt.dst]] as const) {
      if (!p || !p.endsWith(`/${max}`)) throw invalid(`${f}.match.${name}`, `an exact flow matches a whole address (/${max})`);
    }
    // an exact flow's address may be all zero: keep the full-length prefix
    flow.src = parsePrefix(mt.src, `${f}.match.src`).cidr;
    flow.dst = parsePrefix(mt.dst, `${f}.match.dst`).cidr;
    if (L4.has(proto)) {
      for (const [name, r] of [['src_port', sport], ['dst_port', dport]] as const) {
        if (!r || r[0] !== r[1]) throw invalid(`${f}.match.${name}`, 'an exact flow matches one port, not a range');
      }
    }
  }

  const a = m.action;
  const kind = a ? actionNames[String(a.kind)] : undefined;
  if (!kind) throw invalid(`${f}.action.kind`, 'required: CONTINUE, DROP or FORWARD');
  flow.action = kind;
  if (kind === 'forward') {
    flow.outPort = checkPort(a!.port, `${f}.action.port`, ports);
    if (a!.via) {
      const via = parseIp(a!.via, `${f}.action.via`);
      if (via.family !== family) throw invalid(`${f}.action.via`, `IPv${via.family} gateway in an IPv${family} flow`);
      const range = via.ip.range();
      if (['unspecified', 'multicast', 'broadcast', 'loopback'].includes(range)) throw invalid(`${f}.action.via`, `${range} address ${via.address} cannot be a gateway`);
      flow.via = via.address;
    }
  } else if (a!.port || a!.via) {
    throw invalid(`${f}.action.port`, 'only FORWARD takes a port and via');
  }
  if (a!.mirrorPort) flow.mirrorPort = checkPort(a!.mirrorPort, `${f}.action.mirror_port`, ports);
  if (a!.setDscp) {
    const d = Number(a!.setDscp.dscp ?? 0);
    if (!Number.isInteger(d) || d < 0 || d > 63) throw invalid(`${f}.action.set_dscp.dscp`, 'must be 0..63');
    flow.setDscp = d;
  }
  if (a!.meter) flow.meter = parseMeter(a!.meter, `${f}.action.meter`);
  return flow;
}

/* ---- requests ---- */

const updateTypes: Record<string, Op> = {
  INSERT: 'add', MODIFY: 'mod', DELETE: 'del', 1: 'add', 2: 'mod', 3: 'del',
};

/** Write requests: updates[i] = {type, flow}, read as the table machinery reads a batch. */
export function flowWriteBatch(req: api.WriteFlowsRequest, ports: PortNames, only?: readonly number[]): WriteBatch<Flow> {
  const u = req.updates ?? [];
  const at = (i: number): number => (only ? only[i] : i);
  return {
    listField: 'updates',
    length: only ? only.length : u.length,
    field: (i) => `updates[${at(i)}]`,
    keyField: (i) => `updates[${at(i)}].flow.id`,
    op(i) {
      const op = updateTypes[String(u[at(i)]?.type)];
      if (!op) throw invalid(`updates[${at(i)}].type`, 'required: INSERT, MODIFY or DELETE');
      return op;
    },
    entry: (i, op) => parseFlow(u[at(i)]?.flow, `updates[${at(i)}].flow`, ports, op === 'del'),
  };
}

/** The whole write, all or nothing. */
export function validateFlowWrite(req: api.WriteFlowsRequest, state: DesiredState, ports: PortNames, limits: Limits): Validated {
  return validateWrite(flowTable, flowWriteBatch(req, ports), state, limits);
}

/* ---- dataplane ---- */

function rangeOf(lo?: number, hi?: number): [number, number] | undefined {
  const a = lo ?? 0, b = hi ?? 65535;
  return a === 0 && b === 65535 ? undefined : [a, b];
}

/** A dumped flow in model form (port names, canonical addresses). */
export function flowFromDp(e: dp.FlowEntry, ports: PortMap): Flow {
  const family = (e.family ?? 4) as Family;
  const max = family === 4 ? 32 : 128;
  const pfx = (p?: string): string | undefined => {
    if (!p) return undefined;
    const [addr, len] = p.split('/');
    if (Number(len) === 0) return undefined;
    return `${canonicalIp(addr)}/${len}`;
  };
  const f: Flow = { id: e.id, table: e.table, priority: e.priority ?? 0, family, action: e.action ?? 'continue' };
  if (e.inPort !== undefined) f.inPort = ports.name(e.inPort);
  if (e.proto !== undefined) f.proto = e.proto;
  const src = pfx(e.src), dst = pfx(e.dst);
  if (src) f.src = src;
  if (dst) f.dst = dst;
  if (e.table === 'exact') {
    // all-zero exact addresses dump as /max too
    f.src ??= `${family === 4 ? '0.0.0.0' : '::'}/${max}`;
    f.dst ??= `${family === 4 ? '0.0.0.0' : '::'}/${max}`;
    if (f.proto !== undefined && L4.has(f.proto)) {
      f.sport = [e.sportLo ?? 0, e.sportLo ?? 0];
      f.dport = [e.dportLo ?? 0, e.dportLo ?? 0];
    }
  } else {
    const s = rangeOf(e.sportLo, e.sportHi), d = rangeOf(e.dportLo, e.dportHi);
    if (s) f.sport = s;
    if (d) f.dport = d;
  }
  if (e.dscpMask) f.dscp = { value: e.dscp ?? 0, mask: e.dscpMask };
  if (e.tcpFlagsMask) f.tcpFlags = { value: e.tcpFlags ?? 0, mask: e.tcpFlagsMask };
  if (e.action === 'forward' && e.outPort !== undefined) f.outPort = ports.name(e.outPort);
  if (e.via && !/^(0\.0\.0\.0|::)$/.test(e.via)) f.via = canonicalIp(e.via);
  if (e.mirrorPort !== undefined) f.mirrorPort = ports.name(e.mirrorPort);
  if (e.setDscp !== undefined) f.setDscp = e.setDscp;
  if (e.meter) {
    const { cir, cbs, pir, pbs, mode } = e.meter;
    f.meter = mode === 'mark' ? { cir, cbs, pir, pbs, mode, yellowDscp: e.meter.yellowDscp ?? 0, redDscp: e.meter.redDscp ?? 0 }
      : { cir, cbs, pir, pbs, mode };
  }
  return f;
}

/** Canonical text of a flow (equality of a dump and the desired state). */
export function flowText(f: Flow): string {
  return JSON.stringify([f.id, f.table, f.priority, f.family, f.inPort, f.proto, f.src, f.dst, f.sport, f.dport,
    f.dscp && [f.dscp.value, f.dscp.mask], f.tcpFlags && [f.tcpFlags.value, f.tcpFlags.mask], f.action, f.outPort, f.via,
    f.mirrorPort, f.setDscp, f.meter && [f.meter.cir, f.meter.cbs, f.meter.pir, f.meter.pbs, f.meter.mode, f.meter.yellowDscp,
      f.meter.redDscp]]);
}

export function toFlowEntry(f: Flow, op: dp.BatchOp, ports: PortMap): dp.FlowEntry {
  if (op === 'del') return { op, table: f.table, id: f.id };
  const e: dp.FlowEntry = { op, table: f.table, id: f.id, family: f.family, priority: f.priority, action: f.action };
  if (f.inPort !== undefined) e.inPort = ports.id(f.inPort);
  if (f.proto !== undefined) e.proto = f.proto;
  if (f.src) e.src = f.src;
  if (f.dst) e.dst = f.dst;
  if (f.sport) [e.sportLo, e.sportHi] = f.sport;
  if (f.dport) [e.dportLo, e.dportHi] = f.dport;
  if (f.dscp) [e.dscp, e.dscpMask] = [f.dscp.value, f.dscp.mask];
  if (f.tcpFlags) [e.tcpFlags, e.tcpFlagsMask] = [f.tcpFlags.value, f.tcpFlags.mask];
  if (f.outPort !== undefined) e.outPort = ports.id(f.outPort);
  if (f.via) e.via = f.via;
  if (f.mirrorPort !== undefined) e.mirrorPort = ports.id(f.mirrorPort);
  if (f.setDscp !== undefined) e.setDscp = f.setDscp;
  if (f.meter) e.meter = f.meter;
  return e;
}

export const flowTable = defineTable<Flow, dp.FlowEntry, 'flows'>({
  kind: 'flow',
  name: 'flows',
  order: 3, // forward actions take next hops: after addresses, neighbors and routes
  key: (f) => String(f.id),
  describe: (f) => `flow ${f.id}`,
  exists: (_cur, f) => `flow ${f.id} already exists`,
  missing: (f) => `no flow ${f.id}`,
  matches: (cur, f) => cur.table === f.table,

  addon: { batch: 'flowBatch', dump: 'flowDump' },
  writeOps: { add: 'add', mod: 'replace', del: 'del' },
  toEntry: toFlowEntry,
  deleteEntry: (have) => ({ op: 'del', table: have.table, id: have.id }),
  dumpKey: (have) => String(have.id),
  same: (have, want, ports) => flowText(flowFromDp(have, ports)) === flowText(want),
  reconcileOp: 'replace',
  missingPort(f, ports) {
    const gone = [f.inPort, f.outPort, f.mirrorPort].find((p) => p !== undefined && !ports.has(p));
    return gone && `flow ${f.id} on ${gone}`;
  },
  dpKey: (e) => String(e.id),
  dpPorts: (e) => [e.inPort, e.outPort, e.mirrorPort].filter((p): p is number => p !== undefined),

  fromConfig: (config) => {
    const names = new Set(config.ports.map((p) => p.name));
    return config.flows.map((c, i) => parseFlow(flowSpec(c), `flows[${i}]`, names, false));
  },
});

