/** linerate.v1.DataplaneService: what the control plane is attached to (identity, packet pool use, where /metrics is). */
import type { DataplaneServiceHandlers } from '../gen/linerate/v1/DataplaneService';
import type { Controller } from '../controller';
import type { Supervisor } from '../dataplane/supervisor';
import type { Logger } from '../log';
import { unary } from './common';

/** What serve knows of itself; `address` is where /metrics listens ("" = off), set once bound. */
export interface ServeInfo { name: string; ctlPath: string; address: string }

export function dataplaneService(ctl: Controller, sup: Supervisor, info: ServeInfo, log: Logger): DataplaneServiceHandlers {
  return {
    GetDataplane: unary(log, 'GetDataplane', () => {
      const a = sup.attachment;
      const mbufs = ctl.snapshot()?.mbufs;
      const h = a?.hello;
      const size = ctl.state.size;
      return {
        attached: !!a && sup.isHealthy,
        name: h?.name ?? info.name,
        pid: h?.pid ?? 0,
        bootId: (h?.bootId ?? 0n).toString(),
        startTimeNs: (h?.startTimeNs ?? 0n).toString(),
        version: h?.version ?? 0,
        ports: h?.nPorts ?? 0,
        workers: h?.nWorkers ?? 0,
        ctlPath: info.ctlPath,
        statsPath: h?.statsPath ?? '',
        attaches: sup.attaches,
        spawns: sup.spawns,
        routes: String(size.routes),
        neighbors: String(size.neighbors),
        addresses: String(size.addresses),
        mbufsSize: String(mbufs?.size ?? 0n),
        mbufsInUse: String(mbufs?.inUse ?? 0n),
        metricsAddress: info.address,
      };
    }),
  };
}
