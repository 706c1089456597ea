/**
 * Model <-> addon: the dataplane's port numbering (PortMap), and a write's
 * changes as the one dataplane batch that applies them (or undoes them).
 * The per-table translation lives in each table module (control/src/tables).
 */
import type * as dp from './addon';
import type { DesiredState } from '../model/state';
import { tableOf } from '../tables';
import { type AnyTable, type Change, sendEntries } from '../tables/table';

/** The dataplane's ports by name and by id. */
export class PortMap {
  private readonly byName = new Map<string, dp.PortInfo>();
  private readonly byId = new Map<number, dp.PortInfo>();

  /** Port names, and ids by name (what the route write path hands the addon). */
  readonly names: readonly string[];
  readonly ids: Readonly<Record<string, number>>;

  constructor(readonly list: readonly dp.PortInfo[]) {
    const ids: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const p of list) {
      this.byName.set(p.name, p);
      this.byId.set(p.portId, p);
      ids[p.name] = p.portId;
    }
    this.names = list.map((p) => p.name);
    this.ids = ids;
  }
  has(name: string): boolean { return this.byName.has(name); }
  get(name: string): dp.PortInfo | undefined { return this.byName.get(name); }
  id(name: string): number {
    const p = this.byName.get(name);
    if (!p) throw new Error(`unknown port ${name}`);
    return p.portId;
  }
  name(id: number): string { return this.byId.get(id)?.name ?? `port${id}`; }
}

/** One dataplane batch: the addon entries of one table. */
export interface DpBatch { table: AnyTable; entries: unknown[] }

/** The changes of one write (one request, so one table; at least one change) as one dataplane batch. */
export function toBatch(changes: readonly Change[], ports: PortMap): DpBatch {
  if (!changes.length) throw new Error('an empty batch');
  const table = tableOf(changes[0].kind);
  const entries = changes.map((c) => {
    if (c.kind !== table.kind) throw new Error('one batch holds one kind of entry');
    return table.toEntry(c.entry, table.writeOps[c.op], ports);
  });
  return { table, entries };
}

export const sendBatch = (d: dp.Dataplane, b: DpBatch): Promise<void> => sendEntries(b.table, d, b.entries);

/** The changes that undo `changes`, given the state before them (for a failed journal write). */
export function inverseChanges(changes: readonly Change[], before: DesiredState): Change[] {
  return changes.slice().reverse().map((c): Change => {
    if (c.op === 'add') return { ...c, op: 'del' };
    if (c.op === 'del') return { ...c, op: 'add' };
    const t = tableOf(c.kind);
    return { ...c, entry: before.of(t).get(t.key(c.entry)) ?? c.entry };
  });
}
