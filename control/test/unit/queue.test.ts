/**
 * QueueService over real gRPC on the fake dataplane: request checks name
 * the field and stop a bad batch before the dataplane; a good batch is
 * handed over whole. The moves themselves, under traffic, are in
 * integration/queue.test.ts (the real dataplane).
 */
import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { type Harness, rejectsWith, startHarness } from './helpers';
import { assignByLoad, resolveRssFields } from '../../src/services/queue';
import { loadAddon } from '../../src/dataplane/addon';

describe('QueueService on a fake dataplane', function () {
  this.timeout(20000);
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => { await h.close(); });

  it('lists the map with port names; checks every move before the dataplane sees the batch', async () => {
    const m = await h.client.queue.listQueues({});
    assert.deepEqual(m.queues.map((q) => [q.port, q.queue, q.worker, q.lcore]), [['p0', 0, 0, 1], ['p1', 0, 0, 1]]);
    assert.equal(m.workers, 1);
    const mv = (moves: { port?: string; queue?: number; worker?: number }[]) => h.client.queue.moveQueues({ moves });
    await rejectsWith(mv([]), status.INVALID_ARGUMENT, /^moves: empty/);
    await rejectsWith(mv([{ port: 'p0', queue: 0, worker: 0 }, { port: 'px', queue: 0, worker: 0 }]), status.NOT_FOUND,
      /^moves\[1\]\.port: unknown port "px"/);
    await rejectsWith(mv([{ port: 'p1', queue: 1, worker: 0 }]), status.NOT_FOUND, /^moves\[0\]\.queue: port p1 has 1 RX queue\(s\), no queue 1/);
    await rejectsWith(mv([{ port: 'p1', queue: 0, worker: 1 }]), status.NOT_FOUND, /^moves\[0\]\.worker: no worker 1 \(the dataplane has 1\)/);
    await rejectsWith(mv(Array.from({ length: 257 }, () => ({ port: 'p0', queue: 0, worker: 0 }))), status.RESOURCE_EXHAUSTED,
      /^moves: 257 moves exceed the limit of 256/);
    await rejectsWith(h.client.queue.listQueues({ port: 'p5' }), status.NOT_FOUND, /^port: unknown port "p5"/);
    assert.equal(h.world.queueMoves.length, 0, 'nothing reached the dataplane');
    const r = await mv([{ port: 'p1', queue: 0, worker: 0 }, { port: 'p0', queue: 0, worker: 0 }]);
    assert.deepEqual(h.world.queueMoves, [[{ portId: 1, queue: 0, worker: 0 }, { portId: 0, queue: 0, worker: 0 }]]);
    assert.equal(r.version, 2);
  });

  it('assigns by load: heaviest queue first onto the least loaded worker, ties stay put', () => {
    const q = (worker: number, cycles: number, queue = 0) => ({ portId: 0, queue, worker, cycles });
    // Two heavy queues on worker 0, two light on worker 1: one heavy moves.
    assert.deepEqual(assignByLoad([q(0, 100), q(0, 90, 1), q(1, 10, 2), q(1, 5, 3)], 2), [0, 1, 1, 1]);
    // Nothing measured: nothing moves.
    assert.deepEqual(assignByLoad([q(1, 0), q(1, 0, 1), q(0, 0, 2)], 2), [1, 1, 0]);
    // Balanced already: stays.
    assert.deepEqual(assignByLoad([q(0, 50), q(1, 50, 1)], 2), [0, 1]);
    // Idle queues stay where they are, whatever the balance.
    assert.deepEqual(assignByLoad([q(0, 80), q(0, 70, 1), q(0, 0, 2), q(0, 0, 3)], 2), [0, 1, 0, 0]);
    // Three workers, one hot queue each after.
    assert.deepEqual(assignByLoad([q(0, 30), q(0, 30, 1), q(0, 30, 2)], 3), [0, 1, 2]);
  });

  it('resolves RSS field names: groups to the part the device supports, in bit order; bad names named with the supported set', () => {
    const a = loadAddon();
    const names = { fields: a.rssFields, groups: a.rssGroups };
    const cur = { portId: 0, rxQueues: 2, rssHf: 0n, fields: [], supported: ['ipv4', 'ipv4-tcp', 'ipv6', 'ipv6-tcp'], defaults: [] };
    assert.deepEqual(resolveRssFields(['tcp', 'ipv4'], cur, names, 'x0', 'net_x'), ['ipv4', 'ipv4-tcp', 'ipv6-tcp']);
    assert.deepEqual(resolveRssFields([' IPv6 ', 'ipv6'], cur, names, 'x0', 'net_x'), ['ipv6']);
    const err = (f: () => unknown, code: number, re: RegExp) => assert.throws(f, (e: { code: number; message: string }) =>
      e.code === code && re.test(e.message));
    err(() => resolveRssFields(['ipv4', 'bogus'], cur, names, 'x0', 'net_x'), status.INVALID_ARGUMENT,
      /^fields\[1\]: unknown RSS hash field "bogus"; port x0 \(net_x\) supports ipv4, ipv4-tcp, ipv6, ipv6-tcp; groups: ip, tcp, udp, sctp, tunnel, vlan$/);
    err(() => resolveRssFields(['udp'], cur, names, 'x0', 'net_x'), status.INVALID_ARGUMENT,
      /^fields\[0\]: the device cannot hash on any field of the group "udp" \(ipv4-udp, ipv6-udp, ipv6-udp-ex\)/);
    err(() => resolveRssFields(['ipv6-ex'], cur, names, 'x0', 'net_x'), status.INVALID_ARGUMENT, /^fields\[0\]: the device cannot hash on "ipv6-ex"/);
    err(() => resolveRssFields([], cur, names, 'x0', 'net_x'), status.INVALID_ARGUMENT, /^fields: required/);
    err(() => resolveRssFields(['ipv4'], { ...cur, supported: [] }, names, 'x0', 'net_y'), status.FAILED_PRECONDITION,
      /^port x0: the device \(net_y\) hashes on no RSS field \(flow_type_rss_offloads 0\)/);
  });
});
