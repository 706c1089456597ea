/**
 * The table machinery shared by every desired-state table (addresses,
 * neighbors, routes, ...): the Table interface a module in this folder
 * implements, the Change a write journals, and the write validation every
 * table's requests go through. Code outside the table modules (the model,
 * the journal, reconcile, the write path, the fake dataplane) knows tables
 * only through this interface and the registry (index.ts), so adding a
 * table touches its own module and one registration line.
 */
import type * as dp from '../dataplane/addon';
import type { PortMap } from '../dataplane/translate';
import type { Config } from '../config/schema';
import { exhausted, exists, invalid, notFound, quote } from '../errors';
import type { DesiredState } from '../model/state';

/**
 * The map of one table in the desired state: a Map, or a table's own store
 * with the same reads (routes: RouteMap, held in the addon).
 */
export interface TableMap<M> {
  readonly size: number;
  get(key: string): M | undefined;
  has(key: string): boolean;
  set(key: string, value: M): unknown;
  delete(key: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<M>;
  entries(): IterableIterator<[string, M]>;
  [Symbol.iterator](): IterableIterator<[string, M]>;
}

/**
 * A table map that persists itself in its own files of the state dir
 * (state/store.ts leaves its entries out of the JSON snapshot and journal,
 * and calls these instead).
 */
export interface OwnFiles {
  /** Loads the files (before the JSON journal replays); returns the number of entries loaded. */
  loadFiles(dir: string): number;
  /** Writes the map as the files' snapshot and keeps its journal open. */
  compactFiles(dir: string): void;
  closeFiles(): void;
}

export const ownFiles = (m: TableMap<unknown>): OwnFiles | null =>
  typeof (m as Partial<OwnFiles>).compactFiles === 'function' ? (m as unknown as OwnFiles) : null;

/** What a write does to one entry of the desired state. */
export type Op = 'add' | 'del' | 'mod';

/**
 * One validated change: the unit the model applies and the journal stores.
 * A delete carries the full old entry (so that it can be undone).
 */
export interface Change<M = unknown> { kind: string; op: Op; entry: M }

/** Addon methods that push a batch / dump a table (derived from the addon's interface, not listed here). */
export type BatchMethod = { [K in keyof dp.Dataplane]-?: dp.Dataplane[K] extends (ops: never[]) => Promise<void> ? K : never }[keyof dp.Dataplane];
export type DumpMethod = { [K in keyof dp.Dataplane]-?: dp.Dataplane[K] extends (family?: never) => Promise<unknown[]> ? K : never }[keyof dp.Dataplane];

/** Port names the dataplane has. */
export interface PortNames { has(name: string): boolean }

export interface Limits { maxBatch: number; maxEcmp: number }

/**
 * A desired-state table. M is the model entry (canonical, port names), E
 * the addon's entry (port ids) for the same thing.
 */
export interface Table<M = unknown, E = unknown, N extends string = string> {
  /** Change.kind and journal record tag, singular ("route"). */
  readonly kind: string;
  /** Collection name: DesiredState.<name>, dumps, sizes ("routes"). */
  readonly name: N;
  /**
   * Dependency rank: an entry may rely on entries of tables of lower order
   * (a route's gateway on a neighbor, a neighbor on an address), so reconcile
   * and snapshots add in ascending order and remove in descending order.
   */
  readonly order: number;
  /** Unique key of a model entry in its table. */
  key(m: M): string;
  /** The entry as error messages name it ("10.0.0.0/8", "10.0.1.9 on p0"). */
  describe(m: M): string;
  /** Messages of a write that finds the entry present (add) or absent (mod, del). */
  exists(cur: M, m: M): string;
  missing(m: M): string;
  /** Optional: whether a delete request `m` names the stored entry `cur` (default: same key is enough). */
  matches?(cur: M, m: M): boolean;

  /** Addon calls this table uses. */
  readonly addon: { batch: BatchMethod; dump: DumpMethod };
  /** Batch op for each change op (e.g. a static neighbor replaces a learned one). */
  readonly writeOps: Readonly<Record<Op, dp.BatchOp>>;
  /** Model entry -> addon entry. */
  toEntry(m: M, op: dp.BatchOp, ports: PortMap): E;
  /** The addon entry that deletes a dumped entry. */
  deleteEntry(have: E): E;
  /** Model key of a dumped entry; null: not desired state (learned neighbors, connected routes). */
  dumpKey(have: E, ports: PortMap): string | null;
  /** Whether the dumped entry already holds `want`. */
  same(have: E, want: M, ports: PortMap): boolean;
  /**
   * Op reconcile pushes a missing or changed entry with: 'replace' overwrites
   * in place; 'add' first deletes a changed entry (and one whose port is gone).
   */
  readonly reconcileOp: 'add' | 'replace';
  /** Description of `m` when it names a port the dataplane lacks, else undefined. */
  missingPort(m: M, ports: PortNames): string | undefined;
  /** The dataplane's own key of an addon entry, and the port ids it names (the fake dataplane uses them). */
  dpKey(e: E): string;
  dpPorts(e: E): number[];

