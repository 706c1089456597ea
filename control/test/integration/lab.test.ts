/**
 * Real kernel traffic end to end, in the demo's shape: two network
 * namespaces, each joined by a veth to an af_packet port of linerate-dp.
 * ping and ping -6 go from one namespace to the other through the
 * forwarder, which resolves the hosts itself (ARP / ND) and answers pings
 * to its own addresses. The CLI reads the result like an operator would.
 *
 *   lrt<id>n0 (10.200.x.2) ── p0 [linerate-dp] p1 ── lrt<id>n1 (10.201.x.2)
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as ipaddr from 'ipaddr.js';
import { defer, isAlive, tryRun } from '../helpers/cleanup';
import { CLI, hugepageFiles, newHugepageFiles, uniqueId, waitFor } from '../helpers/env';
import { dumpOnFailure, requireIntegration, startLabRig, stopRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import { Serve } from '../helpers/serve';
import { leftovers, type LabSide } from '../helpers/topology';

const run = promisify(execFile);

interface PingResult { sent: number; received: number; ttls: number[]; out: string }

async function ping(ns: string, target: string, count: number, v6 = false): Promise<PingResult> {
  const args = ['netns', 'exec', ns, 'ping', ...(v6 ? ['-6'] : []), '-n', '-c', String(count), '-i', '0.2', '-W', '1', target];
  let out: string;
  try {
    out = (await run('ip', args, { timeout: 30000 })).stdout;
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? String(e);
  }
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const ttls = [...out.matchAll(/ttl=(\d+)/g)].map((x) => Number(x[1]));
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), ttls, out };
}

async function cli(rig: Rig, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, '--addr', `127.0.0.1:${rig.serve.grpcPort}`, ...args], { timeout: 30000 });
  return stdout;
}

describe('integration: namespaces ping each other through linerate-dp', function () {
  this.timeout(120000);
  let rig: Rig | undefined;
  const side = (i: number): LabSide => rig!.lab!.sides[i];
  const client = () => rig!.client();

  before(async function () {
    requireIntegration(this);
    rig = await startLabRig('lab', (lab) => ({
      ports: lab.sides.map((s, i) => ({ name: `p${i}`, device: s.device(i), addresses: [s.gwV4Cidr, s.gwV6Cidr] })),
    }));
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => stopRig(rig));

  it('ping (IPv4) crosses, TTL decremented once', async () => {
    // The first echo may wait for ARP resolution on the far side.
    await waitFor('a first IPv4 echo reply', async () => (await ping(side(0).ns, side(1).hostV4, 1)).received === 1, 15000, 200);
    const r = await ping(side(0).ns, side(1).hostV4, 5);
    assert.equal(r.received, 5, r.out);
    // The far host answers with TTL 64; the forwarder is one hop.
    assert.deepEqual(r.ttls, [63, 63, 63, 63, 63], r.out);
  });

  it('ping -6 crosses, hop limit decremented once', async () => {
    await waitFor('a first IPv6 echo reply', async () => (await ping(side(0).ns, side(1).hostV6, 1, true)).received === 1, 15000, 200);
    const r = await ping(side(0).ns, side(1).hostV6, 5, true);
    assert.equal(r.received, 5, r.out);
    assert.deepEqual(r.ttls, [63, 63, 63, 63, 63], r.out);
  });

  it('works the other way round too', async () => {
    const r4 = await ping(side(1).ns, side(0).hostV4, 3);
    const r6 = await ping(side(1).ns, side(0).hostV6, 3, true);
    assert.equal(r4.received, 3, r4.out);
    assert.equal(r6.received, 3, r6.out);
  });

  it('answers pings to its own addresses', async () => {
    const gw4 = side(0).gwV4Cidr.split('/')[0];
    const gw6 = side(0).gwV6Cidr.split('/')[0];
    const r4 = await ping(side(0).ns, gw4, 3);
    const r6 = await ping(side(0).ns, gw6, 3, true);
    assert.equal(r4.received, 3, r4.out);
    assert.equal(r6.received, 3, r6.out);
  });

  it('learned the hosts\' MACs from ARP and ND', async () => {
    const { neighbors } = await client().neighbor.listNeighbors({});
    for (const [i, s] of rig!.lab!.sides.entries()) {
      for (const address of [s.hostV4, s.hostV6]) {
        const n = neighbors.find((x) => x.address === address);
        assert.ok(n, `no neighbor entry for ${address}: ${JSON.stringify(neighbors)}`);
        assert.equal(n.port, `p${i}`);
        assert.equal(n.mac, s.hostMac);
        assert.equal(n.state, 'LEARNED');
      }
    }
  });

  it('the CLI shows the traffic in stats and the learned neighbors', async () => {
    const stats = JSON.parse(await cli(rig!, 'stats', '--json')) as {
      ports: { name: string; forwarded: string; rx: { packets: string } }[]; slowPath: Record<string, string>;
    };
    // The first packet to a host not yet resolved is held and sent by the main lcore (a punt, not a forward).
    const held = BigInt(stats.slowPath.neigh_hold_sent ?? '0');
    for (const name of ['p0', 'p1']) {
      const p = stats.ports.find((x) => x.name === name);
      assert.ok(p, `port ${name} in stats`);
      // 1 + 5 + 3 echo requests (or replies) each way and family at least.
      assert.ok(BigInt(p.forwarded) + held >= 18n, `${name} forwarded ${p.forwarded}, ${held} held then sent`);
    }
    const neigh = JSON.parse(await cli(rig!, 'neigh', 'list', '--json')) as { address: string }[];
    assert.ok(neigh.some((n) => n.address === side(1).hostV4));
  });

  // Last child suite: mocha runs a suite's own tests before its child suites.
  describe('cleanup', () => {
    it('leaves no process, namespace, interface, socket, stats or hugepage file behind', () => {
      const r = rig!;
      rig = undefined;
      stopRigAndCheckClean(r);
    });
  });
});

/**
 * What `npm start` (serve --demo) relies on: serve creates the lab from the
 * config's `lab` section, and with --stop-dataplane (implied by --demo) it
 * stops the dataplane and removes the lab on SIGTERM. Same shape as the
 * demo, with this run's own names and addresses.
 */
