/**
 * Two instances on one host: the run dir and instance-name claims of
 * `linerate serve` (control/src/instance.ts) and the error a taken gRPC
 * port gives, on real files, real processes and a real socket.
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
    const release = claimInstance(paths, true);
    assert.throws(() => claimInstance(paths, true), new RegExp(`instance name lrc-inst .*in use by linerate serve pid ${process.pid}`));
    const otherName = { ...paths, config: { ...paths.config, name: 'lrc-inst2' } };
    assert.throws(() => claimInstance(otherName, true), /run dir .*run \(control socket .*ctl\.sock\) is in use/);
    // the failed claim of the name released nothing of the holder's
    assert.ok(fs.existsSync(path.join(dir, 'shm', 'linerate-lrc-inst.serve')));
    release();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shm')), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'run')), []);
    claimInstance(paths, true)();
  });

  it('takes over the claims of a dead serve, and of its own pid left by a previous container', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const dead = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run', 'serve.pid'), `${dead}\n`);
    fs.mkdirSync(path.join(dir, 'shm'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shm', 'linerate-lrc-inst.serve'), `${process.pid}\n`); // pid 1 again after docker restart
    const release = claimInstance(paths, true);
    assert.equal(fs.readFileSync(path.join(dir, 'run', 'serve.pid'), 'utf8'), `${process.pid}\n`);
    release();
  });

  it('refuses a claim held by another live process', () => {
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run', 'serve.pid'), `${process.ppid}\n`);
    assert.throws(() => claimInstance(paths, false), new RegExp(`in use by linerate serve pid ${process.ppid}`));
    assert.ok(!fs.existsSync(path.join(dir, 'shm')), 'a serve that does not spawn claims no name');
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
