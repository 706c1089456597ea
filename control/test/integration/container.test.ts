/**
 * linerate deployed the way operators run it, on a real Docker engine (its
 * own dockerd, started and stopped here through control/deploy/engine.sh;
 * the base and the image are cached in /var/cache/linerate-docker):
 *
 *   lrt<id>n0 ── veth ──┐                        ┌── veth ── lrt<id>n1
 *                 [container A, host network: serve + linerate-dp on af_packet]
 *                        ▲ 127.0.0.1:PORT_A
 *                 [sidecar, --network container:A: the linerate CLI]
 *
 *   [container P: linerate-pktgen] ⇄ memif (volume) ⇄ [container B, host network]
 *
 * A and B run side by side (two instances on one host: names, EAL file
 * prefixes, sockets, stats files and gRPC ports of their own); a third
 * instance whose gRPC port collides with A's stops with a clear error.
 * Every write goes through a sidecar over 127.0.0.1; the test itself only
 * reads (a gRPC client on the same loopback) and sends traffic. Restarting
 * A or B (docker restart) keeps every rule (state on a volume); killing the
 * sidecar leaves forwarding alone. The run flags are those of the README's
 * "Containers" section.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { requireIntegration } from '../helpers/fixture';
import { sleep, tempDir, uniqueId, waitFor } from '../helpers/env';
import { connectClient, type TestClient } from '../helpers/grpc';
import { createLab, leftovers, type Lab } from '../helpers/topology';
import { containerLog, containerState, docker, dockerRun, engineMissing, IMAGE, memlockFlags, ownContainer, ownVolume,
  startEngine, stopEngine } from '../helpers/docker';

/** Least privilege for linerate in host mode (README "Containers": each flag and why). */
function linerateFlags(name: string, stateVolume: string, configDir: string, extra: string[] = []): string[] {
  return [
    '--name', name, '--network', 'host',
    '--cap-drop', 'ALL',
    '--cap-add', 'IPC_LOCK',          // mlock of DPDK's hugepage memory
    '--cap-add', 'SYS_NICE',          // set_mempolicy/mbind (NUMA placement): Docker's seccomp allows them only with it
    '--cap-add', 'NET_RAW',           // af_packet ports: AF_PACKET sockets
    '--cap-add', 'NET_ADMIN',         // af_packet ports: promiscuous mode, MTU
    ...memlockFlags(),
    '--security-opt', 'no-new-privileges',
    '--mount', 'type=bind,src=/dev/hugepages,dst=/dev/hugepages',
    '--cpuset-cpus', '0,1',           // the config's lcores 0,1
    '-v', `${stateVolume}:/var/lib/linerate`,
    '-v', `${configDir}:/etc/linerate:ro`,
    ...extra,
    IMAGE, 'serve', '--config', '/etc/linerate/linerate.yaml', '--stop-dataplane',
  ];
}

function writeConfig(dir: string, cfg: unknown): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'linerate.yaml'), YAML.stringify(cfg));
}

/** A random loopback port for one instance (host network: every instance shares the host's ports). */
function freePort(): number {
  return 41000 + crypto.randomInt(0, 8000);
}

const DATAPLANE = { lcores: '0,1', idleSleepUs: 50, routes4: 65536, routes6: 4096, neighbors: 1024, mbufs: 16384 };
const FWD_MAC = ['02:00:00:00:01:00', '02:00:00:00:01:01'];
const GEN_MAC = ['02:00:00:00:00:00', '02:00:00:00:00:01'];

