/**
 * Transport and authentication of the gRPC API (issue 15) over real gRPC on
 * the fake dataplane: TLS and mutual TLS with throwaway certificates made by
 * openssl here (a client certificate from another CA fails the handshake),
 * the bearer token (none or a wrong one: UNAUTHENTICATED), the unix socket
 * (mode, a call over it, another uid refused), plaintext on a non-loopback
 * address refused without --insecure, and certificates reloaded on SIGHUP.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { createClient } from '../../src/client';
import { ConfigError, parseConfig } from '../../src/config/schema';
import { isLocalListen } from '../../src/transport';
import { baseConfig, type Harness, rejectsWith, startHarness, tempDir } from './helpers';

interface Pki { dir: string; f(name: string): string }

/** CA "ca1" and "ca2"; srv1 (ca1) and srv2 (ca2) for 127.0.0.1/localhost; client "good" (ca1) and "bad" (ca2). */
function makePki(): Pki {
  const dir = tempDir('pki');
  const f = (n: string): string => path.join(dir, n);
  const ossl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }); };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca1', 'ca2']) ossl('req', '-x509', ...key, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '2');
  fs.writeFileSync(f('srv.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(f('cli.ext'), 'extendedKeyUsage=clientAuth\n');
  const leaf = (name: string, ca: string, ext: string): void => {
    ossl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', ext);
  };
  leaf('srv1', 'ca1', 'srv.ext');
  leaf('srv2', 'ca2', 'srv.ext');
  leaf('good', 'ca1', 'cli.ext');
  leaf('bad', 'ca2', 'cli.ext');
  // The server reads these paths; the reload test overwrites them.
  fs.copyFileSync(f('srv1.crt'), f('server.crt'));
  fs.copyFileSync(f('srv1.key'), f('server.key'));
  return { dir, f };
}

/** The CN of the certificate a fresh TLS connection to 127.0.0.1:port is shown. */
function peerCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(String(cn));
    });
    s.once('error', reject);
  });
}

/** A logger whose warnings the test can read. */
function captureLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } }) };
}

