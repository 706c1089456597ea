/**
 * Channel counts (queues) of a kernel network device, what `ethtool -l` /
 * `ethtool -L` read and set, through the ethtool binary (Debian's ethtool
 * package; its netlink interface needs no library here). Used by
 * services/irq.ts: a device's channels are what its IRQs serve. Always
 * the real kernel: no prepared tree stands in for the ethtool netlink API.
 */
import { execFile } from 'node:child_process';
import { status } from '@grpc/grpc-js';
import { ApiError, invalid, notFound } from '../errors';

export interface ChannelCounts { rx: number; tx: number; other: number; combined: number }
export interface Channels { device: string; max: ChannelCounts; current: ChannelCounts }

const KINDS = ['rx', 'tx', 'other', 'combined'] as const;
const devName = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,15}$/;

function ethtool(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('ethtool', args, { timeout: 10000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ stdout, stderr: stderr || (err && code === -1 ? err.message : ''), code });
    });
  });
}

/** The error of a failed ethtool run as an API error naming the device. */
function ethtoolError(dev: string, field: string, what: string, stderr: string): ApiError {
  const msg = stderr.trim().split('\n').pop() ?? '';
  if (/no device matches name|No such device/i.test(msg)) return notFound(field, `no kernel network device ${dev}`);
  if (/not supported/i.test(msg)) return new ApiError(status.FAILED_PRECONDITION, `${field}: ${dev}: its driver has no channel settings (${what}: ${msg})`);
  if (/exceeds maximum|Invalid argument/i.test(msg)) return invalid(field, `${dev}: ${what}: ${msg}`);
  return new ApiError(status.INTERNAL, `${field}: ${dev}: ${what}: ${msg || 'failed'}`);
}

/** Parses `ethtool -l` ("Pre-set maximums:" then "Current hardware settings:"; n/a = 0). */
export function parseChannels(device: string, text: string): Channels {
  const blocks = text.split(/Current hardware settings:/);
  const read = (b: string): ChannelCounts => {
    const get = (label: string): number => {
      const m = new RegExp(`^${label}:\\s*(\\S+)`, 'mi').exec(b);
      return m && /^\d+$/.test(m[1]) ? Number(m[1]) : 0;
    };
    return { rx: get('RX'), tx: get('TX'), other: get('Other'), combined: get('Combined') };
  };
  if (blocks.length !== 2) throw new Error(`ethtool -l ${device}: unexpected output`);
  return { device, max: read(blocks[0]), current: read(blocks[1]) };
}

export async function getChannels(dev: string, field = 'device'): Promise<Channels> {
  if (!devName.test(dev)) throw notFound(field, `no kernel network device ${JSON.stringify(dev.slice(0, 64))}`);
  const r = await ethtool(['-l', dev]);
  if (r.code !== 0) throw ethtoolError(dev, field, 'ethtool -l', r.stderr);
  return parseChannels(dev, r.stdout);
}

/**
 * Sets the non-zero counts of `want` (ethtool -L), each checked against the
 * device's maximum first; returns the channels read back.
 */
export async function setChannels(dev: string, want: Partial<ChannelCounts>, field = 'device'): Promise<Channels> {
  const cur = await getChannels(dev, field);
  const args: string[] = [];
  for (const k of KINDS) {
    const n = want[k] ?? 0;
    if (!n) continue;
    if (cur.max[k] === 0) throw invalid(`channels.${k}`, `${dev} has no ${k} channels (maximums: rx ${cur.max.rx}, tx ${cur.max.tx}, other ${cur.max.other}, combined ${cur.max.combined})`);
    if (n > cur.max[k]) throw invalid(`channels.${k}`, `${n}, but ${dev} takes at most ${cur.max[k]}`);
    args.push(k, String(n));
  }
  if (!args.length) throw invalid('channels', 'no count given');
  const same = KINDS.every((k) => !want[k] || want[k] === cur.current[k]);
  if (!same) {
    const r = await ethtool(['-L', dev, ...args]);
    if (r.code !== 0) throw ethtoolError(dev, field, `ethtool -L ${args.join(' ')}`, r.stderr);
  }
  return getChannels(dev, field);
}
