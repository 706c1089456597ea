/**
 * Test networks made of veth pairs.
 *
 * A Wire is a veth pair in the root namespace: the `dp` end is given to the
 * dataplane (net_af_packet), the `host` end is where the tests send and
 * capture with AF_PACKET sockets. Both ends have no IPv4 address, IPv6
 * disabled and checksum offloads off, so the kernel adds no traffic of its
 * own and every checksum on the wire is a real one.
 *
 * A Lab is the demo's shape: each host end lives in its own namespace with
 * real addresses and a default route through the dataplane, so ping and
 * ping -6 cross it with kernel traffic.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as ipaddr from 'ipaddr.js';
import { defer, tryRun } from './cleanup';

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

function ip(...args: string[]): string {
  return run('ip', args);
}

function inNs(ns: string | undefined, cmd: string, args: string[]): string {
  return ns ? run('ip', ['netns', 'exec', ns, cmd, ...args]) : run(cmd, args);
}

function macOf(ifname: string, ns?: string): string {
  const out = JSON.parse(inNs(ns, 'ip', ['-j', 'link', 'show', 'dev', ifname])) as { address: string }[];
  return out[0].address;
}

/** Quiet, offload-free link: no IPv6 (no RS, MLD, DAD), no checksum offload. */
function quiet(ifname: string, ns?: string, keepIpv6 = false): void {
  if (!keepIpv6) inNs(ns, 'sysctl', ['-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
  // ethtool -K fails on a feature that cannot change: set each on its own.
  for (const feature of ['rx', 'tx', 'tso', 'gso', 'gro', 'sg']) {
    try {
      inNs(ns, 'ethtool', ['-K', ifname, feature, 'off']);
    } catch {
      /* not supported by this device: nothing to turn off */
    }
  }
  inNs(ns, 'ip', ['link', 'set', 'dev', ifname, 'up']);
}

export interface Wire {
  /** End given to the dataplane. */
  dp: string;
  dpMac: string;
  /** End the tests send on and capture from. */
  host: string;
  hostMac: string;
  /** Port device (af_packet vdev devargs) of the dp end. */
  device(index: number): string;
  destroy(): void;
}

/** Interface names: lrt<id><index><a|b>, well under IFNAMSIZ. */
export function wireNames(id: string, index: number): { dp: string; host: string } {
  return { dp: `lrt${id}${index}a`, host: `lrt${id}${index}b` };
}

/**
 * The PMD the suites drive the dp ends with: af_packet by default;
 * LINERATE_TEST_PMD=af_xdp runs them on AF_XDP sockets (copy mode on veth)
 * instead, which see frames before the kernel's IP layer (no reassembly).
 */
export const TEST_PMD = process.env.LINERATE_TEST_PMD === 'af_xdp' ? 'af_xdp' : 'af_packet';

function afPacketDevice(iface: string, index: number): string {
  // One RX queue per port keeps per-port ordering simple.
  if (TEST_PMD === 'af_xdp') return `net_af_xdp${index},iface=${iface},start_queue=0,queue_count=1`;
  return `net_af_packet${index},iface=${iface},qpairs=1`;
}

export function createWire(id: string, index: number): Wire {
  const { dp, host } = wireNames(id, index);
  ip('link', 'add', dp, 'type', 'veth', 'peer', 'name', host);
  const destroy = defer(`veth ${dp}`, () => tryRun('ip', ['link', 'del', dp]));
  try {
    quiet(dp);
    quiet(host);
    return {
      dp, host, dpMac: macOf(dp), hostMac: macOf(host),
      device: (i: number) => afPacketDevice(dp, i),
      destroy,
    };
  } catch (err) {
    destroy();
    throw err;
  }
}

export interface LabSide {
  ns: string;
  /** Root-namespace end given to the dataplane. */
  dp: string;
  dpMac: string;
  /** End inside the namespace. */
  host: string;
  hostMac: string;
  /** Host addresses (no prefix length). */
  hostV4: string;
  hostV6: string;
  /** Dataplane port addresses, CIDR (what the port must own). */
  gwV4Cidr: string;
  gwV6Cidr: string;
  device(index: number): string;
}

export interface Lab {
  sides: LabSide[];
  /** Runs a command inside side i's namespace. */
  exec(i: number, cmd: string, args: string[]): string;
  destroy(): void;
}

/**
 * Two namespaces, lrt<id>n0 and lrt<id>n1, each joined to the root
 * namespace by a veth; side i uses 10.<200+i>.<x>.0/24 and
 * fd00:<id>:<i>::/64 with the dataplane at .1 / ::1 and the host at .2 / ::2.
 */
export function createLab(id: string, n = 2): Lab {
  const undo: (() => void)[] = [];
  const sides: LabSide[] = [];
  const third = parseInt(id, 16) % 250;
  try {
    for (let i = 0; i < n; i++) {
      const ns = `lrt${id}n${i}`;
      const { dp, host } = wireNames(id, i);
      ip('netns', 'add', ns);
      undo.push(defer(`netns ${ns}`, () => tryRun('ip', ['netns', 'del', ns])));
      ip('link', 'add', dp, 'type', 'veth', 'peer', 'name', host, 'netns', ns);
      undo.push(defer(`veth ${dp}`, () => tryRun('ip', ['link', 'del', dp])));
      quiet(dp);
      quiet(host, ns, true);
      const v4 = `10.${200 + i}.${third}`;
      const v6 = `fd00:${id}:${i}`;
      // Canonical text (RFC 5952), as the API prints addresses.
      const canon6 = (a: string) => ipaddr.IPv6.parse(a).toRFC5952String();
      inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
      inNs(ns, 'ip', ['addr', 'add', `${v4}.2/24`, 'dev', host]);
      inNs(ns, 'ip', ['-6', 'addr', 'add', `${v6}::2/64`, 'dev', host, 'nodad']);
      inNs(ns, 'ip', ['route', 'add', 'default', 'via', `${v4}.1`]);
      inNs(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', `${v6}::1`]);
      sides.push({
        ns, dp, host, dpMac: macOf(dp), hostMac: macOf(host, ns),
        hostV4: `${v4}.2`, hostV6: canon6(`${v6}::2`),
        gwV4Cidr: `${v4}.1/24`, gwV6Cidr: `${canon6(`${v6}::1`)}/64`,
        device: (idx: number) => afPacketDevice(dp, idx),
      });
    }
  } catch (err) {
    for (const u of undo.reverse()) u();
    throw err;
  }
  return {
    sides,
    exec: (i, cmd, args) => inNs(sides[i].ns, cmd, args),
    destroy: () => {
      for (const u of [...undo].reverse()) u();
    },
  };
}

/** Interfaces (root namespace) and namespaces of this run that still exist. */
export function leftovers(id: string): string[] {
  const out: string[] = [];
  for (const ifname of fs.readdirSync('/sys/class/net')) if (ifname.startsWith(`lrt${id}`)) out.push(ifname);
  for (const ns of fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []) {
    if (ns.startsWith(`lrt${id}`)) out.push(`netns ${ns}`);
  }
  return out;
}