  /** The table's map in a new desired state (default: a Map). */
  newMap?(): TableMap<M>;
  /** Journal: a stored entry back into a model entry (old record formats are upgraded here). Default: as stored. */
  decode?(stored: unknown): M;
  /** Initial entries from the config (used only while the state dir is empty). */
  fromConfig?(config: Config): M[];
}

/** Any registered table (the registry mixes entry types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTable = Table<any, any>;

/** Identity with inference: `export const routeTable = defineTable<Route, dp.RouteEntry, 'routes'>({...})`. */
export const defineTable = <M, E, N extends string>(t: Table<M, E, N>): Table<M, E, N> => t;

export type EntryOf<T> = T extends Table<infer M, unknown, string> ? M : never;
export type DpEntryOf<T> = T extends Table<unknown, infer E, string> ? E : never;

/** A change of table `t`. */
export const change = <M>(t: Table<M, unknown, string>, op: Op, entry: M): Change<M> => ({ kind: t.kind, op, entry });

/** Pushes addon entries of table `t` as one batch. */
export function sendEntries<E>(t: Table<unknown, E, string>, d: dp.Dataplane, entries: E[]): Promise<void> {
  return (d[t.addon.batch] as (ops: E[]) => Promise<void>).call(d, entries);
}

/** Dumps table `t` from the dataplane (both families). */
export function dumpEntries<E>(t: Table<unknown, E, string>, d: dp.Dataplane): Promise<E[]> {
  return (d[t.addon.dump] as () => Promise<E[]>).call(d);
}

/* ---- write validation, the same for every table ---- */

export interface Validated { changes: Change[]; fieldOf(index: number): string }

/**
 * A write request read entry by entry (entry i: its op and its model entry;
 * parsers throw errors naming the field). Field names are functions of the
 * index, built only on error: route batches hold 65536 entries.
 */
export interface WriteBatch<M> {
  /** The request's list field ("updates", "addresses"). */
  listField: string;
  length: number;
  op(i: number): Op;
  entry(i: number, op: Op): M;
  /** Field of entry i ("updates[3]"), and of its key ("updates[3].route.prefix"). */
  field(i: number): string;
  keyField(i: number): string;
}

export const indexed = (list: string) => (i: number): string => `${list}[${i}]`;

export function checkBatchSize(n: number, field: string, limits: Limits): void {
  if (n === 0) throw invalid(field, 'empty: at least one entry is required');
  if (n > limits.maxBatch) throw exhausted(field, `${n} entries exceed the batch limit of ${limits.maxBatch}`);
}

export function checkPort(name: unknown, field: string, ports: PortNames): string {
  if (typeof name !== 'string' || name === '') throw invalid(field, 'required');
  if (!ports.has(name)) throw notFound(field, `unknown port ${quote(name)}`);
  return name;
}

/**
 * Validates a whole write before anything is touched: batch size, each
 * entry, a key at most once per batch, and presence in the desired state
 * (add: absent; mod, del: present).
 */
export function validateWrite<M>(t: Table<M, unknown, string>, b: WriteBatch<M>, state: DesiredState, limits: Limits): Validated {
  checkBatchSize(b.length, b.listField, limits);
  const have = state.of(t) as TableMap<M>;
  const inBatch = new Map<string, number>();
  const changes: Change[] = new Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const op = b.op(i);
    const entry = b.entry(i, op);
    const key = t.key(entry);
    const prev = inBatch.get(key);
    if (prev !== undefined) throw exists(b.keyField(i), `${t.describe(entry)} appears twice in the batch (also ${b.field(prev)})`);
    inBatch.set(key, i);
    const cur = have.get(key);
    if (op === 'add') {
      if (cur !== undefined) throw exists(b.keyField(i), t.exists(cur, entry));
    } else if (cur === undefined || (t.matches && !t.matches(cur, entry))) {
      throw notFound(b.keyField(i), t.missing(entry));
    }
    changes[i] = { kind: t.kind, op, entry: op === 'del' ? cur : entry };
  }
  return { changes, fieldOf: b.field };
}
