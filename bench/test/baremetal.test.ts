/**
 * The bare-metal Pktgen-DPDK kit (bench/baremetal/), as far as it can be
 * checked without Pktgen-DPDK (not packaged for Debian): the Lua script
 * compiles with Debian's lua5.3 and uses the range API the way 23.03 has it;
 * the cfgs are what tools/run.py can load; report.ts turns trials into the
 * CSVs that say what happened; the linerate configs route the script's
 * traffic (their schema check is in control/test/unit/config.test.ts).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ipaddr from 'ipaddr.js';
import { loadConfigFile } from '../../control/src/config/schema';
import { dutDelta, parseTrials, resultsCsv, trialsCsv, writeReport } from '../baremetal/report';
import { repoRoot } from '../lib/pktgen';

const KIT = path.join(repoRoot, 'bench', 'baremetal');
const LUA = path.join(KIT, 'linerate-rfc2544.lua');

/** A setting's default in the script: local NAME = env("LR_…", "VALUE"). */
function luaString(src: string, name: string): string {
  const m = new RegExp(`local ${name}\\s*=\\s*(?:env\\("[A-Z0-9_]+",\\s*)?"([^"]+)"`).exec(src);
  assert.ok(m, `${name} not found in the Lua script`);
  return m[1]!;
}

function inPrefix(addr: string, prefix: string): boolean {
  return ipaddr.parse(addr).match(ipaddr.parseCIDR(prefix));
}

const HEAD = 'trial,frame_bytes,rate_pct,offered_pps,seconds,tx,rx,lost,sent_pps,rx_pps,verdict';

