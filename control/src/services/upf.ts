/**
 * linerate.v1.SessionService and UpfService (proto/linerate/v1/upf.proto)
 * over the session and UPF configuration tables (tables/session.ts,
 * tables/upf-config.ts): session writes atomic per session with a status
 * per session, reads with the dataplane's URR counters, the configuration,
 * and the UPF counters with the gtpu_* / upf_* drop reasons.
 */
import { once } from 'node:events';
import { status } from '@grpc/grpc-js';
import type * as dp from '../dataplane/addon';
import type { Controller } from '../controller';
import { type ApiError, exists, invalid, notFound, toApiError } from '../errors';
import type * as api from '../gen';
import type { SessionServiceHandlers } from '../gen/linerate/v1/SessionService';
import type { UpfServiceHandlers } from '../gen/linerate/v1/UpfService';
import type { Logger } from '../log';
import { type Session, SessionKeys, parseSeid, parseSession, sessionOp, sessionTable } from '../tables/session';
import { type Change, change } from '../tables/table';
import { UPF_CONFIG_KEY, type UpfConfig, parseUpfConfig, upfConfigTable } from '../tables/upf-config';
import { failStream, unary } from './common';

const MAX_SESSIONS_PER_WRITE = 1024;
const IFACE_NAME = { access: 'INTERFACE_ACCESS', core: 'INTERFACE_CORE' } as const;
const ACTION_NAME = { drop: 'FAR_ACTION_DROP', forward: 'FAR_ACTION_FORWARD', buffer: 'FAR_ACTION_BUFFER' } as const;
const GATE_NAME = { open: 'GATE_OPEN', closed: 'GATE_CLOSED' } as const;

/** A model session as the API shows it, with the URR counters of a dataplane read. */
export function sessionMsg(s: Session, read?: dp.UpfSessionEntry): api.Session {
  const ctr = new Map((read?.urrs ?? []).map((u) => [u.id, u]));
  return {
    seid: s.seid,
    pdrs: s.pdrs.map((p) => ({
      id: p.id, precedence: p.precedence, sourceInterface: IFACE_NAME[p.sourceInterface],
      localFTeid: p.sourceInterface === 'access' ? { teid: p.teid ?? 0, address: p.n3Address ?? '' } : null,
      ueAddress: p.ueAddress ?? '', ...(p.qfi !== undefined ? { qfi: p.qfi } : {}),
      ...(p.sourceInterface === 'access' ? { outerHeaderRemoval: true } : {}),
      farId: p.farId, qerIds: p.qerIds, urrIds: p.urrIds,
    })),
    fars: s.fars.map((f) => ({
      id: f.id, action: ACTION_NAME[f.action],
      destinationInterface: f.destinationInterface ? IFACE_NAME[f.destinationInterface] : 'INTERFACE_UNSPECIFIED',
      outerHeaderCreation: f.outerHeaderCreation ? {
        peer: { teid: f.outerHeaderCreation.teid, address: f.outerHeaderCreation.address }, qfi: f.outerHeaderCreation.qfi,
      } : null,
    })),
    qers: s.qers.map((q) => ({
      id: q.id, gateUl: GATE_NAME[q.gateUl], gateDl: GATE_NAME[q.gateDl], mbrUl: String(q.mbrUl), mbrDl: String(q.mbrDl), qfi: q.qfi,
    })),
    urrs: s.urrs.map((u) => {
      const c = ctr.get(u.id);
      return {
        id: u.id, ulPackets: String(c?.ulPackets ?? 0n), ulBytes: String(c?.ulBytes ?? 0n),
        dlPackets: String(c?.dlPackets ?? 0n), dlBytes: String(c?.dlBytes ?? 0n),
      };
    }),
  };
}

const okStatus = (seid: string): api.SessionStatus => ({ seid, code: 0, message: '' });

