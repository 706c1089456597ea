/**
 * linerate.v1.QueueService: the dataplane's (port, RX queue) -> worker map
 * (LR_CTL_QUEUE_MAP) with each queue's traffic from the stats memory, and
 * queue moves (LR_CTL_QUEUE_MOVE, all-or-nothing, published by the
 * dataplane under RCU). Requests are checked here against the attached
 * dataplane's ports and workers, so that errors name the request's fields;
 * the dataplane checks them again. Moves run inside the controller's write
 * lock, one at a time.
 */
import type * as api from '../gen';
import type { QueueServiceHandlers } from '../gen/linerate/v1/QueueService';
import type { Controller } from '../controller';
import type { QueueEntry } from '../dataplane/addon';
import type { Attachment } from '../dataplane/supervisor';
import { exhausted, invalid, notFound, quote, toApiError } from '../errors';
import type { Logger } from '../log';
import { buildStats } from '../stats/rates';
import { unary } from './common';

/** Moves in one request at most (every queue of every port). */
const MAX_MOVES = 256;

function queueMap(ctl: Controller, a: Attachment, entries: QueueEntry[], port: string): api.QueueMap {
  const cur = ctl.snapshot();
  const stats = cur ? buildStats(cur, ctl.previousSample(cur)) : null;
  const queues: api.Queue[] = entries
    .map((e) => ({ e, name: a.ports.name(e.portId) }))
    .filter(({ name }) => !port || name === port)
    .map(({ e, name }) => ({
      port: name, queue: e.queue, worker: e.worker, lcore: e.lcore, moves: e.moves,
      rx: stats?.ports[e.portId]?.rxQueues[e.queue]?.rx ?? null,
    }));
  return {
    queues,
    version: entries[0]?.version ?? 0,
    workers: a.hello.nWorkers,
    lastMoveMs: Number(entries[0]?.lastMoveNs ?? 0n) / 1e6,
  };
}

export function queueService(ctl: Controller, log: Logger): QueueServiceHandlers {
  return {
    ListQueues: unary(log, 'ListQueues', async (req) => {
      const a = ctl.attached();
      const port = req.port ?? '';
      if (port && !a.ports.has(port)) throw notFound('port', `unknown port ${quote(port)}`);
      return queueMap(ctl, a, await a.dp.queueMap(), port);
    }),

    MoveQueues: unary(log, 'MoveQueues', async (req) => {
      const moves = req.moves ?? [];
      if (!moves.length) throw invalid('moves', 'empty');
      if (moves.length > MAX_MOVES) throw exhausted('moves', `${moves.length} moves exceed the limit of ${MAX_MOVES}`);
      return ctl.exclusive(async () => {
        const a = ctl.attached();
        const seen = new Map<string, number>();
        const batch = moves.map((m, i) => {
          const f = `moves[${i}]`;
          const name = m.port ?? '';
          if (!name) throw invalid(`${f}.port`, 'required');
          const p = a.ports.get(name);
          if (!p) throw notFound(`${f}.port`, `unknown port ${quote(name)}`);
          const queue = Number(m.queue ?? 0);
          if (queue >= p.rxQueues) throw notFound(`${f}.queue`, `port ${name} has ${p.rxQueues} RX queue(s), no queue ${queue}`);
          const worker = Number(m.worker ?? 0);
          if (worker >= a.hello.nWorkers) throw notFound(`${f}.worker`, `no worker ${worker} (the dataplane has ${a.hello.nWorkers})`);
          const key = `${name}/${queue}`;
          const prev = seen.get(key);
          if (prev !== undefined) throw invalid(`${f}.queue`, `port ${name} queue ${queue} appears twice (also moves[${prev}])`);
          seen.set(key, i);
          return { portId: p.portId, queue, worker };
        });
        const t0 = process.hrtime.bigint();
        try {
          await a.dp.queueMove(batch);
        } catch (e) {
          throw toApiError(e, (i) => `moves[${i}]`);
        }
        const res = queueMap(ctl, a, await a.dp.queueMap(), '');
        log.info({ moves: batch.length, version: res.version, liveMs: res.lastMoveMs,
          callMs: Number(process.hrtime.bigint() - t0) / 1e6 }, 'queues moved');
        return res;
      });
    }),
  };
}
