/**
 * The UPF session table (SessionService writes; the dataplane's `upf` stage
 * reads: dataplane/include/lr_upf.h): the model entry (a session with its
 * PDRs, FARs, QERs and URRs, ids local to the session as in PFCP), request
 * validation whose errors name the field (the same rules the dataplane
 * enforces, checked here first so that the message names the request's
 * field), the F-TEID / UE IP ownership across sessions, translation to and
 * from the addon's UpfSessionEntry, and its place in reconcile and the
 * journal (persistence through the state store, like flows and routes).
 */
import type * as dp from '../dataplane/addon';
import { exists, invalid } from '../errors';
import type * as api from '../gen';
import { parseIp } from '../model/net';
import type { DesiredState } from '../model/state';
import { type Op, defineTable } from './table';

export const MAX_PDR = 8, MAX_FAR = 8, MAX_QER = 4, MAX_URR = 4, PDR_QERS = 2, PDR_URRS = 2;

export type Iface = dp.UpfInterface;

export interface Pdr {
  id: number;
  precedence: number;
  sourceInterface: Iface;
  teid?: number;          // access
  n3Address?: string;     // access, IPv4
  qfi?: number;           // access, absent: any
  ueAddress?: string;     // core, canonical
  farId: number;
  qerIds: number[];
  urrIds: number[];
}
export interface Far {
  id: number;
  action: 'drop' | 'forward' | 'buffer';
  destinationInterface?: Iface;
  outerHeaderCreation?: { teid: number; address: string; qfi: number };
}
export interface Qer { id: number; gateUl: 'open' | 'closed'; gateDl: 'open' | 'closed'; mbrUl: number; mbrDl: number; qfi: number }
export interface Urr { id: number }
/** A session in canonical form; seid is the decimal text of the 64-bit SEID (JSON-safe). */
export interface Session { seid: string; pdrs: Pdr[]; fars: Far[]; qers: Qer[]; urrs: Urr[] }

/* ---- parsing (field names as in the proto) ---- */

function uint(v: unknown, field: string, max: number, required = true): number {
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(field, 'required');
    return 0;
  }
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < 0 || x > max) throw invalid(field, `must be an integer 0..${max}`);
  return x;
}

export function parseSeid(v: unknown, field: string): string {
  let x: bigint;
  try {
    x = BigInt(String(v ?? ''));
  } catch {
    throw invalid(field, 'must be an unsigned 64-bit integer');
  }
  if (String(v ?? '') === '' || x < 0n || x > 0xffffffffffffffffn) throw invalid(field, 'must be an unsigned 64-bit integer');
  if (x === 0n) throw invalid(field, 'SEID 0 is reserved');
  return x.toString();
}

const IFACE: Record<string, Iface | undefined> = { INTERFACE_ACCESS: 'access', INTERFACE_CORE: 'core', 1: 'access', 2: 'core' };
const ACTION: Record<string, Far['action'] | undefined> = {
  FAR_ACTION_DROP: 'drop', FAR_ACTION_FORWARD: 'forward', FAR_ACTION_BUFFER: 'buffer', 1: 'drop', 2: 'forward', 3: 'buffer',
};
const GATE: Record<string, 'open' | 'closed' | undefined> = { GATE_OPEN: 'open', GATE_CLOSED: 'closed', 0: 'open', 1: 'closed' };

const NOT_UNICAST = ['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal'];

function ipv4(v: unknown, field: string): string {
  const ip = parseIp(v, field);
  if (ip.family !== 4) throw invalid(field, `${ip.address} is not an IPv4 address`);
  if (NOT_UNICAST.includes(ip.ip.range())) throw invalid(field, `${ip.ip.range()} address ${ip.address} is not a unicast address`);
  return ip.address;
}

function dupIds(list: { id: number }[], field: string, what: string): void {
  const seen = new Map<number, number>();
  list.forEach((x, j) => {
    const k = seen.get(x.id);
    if (k !== undefined) throw invalid(`${field}.${what}[${j}].id`, `${x.id} is also ${what}[${k}]`);
    seen.set(x.id, j);
  });
}

