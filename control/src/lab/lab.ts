/**
 * The lab: network namespaces playing hosts, each joined to the forwarder by
 * a veth pair whose host end a DPDK af_packet port opens. Creation is
 * idempotent and keeps existing links (a running dataplane may hold their
 * af_packet sockets); destruction removes what the config names.
 *
 * Host end: IPv6 off (the kernel must not talk on the forwarder's wire) and
 * up. Namespace end: DAD off (addresses usable at once), addresses, default
 * routes, and TX checksum offload off: af_packet sees frames before the
 * kernel fills partial checksums, so offloaded frames would leave the
 * forwarder with bad TCP/UDP checksums.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { Config } from '../config/schema';
import { silentLogger, type Logger } from '../log';
import { parseCidr, parseIp } from '../model/net';

const run = promisify(execFile);

export type LabConfig = NonNullable<Config['lab']>;
type LabNs = LabConfig['namespaces'][number];

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: 15000 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

async function ok(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}

const peerOf = (ns: LabNs): string => ns.peer ?? `${ns.veth}-ns`.slice(0, 15);

async function netnsExists(name: string): Promise<boolean> {
  return fs.existsSync(`/run/netns/${name}`);
}

/** Creates (or completes) every namespace and veth pair of the lab. */
export async function createLab(lab: LabConfig, log: Logger = silentLogger): Promise<void> {
  for (const ns of lab.namespaces) {
    const peer = peerOf(ns);
    if (!(await netnsExists(ns.name))) await sh('ip', ['netns', 'add', ns.name]);
    if (!(await ok('ip', ['link', 'show', 'dev', ns.veth]))) {
      await sh('ip', ['link', 'add', ns.veth, 'type', 'veth', 'peer', 'name', peer, 'netns', ns.name]);
      log.info({ veth: ns.veth, peer, netns: ns.name }, 'lab: veth pair created');
    }
    // Host end: a bare wire for the forwarder.
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${ns.veth}/disable_ipv6`, '1');
    await sh('ip', ['link', 'set', 'dev', ns.veth, 'up']);
    await ok('ethtool', ['-K', ns.veth, 'tx', 'off']);
    // Namespace end: the host.
    await sh('ip', ['netns', 'exec', ns.name, 'sh', '-c',
      `echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; ` +
      `echo 0 > /proc/sys/net/ipv6/conf/${peer}/accept_dad`]);
    await sh('ip', ['-n', ns.name, 'link', 'set', 'dev', 'lo', 'up']);
    await sh('ip', ['-n', ns.name, 'link', 'set', 'dev', peer, 'up']);
    await ok('ip', ['netns', 'exec', ns.name, 'ethtool', '-K', peer, 'tx', 'off']);
    for (const a of ns.addresses) {
      const c = parseCidr(a, 'address');
      await sh('ip', ['-n', ns.name, ...(c.family === 6 ? ['-6'] : []), 'addr', 'replace', c.cidr, 'dev', peer,
        ...(c.family === 6 ? ['nodad'] : [])]);
    }
    for (const g of ns.gateways) {
      const ip = parseIp(g, 'gateway');
      await sh('ip', ['-n', ns.name, ...(ip.family === 6 ? ['-6'] : []), 'route', 'replace', 'default', 'via', ip.address,
        'dev', peer]);
    }
  }
  log.info({ namespaces: lab.namespaces.map((n) => n.name) }, 'lab ready');
}

/** Removes the lab's veth pairs and namespaces (missing ones are fine). */
export async function destroyLab(lab: LabConfig, log: Logger = silentLogger): Promise<void> {
  for (const ns of lab.namespaces) {
    await ok('ip', ['link', 'del', 'dev', ns.veth]);
    if (await netnsExists(ns.name)) await ok('ip', ['netns', 'del', ns.name]);
  }
  log.info({ namespaces: lab.namespaces.map((n) => n.name) }, 'lab removed');
}
