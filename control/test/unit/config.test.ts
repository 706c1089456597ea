import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfigFile, parseConfig, resolvePaths } from '../../src/config/schema';
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { dataplaneArgs, memifServerSocket, removeStaleMemifSockets, spawnSpec } from '../../src/dataplane/spawn';
import { demoConfigPath, defaultDataplaneBinary, packageRoot } from '../../src/paths';
import { initialChanges } from '../../src/server';
import { baseConfig, tempDir } from './helpers';

/** The issues of a rejected config. */
function issues(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `ConfigError expected, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('config was accepted');
}

describe('config', () => {
  it('accepts the shipped demo config and fills defaults', () => {
    const c = loadConfigFile(demoConfigPath);
    assert.equal(c.name, 'demo');
    assert.equal(c.grpc.listen, '127.0.0.1:50051');
    assert.equal(c.dataplane.binary, defaultDataplaneBinary);
    assert.equal(c.dataplane.pci, false);
    assert.equal(c.dataplane.idleSleepUs, 100);
    assert.deepEqual(c.ports.map((p) => p.name), ['p0', 'p1']);
    assert.deepEqual(c.lab?.namespaces.map((n) => n.name), ['lr-demo-a', 'lr-demo-b']);
    assert.deepEqual(c.routes, []);
  });

  it('names the missing field', () => {
    const bad = baseConfig();
    (bad.ports as unknown[])[1] = { name: 'p1' };
    assert.deepEqual(issues(bad), ['ports[1].device: required']);
    assert.deepEqual(issues({ ports: [{ name: 'p0', device: 'x' }] }), ['name: required']);
  });

  it('names bad values, unknown fields and broken references', () => {
    const got = issues({
      ...baseConfig(),
      bogus: 1,
      dataplane: { burst: 1000 },
      routes: [
        { prefix: '10.0.0.1/8', port: 'p0' },
        { prefix: '10.9.0.0/16', via: '2001:db8::1', port: 'p0' },
        { prefix: '10.8.0.0/16', port: 'nope' },
      ],
      neighbors: [{ address: '10.0.1.9', mac: 'zz', port: 'p0' }],
    });
    const want = [
      /^\(top level\): unknown field bogus$/,
      /^dataplane\.burst: .*64/,
      /^routes\[0\]\.prefix: host bits set/,
      /^routes\[1\]\.via: family differs/,
      /^routes\[2\]\.port: unknown port nope$/,
      /^neighbors\[0\]\.mac: not a MAC address/,
    ];
    for (const re of want) assert.ok(got.some((g) => re.test(g)), `${re} not in ${JSON.stringify(got)}`);
    assert.equal(got.length, want.length, JSON.stringify(got));
  });

  it('rejects duplicate ports, bad addresses and bad lab names', () => {
    const got = issues({
      ...baseConfig(),
      ports: [
        { name: 'p0', device: 'a', addresses: ['10.0.0.1'] },
        { name: 'p0', device: 'b', addresses: ['224.0.0.1/4'] },
      ],
      lab: { namespaces: [{ name: 'ns', veth: 'a-very-long-interface-name' }] },
    });
    assert.ok(got.includes('ports[1].name: duplicate port name p0'), JSON.stringify(got));
    assert.ok(got.some((g) => g.startsWith('ports[0].addresses[0]: prefix length missing')), JSON.stringify(got));
    assert.ok(got.some((g) => g.startsWith('ports[1].addresses[0]: multicast')), JSON.stringify(got));
    assert.ok(got.some((g) => g.startsWith('lab.namespaces[0].veth: interface name')), JSON.stringify(got));
  });

  it('reports YAML syntax errors with the file name', () => {
    const dir = tempDir('cfg');
    try {
      const f = path.join(dir, 'bad.yaml');
      fs.writeFileSync(f, 'name: [unclosed\n');
      assert.throws(() => loadConfigFile(f), (e: Error) => e instanceof ConfigError && e.message.startsWith(f));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives paths and the dataplane command line', () => {
    const c = parseConfig({ ...baseConfig({ name: 'lab1' }), dataplane: { lcores: '0-1', rxQueues: 2, idleSleepUs: 50, eal: ['--log-level=7'] },
      ports: [{ name: 'p0', device: 'net_af_packet0,iface=x', rxQueues: 1 }, { name: 'p1', device: '0000:03:00.0' }] });
    const r = resolvePaths(c, { runDir: '/tmp/lrc-run', stateDir: '/tmp/lrc-state' });
    assert.equal(r.ctlPath, '/tmp/lrc-run/ctl.sock');
    assert.equal(r.statsPath, '/dev/shm/linerate-lab1.stats');
    const args = dataplaneArgs(r);
    const sep = args.indexOf('--');
    assert.deepEqual(args.slice(0, sep), ['-l', '0-1', '--no-pci', '--in-memory', '--file-prefix', 'linerate-lab1', '--log-level=7']);
    const app = args.slice(sep + 1).join(' ');
    for (const part of ['--name lab1', '--ctl /tmp/lrc-run/ctl.sock', '--stats /dev/shm/linerate-lab1.stats', '--rxq 2',
      '--idle-sleep-us 50', '--port p0=net_af_packet0,iface=x --port-rxq p0=1 --port p1=0000:03:00.0']) {
      assert.ok(app.includes(part), `${part} not in ${app}`);
    }
    assert.ok(app.includes(`--ctl-uid ${process.getuid?.() ?? 0}`), app);
    assert.ok(app.includes('--ctl-timeout-ms 5000 --ctl-idle-timeout 300'), app);
    assert.ok(!app.includes('--ctl-gid'), app);
    const pci = dataplaneArgs(resolvePaths(parseConfig({ ...baseConfig(), dataplane: { pci: true } })));
    assert.ok(!pci.includes('--no-pci'));
    const own = dataplaneArgs(resolvePaths(parseConfig({ ...baseConfig(), dataplane: { ctlUid: 1000, ctlGid: 1001, ctlTimeoutMs: 900 } }))).join(' ');
    assert.ok(own.includes('--ctl-uid 1000 --ctl-gid 1001 --ctl-timeout-ms 900'), own);
    const mapped = dataplaneArgs(resolvePaths(parseConfig({ ...baseConfig(), dataplane: { lcores: '0,1', eal: ['--lcores', '0@0,1@0'] } })));
    assert.ok(!mapped.includes('-l') && mapped.includes('--lcores'), mapped.join(' '));
  });

  it('passes ports[].mac to the dataplane: --port-mac, or mac= in memif devargs', () => {
    const c = parseConfig({ ...baseConfig(), ports: [
      { name: 'p0', device: '0000:03:00.0', mac: '02-AA-00-00-00-01' },
      { name: 'p1', device: 'net_memif1,role=server,socket=/tmp/m1.sock,socket-abstract=no', mac: '02:aa:00:00:00:02' },
      { name: 'p2', device: 'net_null0' },
    ] });
    const app = dataplaneArgs(resolvePaths(c)).join(' ');
    assert.ok(app.includes('--port p0=0000:03:00.0 --port-mac p0=02:aa:00:00:00:01'), app);
    assert.ok(app.includes('--port p1=net_memif1,role=server,socket=/tmp/m1.sock,socket-abstract=no,mac=02:aa:00:00:00:02 --port p2'), app);
    assert.ok(!app.includes('--port-mac p1') && !app.includes('--port-mac p2'), app);
    const got = issues({ ...baseConfig(), ports: [
      { name: 'p0', device: 'a', mac: '01:00:5e:00:00:01' },
      { name: 'p1', device: 'net_memif0,mac=02:00:00:00:00:01', mac: '02:00:00:00:00:02' },
      { name: 'p2', device: 'b', mac: 'nope' },
    ] });
    assert.ok(got.some((g) => g.startsWith('ports[0].mac: multicast')), JSON.stringify(got));
    assert.ok(got.some((g) => g.startsWith('ports[1].mac: the device string sets mac=')), JSON.stringify(got));
    assert.ok(got.some((g) => g.startsWith('ports[2].mac: not a MAC address')), JSON.stringify(got));
  });

  it('finds the memif server socket files a dataplane owns, and removes them only when stale', async () => {
    assert.equal(memifServerSocket('net_memif0,role=server,socket=/tmp/a.sock,socket-abstract=no'), '/tmp/a.sock');
    assert.equal(memifServerSocket('net_memif0,socket-abstract=no'), '/run/memif.sock'); // 22.11 defaults
    assert.equal(memifServerSocket('net_memif0,role=client,socket=/tmp/a.sock,socket-abstract=no'), null);
    assert.equal(memifServerSocket('net_memif0,socket=/tmp/a.sock'), null); // abstract: no file
    assert.equal(memifServerSocket('net_af_packet0,iface=x'), null);
    const dir = tempDir('memif-stale');
    const stale = path.join(dir, 'stale.sock');
    const live = path.join(dir, 'live.sock');
    const srv = net.createServer();
    try {
      // A socket file nobody listens on: what a SIGKILLed server leaves.
      execFileSync('/usr/bin/python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
      await new Promise<void>((r) => srv.listen(live, r));
      const spec = spawnSpec(resolvePaths(parseConfig({ ...baseConfig(), ports: [
        { name: 'p0', device: `net_memif0,role=server,socket=${stale},socket-abstract=no` },
        { name: 'p1', device: `net_memif1,role=server,socket=${stale},id=1,socket-abstract=no` },
      ] })));
      assert.deepEqual(spec.memifServerSockets, [stale, stale]);
      assert.deepEqual(await removeStaleMemifSockets(spec), [stale]);
      assert.ok(!fs.existsSync(stale));
      await assert.rejects(removeStaleMemifSockets({ ...spec, memifServerSockets: [live] }), /in use by another process/);
      assert.ok(fs.existsSync(live));
      fs.writeFileSync(stale, 'x');
      await assert.rejects(removeStaleMemifSockets(spec), /not a socket/);
    } finally {
      srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts every shipped bench/baremetal linerate config', () => {
    const dir = path.join(packageRoot, 'bench', 'baremetal');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 2, `expected the NIC and memif configs in ${dir}, got ${files.join(', ')}`);
    for (const f of files) {
      const c = loadConfigFile(path.join(dir, f));
      // memif ports have no MAC of their own worth keeping: the rehearsal sets them.
      for (const p of c.ports) if (/^net_memif/.test(p.device)) assert.ok(p.mac, `${f}: ports.${p.name}.mac`);
    }
  });

  it('turns the initial routes, neighbors and addresses into canonical changes', () => {
    const c = parseConfig({
      ...baseConfig(),
      routes: [{ prefix: '2001:DB8:0:0::/32', via: '2001:db8:1:0::9', port: 'p0' }],
      neighbors: [{ address: '10.0.1.9', mac: '02-AA-BB-CC-DD-EE', port: 'p0' }],
    });
    const ch = initialChanges(c);
    assert.deepEqual(ch.filter((x) => x.kind === 'address').length, 3);
    assert.deepEqual(ch.find((x) => x.kind === 'route'), {
      kind: 'route', op: 'add', entry: { prefix: '2001:db8::/32', family: 6, nextHops: [{ port: 'p0', via: '2001:db8:1::9' }] },
    });
    assert.deepEqual(ch.find((x) => x.kind === 'neighbor'), {
      kind: 'neighbor', op: 'add', entry: { port: 'p0', address: '10.0.1.9', mac: '02:aa:bb:cc:dd:ee', family: 4 },
    });
  });
});
