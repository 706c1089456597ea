/**
 * RouteMap: the desired state's route table (DesiredState.routes), held in
 * the addon's RouteStore (addon/src/route_store.h) rather than as a Map of
 * JS objects: a million routes cost tens of MB and no garbage collection,
 * and the route write path (controller.writeRoutes) checks, journals and
 * applies whole batches in C++. Reads answer model Route objects, made on
 * demand; iteration walks a frozen copy, so a write during a long read
 * (ListRoutes, reconcile) does not show half-way.
 *
 * The store persists itself in the state dir (routes.snap, routes.journal):
 * state/store.ts calls loadFiles/compactFiles and leaves routes out of the
 * JSON files. set/delete (journal replays of old state dirs, seeds from the
 * config, tests) change memory only.
 */
import * as dp from '../dataplane/addon';
import type { OwnFiles, TableMap } from './table';
import type { Route } from './route';

const PAGE = 4096;

export class RouteMap implements TableMap<Route>, OwnFiles {
  readonly store: dp.RouteStore;
  private readonly Batch: dp.RouteBatchClass;

  constructor(addon: Pick<dp.AddonModule, 'RouteStore' | 'RouteBatch'> = dp.loadAddon()) {
    this.store = new addon.RouteStore();
    this.Batch = addon.RouteBatch;
  }

  get size(): number {
    return this.store.size;
  }

  get(key: string): Route | undefined {
    return this.store.get(key);
  }

  has(key: string): boolean {
    return this.store.get(key) !== undefined;
  }

  set(_key: string, r: Route): this {
    this.store.applyMemory(this.Batch.fromRoutes([{ op: 'add', prefix: r.prefix, nextHops: r.nextHops }]));
    return this;
  }

  delete(key: string): boolean {
    if (!this.has(key)) return false;
    this.store.applyMemory(this.Batch.fromRoutes([{ op: 'del', prefix: key, nextHops: [] }]));
    return true;
  }

  *values(): IterableIterator<Route> {
    const snap = this.store.snapshot();
    for (let page = snap.next(PAGE); page; page = snap.next(PAGE)) yield* page;
  }

  *keys(): IterableIterator<string> {
    for (const r of this.values()) yield r.prefix;
  }

  *entries(): IterableIterator<[string, Route]> {
    for (const r of this.values()) yield [r.prefix, r];
  }

  [Symbol.iterator](): IterableIterator<[string, Route]> {
    return this.entries();
  }

  loadFiles(dir: string): number {
    this.store.load(dir);
    return this.store.size;
  }

  compactFiles(dir: string): void {
    this.store.compact(dir);
  }

  closeFiles(): void {
    this.store.close();
  }
}

/** The RouteMap of a desired state's route table. */
export function routeMapOf(routes: TableMap<Route>): RouteMap {
  if (!(routes instanceof RouteMap)) throw new Error('the route table is not a RouteMap');
  return routes;
}
