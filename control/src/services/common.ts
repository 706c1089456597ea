/**
 * Handler plumbing shared by the services (errors become gRPC statuses) and
 * the model -> message conversions more than one service returns.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as api from '../gen';
import { toApiError } from '../errors';
import type { Logger } from '../log';
import { subnetOf } from '../model/net';
import { type Address, cidrOf } from '../tables/address';
import type { Route } from '../tables/route';

export type Handler<Req, Res> = (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

export function unary<Req, Res>(log: Logger, method: string, fn: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (e: unknown) => {
          const err = toApiError(e);
          log.debug({ method, code: err.code, msg: err.message }, 'request failed');
          callback({ code: err.code, details: err.message });
        },
      );
  };
}

/** Sends an error on a server stream. */
export function failStream<Req, Res>(call: grpc.ServerWritableStream<Req, Res>, e: unknown): void {
  const err = toApiError(e);
  call.emit('error', { code: err.code, details: err.message });
}

export const familyName = (f: 4 | 6): api.Family__Output => (f === 4 ? 'FAMILY_IPV4' : 'FAMILY_IPV6');

export const addressMsg = (a: Address): api.Address => ({ cidr: cidrOf(a), family: familyName(a.family) });

export const routeMsg = (r: Route): api.Route => ({
  prefix: r.prefix,
  family: familyName(r.family),
  connected: false,
  nextHops: r.nextHops.map((nh) => ({ port: nh.port, via: nh.via ?? '', weight: nh.weight ?? 0 })),
});

/** The connected route a port address installs. */
export const connectedRouteMsg = (a: Address): api.Route => ({
  prefix: subnetOf(cidrOf(a)),
  family: familyName(a.family),
  connected: true,
  nextHops: [{ port: a.port, via: '', weight: 0 }],
});
