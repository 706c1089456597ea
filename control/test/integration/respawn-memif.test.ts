/**
 * The dataplane dies (kill -9) while it serves memif ports: `serve` must
 * start a new one every time, although the dead one left its memif socket
 * files behind (a new server's bind on them fails with "Address already in
 * use"), and the new one forwards again. Traffic: linerate-pktgen as the
 * memif client of both ports, on CPU 0; the port MACs come from ports[].mac
 * (memif: mac= in the devargs).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPktgen } from '../../../bench/lib/pktgen';
import { isAlive } from '../helpers/cleanup';
import { tempDir, uniqueId, waitFor } from '../helpers/env';
import { requireIntegration } from '../helpers/fixture';
import { Serve } from '../helpers/serve';

const P0_MAC = '02:00:00:77:00:00';
const P1_MAC = '02:00:00:77:00:01';
const SINK_MAC = '02:00:00:77:01:01';
const PACKETS = 20000;

describe('integration: dataplane respawn with memif ports', function () {
  this.timeout(180000);
  let serve: Serve | undefined;
  let sockDir = '';
  const sock = (i: number): string => path.join(sockDir, `p${i}.sock`);
  const server = (i: number): string => `net_memif${i},role=server,socket=${sock(i)},socket-abstract=no`;
  const client = (i: number): string => `net_memif${i},role=client,socket=${sock(i)},socket-abstract=no`;

  /** One paced pktgen run through linerate: p0 → route → p1. */
  async function forwards(tag: string): Promise<void> {
    const { result } = await runPktgen({
      tag: `rsp-${tag}`,
      args: ['--tx-port', client(0), '--rx-port', client(1), '--dst-mac', P0_MAC, '--src', '10.77.0.2',
        '--dst', '10.77.1.2', '--count', String(PACKETS), '--rate-pps', '200000', '--start-delay-ms', '300'],
      timeoutMs: 30000,
    });
    assert.equal(result.tx.packets, PACKETS, `${tag}: sent`);
    assert.equal(result.rx.unique, PACKETS, `${tag}: received back (${JSON.stringify(result.loss)})`);
  }

  before(async function () {
    requireIntegration(this);
    sockDir = tempDir('rsp-sock');
    serve = new Serve({
      name: `lrt-${uniqueId()}-rsp`,
      ports: [
        { name: 'p0', device: server(0), mac: P0_MAC, addresses: ['10.77.0.1/24'] },
        { name: 'p1', device: server(1), mac: P1_MAC, addresses: ['10.77.1.1/24'] },
      ],
      neighbors: [{ address: '10.77.1.2', mac: SINK_MAC, port: 'p1' }],
      idleSleepUs: 0,
    });
    await serve.start();
  });

  after(() => {
    serve?.destroy();
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  });

  it('sets the configured MACs and forwards', async () => {
    const ports = await serve!.client!.port.listPorts({});
    assert.deepEqual(ports.ports.map((p) => [p.name, p.mac]), [['p0', P0_MAC], ['p1', P1_MAC]]);
    await forwards('first');
  });

  for (const round of [1, 2]) {
    it(`respawns the dataplane killed with -9, stale memif sockets and all, and forwards again (${round})`, async () => {
      const c = serve!.client!;
      const before = await c.dataplane.getDataplane({});
      const pid = before.pid;
      assert.ok(pid > 0 && isAlive(pid));
      process.kill(pid, 'SIGKILL');
      await waitFor(`dataplane ${pid} to die`, () => !isAlive(pid), 5000);
      // The dead server's socket files stay: the case the supervisor must handle.
      assert.ok(fs.existsSync(sock(0)) && fs.existsSync(sock(1)), 'memif socket files left by the dead dataplane');
      const after = await waitFor('a new dataplane attached', async () => {
        const d = await c.dataplane.getDataplane({}, { deadlineMs: 2000 });
        return d.attached && d.pid !== pid && d.spawns > before.spawns ? d : undefined;
      }, 30000, 200);
      assert.ok(isAlive(after.pid));
      assert.doesNotMatch(serve!.dpLog(60), /Address already in use/);
      await forwards(`after-kill-${round}`);
    });
  }
});