describe('bare-metal kit (Pktgen-DPDK)', () => {
  it('the Lua script passes luac -p (lua5.3)', () => {
    execFileSync('luac5.3', ['-p', LUA], { stdio: 'pipe' });
  });

  it('the Lua script drives range mode with the 23.03 range API and sizes the single-packet template too', () => {
    const raw = fs.readFileSync(LUA, 'utf8');
    const lua = raw.replace(/^\s*--[^\n]*/gm, ''); // whole-line comments
    assert.ok(raw.includes('" port list --json"'), 'the DUT MAC is read from linerate port list --json');
    for (const call of ['pktgen.set_range(txport, "on")', 'pktgen.range.ip_proto(txport, "udp")', 'pktgen.set(txport, "size", size)',
      'pktgen.range.dst_mac', 'pktgen.range.pkt_size']) {
      assert.ok(lua.includes(call), `${call} missing`);
    }
    // the single-packet setters with range arguments were the shipped bug
    assert.doesNotMatch(lua, /pktgen\.(dst_mac|src_ip|dst_ip|pkt_size|src_port|dst_port)\(/);
    assert.doesNotMatch(lua, /pktgen\.range\(/);
    assert.doesNotMatch(lua, /02:00:00:00:00:10/, 'the DUT MAC comes from linerate, not a constant');
  });

  for (const yaml of ['linerate.yaml', 'linerate-memif.yaml']) {
    it(`${yaml} routes the Lua script's traffic out of p1 to a static neighbor`, () => {
      const cfg = loadConfigFile(path.join(KIT, yaml));
      const lua = fs.readFileSync(LUA, 'utf8');
      const [p0, p1] = cfg.ports;
      const p0net = p0!.addresses[0]!;
      const src = luaString(lua, 'src_ip');
      assert.ok(inPrefix(src, p0net), `source ${src} is not on p0's subnet ${p0net}`);
      for (const name of ['dst_first', 'dst_last']) {
        const dst = luaString(lua, name);
        const route = cfg.routes.find((r) => inPrefix(dst, r.prefix));
        assert.ok(route, `no route for ${dst}`);
        assert.equal(route.port, p1!.name, `${dst} leaves by ${route.port}, not by ${p1!.name}`);
        assert.ok(route.via && inPrefix(route.via, p1!.addresses[0]!), 'next hop not on p1\'s subnet');
        assert.ok(cfg.neighbors.some((n) => n.address === route.via && n.port === p1!.name), `no static neighbor for ${route.via}`);
      }
    });
  }

  it('the cfgs load as Python, map one TX lcore for both NIC ports, and load the script with its .lua suffix', () => {
    for (const cfg of ['linerate-2port.cfg', 'linerate-memif.cfg']) {
      const out = execFileSync('/usr/bin/python3', ['-c', [
        'import importlib.machinery, importlib.util, json, sys',
        'l = importlib.machinery.SourceFileLoader("cfg", sys.argv[1]); s = importlib.util.spec_from_loader("cfg", l)',
        'm = importlib.util.module_from_spec(s); l.exec_module(m)',
        'print(json.dumps({"run": m.run, "description": m.description}))',
      ].join('\n'), path.join(KIT, cfg)], { env: { ...process.env, LR_KIT: '/kit' } }).toString();
      const c = JSON.parse(out) as { run: Record<string, unknown> };
      assert.equal(c.run.loadfile, '/kit/linerate-rfc2544.lua', cfg);
      assert.ok((c.run.app_path as string[]).includes('./build/app/%(app_name)s'), cfg);
      if (cfg === 'linerate-2port.cfg') assert.deepEqual(c.run.map, ['[2:4].0', '[3:4].1']);
    }
  });

  describe('report', () => {
    const trials = [
      `${HEAD}`,
      '1,64,100.000,14880952,2.000,20000000,19000000,1000000,10000000,9500000,generator-limited',
      '2,64,50.000,7440476,2.000,14880952,14880000,952,7440476,7440000,loss',
      '3,64,25.000,3720238,2.000,7440476,7440476,0,3720238,3720238,pass',
      '4,64,37.500,5580357,2.000,11160714,11160714,0,5580357,5580357,pass',
      '5,512,100.000,2349624,2.000,4699248,4000000,699248,2349624,2000000,loss',
      '6,512,50.000,1174812,2.000,2349624,2349000,624,1174812,1174500,loss',
      '7,1518,100.000,812743,2.000,100000,100000,0,50000,50000,generator-limited',
    ].join('\n');

    it('reports the highest loss-free rate from what was sent, else none with the best loss ratio', () => {
      const rows = resultsCsv(parseTrials(trials)).trim().split('\n').map((l) => l.split(','));
      assert.deepEqual(rows[0]!.slice(0, 3), ['frame_bytes', 'result', 'rate_pct']);
      // 64 B: trial 4 (37.5 %), rates from its packets (11160714 / 2 s), not from the percentage
      assert.deepEqual(rows[1], ['64', 'zero-loss', '37.500', '5.5804', '5.5804', '5.5804', '3.750', '0', '4', '1', '4']);
      // 512 B: nothing loss-free; the best ratio is trial 6's 624 / 2349624
      assert.equal(rows[2]![1], 'none loss-free');
      assert.equal(rows[2]![7], (624 / 2349624).toExponential(3));
      assert.equal(rows[2]![10], '6');
      // 1518 B: lossless but generator-limited: no pass, and no loss ratio of 0 passed off as a figure
      assert.equal(rows[3]![1], 'generator-limited');
      assert.equal(rows[3]![9], '1');
      // a lossless generator-limited trial does not beat one that reached its rate and lost
      const mixed = resultsCsv(parseTrials([HEAD, '1,256,50.000,2264492,2.000,64,64,0,32,32,generator-limited',
        '2,256,25.000,1132246,2.000,2264492,2264000,492,1132246,1132000,loss'].join('\n'))).trim().split('\n')[1]!.split(',');
      assert.deepEqual([mixed[1], mixed[7], mixed[10]], ['none loss-free', (492 / 2264492).toExponential(3), '2']);
    });

    it("adds linerate's own counters of each trial: drops by reason and cycles per packet", () => {
      const snap = (rx: number, drops: Record<string, string>, cycles: number, boot = '7') => ({
        bootId: boot, dropped: String(Object.values(drops).reduce((a, v) => a + Number(v), 0)),
        ports: [{ name: 'p0', rx: { packets: String(rx) }, tx: { packets: '0' }, drops },
          { name: 'p1', rx: { packets: '0' }, tx: { packets: String(rx) }, drops: {} }],
        workers: [{ rx: { packets: String(rx) }, busyCycles: String(cycles) }],
      });
      const d = dutDelta(snap(100, { no_route: '1' }, 1000), snap(1100, { no_route: '3', tx_full: '5' }, 101000));
      assert.deepEqual(d, { rx: 1000, tx: 1000, dropped: 7, drops: { no_route: 2, tx_full: 5 }, cyclesPerPacket: 100 });
      assert.deepEqual(dutDelta(snap(0, {}, 0, '1'), snap(0, {}, 0, '2')), { error: 'dataplane restarted during the trial' });
      const csv = trialsCsv(parseTrials(trials).slice(0, 1), [d]).trim().split('\n');
      assert.match(csv[0]!, /offered_mpps,seconds,sent_mpps,received_mpps,.*,verdict,dut_rx,dut_tx,dut_dropped,dut_drops,dut_cycles_per_packet$/);
      assert.match(csv[1]!, /^1,64,100\.000,14\.8810,2\.000,10\.0000,9\.5000,.*,generator-limited,1000,1000,7,no_route=2 tx_full=5,100\.0$/);
    });

    it('writes both CSVs from a run directory, and refuses a malformed trials.csv', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lrb-kit-'));
      try {
        fs.writeFileSync(path.join(dir, 'trials.csv'), trials);
        writeReport(dir);
        assert.match(fs.readFileSync(path.join(dir, 'linerate-rfc2544-trials.csv'), 'utf8'), /no linerate counters/);
        assert.match(fs.readFileSync(path.join(dir, 'linerate-rfc2544.csv'), 'utf8'), /^64,zero-loss/m);
        assert.throws(() => parseTrials(`${HEAD}\n1,64,x,1,1,1,1,0,1,1,pass`), /line 2: rate_pct/);
        assert.throws(() => parseTrials(`${HEAD}\n1,64,1,1,1,1,1,0,1,1,maybe`), /verdict/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
