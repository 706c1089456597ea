/**
 * SessionService and UpfService on the fake dataplane: validation naming
 * the field, one status per session, a session the dataplane refuses
 * reported while the rest of the batch applies, the reconcile comparison
 * (a session read back equals the desired one, so a re-attach pushes
 * nothing), and sessions and the UPF configuration kept across a serve
 * restart and pushed into a restarted dataplane.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import { PortMap } from '../../src/dataplane/translate';
import type * as api from '../../src/gen';
import { parseSession, sessionTable } from '../../src/tables/session';
import { FakeWorld } from './fake-dataplane';
import { startHarness, tempDir } from './helpers';

function session(seid: string, teid: number, ue: string): api.Session {
  return {
    seid,
    pdrs: [
      { id: 1, precedence: 10, sourceInterface: 'INTERFACE_ACCESS', localFTeid: { teid, address: '10.0.1.1' }, qfi: 9, farId: 1, qerIds: [1], urrIds: [1] },
      { id: 2, precedence: 10, sourceInterface: 'INTERFACE_CORE', ueAddress: ue, farId: 2, qerIds: [1], urrIds: [1] },
    ],
    fars: [
      { id: 1, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_CORE' },
      { id: 2, action: 'FAR_ACTION_FORWARD', destinationInterface: 'INTERFACE_ACCESS',
        outerHeaderCreation: { peer: { teid: 77, address: '10.0.1.2' }, qfi: 9 } },
    ],
    qers: [{ id: 1, gateUl: 'GATE_OPEN', gateDl: 'GATE_CLOSED', mbrUl: '1000000', qfi: 9 }],
    urrs: [{ id: 1 }],
  };
}
const create = (s: api.Session): api.SessionUpdate => ({ op: 'SESSION_OP_CREATE', session: s });

describe('UPF sessions on a fake dataplane', function () {
  this.timeout(20000);

  it('names the field of each bad session, applies the good ones, reports a dataplane refusal', async () => {
    const h = await startHarness();
    try {
      await h.client.upf.setConfig({ n3Address: '10.0.1.1', ports: { p0: 'INTERFACE_ACCESS', p1: 'INTERFACE_CORE' } });
      const bad = session('3', 300, '10.45.0.3');
      bad.fars![1] = { ...bad.fars![1], outerHeaderCreation: { peer: { teid: 0, address: '10.0.1.2' }, qfi: 9 } };
      const v6 = session('4', 400, '2001:db8:45::4');
      h.world.refuse.add('5');
      const r = await h.client.session.write({ updates: [
        create(session('1', 100, '10.45.0.1')),
        create(session('2', 100, '10.45.0.2')),   // F-TEID of session 1
        create(bad),
        create(v6),
        create(session('5', 500, '10.45.0.5')),   // the (fake) dataplane refuses it
        { op: 'SESSION_OP_DELETE', session: { seid: '9' } },
      ] });
      assert.deepEqual(r.statuses.map((s) => s.code),
        [0, status.ALREADY_EXISTS, status.INVALID_ARGUMENT, 0, status.INVALID_ARGUMENT, status.NOT_FOUND]);
      assert.match(r.statuses[1].message, /^updates\[1\]\.session\.pdrs\[0\]\.local_f_teid: F-TEID 100 at 10\.0\.1\.1 is used by session 1/);
      assert.match(r.statuses[2].message, /^updates\[2\]\.session\.fars\[1\]\.outer_header_creation\.peer\.teid: TEID 0 is reserved/);
      assert.match(r.statuses[4].message, /^updates\[4\]\.session: dataplane: refused 5/);
      assert.match(r.statuses[5].message, /^updates\[5\]\.session\.seid: no session 9/);
      assert.equal(r.applied, 2);
      assert.deepEqual([...h.world.tables.sessions.keys()].sort(), ['1', '4']);
      assert.deepEqual((await h.client.session.listAll({})).map((s) => s.seid), ['1', '4']);
      const one = await h.client.session.read({ seid: '4' });
      assert.equal(one.pdrs[1].ueAddress, '2001:db8:45::4');
      // a delete frees the F-TEID for another session in the same batch
      const r2 = await h.client.session.write({ updates: [
        { op: 'SESSION_OP_DELETE', session: { seid: '1' } }, create(session('6', 100, '10.45.0.1')),
      ] });
      assert.deepEqual(r2.statuses.map((s) => s.code), [0, 0]);
      assert.deepEqual([...h.world.tables.sessions.keys()].sort(), ['4', '6']);
    } finally {
      await h.close();
    }
  });

  it('a session read back from the dataplane is the desired one: reconcile leaves it alone', () => {
    const ports = new PortMap([]);
    const m = parseSession(session('7', 700, '10.45.0.7'), 's');
    const e = sessionTable.toEntry(m, 'add', ports);
    // as the addon's dump gives it: bigint SEID and rates, counters, no op
    const dumped = { ...e, op: undefined, seid: 7n, qers: e.qers.map((q) => ({ ...q, mbrUl: BigInt(q.mbrUl), mbrDl: BigInt(q.mbrDl) })),
      urrs: [{ id: 1, ulPackets: 5n, ulBytes: 500n, dlPackets: 0n, dlBytes: 0n }] };
    assert.equal(sessionTable.same(dumped, m, ports), true);
    assert.equal(sessionTable.same({ ...dumped, seid: 8n }, m, ports), false);
  });

  it('sessions and the UPF configuration survive a serve restart and refill a restarted dataplane', async () => {
    const dir = tempDir('upf');
    try {
      const world = new FakeWorld();
      let h = await startHarness({}, world, dir);
      await h.client.upf.setConfig({ n3Address: '10.0.1.1', ports: { p0: 'INTERFACE_ACCESS', p1: 'INTERFACE_CORE' } });
      await h.client.session.write({ updates: [create(session('1', 100, '10.45.0.1')), create(session('2', 200, '10.45.0.2'))] });
      await h.close();
      world.restart();
      h = await startHarness({}, world, dir);
      assert.deepEqual([...world.tables.sessions.keys()].sort(), ['1', '2']);
      assert.deepEqual([...world.tables.upfConfig.values()].map((c) => [c.n3Address, c.ports]), [['10.0.1.1', { 0: 'access', 1: 'core' }]]);
      assert.deepEqual((await h.client.session.listAll({})).map((s) => s.seid), ['1', '2']);
      const cfg = await h.client.upf.getConfig({});
      assert.deepEqual(cfg.ports, { p0: 'INTERFACE_ACCESS', p1: 'INTERFACE_CORE' });
      // re-attached to the same (now full) dataplane: nothing more is pushed
      const n = world.batches.length;
      await h.close();
      h = await startHarness({}, world, dir);
      assert.equal(world.batches.filter((b, i) => i >= n && (b.kind === 'session' || b.kind === 'upf-config')).length, 0);
      await h.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
