/**
 * linerate.v1.FlowService: P4Runtime-style batched writes through the
 * controller (all-or-nothing, or continue-on-error with a status per
 * update), reads of the desired state with the dataplane's counters, and
 * the classifier's figures.
 */
import { once } from 'node:events';
import { status } from '@grpc/grpc-js';
import type * as api from '../gen';
import type { FlowServiceHandlers } from '../gen/linerate/v1/FlowService';
import type { Controller } from '../controller';
import { type ApiError, exists, invalid, toApiError } from '../errors';
import type { Logger } from '../log';
import { parseFamily } from '../model/net';
import { type Flow, flowTable, flowWriteBatch, validateFlowWrite } from '../tables/flow';
import { type Change, checkBatchSize, validateWrite } from '../tables/table';
import { failStream, familyName, unary } from './common';

const MAX_PAGE = 65536;

const PROTO_NAME: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

/** A model flow as the API shows it, with its counters. */
export function flowMsg(f: Flow, c?: { packets?: bigint; bytes?: bigint }): api.Flow {
  const range = (r?: [number, number]): api.PortRange | null => (r ? { first: r[0], last: r[1] } : null);
  return {
    id: f.id,
    table: f.table === 'exact' ? 'FLOW_TABLE_EXACT' : 'FLOW_TABLE_WILDCARD',
    priority: f.priority,
    match: {
      family: familyName(f.family),
      inPort: f.inPort ?? '',
      src: f.src ?? '',
      dst: f.dst ?? '',
      protocol: f.proto === undefined ? '' : PROTO_NAME[f.proto] ?? String(f.proto),
      srcPort: range(f.sport),
      dstPort: range(f.dport),
      dscp: f.dscp ?? null,
      tcpFlags: f.tcpFlags ?? null,
    },
    action: {
      kind: f.action === 'drop' ? 'DROP' : f.action === 'forward' ? 'FORWARD' : 'CONTINUE',
      port: f.outPort ?? '',
      via: f.via ?? '',
      mirrorPort: f.mirrorPort ?? '',
      setDscp: f.setDscp === undefined ? null : { dscp: f.setDscp },
      meter: f.meter ? {
        cir: String(f.meter.cir), cbs: String(f.meter.cbs), pir: String(f.meter.pir), pbs: String(f.meter.pbs),
        mode: f.meter.mode === 'mark' ? 'MARK' : 'DROP_RED', yellowDscp: f.meter.yellowDscp ?? 0, redDscp: f.meter.redDscp ?? 0,
      } : null,
    },
    packets: String(c?.packets ?? 0n),
    bytes: String(c?.bytes ?? 0n),
  };
}

const tableFilter: Record<string, Flow['table'] | undefined> = {
  FLOW_TABLE_WILDCARD: 'wildcard', FLOW_TABLE_EXACT: 'exact', 1: 'wildcard', 2: 'exact',
};

const okStatus: api.UpdateStatus = { code: 0, message: '' };

