/**
 * How the gRPC API is reached and who may call it (issue 15): the listen
 * address (TCP or unix socket), TLS / mutual TLS credentials whose files are
 * read again on reload (SIGHUP), the bearer token, and the refusal to serve
 * plaintext on a non-loopback address unless the operator asked for it.
 * server.ts builds the server from these; nothing here touches the dataplane.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ConfigError, type GrpcConfig } from './config/schema';

/** "unix:/path" → "/path", else null. */
export function unixPath(listen: string): string | null {
  return listen.startsWith('unix:') ? listen.slice('unix:'.length) : null;
}

/** True for unix sockets and TCP addresses that only this host can reach (127/8, ::1, localhost). */
export function isLocalListen(listen: string): boolean {
  if (unixPath(listen) !== null) return true;
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) {
    if (host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false; // any other name may resolve to anything
}

/**
 * Plaintext on an address other hosts can reach is refused unless `insecure`
 * (config grpc.insecure or serve --insecure). Returns a warning to log at
 * every start when it is allowed that way, else null.
 */
export function checkPlaintext(cfg: GrpcConfig, listen: string, insecureFlag: boolean): string | null {
  if (cfg.tls || isLocalListen(listen)) return null;
  if (!(cfg.insecure || insecureFlag)) {
    throw new ConfigError([`grpc.listen: ${listen} is reachable from other hosts and grpc.tls is not set: ` +
      'refusing to serve the API in plaintext (set grpc.tls, listen on loopback or unix:, or pass --insecure / grpc.insecure: true)']);
  }
  return `grpc.listen: ${listen} serves the API in PLAINTEXT to other hosts (--insecure / grpc.insecure): ` +
    `anyone on the network can read and forge calls${cfg.token ? ' and steal the token' : ''}`;
}

function readFile(file: string, field: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new ConfigError([`${field}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
}

/** The TLS files, read and checked (a bad key or certificate fails here, not at the first handshake). */
export function loadTls(t: NonNullable<GrpcConfig['tls']>): SecureContextOptions {
  const opts: SecureContextOptions = {
    cert: readFile(t.cert, 'grpc.tls.cert'),
    key: readFile(t.key, 'grpc.tls.key'),
    ca: t.ca !== undefined ? readFile(t.ca, 'grpc.tls.ca') : undefined,
  };
  try {
    tls.createSecureContext(opts);
  } catch (e) {
    throw new ConfigError([`grpc.tls: ${t.cert} / ${t.key}${t.ca ? ` / ${t.ca}` : ''}: ${(e as Error).message}`]);
  }
  return opts;
}

/**
 * Server credentials whose certificates can be replaced while bound:
 * grpc-js calls setSecureContext on its TLS server for every update, so new
 * handshakes use the new files and established connections carry on.
 */
export class ReloadableServerCredentials extends grpc.ServerCredentials {
  constructor(initial: SecureContextOptions, requireClientCert: boolean) {
    // requestCert + rejectUnauthorized: a client without a certificate chaining to `ca` fails the handshake.
    super({ requestCert: requireClientCert, rejectUnauthorized: requireClientCert }, initial);
  }

  update(opts: SecureContextOptions): void {
    this.updateSecureContextOptions(opts);
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}

/** The token file's content, trimmed; empty or unreadable is a ConfigError naming grpc.token.file. */
export function readToken(file: string): Buffer {
  const tok = readFile(file, 'grpc.token.file').toString('utf8').trim();
  if (tok.length < 16) throw new ConfigError([`grpc.token.file: ${file}: the token must be at least 16 characters`]);
  return Buffer.from(tok, 'utf8');
}

/** Constant time in the token's content: both sides hashed to the same length first. */
export function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const m = header === undefined ? null : /^Bearer (.+)$/i.exec(header);
  const given = crypto.createHash('sha256').update(m ? m[1]!.trim() : '').digest();
  const want = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(given, want) && m !== null;
}

/**
 * Every call (health and reflection included) must carry the token; anything
 * else is UNAUTHENTICATED before a handler or deserializer runs.
 */
export function tokenInterceptor(token: () => Buffer | null): grpc.ServerInterceptor {
  return (_method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next(new grpc.ServerListenerBuilder().withOnReceiveMetadata((md, mdNext) => {
        const want = token();
        const got = md.get('authorization');
        if (want === null || tokenMatches(want, typeof got[0] === 'string' ? got[0] : undefined)) {
          mdNext(md);
          return;
        }
        call.sendStatus({ code: status.UNAUTHENTICATED, details: 'authorization: a valid "Bearer <token>" is required' });
      }).build());
    },
  });
}

/**
 * A socket file left by a serve that is gone is removed (grpc-js cannot bind
 * over it); one that still accepts connections belongs to a live process.
 */
export async function clearStaleSocket(file: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new ConfigError([`grpc.listen: ${file} exists and is not a socket`]);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (live) throw new ConfigError([`grpc.listen: ${file}: another process is listening on it`]);
  fs.unlinkSync(file);
}