/** An api.Session (create / modify) into a valid model session; f is its field ("updates[2].session"). */
export function parseSession(s: api.Session | null | undefined, f: string): Session {
  if (!s) throw invalid(f, 'required');
  const seid = parseSeid(s.seid, `${f}.seid`);
  const pdrsIn = s.pdrs ?? [], farsIn = s.fars ?? [], qersIn = s.qers ?? [], urrsIn = s.urrs ?? [];
  if (pdrsIn.length === 0 || pdrsIn.length > MAX_PDR) throw invalid(`${f}.pdrs`, `1 to ${MAX_PDR} PDRs, got ${pdrsIn.length}`);
  if (farsIn.length === 0 || farsIn.length > MAX_FAR) throw invalid(`${f}.fars`, `1 to ${MAX_FAR} FARs, got ${farsIn.length}`);
  if (qersIn.length > MAX_QER) throw invalid(`${f}.qers`, `at most ${MAX_QER} QERs, got ${qersIn.length}`);
  if (urrsIn.length > MAX_URR) throw invalid(`${f}.urrs`, `at most ${MAX_URR} URRs, got ${urrsIn.length}`);

  const fars: Far[] = farsIn.map((x, j): Far => {
    const g = `${f}.fars[${j}]`;
    const action = ACTION[String(x.action ?? '')];
    if (!action) throw invalid(`${g}.action`, 'required: FAR_ACTION_DROP, FAR_ACTION_FORWARD or FAR_ACTION_BUFFER');
    const far: Far = { id: uint(x.id, `${g}.id`, 0xffff), action };
    if (action !== 'forward') return far;
    const dest = IFACE[String(x.destinationInterface ?? '')];
    if (!dest) throw invalid(`${g}.destination_interface`, 'required: INTERFACE_ACCESS or INTERFACE_CORE');
    far.destinationInterface = dest;
    const ohc = x.outerHeaderCreation;
    if (dest === 'core') {
      if (ohc) throw invalid(`${g}.outer_header_creation`, 'towards CORE (N9) is not supported');
      return far;
    }
    if (!ohc) throw invalid(`${g}.outer_header_creation`, 'forwarding to ACCESS needs it');
    const teid = uint(ohc.peer?.teid, `${g}.outer_header_creation.peer.teid`, 0xffffffff);
    if (teid === 0) throw invalid(`${g}.outer_header_creation.peer.teid`, 'TEID 0 is reserved');
    far.outerHeaderCreation = {
      teid,
      address: ipv4(ohc.peer?.address, `${g}.outer_header_creation.peer.address`),
      qfi: uint(ohc.qfi, `${g}.outer_header_creation.qfi`, 63, false),
    };
    return far;
  });
  const qers: Qer[] = qersIn.map((x, j): Qer => {
    const g = `${f}.qers[${j}]`;
    const gateUl = GATE[String(x.gateUl ?? 'GATE_OPEN')], gateDl = GATE[String(x.gateDl ?? 'GATE_OPEN')];
    if (!gateUl) throw invalid(`${g}.gate_ul`, 'GATE_OPEN or GATE_CLOSED');
    if (!gateDl) throw invalid(`${g}.gate_dl`, 'GATE_OPEN or GATE_CLOSED');
    const mbrUl = uint(x.mbrUl, `${g}.mbr_ul`, Number.MAX_SAFE_INTEGER, false);
    const mbrDl = uint(x.mbrDl, `${g}.mbr_dl`, Number.MAX_SAFE_INTEGER, false);
    if (mbrUl !== 0 && mbrUl < 8) throw invalid(`${g}.mbr_ul`, 'at least 8 bits/s');
    if (mbrDl !== 0 && mbrDl < 8) throw invalid(`${g}.mbr_dl`, 'at least 8 bits/s');
    return { id: uint(x.id, `${g}.id`, 0xffff), gateUl, gateDl, mbrUl, mbrDl, qfi: uint(x.qfi, `${g}.qfi`, 63, false) };
  });
  const urrs: Urr[] = urrsIn.map((x, j) => ({ id: uint(x.id, `${f}.urrs[${j}].id`, 0xffff) }));
  const pdrs: Pdr[] = pdrsIn.map((x, j): Pdr => {
    const g = `${f}.pdrs[${j}]`;
    const src = IFACE[String(x.sourceInterface ?? '')];
    if (!src) throw invalid(`${g}.source_interface`, 'required: INTERFACE_ACCESS or INTERFACE_CORE');
    const p: Pdr = {
      id: uint(x.id, `${g}.id`, 0xffff),
      precedence: uint(x.precedence, `${g}.precedence`, 0xffffffff, false),
      sourceInterface: src,
      farId: uint(x.farId, `${g}.far_id`, 0xffff),
      qerIds: (x.qerIds ?? []).map((q, k) => uint(q, `${g}.qer_ids[${k}]`, 0xffff)),
      urrIds: (x.urrIds ?? []).map((u, k) => uint(u, `${g}.urr_ids[${k}]`, 0xffff)),
    };
    if (src === 'access') {
      const teid = uint(x.localFTeid?.teid, `${g}.local_f_teid.teid`, 0xffffffff);
      if (teid === 0) throw invalid(`${g}.local_f_teid.teid`, 'TEID 0 is reserved');
      p.teid = teid;
      p.n3Address = ipv4(x.localFTeid?.address, `${g}.local_f_teid.address`);
      if (x.qfi !== undefined && x.qfi !== null) p.qfi = uint(x.qfi, `${g}.qfi`, 63);
      if (x.outerHeaderRemoval === false) throw invalid(`${g}.outer_header_removal`, 'an ACCESS PDR removes GTP-U/UDP/IPv4');
      if (x.ueAddress) throw invalid(`${g}.ue_address`, 'an ACCESS PDR is matched by its F-TEID');
    } else {
      const ue = parseIp(x.ueAddress, `${g}.ue_address`);
      if (NOT_UNICAST.includes(ue.ip.range())) {
        throw invalid(`${g}.ue_address`, `${ue.ip.range()} address ${ue.address} is not a unicast address`);
      }
      p.ueAddress = ue.address;
      if (x.qfi !== undefined && x.qfi !== null) throw invalid(`${g}.qfi`, 'only an ACCESS PDR matches a QFI');
      if (x.outerHeaderRemoval) throw invalid(`${g}.outer_header_removal`, 'a CORE PDR has no outer header');
      if (x.localFTeid) throw invalid(`${g}.local_f_teid`, 'a CORE PDR is matched by its UE IP');
    }
    if (p.qerIds.length > PDR_QERS) throw invalid(`${g}.qer_ids`, `at most ${PDR_QERS}, got ${p.qerIds.length}`);
    if (p.urrIds.length > PDR_URRS) throw invalid(`${g}.urr_ids`, `at most ${PDR_URRS}, got ${p.urrIds.length}`);
    return p;
  });
  dupIds(pdrs, f, 'pdrs');
  dupIds(fars, f, 'fars');
  dupIds(qers, f, 'qers');
  dupIds(urrs, f, 'urrs');
  pdrs.forEach((p, j) => {
    const g = `${f}.pdrs[${j}]`;
    const far = fars.find((x) => x.id === p.farId);
    if (!far) throw invalid(`${g}.far_id`, `no FAR ${p.farId} in the session`);
    if (far.action === 'forward' && far.destinationInterface === p.sourceInterface) {
      throw invalid(`${g}.far_id`, `FAR ${p.farId} forwards to ${p.sourceInterface.toUpperCase()}, where this PDR's traffic comes from`);
    }
    p.qerIds.forEach((q, k) => {
      if (!qers.some((x) => x.id === q)) throw invalid(`${g}.qer_ids[${k}]`, `no QER ${q} in the session`);
    });
    p.urrIds.forEach((u, k) => {
      if (!urrs.some((x) => x.id === u)) throw invalid(`${g}.urr_ids[${k}]`, `no URR ${u} in the session`);
    });
  });
  return { seid, pdrs, fars, qers, urrs };
}

