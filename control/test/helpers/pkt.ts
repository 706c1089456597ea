/**
 * Typed wrapper of control/test/pkt/pkt.py: packets are built and decoded
 * by scapy (in Debian's python), the assertions stay in mocha.
 */
import { spawn } from 'node:child_process';
import { PKT_PY, PYTHON } from './env';

/** A packet to build; see build_one() in pkt.py for the kinds. */
export interface PacketSpec {
  kind: 'udp4' | 'icmp4' | 'udp6' | 'icmp6_echo' | 'arp_request' | 'arp_reply' | 'nd_ns' | 'nd_na' | 'raw' | 'gtpu4' | 'gtpu_echo';
  src_mac?: string;
  dst_mac?: string;
  ethertype?: number;
  src?: string;
  dst?: string;
  ttl?: number;
  hlim?: number;
  ihl?: number;
  id?: number;
  len?: number;
  plen?: number;
  chksum?: number;
  version?: number;
  proto?: number;
  sport?: number;
  dport?: number;
  payload_len?: number;
  tag?: string;
  truncate?: number;
  psrc?: string;
  pdst?: string;
  hwdst?: string;
  target?: string;
  hex?: string;
  /** IPv4 flags (2 = DF, 1 = MF) and fragment offset (8-byte units). */
  flags?: number;
  frag?: number;
  /** icmp4: ICMP type. */
  type?: number;
  /** gtpu4: TEID, UL PDU Session Container QFI (absent: no extension), message type, inner packet. */
  teid?: number;
  qfi?: number;
  pdu_type?: number;
  gtp_type?: number;
  inner_src?: string;
  inner_dst?: string;
  inner_sport?: number;
  inner_dport?: number;
  /** gtpu_echo: sequence number. */
  seq?: number;
  /** [offset, byte] pairs written into the built frame (malformed packets). */
  patch?: [number, number][];
}

/** A quoted IPv4 header in an ICMP error, as scapy decodes it. */
export interface QuotedIp4 { src: string; dst: string; id: number; ttl: number; len: number; proto: number; hex: string }
export interface Icmp6Error {
  type: number; code: number; cksum: number; cksum_ok: boolean; mtu: number | null;
  quoted: { src: string; dst: string; hlim: number; plen: number } | null;
}

export interface Decoded {
  len: number;
  tag: string | null;
  summary?: string;
  error?: string;
  eth?: { src: string; dst: string; type: number };
  ipv4?: { src: string; dst: string; ttl: number; ihl: number; len: number; proto: number; chksum: number; chksum_ok: boolean };
  ipv6?: { src: string; dst: string; hlim: number; plen: number; nh: number };
  udp?: { sport: number; dport: number; chksum: number; chksum_ok: boolean };
  icmp?: { type: number; code: number; chksum: number; chksum_ok: boolean; mtu?: number | null; quoted?: QuotedIp4 };
  icmp6_unreach?: Icmp6Error;
  icmp6_too_big?: Icmp6Error;
  icmp6_time_exceeded?: Icmp6Error;
  icmp6_echo_request?: { id: number; seq: number; cksum: number; cksum_ok: boolean };
  icmp6_echo_reply?: { id: number; seq: number; cksum: number; cksum_ok: boolean };
  arp?: { op: number; hwsrc: string; psrc: string; hwdst: string; pdst: string };
  nd_ns?: { target: string; lladdr: string | null; cksum_ok: boolean };
  nd_na?: { target: string; R: number; S: number; O: number; lladdr: string | null; cksum_ok: boolean };
  gtpu?: {
    type: number; teid: number; length: number; E: number; S: number; seq: number | null;
    container?: { type: number; qfi: number };
    inner?: { src: string; dst: string; len: number; ttl: number };
    echo_ies?: [number, string][];
  };
}

export interface Frame { t: number; iface: string; hex: string; decoded: Decoded }
export interface ExchangeResult { sent: { t: number; hex: string; decoded: Decoded }[]; captured: Frame[] }
export interface StreamResult { sent: { t: number; tag: string }[]; captured: { t: number; iface: string; tag: string | null }[] }