describe('integration: serve builds the lab of its config and removes it on exit', function () {
  this.timeout(120000);
  let serve: Serve | undefined;
  let id = '';
  let hugepagesBefore = new Set<string>();
  const ns = (i: number) => `lrt${id}n${i}`;
  const v4 = (i: number, host: number) => `10.${210 + i}.${parseInt(id, 16) % 250}.${host}`;
  const v6 = (i: number, host: number) => ipaddr.IPv6.parse(`fd00:${id}:${10 + i}::${host}`).toRFC5952String();

  before(async function () {
    requireIntegration(this);
    id = uniqueId();
    hugepagesBefore = hugepageFiles();
    // Registered before serve creates them: removed even if serve does not.
    for (let i = 0; i < 2; i++) {
      defer(`lab ${ns(i)}`, () => {
        tryRun('ip', ['netns', 'del', ns(i)]);
        tryRun('ip', ['link', 'del', `lrt${id}${i}a`]);
      });
    }
    serve = new Serve({
      name: `lrt-${id}-demo`,
      ports: [0, 1].map((i) => ({
        name: `p${i}`, device: `net_af_packet${i},iface=lrt${id}${i}a,qpairs=1`, addresses: [`${v4(i, 1)}/24`, `${v6(i, 1)}/64`],
      })),
      extraConfig: {
        lab: {
          namespaces: [0, 1].map((i) => ({
            name: ns(i), veth: `lrt${id}${i}a`, peer: `lrt${id}${i}b`,
            addresses: [`${v4(i, 2)}/24`, `${v6(i, 2)}/64`], gateways: [v4(i, 1), v6(i, 1)],
          })),
        },
      },
      serveArgs: ['--stop-dataplane'],
    });
    await serve.start();
  });

  after(() => serve?.destroy());

  it('pings across the lab serve created, both families', async () => {
    await waitFor('a first IPv4 echo reply', async () => (await ping(ns(0), v4(1, 2), 1)).received === 1, 15000, 200);
    await waitFor('a first IPv6 echo reply', async () => (await ping(ns(0), v6(1, 2), 1, true)).received === 1, 15000, 200);
    const r4 = await ping(ns(0), v4(1, 2), 3);
    const r6 = await ping(ns(0), v6(1, 2), 3, true);
    assert.equal(r4.received, 3, r4.out);
    assert.equal(r6.received, 3, r6.out);
  });

  it('on SIGTERM stops the dataplane and removes the namespaces and veths', async () => {
    const s = serve!;
    const dpPid = s.dataplanePid();
    assert.ok(dpPid, 'dataplane pid');
    assert.equal(leftovers(id).length, 4, `lab present (2 veths, 2 namespaces): ${leftovers(id).join(' ')}`);
    await s.stop(20000);
    await waitFor('the dataplane to exit', () => !isAlive(dpPid), 10000);
    assert.deepEqual(leftovers(id), []);
    serve = undefined;
    s.destroy();
    assert.deepEqual(newHugepageFiles(hugepagesBefore), [], 'hugepage files left');
  });
});