export function sessionService(ctl: Controller, log: Logger): SessionServiceHandlers {
  return {
    /**
     * Inside the write lock each update is validated on its own against the
     * state and the updates before it (F-TEID and UE IP ownership included);
     * the good ones go to the dataplane as one all-or-nothing batch. An
     * update the dataplane still refuses gets that status and the rest is
     * sent again without it.
     */
    Write: unary(log, 'Write', async (req) => {
      const updates = req.updates ?? [];
      const n = updates.length;
      if (n === 0) throw invalid('updates', 'empty: at least one session update is required');
      if (n > MAX_SESSIONS_PER_WRITE) throw invalid('updates', `${n} updates, at most ${MAX_SESSIONS_PER_WRITE}`);
      const statuses: api.SessionStatus[] = updates.map((u) => okStatus(String(u.session?.seid ?? '0')));
      const refused = new Set<number>();
      for (;;) {
        let good: number[] = [];
        let failedAt = -1;
        try {
          const applied = await ctl.write((state) => {
            good = [];
            const keys = new SessionKeys(state);
            const seen = new Map<string, number>();
            const pending = new Map<string, Session | null>();  // this batch's view: null = deleted
            const changes: Change[] = [];
            for (let i = 0; i < n; i++) {
              if (refused.has(i)) continue;
              const f = `updates[${i}]`;
              try {
                const op = sessionOp(updates[i].op, `${f}.op`);
                const seid = parseSeid(updates[i].session?.seid, `${f}.session.seid`);
                statuses[i] = okStatus(seid);
                const prev = seen.get(seid);
                if (prev !== undefined) throw invalid(`${f}.session.seid`, `session ${seid} appears twice in the batch (also updates[${prev}])`);
                const cur = pending.has(seid) ? pending.get(seid) ?? undefined : state.sessions.get(seid);
                if (op === 'add' && cur) throw exists(`${f}.session.seid`, `session ${seid} exists`);
                if (op !== 'add' && !cur) throw notFound(`${f}.session.seid`, `no session ${seid}`);
                let entry: Session;
                if (op === 'del') {
                  entry = cur!;
                } else {
                  entry = parseSession(updates[i].session, `${f}.session`);
                  if (cur) keys.remove(cur);
                  try {
                    keys.check(entry, `${f}.session`);
                  } finally {
                    if (cur) keys.add(cur);
                  }
                }
                if (cur) keys.remove(cur);
                if (op !== 'del') keys.add(entry);
                seen.set(seid, i);
                pending.set(seid, op === 'del' ? null : entry);
                changes.push(change(sessionTable, op, entry));
                good.push(i);
              } catch (e) {
                const err: ApiError = toApiError(e);
                statuses[i] = { seid: statuses[i].seid, code: err.code, message: err.message };
              }
            }
            return { changes, fieldOf: (k: number) => { failedAt = good[k]; return `updates[${good[k]}].session`; } };
          });
          return { statuses, applied };
        } catch (e) {
          const err = toApiError(e);
          if (failedAt < 0 || err.code === status.INTERNAL || err.code === status.UNAVAILABLE) throw err;
          statuses[failedAt] = { seid: statuses[failedAt].seid, code: err.code, message: err.message };
          refused.add(failedAt);
        }
      }
    }),

    Read: unary(log, 'Read', async (req) => {
      const seid = parseSeid(req.seid, 'seid');
      const s = ctl.state.sessions.get(seid);
      if (!s) throw notFound('seid', `no session ${seid}`);
      let read: dp.UpfSessionEntry | undefined;
      try {
        read = await ctl.attached().dp.upfSessionRead(seid);
      } catch (e) {
        // NOT_FOUND: not pushed yet (reconcile pending); the counters read zero
        if (toApiError(e).code !== status.NOT_FOUND) throw e;
      }
      return sessionMsg(s, read);
    }),

    List: (call) => {
      void (async () => {
        const pageSize = call.request.pageSize || 256;
        if (pageSize > 4096) throw invalid('page_size', 'at most 4096');
        const sessions = [...ctl.state.sessions.values()].sort((a, b) => (BigInt(a.seid) < BigInt(b.seid) ? -1 : 1));
        const reads = new Map<string, dp.UpfSessionEntry>();
        for (const e of await ctl.attached().dp.upfSessionDump()) reads.set(String(e.seid), e);
        let page: api.Session[] = [];
        const flush = async (): Promise<void> => {
          if (!page.length || call.cancelled) return;
          const ok = call.write({ sessions: page });
          page = [];
          if (!ok) await once(call, 'drain');
        };
        for (const s of sessions) {
          if (call.cancelled) return;
          page.push(sessionMsg(s, reads.get(s.seid)));
          if (page.length >= pageSize) await flush();
        }
        await flush();
        call.end();
      })().catch((e: unknown) => failStream(call, e));
    },
  };
}

const configMsg = (c: UpfConfig | undefined): api.UpfConfig => ({
  n3Address: c?.n3Address ?? '',
  ports: Object.fromEntries(Object.entries(c?.ports ?? {}).map(([p, i]) => [p, IFACE_NAME[i]])),
});

export function upfService(ctl: Controller, dropReasons: readonly string[], log: Logger): UpfServiceHandlers {
  return {
    SetConfig: unary(log, 'SetConfig', async (req) => {
      await ctl.write((state, a) => {
        const c = parseUpfConfig(req, a.ports);
        const cur = state.upfConfig.get(UPF_CONFIG_KEY);
        const empty = c.n3Address === '' && Object.keys(c.ports).length === 0;
        if (empty) return { changes: cur ? [change(upfConfigTable, 'del', cur)] : [], fieldOf: () => '' };
        return { changes: [change(upfConfigTable, cur ? 'mod' : 'add', c)], fieldOf: () => '' };
      });
      return configMsg(ctl.state.upfConfig.get(UPF_CONFIG_KEY));
    }),

    GetConfig: unary(log, 'GetConfig', () => configMsg(ctl.state.upfConfig.get(UPF_CONFIG_KEY))),

    GetStats: unary(log, 'GetStats', async () => {
      const s = await ctl.attached().dp.upfStats();
      const drops: Record<string, string> = {};
      const names = dropReasons.filter((r) => r.startsWith('gtpu_') || r.startsWith('upf_'));
      const sum = new Map<string, bigint>(names.map((r) => [r, 0n]));
      const snap = ctl.snapshot();
      for (const p of snap?.ports ?? []) {
        for (const q of p.rxq) for (const r of names) sum.set(r, (sum.get(r) ?? 0n) + (q.drops[r] ?? 0n));
      }
      for (const [r, v] of sum) drops[r] = String(v);
      return {
        sessions: s.sessions, sessionsMax: s.sessionsMax, ulKeys: s.ulKeys, dlKeys: s.dlKeys, bytes: String(s.bytes),
        counters: Object.fromEntries(Object.entries(s.counters).map(([k, v]) => [k, String(v)])),
        drops,
      };
    }),
  };
}
