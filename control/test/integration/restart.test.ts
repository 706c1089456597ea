/**
 * Control-plane restart: linerate-dp keeps forwarding while `linerate serve`
 * is killed with SIGKILL, and a new serve re-attaches to it (same process,
 * same boot id) with every route in place. Then the dataplane itself is
 * killed too: the next serve spawns a fresh one and reprograms it from the
 * persisted desired state.
 */
import * as assert from 'node:assert/strict';
import type * as api from '../../src/gen';
import { isAlive } from '../helpers/cleanup';
import { sleep, waitFor } from '../helpers/env';
import { dataplaneTables, dumpOnFailure, requireIntegration, startRig, stopRig, stopRigAndCheckClean, type Rig } from '../helpers/fixture';
import * as pkt from '../helpers/pkt';
import type { PacketSpec } from '../helpers/pkt';

const NH_MAC = '02:00:5e:00:02:11';
const N_ROUTES = 300;

function routes(): api.Route[] {
  const out: api.Route[] = [];
  for (let i = 0; i < N_ROUTES; i++) {
    out.push({ prefix: `172.${16 + (i >> 8)}.${i & 255}.0/24`, nextHops: [{ port: 'p1', via: '10.3.1.2' }] });
  }
  out.push({ prefix: '2001:db8:33::/48', nextHops: [{ port: 'p1', via: '2001:db8:3:1::2' }] });
  return out;
}

describe('integration: control plane restart', function () {
  this.timeout(180000);
  let rig: Rig | undefined;
  let p0Mac = '';
  let listed: string[] = [];
  let programmed: Awaited<ReturnType<typeof dataplaneTables>>;
  const client = () => rig!.client();
  const w = (i: number) => rig!.wires[i];

  const probe = (tag: string): PacketSpec[] => [
    { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: '10.3.0.2', dst: '172.16.7.9', ttl: 64, tag: `${tag}-v4a` },
    { kind: 'udp4', src_mac: w(0).hostMac, dst_mac: p0Mac, src: '10.3.0.2', dst: `172.17.${(N_ROUTES - 1) & 255}.1`, ttl: 64, tag: `${tag}-v4b` },
    { kind: 'udp6', src_mac: w(0).hostMac, dst_mac: p0Mac, src: '2001:db8:3::2', dst: '2001:db8:33::5', hlim: 64, tag: `${tag}-v6` },
  ];

  /** Sends the probe packets and asserts each crossed to p1 with the neighbor's MAC. */
  async function crosses(tag: string): Promise<void> {
    const specs = probe(tag);
    const r = await pkt.exchange({ send: w(0).host, sniff: [w(1).host], packets: specs, expect: specs.length });
    for (const s of specs) {
      const f = r.captured.filter((c) => c.decoded.tag === s.tag);
      assert.equal(f.length, 1, `${s.tag} did not cross (${r.captured.length} captured)`);
      assert.equal(f[0].decoded.eth!.dst, NH_MAC);
    }
  }

  async function table(): Promise<string[]> {
    return (await client().route.listAllRoutes({ excludeConnected: true }))
      .map((r) => `${r.prefix} ${r.nextHops.map((n) => `${n.port}/${n.via}`).join(',')}`).sort();
  }

  before(async function () {
    requireIntegration(this);
    rig = await startRig('rst', 2, (wires) => ({
      ports: [
        { name: 'p0', device: wires[0].device(0), addresses: ['10.3.0.1/24', '2001:db8:3::1/64'] },
        { name: 'p1', device: wires[1].device(1), addresses: ['10.3.1.1/24', '2001:db8:3:1::1/64'] },
      ],
    }));
    p0Mac = (await client().port.getPort({ name: 'p0' })).mac;
    await client().neighbor.addNeighbors({
      neighbors: [{ port: 'p1', address: '10.3.1.2', mac: NH_MAC }, { port: 'p1', address: '2001:db8:3:1::2', mac: NH_MAC }],
    });
    assert.equal((await client().route.addRoutes({ routes: routes() })).applied, N_ROUTES + 1);
    listed = await table();
    assert.equal(listed.length, N_ROUTES + 1);
    programmed = await dataplaneTables(rig);
    // Configured routes + 4 connected subnets; 2 static neighbors; 4 addresses.
    assert.equal(programmed.routes.length, N_ROUTES + 1 + 4);
    assert.equal(programmed.neighbors.length, 2);
    assert.equal(programmed.addresses.length, 4);
  });

  afterEach(function () {
    dumpOnFailure(this, rig);
  });

  after(() => stopRig(rig));

  it('forwards before the restart', async () => {
    await crosses('before');
  });

  it('keeps forwarding while serve is killed -9 and down', async function () {
    const dp = await client().dataplane.getDataplane({});
    const dpPid = dp.pid;
    assert.ok(isAlive(dpPid));
    // A stream that spans the kill: not one packet may be lost.
    const spec = probe('kill')[0];
    const streaming = pkt.stream({ send: w(0).host, sniff: [w(1).host], packets: [spec], durationS: 3, pps: 300 });
    await streaming.started;
    await sleep(800);
    const servePid = rig!.serve.proc!.pid!;
    await rig!.serve.kill9();
    assert.equal(isAlive(servePid), false, 'serve is gone');
    const r = await streaming.done;
    const got = new Set(r.captured.map((c) => c.tag));
    const lost = r.sent.filter((s) => !got.has(s.tag));
    assert.ok(r.sent.length > 600, `stream too thin: ${r.sent.length}`);
    assert.equal(lost.length, 0, `${lost.length} of ${r.sent.length} packets lost around the kill`);
    // Still down: the dataplane runs on its own.
    assert.ok(isAlive(dpPid), 'dataplane survived serve');
    await crosses('down');
  });

  it('re-attaches to the same dataplane on restart, with every route', async () => {
    const pidBefore = rig!.serve.dataplanePid();
    await rig!.serve.start();
    const dp = await client().dataplane.getDataplane({});
    assert.equal(dp.attached, true);
    assert.equal(dp.pid, pidBefore, 'same dataplane process');
    assert.equal(dp.spawns, 0, 'serve did not spawn a new dataplane');
    assert.deepEqual(await table(), listed);
    assert.deepEqual(await dataplaneTables(rig!), programmed);
    const n = (await client().neighbor.listNeighbors({})).neighbors.filter((x) => x.state === 'STATIC');
    assert.equal(n.length, 2);
    await crosses('reattached');
  });

  it('respawns a killed dataplane and reprograms it from the persisted state', async () => {
    const old = await client().dataplane.getDataplane({});
    await rig!.serve.kill9();
    process.kill(old.pid, 'SIGKILL');
    await waitFor('old dataplane to exit', () => !isAlive(old.pid), 5000);
    await rig!.serve.start();
    const dp = await client().dataplane.getDataplane({});
    rig!.pids.add(dp.pid);
    assert.equal(dp.attached, true);
    assert.notEqual(dp.pid, old.pid);
    assert.notEqual(dp.bootId, old.bootId);
    assert.equal(dp.spawns, 1);
    assert.deepEqual(await table(), listed);
    // A new process, reprogrammed from the persisted state: same tables.
    assert.deepEqual(await dataplaneTables(rig!), programmed);
    await waitFor('forwarding on the new dataplane', async () => {
      await crosses('respawned');
      return true;
    }, 10000, 500);
  });

  // Last child suite: mocha runs a suite's own tests before its child suites.
  describe('cleanup', () => {
    it('leaves no process, interface, socket, stats or hugepage file behind', () => {
      const r = rig!;
      rig = undefined;
      stopRigAndCheckClean(r);
    });
  });
});
