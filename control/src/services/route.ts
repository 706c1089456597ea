/**
 * linerate.v1.RouteService: batched writes through the controller's route
 * write path (the requests arrive as bytes: guardService's rawRequests),
 * reads from the desired state. ListRoutes streams pages the addon encodes
 * (rawResponses).
 */
import { once } from 'node:events';
import type * as api from '../gen';
import type { RouteServiceHandlers } from '../gen/linerate/v1/RouteService';
import type { Controller } from '../controller';
import { invalid, notFound } from '../errors';
import type { Logger } from '../log';
import { parseFamily, parsePrefix, subnetOf } from '../model/net';
import { cidrOf } from '../tables/address';
import type { RouteMethod } from '../dataplane/addon';
import { type RouteBatch, addBatch, deleteBatch, validateRouteUpdates, writeBatch } from '../tables/route';
import { routeMapOf } from '../tables/route-map';
import { connectedRouteMsg, failStream, routeMsg, unary } from './common';
import type { RawRequest } from './guard';

const MAX_PAGE = 65536;

export function routeService(ctl: Controller, log: Logger): RouteServiceHandlers {
  /** The full validation of a request, from its standard decoding: the path of every refusal. */
  const write = <T>(method: RouteMethod, req: unknown, batch: (r: T) => RouteBatch): Promise<api.WriteRoutesResponse> => {
    const raw = req as RawRequest<T>;
    return ctl.writeRoutes(method, raw.bytes, (state, a) => validateRouteUpdates(batch(raw.decode()), state, a.ports, ctl.limits))
      .then((applied) => ({ applied }));
  };

  return {
    Write: unary(log, 'Write', (req) => write('Write', req, writeBatch)),
    AddRoutes: unary(log, 'AddRoutes', (req) => write('AddRoutes', req, addBatch)),
    DeleteRoutes: unary(log, 'DeleteRoutes', (req) => write('DeleteRoutes', req, deleteBatch)),

    GetRoute: unary(log, 'GetRoute', (req) => {
      const p = parsePrefix(req.prefix, 'prefix');
      const r = ctl.state.routes.get(p.cidr);
      if (r) return routeMsg(r);
      const conn = [...ctl.state.addresses.values()].find((a) => subnetOf(cidrOf(a)) === p.cidr);
      if (conn) return connectedRouteMsg(conn);
      throw notFound('prefix', `no route ${p.cidr}`);
    }),

    ListRoutes: (call) => {
      void (async () => {
        const req = call.request;
        const family = parseFamily(req.family, 'family');
        const pageSize = req.pageSize || 1024;
        if (pageSize > MAX_PAGE) throw invalid('page_size', `at most ${MAX_PAGE}`);
        // A consistent view: later writes do not show up half-way through the stream.
        const routes = routeMapOf(ctl.state.routes).store.snapshot();
        const connected = req.excludeConnected ? [] : [...ctl.state.addresses.values()];
        // The routes: ListRoutesResponse messages the addon encodes (no JS object per route).
        for (let msg = routes.encodePage(family ?? 0, pageSize); msg; msg = routes.encodePage(family ?? 0, pageSize)) {
          if (call.cancelled) return;
          if (!call.write(msg as unknown as api.ListRoutesResponse)) await once(call, 'drain');
        }
        let page: api.Route[] = [];
        const flush = async (): Promise<void> => {
          if (!page.length || call.cancelled) return;
          const ok = call.write({ routes: page });
          page = [];
          if (!ok) await once(call, 'drain');
        };
        for (const a of connected) {
          if (family && a.family !== family) continue;
          page.push(connectedRouteMsg(a));
          if (page.length >= pageSize) await flush();
        }
        await flush();
        call.end();
      })().catch((e: unknown) => failStream(call, e));
    },
  };
}
