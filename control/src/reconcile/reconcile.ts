/**
 * Reconcile: make the dataplane hold exactly the desired state. Dump every
 * registered table (entries that are not desired state, such as connected
 * routes and learned neighbors, are left out by the table's dumpKey), diff
 * them with the model, and push the difference in batches of at most
 * maxBatch entries: removals first, in descending table order, then
 * additions in ascending order (routes after the neighbors and addresses
 * their next hops rely on). The order is each table's declared `order`.
 *
 * diff() is pure; reconcile() does the I/O. An entry the dataplane refuses
 * is logged and skipped so that one bad entry cannot block the rest.
 *
 * Routes held in a RouteMap are reconciled by the addon (a million routes
 * are never JS objects: Dataplane.routeReconcilePlan dumps and diffs in C++,
 * routePlanPush pushes), in the same place of the order.
 */
import type * as dp from '../dataplane/addon';
import type { PortMap } from '../dataplane/translate';
import { isEntryRefusal } from '../errors';
import type { DesiredState } from '../model/state';
import { type Dump, type TableName, addOrder, removeOrder, tables } from '../tables';
import { type AnyTable, dumpEntries, sendEntries } from '../tables/table';
import { silentLogger, type Logger } from '../log';
import { routeTable } from '../tables/route';
import { RouteMap } from '../tables/route-map';

export type DataplaneDump = Dump;


export interface Plan {
  /** Addon entries to delete and to add (or replace), per table. */
  del: Dump;
  add: Dump;
  /** Desired entries naming a port the dataplane does not have. */
  unknownPort: string[];
}

export function planSize(p: Plan): number {
  return tables.reduce((n, t) => n + p.del[t.name].length + p.add[t.name].length, 0);
}

const perTable = (): Dump => Object.fromEntries(tables.map((t) => [t.name, []])) as unknown as Dump;

/** What to push so that the dataplane (`dump`) matches `state`; tables in `skip` are left alone. */
export function diff(dump: DataplaneDump, state: DesiredState, ports: PortMap, skip: ReadonlySet<string> = new Set()): Plan {
  const plan: Plan = { del: perTable(), add: perTable(), unknownPort: [] };
  for (const t of addOrder as AnyTable[]) {
    if (skip.has(t.name)) continue;
    const want = state.of(t);
    const del: unknown[] = plan.del[t.name as TableName];
    const add: unknown[] = plan.add[t.name as TableName];
    const have = new Map<string, unknown>();
    for (const e of (dump as Record<string, unknown[]>)[t.name]) {
      const key = t.dumpKey(e, ports);
      if (key !== null) have.set(key, e);
    }
    // Stale entries go; with reconcileOp 'add', so do changed ones (they are added again below).
    for (const [key, e] of have) {
      const w = want.get(key);
      if (w === undefined || (t.reconcileOp === 'add' && (t.missingPort(w, ports) !== undefined || !t.same(e, w, ports)))) {
        del.push(t.deleteEntry(e));
      }
    }
    for (const [key, w] of want) {
      const missing = t.missingPort(w, ports);
      if (missing !== undefined) { plan.unknownPort.push(missing); continue; }
      const e = have.get(key);
      if (e === undefined || !t.same(e, w, ports)) add.push(t.toEntry(w, t.reconcileOp, ports));
    }
  }
  return plan;
}

export async function dumpDataplane(d: dp.Dataplane, skip: ReadonlySet<string> = new Set()): Promise<DataplaneDump> {
  const dump: Record<string, unknown[]> = {};
  for (const t of tables) dump[t.name] = skip.has(t.name) ? [] : await dumpEntries(t as AnyTable, d);
  return dump as DataplaneDump;
}

export interface ReconcileResult { pushed: number; skipped: number; plan: Plan }

/** Pushes `entries` in batches; a refused entry (error.index) is logged and dropped, the rest retried. */
async function push(what: string, entries: unknown[], send: (b: unknown[]) => Promise<void>, maxBatch: number,
  log: Logger): Promise<{ pushed: number; skipped: number }> {
  let pushed = 0;
  let skipped = 0;
  for (let i = 0; i < entries.length; i += maxBatch) {
    const chunk = entries.slice(i, i + maxBatch);
    while (chunk.length) {
      try {
        await send(chunk);
        pushed += chunk.length;
        break;
      } catch (e) {
        // Only an entry-level refusal is skippable; anything else (socket gone) aborts.
        if (!isEntryRefusal(e, chunk.length)) throw e;
        log.warn({ what, entry: chunk[e.index], err: e.message }, 'reconcile: dataplane refused an entry; skipping it');
        chunk.splice(e.index, 1);
        skipped++;
      }
    }
  }
  return { pushed, skipped };
}

export async function reconcile(d: dp.Dataplane, ports: PortMap, state: DesiredState,
  opts: { maxBatch: number; log?: Logger }): Promise<ReconcileResult> {
  const log = opts.log ?? silentLogger;
  const routes = state.routes instanceof RouteMap && d.routeReconcilePlan && d.routePlanPush ? state.routes.store : null;
  const skip = new Set<string>(routes ? [routeTable.name] : []);
  const plan = diff(await dumpDataplane(d, skip), state, ports, skip);
  const routePlan = routes ? await d.routeReconcilePlan!(routes, ports.ids) : null;
  if (routePlan) plan.unknownPort.push(...routePlan.unknownPort);
  for (const u of plan.unknownPort) log.warn({ entry: u }, 'reconcile: desired entry names a port the dataplane does not have');
  const steps = [
    ...removeOrder.map((t) => ({ what: `${t.kind} del`, t, entries: plan.del[t.name as TableName] })),
    ...addOrder.map((t) => ({ what: `${t.kind} add`, t, entries: plan.add[t.name as TableName] })),
  ];
  let pushed = 0;
  let skipped = plan.unknownPort.length;
  for (const { what, t, entries } of steps) {
    if (routePlan && t === routeTable) {
      const which = what.endsWith('del') ? 'del' : 'add';
      if (!(which === 'del' ? routePlan.dels : routePlan.adds)) continue;
      const r = await d.routePlanPush!(routePlan, which, opts.maxBatch);
      for (const refused of r.refused) log.warn({ what, entry: refused }, 'reconcile: dataplane refused an entry; skipping it');
      pushed += r.pushed;
      skipped += r.refused.length;
      continue;
    }
    if (!entries.length) continue;
    const r = await push(what, entries, (b) => sendEntries(t, d, b), opts.maxBatch, log);
    pushed += r.pushed;
    skipped += r.skipped;
  }
  return { pushed, skipped, plan };
}