export function flowService(ctl: Controller, log: Logger): FlowServiceHandlers {
  /**
   * CONTINUE_ON_ERROR: inside the write lock, each update is validated on
   * its own against the state; the good ones go to the dataplane as one
   * batch. An update the dataplane refuses (a full table, a 5-tuple
   * already pinned) gets that status and the rest is sent again without it.
   */
  async function writeContinue(req: api.WriteFlowsRequest): Promise<api.WriteFlowsResponse> {
    const n = req.updates?.length ?? 0;
    checkBatchSize(n, 'updates', ctl.limits);
    const statuses: (ApiError | null)[] = new Array<ApiError | null>(n).fill(null);
    const refused = new Set<number>();
    for (;;) {
      let good: number[] = [];
      let failedAt = -1;
      try {
        const applied = await ctl.write((state, a) => {
          good = [];
          const seen = new Map<string, number>();
          const changes: Change[] = [];
          for (let i = 0; i < n; i++) {
            if (refused.has(i)) continue;
            statuses[i] = null;
            try {
              const v = validateWrite(flowTable, flowWriteBatch(req, a.ports, [i]), state, ctl.limits);
              const key = flowTable.key(v.changes[0].entry as Flow);
              const prev = seen.get(key);
              if (prev !== undefined) throw exists(`updates[${i}].flow.id`, `flow ${key} appears twice in the batch (also updates[${prev}])`);
              seen.set(key, i);
              changes.push(v.changes[0]);
              good.push(i);
            } catch (e) {
              statuses[i] = toApiError(e);
            }
          }
          return { changes, fieldOf: (k: number) => { failedAt = good[k]; return `updates[${good[k]}]`; } };
        });
        return { applied, statuses: statuses.map((s) => (s ? { code: s.code, message: s.message } : okStatus)) };
      } catch (e) {
        const err = toApiError(e);
        if (failedAt < 0 || err.code === status.INTERNAL || err.code === status.UNAVAILABLE) throw err;
        statuses[failedAt] = err;
        refused.add(failedAt);
      }
    }
  }

  return {
    Write: unary(log, 'Write', async (req) => {
      const atomicity = String(req.atomicity ?? 'ROLLBACK_ON_ERROR');
      if (atomicity === 'CONTINUE_ON_ERROR' || atomicity === '1') return writeContinue(req);
      if (!['ROLLBACK_ON_ERROR', 'DATAPLANE_ATOMIC', '0', '2'].includes(atomicity)) throw invalid('atomicity', `unknown value ${atomicity}`);
      const applied = await ctl.write((state, a) => validateFlowWrite(req, state, a.ports, ctl.limits));
      return { applied, statuses: [] };
    }),

    Read: (call) => {
      void (async () => {
        const req = call.request;
        const t = String(req.table ?? 'FLOW_TABLE_UNSPECIFIED');
        const table = t === 'FLOW_TABLE_UNSPECIFIED' || t === '0' ? undefined : tableFilter[t];
        if (table === undefined && t !== 'FLOW_TABLE_UNSPECIFIED' && t !== '0') throw invalid('table', `unknown table ${t}`);
        const family = parseFamily(req.family, 'family');
        const prio = req.priority ? [Number(req.priority.first ?? 0), Number(req.priority.last ?? 0)] : null;
        if (prio && prio[0] > prio[1]) throw invalid('priority', `range ${prio[0]}-${prio[1]} is reversed`);
        const pageSize = req.pageSize || 1024;
        if (pageSize > MAX_PAGE) throw invalid('page_size', `at most ${MAX_PAGE}`);
        // A consistent view of the desired state, then the counters of this moment.
        const flows = [...ctl.state.flows.values()]
          .filter((f) => (!table || f.table === table) && (!family || f.family === family)
            && (!prio || (f.priority >= prio[0] && f.priority <= prio[1])))
          .sort((a, b) => a.id - b.id);
        const counters = new Map<number, { packets?: bigint; bytes?: bigint }>();
        const a = ctl.attached();
        for (const e of await a.dp.flowDump(family)) counters.set(e.id, e);
        let page: api.Flow[] = [];
        const flush = async (): Promise<void> => {
          if (!page.length || call.cancelled) return;
          const ok = call.write({ flows: page });
          page = [];
          if (!ok) await once(call, 'drain');
        };
        for (const f of flows) {
          if (call.cancelled) return;
          page.push(flowMsg(f, counters.get(f.id)));
          if (page.length >= pageSize) await flush();
        }
        await flush();
        call.end();
      })().catch((e: unknown) => failStream(call, e));
    },

    GetFlowStats: unary(log, 'GetFlowStats', async () => {
      const [s] = await ctl.attached().dp.flowStats();
      return {
        wildcardRules: s.wildcardRules, wildcardMax: s.wildcardMax, exactRules: s.exactRules, exactMax: s.exactMax,
        aclBytes: String(s.aclBytes), exactBytes: String(s.exactBytes),
        lastBuildMs: Number(s.lastBuildNs) / 1e6, builds: String(s.builds),
      };
    }),
  };
}