describe('integration: containers (host network, sidecar, memif between containers)', function () {
  this.timeout(180000);
  const id = uniqueId();
  const A = `lrt-${id}-a`;
  const B = `lrt-${id}-b`;
  const portA = freePort();
  const portB = portA + 1;
  let lab: Lab | undefined;
  let dir = '';
  let clientA: TestClient | undefined;
  let clientB: TestClient | undefined;
  let memifVolume = '';
  const routeDst = `198.51.${100 + (parseInt(id, 16) % 50)}`;

  /** Runs the CLI in a fresh sidecar sharing `target`'s network namespace (gRPC on its loopback). */
  const sidecar = async (target: string, port: number, args: string[]): Promise<string> =>
    docker(['run', '--rm', '--network', `container:${target}`, '--cap-drop', 'ALL', '--read-only',
      '--security-opt', 'no-new-privileges', IMAGE, '--addr', `127.0.0.1:${port}`, ...args]);

  const attached = async (c: TestClient, name: string, ms = 60000) =>
    waitFor(`${name} attached`, async () => {
      const d = await c.dataplane.getDataplane({});
      return d.attached ? d : undefined;
    }, ms, 250).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${name} log:\n${await containerLog(name)}`);
    });

  /** ping from side `from`'s namespace; a first one resolves the neighbors on the way (not counted). */
  const ping = (from: number, to: string, count = 3): string => {
    try {
      lab!.exec(from, 'ping', ['-c', '1', '-W', '2', '-q', to]);
    } catch { /* the counted pings say whether it works */ }
    return lab!.exec(from, 'ping', ['-c', String(count), '-i', '0.2', '-W', '2', '-q', to]);
  };
  /** The same, running while the caller does something else. */
  const pingWhile = (from: number, to: string, count: number): Promise<string> => {
    ping(from, to, 1);
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', lab!.sides[from].ns, 'ping', '-c', String(count), '-i', '0.05', '-W', '2', '-q', to],
        { encoding: 'utf8' }, (err, out) => (err && !out ? reject(err) : resolve(out)));
    });
  };

  before(async function () {
    this.timeout(25 * 60000); // a cold image build on 2 vCPUs; seconds once cached
    requireIntegration(this);
    const why = engineMissing();
    if (why) {
      process.stderr.write(`  skipping: no Docker engine can be started here: ${why}\n`);
      this.skip();
    }
    await startEngine(22 * 60000);
    dir = tempDir('ctr');
    lab = createLab(id);
    const s = lab.sides;
    // Only ports: addresses and routes come from the sidecar.
    writeConfig(path.join(dir, 'a'), {
      name: A, grpc: { listen: `127.0.0.1:${portA}` }, dataplane: DATAPLANE,
      ports: [{ name: 'p0', device: s[0].device(0) }, { name: 'p1', device: s[1].device(1) }],
    });
    // The address behind the route: on n1's loopback, reached only through the route.
    lab.exec(1, 'ip', ['addr', 'add', `${routeDst}.1/32`, 'dev', 'lo']);
    memifVolume = `lrt-${id}-memif`;
    await ownVolume(`lrt-${id}-state-a`);
    await ownVolume(`lrt-${id}-state-b`);
    await ownVolume(memifVolume);
  });

  after(async function () {
    this.timeout(120000);
    clientA?.close();
    clientB?.close();
    if (!lab) return;
    for (const n of [A, B, `${A}-side`, `lrt-${id}-c`, `lrt-${id}-gen`]) await dockerRun(['rm', '-f', '-v', n]);
    for (const v of [`lrt-${id}-state-a`, `lrt-${id}-state-b`, memifVolume]) await dockerRun(['volume', 'rm', '-f', v]);
    const left = (await docker(['ps', '-aq', '--filter', `name=lrt-${id}`])).trim();
    lab.destroy();
    stopEngine();
    assert.equal(left, '', 'containers left behind');
    assert.deepEqual(leftovers(id), [], 'interfaces or namespaces left behind');
  });

  it('runs linerate in host network mode with gRPC on loopback only, least privilege', async () => {
    ownContainer(A);
    await docker(['run', '-d', ...linerateFlags(A, `lrt-${id}-state-a`, path.join(dir, 'a'))]);
    clientA = connectClient(`127.0.0.1:${portA}`);
    const d = await attached(clientA, A);
    assert.equal(d.name, A);
    assert.equal(d.ports, 2);
    const inspect = JSON.parse(await docker(['inspect', A]))[0] as {
      HostConfig: { NetworkMode: string; Privileged: boolean; CapAdd: string[]; CapDrop: string[]; PortBindings: object | null; CpusetCpus: string };
    };
    assert.equal(inspect.HostConfig.NetworkMode, 'host');
    assert.equal(inspect.HostConfig.Privileged, false);
    assert.deepEqual([...inspect.HostConfig.CapAdd].sort(), ['IPC_LOCK', 'NET_ADMIN', 'NET_RAW', 'SYS_NICE']);
    assert.deepEqual(inspect.HostConfig.CapDrop, ['ALL']);
    assert.equal(inspect.HostConfig.CpusetCpus, '0,1');
    // Listening on 127.0.0.1 only, in the host's namespace (no port published, no NAT).
    const tcp = fs.readFileSync('/proc/net/tcp', 'utf8');
    const hex = portA.toString(16).toUpperCase().padStart(4, '0');
    assert.match(tcp, new RegExp(`0100007F:${hex} 00000000:0000 0A`), 'gRPC listens on 127.0.0.1');
    assert.doesNotMatch(tcp, new RegExp(`00000000:${hex} 00000000:0000 0A`), 'gRPC is not on 0.0.0.0');
  });

  it('forwards between two namespaces as programmed by a sidecar over 127.0.0.1', async () => {
    const s = lab!.sides;
    await sidecar(A, portA, ['addr', 'add', s[0].gwV4Cidr, '--port', 'p0']);
    await sidecar(A, portA, ['addr', 'add', s[1].gwV4Cidr, '--port', 'p1']);
    await sidecar(A, portA, ['route', 'add', `${routeDst}.0/24`, '--port', 'p1', '--via', s[1].hostV4]);
    const routes = await clientA!.route.listAllRoutes({ excludeConnected: true });
    assert.deepEqual(routes.map((r) => r.prefix), [`${routeDst}.0/24`]);
    // Connected routes (ns0 → ns1) and the sidecar's route (ns0 → n1's loopback).
    assert.match(ping(0, s[1].hostV4), / 0% packet loss/);
    assert.match(ping(0, `${routeDst}.1`), / 0% packet loss/);
    // The sidecar's own view, over the same loopback.
    const listed = await sidecar(A, portA, ['route', 'list', '--no-connected', '--json']);
    assert.match(listed, new RegExp(`"prefix": ?"${routeDst.replace(/\./g, '\\.')}\\.0/24"`));
  });

  it('docker kill of a sidecar does nothing to forwarding', async () => {
    const before = await clientA!.dataplane.getDataplane({});
    ownContainer(`${A}-side`);
    await docker(['run', '-d', '--name', `${A}-side`, '--network', `container:${A}`, '--cap-drop', 'ALL', '--read-only',
      IMAGE, '--addr', `127.0.0.1:${portA}`, 'stats', '--watch', '--json']);
    await waitFor('sidecar running', async () => (await containerState(`${A}-side`)).status === 'running', 20000, 200);
    await sleep(1500); // it has connected and streamed a few samples
    const pings = pingWhile(0, `${routeDst}.1`, 60); // 3 s of pings around the kill
    await sleep(500);
    await docker(['kill', `${A}-side`]);
    assert.match(await pings, /60 packets transmitted, 60 received, 0% packet loss/);
    assert.equal((await containerState(`${A}-side`)).status, 'exited');
    const after = await clientA!.dataplane.getDataplane({});
    assert.equal(after.bootId, before.bootId, 'the same dataplane');
    assert.equal(after.attaches, before.attaches, 'serve never lost it');
    assert.equal((await containerState(A)).status, 'running');
  });

  it('docker restart of linerate keeps every rule (state on a volume)', async () => {
    const before = await clientA!.dataplane.getDataplane({});
    await docker(['restart', A], 120000);
    const d = await attached(clientA!, A);
    assert.notEqual(d.bootId, before.bootId, 'a new dataplane');
    const routes = await clientA!.route.listAllRoutes({ excludeConnected: true });
    assert.deepEqual(routes.map((r) => r.prefix), [`${routeDst}.0/24`]);
    const ports = (await clientA!.port.listPorts({})).ports;
    assert.deepEqual(ports.map((p) => p.addresses.map((a) => a.cidr)), [[lab!.sides[0].gwV4Cidr], [lab!.sides[1].gwV4Cidr]]);
    assert.match(ping(0, `${routeDst}.1`), / 0% packet loss/);
  });

  it('forwards end to end between containers over memif (linerate ⇄ linerate-pktgen), a second instance beside the first', async () => {
    const sock = (i: number) => `/run/memif/p${i}.sock`;
    writeConfig(path.join(dir, 'b'), {
      name: B, grpc: { listen: `127.0.0.1:${portB}` }, dataplane: DATAPLANE,
      ports: [0, 1].map((i) => ({
        name: `p${i}`, device: `net_memif${i},role=server,id=0,socket=${sock(i)},socket-abstract=no`, mac: FWD_MAC[i],
        addresses: [`192.168.${i}.1/24`],
      })),
      neighbors: [0, 1].map((i) => ({ address: `192.168.${i}.2`, mac: GEN_MAC[i], port: `p${i}` })),
    });
    ownContainer(B);
    // memif needs neither NET_RAW nor NET_ADMIN: only the memory ones.
    await docker(['run', '-d', '--name', B, '--network', 'host', '--cap-drop', 'ALL', '--cap-add', 'IPC_LOCK', '--cap-add', 'SYS_NICE',
      ...memlockFlags(), '--security-opt', 'no-new-privileges',
      '--mount', 'type=bind,src=/dev/hugepages,dst=/dev/hugepages', '--cpuset-cpus', '0,1',
      '-v', `lrt-${id}-state-b:/var/lib/linerate`, '-v', `${path.join(dir, 'b')}:/etc/linerate:ro`, '-v', `${memifVolume}:/run/memif`,
      IMAGE, 'serve', '--config', '/etc/linerate/linerate.yaml', '--stop-dataplane']);
    clientB = connectClient(`127.0.0.1:${portB}`);
    const d = await attached(clientB, B);
    // Two instances on one host: their own names, file prefixes, sockets, stats files, gRPC ports.
    const a = await clientA!.dataplane.getDataplane({});
    assert.notEqual(d.name, a.name);
    assert.notEqual(d.ctlPath === a.ctlPath && d.statsPath === a.statsPath, true);
    await sidecar(B, portB, ['route', 'add', '10.1.0.0/16', '--port', 'p1', '--via', '192.168.1.2']);
    const gen = await runPktgen();
    assert.ok(gen.tx.packets > 10000, `pktgen sent ${gen.tx.packets}`);
    assert.equal(gen.rx.unique, gen.tx.packets, `all ${gen.tx.packets} packets came back through linerate`);
    const p1 = (await clientB.stats.getStats({})).ports.find((p) => p.name === 'p1');
    assert.ok(p1 && BigInt(p1.tx!.packets) >= BigInt(gen.tx.packets), `linerate p1 sent ${p1?.tx?.packets}`);

    // Restart: the route is kept, and traffic flows again.
    await docker(['restart', B], 120000);
    await attached(clientB, B);
    const routes = await clientB.route.listAllRoutes({ excludeConnected: true });
    assert.deepEqual(routes.map((r) => r.prefix), ['10.1.0.0/16']);
    const again = await runPktgen();
    assert.equal(again.rx.unique, again.tx.packets, 'forwarding again after the restart');
  });

  it('a third instance whose gRPC port collides stops with an error naming the port', async () => {
    const C = `lrt-${id}-c`;
    const cdir = path.join(dir, 'c');
    writeConfig(cdir, {
      name: C, grpc: { listen: `127.0.0.1:${portA}` }, dataplane: DATAPLANE,
      ports: [{ name: 'p0', device: 'net_null0' }],
    });
    ownContainer(C);
    await docker(['run', '-d', '--name', C, '--network', 'host', '--cap-drop', 'ALL', '-v', `${cdir}:/etc/linerate:ro`,
      IMAGE, 'serve', '--config', '/etc/linerate/linerate.yaml']);
    const st = await waitFor('the colliding instance exits', async () => {
      const s = await containerState(C);
      return s.status === 'exited' ? s : undefined;
    }, 30000, 250);
    assert.equal(st.exitCode, 1);
    const log = await containerLog(C);
    assert.match(log, new RegExp(`127\\.0\\.0\\.1:${portA} is already in use`));
    // A is untouched.
    assert.equal((await clientA!.dataplane.getDataplane({})).attached, true);
    assert.match(ping(0, `${routeDst}.1`), / 0% packet loss/);
  });

  interface GenResult { tx: { packets: number }; rx: { unique: number; steady: { mpps: number } } }

  /** linerate-pktgen in its own container, memif client of B's two ports (sockets on the shared volume). */
  async function runPktgen(): Promise<GenResult> {
    const name = `lrt-${id}-gen`;
    const out = await docker(['run', '--rm', '--name', name, '--network', 'none', '--cap-drop', 'ALL', '--cap-add', 'IPC_LOCK', '--cap-add', 'SYS_NICE',
      ...memlockFlags(), '--security-opt', 'no-new-privileges',
      '--mount', 'type=bind,src=/dev/hugepages,dst=/dev/hugepages', '--cpuset-cpus', '0',
      '-v', `${memifVolume}:/run/memif`, '--entrypoint', 'linerate-pktgen', IMAGE,
      '-l', '0', '--no-pci', '--in-memory', '--file-prefix', name, '--log-level', 'warning', '--',
      '--tx-port', `net_memif_g0,role=client,socket=/run/memif/p0.sock,socket-abstract=no,mac=${GEN_MAC[0]}`,
      '--rx-port', `net_memif_g1,role=client,socket=/run/memif/p1.sock,socket-abstract=no,mac=${GEN_MAC[1]}`,
      '--dst-mac', FWD_MAC[0], '--dst', '10.1.0.1', '--flows', '16', '--rate-pps', '200000', '--duration', '1',
      '--start-delay-ms', '200', '--json'], 60000);
    return JSON.parse(out.trim().split('\n').pop()!) as GenResult;
  }
});
