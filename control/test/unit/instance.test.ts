/**
 * Two instances on one host: the run dir, instance-name and metrics.listen
 * claims of `linerate serve` (control/src/instance.ts) and the error a taken
 * gRPC port gives, on real files, real processes and a real socket.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseConfig, resolvePaths, type Resolved } from '../../src/config/schema';
import { claimInstance } from '../../src/instance';
import { baseConfig, startHarness, tempDir } from './helpers';

describe('instance claims (two instances on one host)', () => {
  let dir: string;
  let paths: Resolved;
  beforeEach(() => {
    dir = tempDir('inst');
    // statsPath's directory holds the name claim (/dev/shm in production).
    paths = { ...resolvePaths(parseConfig(baseConfig({ name: 'lrc-inst' })), { runDir: path.join(dir, 'run') }),
      statsPath: path.join(dir, 'shm', 'linerate-lrc-inst.stats') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second claim of the same name or run dir, naming what and who', () => {
    const release = claimInstance(paths, { spawns: true });
    assert.throws(() => claimInstance(paths, { spawns: true }), new RegExp(`instance name lrc-inst .*in use by linerate serve pid ${process.pid}`));
    const otherName = { ...paths, config: { ...paths.config, name: 'lrc-inst2' } };
    assert.throws(() => claimInstance(otherName, { spawns: true }), /run dir .*run \(control socket .*ctl\.sock\) is in use/);
    // the failed claim of the name released nothing of the holder's
    assert.ok(fs.existsSync(path.join(dir, 'shm', 'linerate-lrc-inst.serve')));
    release();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shm')), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'run')), []);
    claimInstance(paths, { spawns: true })();
  });

  it('takes over the claims of a dead serve, and of its own pid left by a previous container', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const dead = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run', 'serve.pid'), `${dead}\n`);
    fs.mkdirSync(path.join(dir, 'shm'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shm', 'linerate-lrc-inst.serve'), `${process.pid}\n`); // pid 1 again after docker restart
    const release = claimInstance(paths, { spawns: true });
    assert.equal(fs.readFileSync(path.join(dir, 'run', 'serve.pid'), 'utf8').split('\n')[0], `${process.pid}`);
    release();
  });

  it('refuses a claim held by another live process', () => {
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run', 'serve.pid'), `${process.ppid}\n`);
    assert.throws(() => claimInstance(paths, { spawns: false }), new RegExp(`in use by linerate serve pid ${process.ppid}`));
    assert.ok(!fs.existsSync(path.join(dir, 'shm')), 'a serve that does not spawn claims no name');
  });

  it('refuses a metrics.listen that another live serve claimed, naming both configs and the field', () => {
    const a = claimInstance(paths, { spawns: true, metricsListen: '127.0.0.1:9464', configFile: '/etc/linerate/upf0.yaml' });
    const other = { ...paths, runDir: path.join(dir, 'run2'), config: { ...paths.config, name: 'lrc-inst2' } };
    const re = new RegExp('metrics\\.listen 127\\.0\\.0\\.1:9464 of instance lrc-inst2 \\(config /etc/linerate/upf1\\.yaml\\) collides with ' +
      `metrics\\.listen 127\\.0\\.0\\.1:9464 of linerate serve pid ${process.pid} \\(instance lrc-inst, config /etc/linerate/upf0\\.yaml\\).*` +
      'distinct metrics\\.listen ports');
    assert.throws(() => claimInstance(other, { spawns: true, metricsListen: '127.0.0.1:9464', configFile: '/etc/linerate/upf1.yaml' }), re);
    // the wildcard overlaps every address of the port; "localhost" is 127.0.0.1
    assert.throws(() => claimInstance(other, { spawns: true, metricsListen: '0.0.0.0:9464' }), /collides with metrics\.listen 127\.0\.0\.1:9464/);
    assert.throws(() => claimInstance(other, { spawns: true, metricsListen: 'localhost:9464' }), /collides/);
    // the refused serve left nothing claimed: its name and run dir are free
    assert.ok(!fs.existsSync(path.join(dir, 'shm', 'linerate-lrc-inst2.serve')));
    assert.deepEqual(fs.readdirSync(path.join(dir, 'run2')), []);
    // another port, another address of the same port, or any free port (0) does not collide
    claimInstance(other, { spawns: true, metricsListen: '127.0.0.1:9465' })();
    claimInstance(other, { spawns: true, metricsListen: '127.0.0.2:9464' })();
    claimInstance(other, { spawns: true, metricsListen: '127.0.0.1:0' })();
    claimInstance(other, { spawns: true, metricsListen: '' })();
    a();
    claimInstance(other, { spawns: true, metricsListen: '127.0.0.1:9464' })();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shm')), []);
  });

  it('takes over the metrics claim of a dead serve', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const dead = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    fs.mkdirSync(path.join(dir, 'shm'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shm', 'linerate-metrics-9464-127.0.0.1.serve'),
      `${dead}\n${JSON.stringify({ name: 'gone', config: '/x.yaml', listen: '127.0.0.1:9464' })}\n`);
    const release = claimInstance(paths, { spawns: true, metricsListen: '0.0.0.0:9464' });
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shm')).sort(), ['linerate-lrc-inst.serve', 'linerate-metrics-9464-0.0.0.0.serve']);
    release();
  });

  it('two serves with one metrics.listen: the second fails naming the first instance, and starts on another port', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const metrics = { listen: `127.0.0.1:${port}` };
    // metricsListen undefined: the config's metrics.listen is used
    const first = await startHarness({ metrics }, undefined, dir, { server: { metricsListen: undefined } });
    const dir2 = tempDir('inst2');
    try {
      assert.equal(first.server.metricsAddress, metrics.listen);
      await assert.rejects(startHarness({ name: 'lrc-inst-b', metrics }, undefined, dir2, { server: { metricsListen: undefined } }),
        new RegExp(`metrics\\.listen 127\\.0\\.0\\.1:${port} of instance lrc-inst-b collides with metrics\\.listen 127\\.0\\.0\\.1:${port} ` +
          `of linerate serve pid ${process.pid} \\(instance lrc-unit\\)`));
      const second = await startHarness({ name: 'lrc-inst-b', metrics: { listen: '127.0.0.1:0' } }, undefined, dir2, { server: { metricsListen: undefined } });
      await second.close();
      assert.ok(!fs.existsSync(path.join(dir2, 'run', 'serve.pid')), 'the refused serve released its run dir');
    } finally {
      await first.close();
      fs.rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('a serve whose gRPC port is taken fails with an error naming the address, and leaves its claims', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startHarness({}, undefined, dir, { server: { listen: `127.0.0.1:${port}` } }),
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: 127\\.0\\.0\\.1:${port} is already in use`));
      assert.ok(!fs.existsSync(path.join(dir, 'run', 'serve.pid')), 'run dir claim released');
      // the same run dir serves once the port is free
      const h = await startHarness({}, undefined, dir);
      await h.close();
    } finally {
      taken.close();
    }
  });
});