/* ---- ownership of F-TEIDs and UE IPs across sessions ---- */

const ulKey = (p: Pdr): string => `${p.teid}@${p.n3Address}`;

/** Who holds each local F-TEID and UE IP: built from the state, updated as a batch is validated. */
export class SessionKeys {
  private readonly ul = new Map<string, string>();
  private readonly dl = new Map<string, string>();

  constructor(state: DesiredState) {
    for (const s of state.sessions.values()) this.add(s);
  }
  add(s: Session): void {
    for (const p of s.pdrs) {
      if (p.sourceInterface === 'access') this.ul.set(ulKey(p), s.seid);
      else this.dl.set(p.ueAddress!, s.seid);
    }
  }
  remove(s: Session): void {
    for (const p of s.pdrs) {
      if (p.sourceInterface === 'access') this.ul.delete(ulKey(p));
      else this.dl.delete(p.ueAddress!);
    }
  }
  /** Throws ALREADY_EXISTS naming the PDR field when another session holds a key of s. */
  check(s: Session, f: string): void {
    s.pdrs.forEach((p, j) => {
      if (p.sourceInterface === 'access') {
        const o = this.ul.get(ulKey(p));
        if (o !== undefined && o !== s.seid) {
          throw exists(`${f}.pdrs[${j}].local_f_teid`, `F-TEID ${p.teid} at ${p.n3Address} is used by session ${o}`);
        }
      } else {
        const o = this.dl.get(p.ueAddress!);
        if (o !== undefined && o !== s.seid) throw exists(`${f}.pdrs[${j}].ue_address`, `UE IP ${p.ueAddress} is used by session ${o}`);
      }
    });
  }
}

