/**
 * What every request passes before a service handler sees it (issue 15):
 * a message grpc-js cannot decode is INVALID_ARGUMENT (grpc-js answers
 * INTERNAL when a deserializer throws, so ours never throws and hands the
 * handler a marker instead), no string field is longer than MAX_STRING
 * (checked on the decoded message, before any parser or regular expression
 * runs), and a call whose deadline passed or that was cancelled while it
 * waited does no work. Applied once, in server.ts, to every service.
 */
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ApiError, quote } from '../errors';

/**
 * Longest string any request field may hold. The longest valid ones are an
 * IPv6 prefix ("ffff:...:255.255.255.255/128", 49 characters) and a port
 * name (31); names and paths in the API stay well under this.
 */
export const MAX_STRING = 256;

/**
 * gRPC receive limit: the largest valid message, a WriteRoutesRequest of
 * maxBatch updates whose routes carry maxEcmp next hops with the longest
 * valid strings. Protobuf sizes (tag 1 byte, length 1 byte below 128, 2 below 16384):
 *   NextHop  = port (2 + 31) + via (2 + 45) + weight (1 + 5)   =  86, framed 88
 *   Route    = prefix (2 + 49) + 8 x 88 + connected 2 + family 2 = 759
 *   RouteUpdate = type 2 + route (3 + 759)                      = 764, framed 767
 * so 65536 updates are 65536 x 767 = 50,266,112 bytes: 48 MiB holds them.
 * AddRoutes (760 per route) and neighbor batches are smaller.
 */
export function receiveLimit(maxBatch: number, maxEcmp: number): number {
  const route = 2 + 49 + maxEcmp * 88 + 2 + 2;
  const update = 1 + 2 + (2 + 3 + route);
  const bytes = maxBatch * update + 4096;
  return Math.ceil(bytes / (1 << 20)) * (1 << 20);
}

/**
 * What a method that decodes its own requests (the route writes: the addon
 * reads the protobuf bytes) receives: the bytes, and decode(), the
 * standard path, which refuses what the guard refuses for any other method.
 */
export class RawRequest<T = unknown> {
  constructor(readonly bytes: Buffer, private readonly des: (b: Buffer) => T) {}

  decode(): T {
    let req: T;
    try {
      req = this.des(this.bytes);
    } catch (e) {
      throw new ApiError(status.INVALID_ARGUMENT, `request: cannot be decoded: ${String((e as Error).message ?? e).slice(0, 200)}`);
    }
    const long = longString(req);
    if (long) throw new ApiError(status.INVALID_ARGUMENT, long);
    return req;
  }
}

/** What our deserializer returns for bytes that are not the request message. */
export class Undecodable {
  constructor(readonly reason: string) {}
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/*
 * Whether v holds a string longer than MAX_STRING; on the way back up, the
 * keys and indices leading to it are pushed onto trail (innermost first).
 * Builds no string on the way down: a batch of 64k routes is scanned
 * without an allocation per field.
 */
function findLong(v: unknown, trail: (string | number)[]): boolean {
  if (typeof v === 'string') return v.length > MAX_STRING;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (findLong(v[i], trail)) {
        trail.push(i);
        return true;
      }
    }
    return false;
  }
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (findLong(o[k], trail)) {
        trail.push(k);
        return true;
      }
    }
  }
  return false;
}

/** The first string longer than MAX_STRING, as "updates[3].route.prefix: ...", or null. */
export function longString(v: unknown, path = ''): string | null {
  const trail: (string | number)[] = [];
  if (!findLong(v, trail)) return null;
  let at: unknown = v;
  let where = path;
  for (let i = trail.length - 1; i >= 0; i--) {
    const k = trail[i];
    at = (at as Record<string | number, unknown>)[k];
    where = typeof k === 'number' ? `${where}[${k}]` : where ? `${where}.${snake(k)}` : snake(k);
  }
  const s = at as string;
  return `${where || '(request)'}: ${s.length} characters, at most ${MAX_STRING}: ${quote(s)}`;
}

/** Why a request must not reach its handler, or null. */
function refusal(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): ApiError | null {
  const req = call.request;
  if (req instanceof RawRequest) return timing(call);
  if (req instanceof Undecodable) return new ApiError(status.INVALID_ARGUMENT, `request: cannot be decoded: ${req.reason}`);
  const long = longString(req);
  if (long) return new ApiError(status.INVALID_ARGUMENT, long);
  return timing(call);
}

/** A call that was cancelled, or whose deadline passed, while it waited. */
function timing(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): ApiError | null {
  if (call.cancelled) return new ApiError(status.CANCELLED, 'cancelled before it started');
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  if (Number.isFinite(ms) && ms <= Date.now()) return new ApiError(status.DEADLINE_EXCEEDED, 'deadline passed before the call started');
  return null;
}

export interface GuardOptions {
  /** Methods whose handlers get a RawRequest (they decode the bytes themselves). */
  rawRequests?: readonly string[];
  /** Methods whose handlers may write already encoded messages (Buffers) as responses. */
  rawResponses?: readonly string[];
}

/** The service definition and implementation with the checks above in front of every method. */
export function guardService<I extends grpc.UntypedServiceImplementation>(def: grpc.ServiceDefinition, impl: I,
  opts: GuardOptions = {}): [grpc.ServiceDefinition, I] {
  const gdef: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const gimpl: Record<string, unknown> = {};
  const named = (list: readonly string[] | undefined, name: string, m: grpc.MethodDefinition<unknown, unknown>): boolean =>
    !!list && (list.includes(name) || (m.originalName !== undefined && list.includes(m.originalName)));
  for (const [name, m] of Object.entries(def)) {
    const des = m.requestDeserialize;
    const ser = m.responseSerialize;
    gdef[name] = {
      ...m,
      requestDeserialize: named(opts.rawRequests, name, m)
        ? (buf: Buffer) => new RawRequest(buf, des)
        : (buf: Buffer) => {
          try {
            return des(buf);
          } catch (e) {
            return new Undecodable(String((e as Error).message ?? e).slice(0, 200));
          }
        },
      responseSerialize: named(opts.rawResponses, name, m) ? (v: unknown) => (Buffer.isBuffer(v) ? v : ser(v)) : ser,
    };
    const key = name in impl ? name : m.originalName && m.originalName in impl ? m.originalName : undefined;
    if (key === undefined || m.requestStream) {
      if (key !== undefined) gimpl[key] = impl[key];
      continue;
    }
    const h = impl[key] as (...args: unknown[]) => unknown;
    gimpl[key] = m.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const err = refusal(call);
        if (err) {
          call.emit('error', { code: err.code, details: err.message });
          return;
        }
        return h(call);
      }
      : (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const err = refusal(call);
        if (err) {
          cb({ code: err.code, details: err.message });
          return;
        }
        return h(call, cb);
      };
  }
  return [gdef as grpc.ServiceDefinition, gimpl as I];
}