interface PktRun<T> {
  /** Resolves when pkt.py prints STARTED on stderr (stream: traffic flows). */
  started: Promise<void>;
  done: Promise<T>;
}

function runPkt<T>(args: string[], input: unknown, timeoutMs: number): PktRun<T> {
  let onStarted: () => void = () => undefined;
  let onNotStarted: (e: Error) => void = () => undefined;
  const started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    onNotStarted = reject;
  });
  started.catch(() => undefined); // callers that never wait for it
  const done = new Promise<T>((resolve, reject) => {
    const child = spawn(PYTHON, [PKT_PY, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('STARTED\n')) onStarted();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      onNotStarted(e);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const fail = code !== 0 ? new Error(`pkt.py ${args[0]} failed (${signal ?? code}): ${err.trim()}`) : undefined;
      onNotStarted(fail ?? new Error(`pkt.py ${args[0]} ended without STARTED`));
      if (fail) {
        reject(fail);
        return;
      }
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(new Error(`pkt.py ${args[0]}: bad JSON (${(e as Error).message}): ${out.slice(0, 200)} ${err}`));
      }
    });
    child.stdin.on('error', () => undefined); // a failed pkt.py is reported by its exit code
    child.stdin.end(JSON.stringify(input));
  });
  return { started, done };
}

export interface ExchangeOptions {
  send: string;
  sniff: string[];
  packets: PacketSpec[];
  /** Seconds to wait for frames after the last one is sent. */
  timeout?: number;
  /** Stop waiting once this many frames were captured (then linger 0.3 s). */
  expect?: number;
  gapMs?: number;
}

/** Sends `packets` on one interface and captures what arrives on others. */
export function exchange(o: ExchangeOptions): Promise<ExchangeResult> {
  const timeout = o.timeout ?? 2;
  const args = ['exchange', '--send-iface', o.send, '--packets', '-', '--timeout', String(timeout)];
  for (const s of o.sniff) args.push('--sniff-iface', s);
  if (o.expect !== undefined) args.push('--expect', String(o.expect));
  if (o.gapMs !== undefined) args.push('--gap-ms', String(o.gapMs));
  return runPkt<ExchangeResult>(args, o.packets, (timeout + 20) * 1000).done;
}

export interface StreamOptions {
  send: string;
  sniff: string[];
  packets: PacketSpec[];
  durationS: number;
  pps: number;
}

/**
 * Sends `packets` round-robin at `pps` for `durationS` and reports the send
 * and capture time of every tagged frame; `started` resolves when the
 * first packet is about to leave (python and scapy take ~1 s to load).
 */
export function stream(o: StreamOptions): PktRun<StreamResult> {
  const args = ['stream', '--send-iface', o.send, '--packets', '-', '--duration', String(o.durationS), '--pps', String(o.pps)];
  for (const s of o.sniff) args.push('--sniff-iface', s);
  return runPkt<StreamResult>(args, o.packets, (o.durationS + 30) * 1000);
}

/** Builds packets without sending them (to compare with what came out). */
export function build(packets: PacketSpec[]): Promise<{ hex: string; decoded: Decoded }[]> {
  return runPkt<{ hex: string; decoded: Decoded }[]>(['build', '--packets', '-'], packets, 30000).done;
}

/** Reassembles IPv4 fragments (hex frames) with scapy: the hex of each whole IP packet. */
export function reassemble(frames: string[]): Promise<string[]> {
  return runPkt<string[]>(['reassemble'], frames, 30000).done;
}

/** tshark's independent view of frames: the asked fields per frame, and its expert warnings. */
export function tshark(frames: string[], fields: string[]): Promise<{ rows: Record<string, string>[]; expert: string }> {
  const args = ['tshark'];
  for (const f of fields) args.push('--field', f);
  return runPkt<{ rows: Record<string, string>[]; expert: string }>(args, frames, 60000).done;
}
