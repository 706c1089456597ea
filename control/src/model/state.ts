/**
 * The desired state: one map per registered table (control/src/tables),
 * keyed and in canonical form: state.addresses, state.routes, ... It changes
 * only through applyChanges(), the same code for a live write and for a
 * journal replay, so that a reload rebuilds exactly what was replied to the
 * client.
 */
import { type TableMaps, type TableName, addOrder, tableOf, tables } from '../tables';
import { type AnyTable, type Change, type EntryOf, type Op, type TableMap, ownFiles } from '../tables/table';

// The maps are own properties named by the registry (declaration merging types them).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface DesiredState extends TableMaps {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class DesiredState {
  constructor() {
    for (const t of tables) (this as unknown as Record<string, TableMap<unknown>>)[t.name] = t.newMap ? t.newMap() : new Map();
  }

  /** The map of table `t`. */
  of<T extends AnyTable>(t: T): TableMap<EntryOf<T>> {
    return (this as unknown as Record<string, TableMap<EntryOf<T>>>)[t.name];
  }

  /** Applies validated changes; throws on an inconsistent one (a bug or a corrupt journal). */
  applyChanges(changes: readonly Change[]): void {
    for (const c of changes) {
      const t = tableOf(c.kind);
      put(this.of(t), t.key(c.entry), c.entry, c.op);
    }
  }

  /**
   * Every entry as a change that recreates it, dependencies first (the JSON
   * snapshot). `withOwnFiles`: also the tables that persist themselves.
   */
  *asChanges(withOwnFiles = false): Generator<Change> {
    for (const t of addOrder) {
      const m = this.of(t);
      if (!withOwnFiles && ownFiles(m)) continue;
      for (const entry of m.values()) yield { kind: t.kind, op: 'add', entry };
    }
  }

  get size(): Record<TableName, number> {
    return Object.fromEntries(tables.map((t) => [t.name, this.of(t).size])) as Record<TableName, number>;
  }
}

function put<T>(map: TableMap<T>, key: string, value: T, op: Op): void {
  if (ownFiles(map)) {
    // Replays only (a table with its own files is written through its own path): an old
    // state dir's records may repeat what the table's own files already hold.
    if (op === 'del') map.delete(key);
    else map.set(key, value);
    return;
  }
  const has = map.has(key);
  if (op === 'add' && has) throw new Error(`state: add of existing ${key}`);
  if (op !== 'add' && !has) throw new Error(`state: ${op} of missing ${key}`);
  if (op === 'del') map.delete(key);
  else map.set(key, value);
}
