import * as assert from 'node:assert/strict';
import { buildStats } from '../../src/stats/rates';
import { FakeWorld } from './fake-dataplane';

describe('stats rates', () => {
  it('computes rates over the time between snapshots of one dataplane', () => {
    const w = new FakeWorld(['p0']);
    w.rxPackets = 1_000_000n;
    w.busyCycles = 1_000_000_000n;
    const a = w.snapshot();
    w.rxPackets = 3_000_000n;
    w.busyCycles = 1_500_000_000n;
    const b = { ...w.snapshot(), takenNs: a.takenNs + 2_000_000_000n };
    const s = buildStats(b, a);
    assert.equal(s.intervalSeconds, 2);
    assert.equal(s.ports[0].rx.pps, 1_000_000);
    assert.equal(s.ports[0].rx.mpps, 1);
    assert.equal(s.ports[0].tx.bps, 1_000_000 * 64 * 8);
    assert.equal(s.rx.mpps, 1);
    assert.equal(s.workers[0].cyclesPerPacket, 250); // 500M busy cycles / 2M packets
    assert.equal(s.workers[0].busyPercent, 25); // 500M of 2 s x 1 GHz
    assert.equal(s.ports[0].rx.packets, '3000000');
    assert.deepEqual(s.ports[0].drops, {}, 'zero drop reasons are left out');
  });

  it('gives zero rates without a usable previous snapshot (first, other boot, counters cleared)', () => {
    const w = new FakeWorld(['p0']);
    w.rxPackets = 500n;
    const a = w.snapshot();
    assert.equal(buildStats(a, undefined).ports[0].rx.pps, 0);
    assert.equal(buildStats(a, undefined).intervalSeconds, 0);
    w.bootId++;
    const b = { ...w.snapshot(), takenNs: a.takenNs + 1_000_000_000n };
    assert.equal(buildStats(b, a).intervalSeconds, 0, 'other boot id');
    w.bootId--;
    w.rxPackets = 100n; // cleared since
    const c = { ...w.snapshot(), takenNs: a.takenNs + 1_000_000_000n };
    assert.equal(buildStats(c, a).ports[0].rx.pps, 0);
  });
});
