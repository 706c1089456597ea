/** linerate.v1.DataplaneService: what the control plane is attached to (identity, packet pool use, where /metrics is) and its log. */
import type { DataplaneServiceHandlers } from '../gen/linerate/v1/DataplaneService';
import type { Controller } from '../controller';
import type { Supervisor } from '../dataplane/supervisor';
import type { Logger } from '../log';
import { status } from '@grpc/grpc-js';
import { tailLines, followLines } from '../dataplane/logfile';
import { ApiError, invalid } from '../errors';
import { failStream, unary } from './common';

/** What serve knows of itself; `address` is where /metrics listens ("" = off), set once bound. */
export interface ServeInfo { name: string; ctlPath: string; logPath: string; address: string }

export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 10000;
/** Lines per DataplaneLog message of the history. */
const LOG_CHUNK = 500;

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
    GetDataplaneLog: (call) => {
      try {
        const n = call.request.lines || DEFAULT_LOG_LINES;
        if (n > MAX_LOG_LINES) throw invalid('lines', `at most ${MAX_LOG_LINES}`);
        let tail: { lines: string[]; end: number };
        try {
          tail = tailLines(info.logPath, n);
        } catch (e) {
          throw new ApiError(status.FAILED_PRECONDITION, `no dataplane log at ${info.logPath} ` +
            `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): serve writes it when it starts the dataplane`);
        }
        for (let i = 0; i < tail.lines.length; i += LOG_CHUNK) call.write({ lines: tail.lines.slice(i, i + LOG_CHUNK) });
        if (!call.request.follow) {
          call.end();
          return;
        }
        const stop = followLines(info.logPath, tail.end, (lines) => {
          if (!call.cancelled) call.write({ lines });
        });
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('error', stop);
      } catch (e) {
        failStream(call, e);
      }
    },
  };
}
