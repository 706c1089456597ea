/**
 * The registry of desired-state tables: one line per table. The model, the
 * journal, reconcile, the write path and the fake dataplane loop over it;
 * the order they go in is each table's declared `order`, not this list's.
 */
import { addressTable } from './address';
import { flowTable } from './flow';
import { neighborTable } from './neighbor';
import { routeTable } from './route';
import { sessionTable } from './session';
import { upfConfigTable } from './upf-config';
import type { AnyTable, DpEntryOf, EntryOf, TableMap } from './table';

export const tables = [
  addressTable,
  neighborTable,
  routeTable,
  flowTable,
  upfConfigTable,
  sessionTable,
] as const;

export type RegisteredTable = (typeof tables)[number];
export type TableName = RegisteredTable['name'];

/** Model entries by key, per table: DesiredState.addresses, .routes, ... */
export type TableMaps = { readonly [T in RegisteredTable as T['name']]: TableMap<EntryOf<T>> };
/** Addon entries per table (dumps, the fake dataplane's tables). */
export type DpTableMaps = { readonly [T in RegisteredTable as T['name']]: Map<string, DpEntryOf<T>> };
export type Dump = { [T in RegisteredTable as T['name']]: DpEntryOf<T>[] };

/** Additions go in this order (dependencies first); removals in reverse. */
export const addOrder: readonly AnyTable[] = [...tables].sort((a, b) => a.order - b.order);
export const removeOrder: readonly AnyTable[] = [...addOrder].reverse();

const byKind = new Map<string, AnyTable>(tables.map((t) => [t.kind, t]));

/** The table of a Change kind; throws on an unknown one (a corrupt journal or a bug). */
export function tableOf(kind: string): AnyTable {
  const t = byKind.get(kind);
  if (!t) throw new Error(`unknown table kind ${JSON.stringify(kind)}`);
  return t;
}