/* ---- translation ---- */

/** The comparable text of a model session or a dumped one (counters left out). */
export function sessionText(s: Session | dp.UpfSessionEntry): string {
  return JSON.stringify({
    seid: String(s.seid),
    pdrs: s.pdrs.map((p) => ({
      id: p.id, precedence: p.precedence, sourceInterface: p.sourceInterface, teid: p.teid ?? null,
      n3Address: p.n3Address ?? null, qfi: p.qfi ?? null, ueAddress: p.ueAddress ?? null, farId: p.farId,
      qerIds: p.qerIds, urrIds: p.urrIds,
    })),
    fars: s.fars.map((x) => ({
      id: x.id, action: x.action, destinationInterface: x.action === 'forward' ? x.destinationInterface ?? null : null,
      ohc: x.outerHeaderCreation ? [x.outerHeaderCreation.teid, x.outerHeaderCreation.address, x.outerHeaderCreation.qfi] : null,
    })),
    qers: s.qers.map((q) => ({ id: q.id, gateUl: q.gateUl, gateDl: q.gateDl, mbrUl: String(q.mbrUl), mbrDl: String(q.mbrDl), qfi: q.qfi })),
    urrs: s.urrs.map((u) => u.id),
  });
}

function toEntry(s: Session, op: dp.BatchOp): dp.UpfSessionEntry {
  if (op === 'del') return { op, seid: s.seid, pdrs: [], fars: [], qers: [], urrs: [] };
  return {
    op,
    seid: s.seid,
    pdrs: s.pdrs.map((p) => ({ ...p, outerHeaderRemoval: p.sourceInterface === 'access' ? true : undefined })),
    fars: s.fars.map((x) => ({ ...x })),
    qers: s.qers.map((q) => ({ ...q })),
    urrs: s.urrs.map((u) => ({ id: u.id })),
  };
}

export const sessionTable = defineTable<Session, dp.UpfSessionEntry, 'sessions'>({
  kind: 'session',
  name: 'sessions',
  order: 5, // after the UPF configuration (the N3 address and port roles)
  key: (s) => s.seid,
  describe: (s) => `session ${s.seid}`,
  exists: (_cur, s) => `session ${s.seid} exists`,
  missing: (s) => `no session ${s.seid}`,

  addon: { batch: 'upfSessionWrite', dump: 'upfSessionDump' },
  writeOps: { add: 'add', mod: 'replace', del: 'del' },
  toEntry: (s, op) => toEntry(s, op),
  deleteEntry: (have) => ({ op: 'del', seid: String(have.seid), pdrs: [], fars: [], qers: [], urrs: [] }),
  dumpKey: (have) => String(have.seid),
  same: (have, want) => sessionText(have) === sessionText(want),
  // a changed session is deleted and created again (a modify of an absent one would fail)
  reconcileOp: 'add',
  missingPort: () => undefined,
  dpKey: (e) => String(e.seid),
  dpPorts: () => [],
});

/** The op of a SessionUpdate. */
export function sessionOp(v: unknown, field: string): Op {
  switch (String(v ?? '')) {
    case 'SESSION_OP_CREATE': case '1': return 'add';
    case 'SESSION_OP_MODIFY': case '2': return 'mod';
    case 'SESSION_OP_DELETE': case '3': return 'del';
    default: throw invalid(field, 'required: SESSION_OP_CREATE, SESSION_OP_MODIFY or SESSION_OP_DELETE');
  }
}
