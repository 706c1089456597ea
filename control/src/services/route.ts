/** linerate.v1.RouteService: batched writes through the controller, reads from the desired state. */
import { once } from 'node:events';
import type * as api from '../gen';
import type { RouteServiceHandlers } from '../gen/linerate/v1/RouteService';
import type { Controller } from '../controller';
import { invalid, notFound } from '../errors';
import type { Logger } from '../log';
import { parseFamily, parsePrefix, subnetOf } from '../model/net';
import { cidrOf } from '../tables/address';
import { type RouteBatch, addBatch, deleteBatch, validateRouteUpdates, writeBatch } from '../tables/route';
import { connectedRouteMsg, failStream, routeMsg, unary } from './common';

const MAX_PAGE = 65536;

export function routeService(ctl: Controller, log: Logger): RouteServiceHandlers {
  const write = (b: RouteBatch): Promise<api.WriteRoutesResponse> =>
    ctl.write((state, a) => validateRouteUpdates(b, state, a.ports, ctl.limits)).then((applied) => ({ applied }));

  return {
    Write: unary(log, 'Write', (req) => write(writeBatch(req))),
    AddRoutes: unary(log, 'AddRoutes', (req) => write(addBatch(req))),
    DeleteRoutes: unary(log, 'DeleteRoutes', (req) => write(deleteBatch(req))),

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
        const routes = [...ctl.state.routes.values()];
        const connected = req.excludeConnected ? [] : [...ctl.state.addresses.values()];
        let page: api.Route[] = [];
        const flush = async (): Promise<void> => {
          if (!page.length || call.cancelled) return;
          const ok = call.write({ routes: page });
          page = [];
          if (!ok) await once(call, 'drain');
        };
        for (const r of routes) {
          if (call.cancelled) return;
          if (family && r.family !== family) continue;
          page.push(routeMsg(r));
          if (page.length >= pageSize) await flush();
        }
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