describe('gRPC transport and authentication', function () {
  this.timeout(30000);
  let pki: Pki;
  let h: Harness | undefined;
  before(() => { pki = makePki(); });
  after(() => fs.rmSync(pki.dir, { recursive: true, force: true }));
  afterEach(async () => { await h?.close(); h = undefined; });

  const mtls = () => ({ grpc: { tls: { cert: pki.f('server.crt'), key: pki.f('server.key'), ca: pki.f('ca1.crt') } } });

  it('mutual TLS: a certificate from the CA is served, one from another CA or none fails the handshake', async () => {
    h = await startHarness(mtls(), undefined, undefined,
      { client: { tlsCa: pki.f('ca1.crt'), tlsCert: pki.f('good.crt'), tlsKey: pki.f('good.key') } });
    assert.equal((await h.client.port.listPorts({})).ports.length, 2);
    for (const who of [{ tlsCert: pki.f('bad.crt'), tlsKey: pki.f('bad.key') }, {}]) {
      const c = createClient(h.server.address, { tlsCa: pki.f('ca1.crt'), ...who });
      try {
        await rejectsWith(c.port.listPorts({}, { deadlineMs: 3000 }), status.UNAVAILABLE, /./);
      } finally {
        c.close();
      }
    }
    // Plaintext to a TLS port gets nowhere either.
    const plain = createClient(h.server.address);
    try {
      await assert.rejects(plain.port.listPorts({}, { deadlineMs: 3000 }));
    } finally {
      plain.close();
    }
  });

  it('server TLS: a client that does not trust the server CA is refused', async () => {
    h = await startHarness({ grpc: { tls: { cert: pki.f('server.crt'), key: pki.f('server.key') } } }, undefined, undefined,
      { client: { tlsCa: pki.f('ca1.crt') } });
    assert.equal(await h.client.healthCheck(), 'SERVING');
    const c = createClient(h.server.address, { tlsCa: pki.f('ca2.crt') });
    try {
      await rejectsWith(c.port.listPorts({}, { deadlineMs: 3000 }), status.UNAVAILABLE, /./);
    } finally {
      c.close();
    }
  });

  it('token: none or a wrong one is UNAUTHENTICATED on every service, health and reflection included; the right one passes', async () => {
    const file = path.join(pki.dir, 'token');
    fs.writeFileSync(file, 'c3VwZXItc2VjcmV0LXRva2VuLTEyMzQ1\n', { mode: 0o600 });
    h = await startHarness({ grpc: { token: { file } } }, undefined, undefined, { client: { tokenFile: file } });
    assert.equal((await h.client.port.listPorts({})).ports.length, 2);
    for (const o of [{}, { token: 'c3VwZXItc2VjcmV0LXRva2VuLTEyMzQ2' }, { token: '' }]) {
      const c = createClient(h.server.address, o);
      try {
        const unauth = /^authorization: a valid "Bearer <token>" is required/;
        await rejectsWith(c.port.listPorts({}), status.UNAUTHENTICATED, unauth);
        await rejectsWith(c.route.write({ updates: [{ type: 'INSERT', route: { prefix: '10.9.0.0/16', nextHops: [{ port: 'p0' }] } }] }),
          status.UNAUTHENTICATED, unauth);
        await rejectsWith(c.healthCheck(), status.UNAUTHENTICATED, unauth);
        await rejectsWith(c.route.listAllRoutes({}), status.UNAUTHENTICATED, unauth);
      } finally {
        c.close();
      }
    }
    assert.equal(h.server.controller.state.routes.size, 0, 'nothing written');
    // Reflection (a bidi stream; field 3 list_services = "") needs the token too.
    const reflect = async (md: grpc.Metadata): Promise<string> => {
      const rc = new grpc.Client(h!.server.address, grpc.credentials.createInsecure());
      try {
        const call = rc.makeBidiStreamRequest('/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
          (b: Buffer) => b, (b: Buffer) => b, md);
        return await new Promise<string>((resolve, reject) => {
          call.on('data', (b: Buffer) => { resolve(b.toString('latin1')); call.end(); });
          call.on('error', reject);
          call.write(Buffer.from([0x3a, 0x00]));
        });
      } finally {
        rc.close();
      }
    };
    await rejectsWith(reflect(new grpc.Metadata()), status.UNAUTHENTICATED, /^authorization: /);
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer c3VwZXItc2VjcmV0LXRva2VuLTEyMzQ1');
    assert.match(await reflect(md), /linerate\.v1\.RouteService/);
    // A token under 16 characters is refused (at start, and here on reload).
    fs.writeFileSync(file, 'short\n');
    assert.throws(() => h!.server.reload(), /grpc\.token\.file: .*at least 16 characters/);
    assert.equal((await h.client.port.listPorts({})).ports.length, 2, 'the previous token stays in force');
  });

  it('unix socket: mode applied, calls over it, another uid cannot connect, file removed on stop', async () => {
    const dir = tempDir('sock');
    fs.chmodSync(dir, 0o711); // traversable, so that a refusal below is the socket's own mode
    const sock = path.join(dir, 'api.sock');
    try {
      h = await startHarness({ grpc: { listen: `unix:${sock}`, socketMode: '0660' } }, undefined, undefined,
        { server: { listen: undefined } });
      assert.equal(h.server.address, `unix:${sock}`);
      assert.equal(fs.statSync(sock).mode & 0o777, 0o660);
      assert.equal((await h.client.port.listPorts({})).ports.length, 2);
      if (process.getuid?.() === 0) {
        const r = spawnSync(process.execPath, ['-e',
          `require('net').connect(${JSON.stringify(sock)}).on('connect', () => process.exit(0)).on('error', (e) => { console.log(e.code); process.exit(3); })`],
        { uid: 65534, gid: 65534, encoding: 'utf8' });
        assert.equal(r.status, 3, `nobody connected: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /EACCES/);
      }
      await h.close();
      h = undefined;
      assert.equal(fs.existsSync(sock), false, 'socket removed');
      // A stale socket (its process killed, no listener) is replaced; a non-socket file is not touched.
      spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
      assert.equal(fs.lstatSync(sock).isSocket(), true, 'stale socket left');
      h = await startHarness({ grpc: { listen: `unix:${sock}` } }, undefined, undefined, { server: { listen: undefined } });
      assert.equal((await h.client.port.listPorts({})).ports.length, 2);
      await h.close();
      h = undefined;
      fs.writeFileSync(sock, 'x');
      await assert.rejects(startHarness({ grpc: { listen: `unix:${sock}` } }, undefined, undefined, { server: { listen: undefined } }),
        /grpc\.listen: .*api\.sock exists and is not a socket/);
      assert.equal(fs.readFileSync(sock, 'utf8'), 'x');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plaintext on a non-loopback address is refused naming grpc.listen; --insecure or grpc.insecure allow it with a warning', async () => {
    await assert.rejects(startHarness({}, undefined, undefined, { server: { listen: '0.0.0.0:0' } }), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /grpc\.listen: 0\.0\.0\.0:0 is reachable from other hosts and grpc\.tls is not set/);
      return true;
    });
    for (const [over, flag] of [[{}, true], [{ grpc: { insecure: true } }, false]] as const) {
      const cap = captureLog();
      h = await startHarness(over, undefined, undefined, { server: { listen: '0.0.0.0:0', insecure: flag, log: cap.log } });
      assert.match(cap.lines.join(''), /grpc\.listen: 0\.0\.0\.0:0 serves the API in PLAINTEXT/);
      await h.close();
      h = undefined;
    }
    // With TLS a wildcard address is fine.
    h = await startHarness(mtls(), undefined, undefined, { server: { listen: '0.0.0.0:0' },
      client: { tlsCa: pki.f('ca1.crt'), tlsCert: pki.f('good.crt'), tlsKey: pki.f('good.key') } });
    const c = createClient(`127.0.0.1:${h.server.port}`, { tlsCa: pki.f('ca1.crt'), tlsCert: pki.f('good.crt'), tlsKey: pki.f('good.key') });
    try {
      assert.equal((await c.port.listPorts({})).ports.length, 2);
    } finally {
      c.close();
    }
    for (const a of ['127.0.0.1:1', '127.1.2.3:1', 'localhost:1', '[::1]:1', 'unix:/x']) assert.ok(isLocalListen(a), a);
    for (const a of ['0.0.0.0:1', '[::]:1', '10.0.0.1:1', 'example.com:1', '[::ffff:10.0.0.1]:1']) assert.ok(!isLocalListen(a), a);
  });

  it('SIGHUP reloads the certificate files: new connections see the new certificate, a bad file keeps the old one', async () => {
    // In a child process: SIGHUP to the mocha process would end it (test/helpers/cleanup.ts).
    const child = spawn(process.execPath, [path.join(__dirname, 'sighup-server.js'), pki.f('server.crt'), pki.f('server.key'), pki.f('ca1.crt')],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const good = { tlsCert: pki.f('good.crt'), tlsKey: pki.f('good.key') };
    const clients: ReturnType<typeof createClient>[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /\{"port":(\d+)\}/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`server exited ${code}: ${stderr}`)));
      });
      const until = async (cn: string): Promise<void> => {
        for (let i = 0; i < 50 && (await peerCn(port)) !== cn; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await peerCn(port), cn);
      };
      const old = createClient(`127.0.0.1:${port}`, { tlsCa: pki.f('ca1.crt'), ...good });
      clients.push(old);
      assert.equal(await peerCn(port), 'srv1');
      assert.equal((await old.port.listPorts({})).ports.length, 2);

      fs.copyFileSync(pki.f('srv2.crt'), pki.f('server.crt'));
      fs.copyFileSync(pki.f('srv2.key'), pki.f('server.key'));
      child.kill('SIGHUP');
      await until('srv2');
      const c2 = createClient(`127.0.0.1:${port}`, { tlsCa: pki.f('ca2.crt'), ...good });
      const c1 = createClient(`127.0.0.1:${port}`, { tlsCa: pki.f('ca1.crt'), ...good });
      clients.push(c1, c2);
      assert.equal((await c2.port.listPorts({})).ports.length, 2, 'a client trusting the new CA connects');
      await rejectsWith(c1.port.listPorts({}, { deadlineMs: 3000 }), status.UNAVAILABLE, /./);
      assert.equal((await old.port.listPorts({})).ports.length, 2, 'an established connection carries on');

      // A key that does not match the certificate: logged, and the current certificate stays.
      fs.copyFileSync(pki.f('srv1.key'), pki.f('server.key'));
      child.kill('SIGHUP');
      for (let i = 0; i < 50 && !/reload failed/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(stderr, /grpc\.tls: .*reload failed; the previous credentials stay in force/);
      assert.equal(await peerCn(port), 'srv2');
      assert.equal((await c2.port.listPorts({})).ports.length, 2);
    } finally {
      for (const c of clients) c.close();
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      assert.equal(await exited, 0, stderr);
      clearTimeout(t);
      fs.copyFileSync(pki.f('srv1.crt'), pki.f('server.crt'));
      fs.copyFileSync(pki.f('srv1.key'), pki.f('server.key'));
    }
  });

  it('reload() re-reads the TLS files in process; a bad key is refused naming grpc.tls', async () => {
    h = await startHarness(mtls(), undefined, undefined,
      { client: { tlsCa: pki.f('ca1.crt'), tlsCert: pki.f('good.crt'), tlsKey: pki.f('good.key') } });
    fs.copyFileSync(pki.f('srv2.key'), pki.f('server.key'));
    try {
      assert.throws(() => h!.server.reload(), /^ConfigError: .*\n  grpc\.tls: /s);
    } finally {
      fs.copyFileSync(pki.f('srv1.key'), pki.f('server.key'));
    }
    h.server.reload();
    assert.equal(await peerCn(h.server.port), 'srv1');
    assert.equal((await h.client.port.listPorts({})).ports.length, 2);
  });

  it('config: transport fields validated and named', () => {
    const p = (grpc: unknown) => parseConfig(baseConfig({ grpc } as never));
    assert.equal(p({ listen: 'unix:/run/x.sock', socketMode: '0600' }).grpc.socketMode, 0o600);
    assert.equal(p({}).grpc.socketMode, 0o660);
    assert.equal(p({}).grpc.insecure, false);
    assert.throws(() => p({ socketMode: 660 }), /grpc\.socketMode: at most 0o777/);
    assert.throws(() => p({ listen: 'unix:relative' }), /grpc\.listen: expected HOST:PORT or unix:\/absolute\/path/);
    assert.throws(() => p({ tls: { cert: 'c', key: 'k', requireClientCert: true } }), /grpc\.tls\.ca: required with requireClientCert: true/);
    assert.throws(() => p({ tls: { cert: 'c', key: 'k', ca: 'a', requireClientCert: false } }), /grpc\.tls\.requireClientCert: cannot be false with ca/);
    assert.throws(() => p({ tls: { cert: 'c' } }), /grpc\.tls\.key: required/);
    assert.throws(() => p({ token: 'inline' }), /grpc\.token: /);
  });

  it('missing certificate files fail the start naming the field', async () => {
    await assert.rejects(startHarness({ grpc: { tls: { cert: pki.f('nope.crt'), key: pki.f('server.key') } } }),
      /grpc\.tls\.cert: cannot read .*nope\.crt: ENOENT/);
  });
});
