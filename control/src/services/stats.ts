/** linerate.v1.StatsService: snapshots of the stats memory, rates between them. */
import type { StatsServiceHandlers } from '../gen/linerate/v1/StatsService';
import type { Controller } from '../controller';
import type { StatsSnapshot } from '../dataplane/addon';
import { invalid, unavailable } from '../errors';
import type { Logger } from '../log';
import { buildStats } from '../stats/rates';
import { failStream, unary } from './common';

export const MIN_INTERVAL_MS = 100;

export function statsService(ctl: Controller, log: Logger): StatsServiceHandlers {
  const take = (): StatsSnapshot => {
    ctl.attached();
    const s = ctl.snapshot();
    if (!s) throw unavailable('dataplane stats memory not mapped');
    return s;
  };
  return {
    GetStats: unary(log, 'GetStats', () => {
      const cur = take();
      return buildStats(cur, ctl.previousSample(cur));
    }),
    WatchStats: (call) => {
      try {
        const ms = call.request.intervalMs || 1000;
        if (ms < MIN_INTERVAL_MS) throw invalid('interval_ms', `minimum ${MIN_INTERVAL_MS}`);
        let prev = take();
        call.write(buildStats(prev, ctl.previousSample(prev)));
        const t = setInterval(() => {
          if (call.cancelled) return stop();
          const cur = ctl.snapshot();
          if (!cur) return; // detached: resume when attached again
          call.write(buildStats(cur, prev));
          prev = cur;
        }, ms);
        const stop = (): void => clearInterval(t);
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('error', stop);
      } catch (e) {
        failStream(call, e);
      }
    },
  };
}
