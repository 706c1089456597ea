/**
 * The write path and the shared state behind the services. Every write runs
 * alone (a promise-chain mutex, also held by reconcile) in this order:
 * validate against the model -> apply to the dataplane as one all-or-nothing
 * batch -> append to the journal (fsync) -> update the model -> reply.
 * A dataplane refusal changes nothing; a failed journal write undoes the
 * batch in the dataplane before failing the request. Route writes take
 * their own path (writeRoutes) in the same order, with no JS object per route.
 */
import { status } from '@grpc/grpc-js';
import { type RouteMethod, type StatsSnapshot, loadAddon } from './dataplane/addon';
import type { Attachment } from './dataplane/supervisor';
import { inverseChanges, sendBatch, toBatch } from './dataplane/translate';
import { ApiError, toApiError, unavailable } from './errors';
import type { Logger } from './log';
import type { DesiredState } from './model/state';
import { type Change, type Limits, type Validated, indexed } from './tables/table';
import type { Route } from './tables/route';
import { routeMapOf } from './tables/route-map';
import { reconcile } from './reconcile/reconcile';
import type { StateStore } from './state/store';

/** The list field of each route write request (what a batch index names). */
const ROUTE_LIST_FIELD: Record<RouteMethod, string> = { Write: 'updates', AddRoutes: 'routes', DeleteRoutes: 'prefixes' };

export interface ControllerOptions {
  state: DesiredState;
  /** null: nothing is persisted (tests). */
  store: StateStore | null;
  limits: Limits;
  log: Logger;
  /** MTU per port name, applied on every attach. */
  portMtu?: Map<string, number>;
  /** Attachment provider (the supervisor). */
  attachment: () => Attachment | null;
  /** Runs after reconcile on every attach, inside the write lock (queue settings). */
  afterAttach?: (a: Attachment) => Promise<void>;
}

export class Controller {
  readonly state: DesiredState;
  readonly limits: Limits;
  private lock: Promise<unknown> = Promise.resolve();
  private samples: StatsSnapshot[] = [];
  private sampler: NodeJS.Timeout | null = null;
  lastReconcile: { at: Date; pushed: number; skipped: number } | null = null;
  /** Route writes by path: decoded and checked in C++ (fast), or by the full validation (full). */
  readonly routeWrites = { fast: 0, full: 0 };

  constructor(private readonly o: ControllerOptions) {
    this.state = o.state;
    this.limits = o.limits;
  }

  /** Runs fn alone among writes and reconciles. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Queue rebalances the automatic policy applied (services/queue.ts). */
  rebalances = 0;

  /** The attachment, or null when detached. */
  peekAttachment(): Attachment | null {
    return this.o.attachment();
  }

  /** The attachment, or UNAVAILABLE. */
  attached(): Attachment {
    const a = this.o.attachment();
    if (!a) throw unavailable();
    return a;
  }

  /**
   * One write request: `validate` builds the changes from the request
   * against the current model (inside the lock, so that no other write
   * interleaves). Returns the number of entries applied.
   */
  write(validate: (state: DesiredState, a: Attachment) => Validated): Promise<number> {
    return this.exclusive(async () => {
      const a = this.attached();
      const { changes, fieldOf } = validate(this.state, a);
      if (!changes.length) return 0;
      const batch = toBatch(changes, a.ports);
      try {
        await sendBatch(a.dp, batch);
      } catch (e) {
        throw toApiError(e, fieldOf);
      }
      if (this.o.store) {
        try {
          this.o.store.append(changes);
        } catch (e) {
          await this.undo(a, changes);
          throw new ApiError(status.INTERNAL, `state journal write failed (${(e as Error).message}); the change was undone`);
        }
      }
      this.state.applyChanges(changes);
      this.o.log.debug({ kind: batch.table.kind, n: changes.length }, 'write applied');
      if (this.o.store?.needsCompaction) {
        try {
          this.o.store.compact(this.state);
        } catch (e) {
          this.o.log.error({ err: (e as Error).message }, 'state snapshot failed; the journal keeps growing');
        }
      }
      return changes.length;
    });
  }

  /**
   * A route write (RouteService.Write, AddRoutes, DeleteRoutes) by the route
   * write path: the addon decodes the request's protobuf bytes on a worker
   * thread before the write lock is taken, so that the next batch decodes
   * while this one is applied; then, under the lock, the batch is checked
   * against the route table, sent to the dataplane while its journal record
   * is written (the two overlap), then applied to the table, all in C++. A request the decoder or the check refuses (an error, or
   * anything unusual) goes through `full`, the full validation, which
   * throws the error naming the field, or whose changes are then applied.
   */
  async writeRoutes(method: RouteMethod, bytes: Buffer, full: (state: DesiredState, a: Attachment) => Validated): Promise<number> {
    const Batch = loadAddon().RouteBatch;
    const decoded = await Batch.decode(method, bytes, this.limits.maxEcmp).catch((e: unknown) => String(e));
    return this.exclusive(async () => {
      const a = this.attached();
      const store = routeMapOf(this.state.routes).store;
      let batch = typeof decoded === 'string' ? null : decoded;
      if (batch && store.check(batch, a.ports.names, this.limits.maxBatch) !== null) batch = null;
      if (batch) this.routeWrites.fast++;
      else {
        if (typeof decoded !== 'string') decoded.release();
        this.routeWrites.full++;
        const { changes } = full(this.state, a);
        batch = Batch.fromRoutes(changes.map((c) => {
          const r = c.entry as Route;
          return { op: c.op, prefix: r.prefix, nextHops: r.nextHops };
        }));
        const why = store.check(batch, a.ports.names, this.limits.maxBatch);
        if (why !== null) throw new ApiError(status.INTERNAL, `route write: the table refuses what the validation accepted (${why})`);
      }
      const n = batch.length;
      try {
        // The journal record is written and made durable (worker thread) while the
        // dataplane applies the batch; the table takes it once both have it.
        const [dp, journal] = await Promise.allSettled([a.dp.routeBatchNative(batch, a.ports.ids), store.journal(batch)]);
        if (dp.status === 'rejected') {
          // Refused (table full...): the journaled record is taken back by its inverse, so a
          // replay nets zero; the table never had it.
          if (journal.status === 'fulfilled') {
            const inverse = batch.inverse();
            try {
              await store.journal(inverse);
            } catch (u) {
              this.o.log.error({ err: (u as Error).message }, 'cannot journal the inverse of a refused batch: a restart replays it');
            } finally {
              inverse.release();
            }
          }
          throw toApiError(dp.reason, indexed(ROUTE_LIST_FIELD[method]));
        }
        if (journal.status === 'rejected') {
          const inverse = batch.inverse();
          try {
            await a.dp.routeBatchNative(inverse, a.ports.ids);
          } catch (u) {
            this.o.log.error({ err: (u as Error).message }, 'undo failed: the dataplane is ahead of the state until the next reconcile');
          } finally {
            inverse.release();
          }
          throw new ApiError(status.INTERNAL, `${(journal.reason as Error).message}; the change was undone`);
        }
        await store.apply(batch);
      } finally {
        batch.release();
      }
      this.o.log.debug({ kind: 'route', n }, 'write applied');
      return n;
    });
  }

  private async undo(a: Attachment, changes: Change[]): Promise<void> {
    try {
      await sendBatch(a.dp, toBatch(inverseChanges(changes, this.state), a.ports));
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'undo failed: the dataplane is ahead of the state until the next reconcile');
    }
  }

  /** Supervisor onAttach: port settings, then reconcile (under the write lock). */
  onAttach(a: Attachment): Promise<void> {
    return this.exclusive(async () => {
      const sets = [];
      for (const p of a.ports.list) {
        const mtu = this.o.portMtu?.get(p.name);
        if (mtu !== undefined && mtu !== p.mtu) sets.push({ portId: p.portId, mtu });
      }
      if (sets.length) await a.dp.portSet(sets);
      const t0 = Date.now();
      const r = await reconcile(a.dp, a.ports, this.state, { maxBatch: this.limits.maxBatch, log: this.o.log });
      this.lastReconcile = { at: new Date(), pushed: r.pushed, skipped: r.skipped };
      this.samples = [];
      this.o.log.info({ pushed: r.pushed, skipped: r.skipped, ms: Date.now() - t0 }, 'reconciled');
      await this.o.afterAttach?.(a);
    });
  }

  /** Starts sampling the stats every periodMs (rates of GetStats are over that period). */
  startSampling(periodMs = 1000): void {
    this.sampler ??= setInterval(() => {
      const s = this.snapshot();
      if (s) this.samples = [this.samples[this.samples.length - 1], s].filter((x): x is StatsSnapshot => !!x);
    }, periodMs);
    this.sampler.unref();
  }

  stopSampling(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** A fresh snapshot, or null when detached or without stats memory. */
  snapshot(): StatsSnapshot | null {
    const a = this.o.attachment();
    if (!a?.stats) return null;
    try {
      return a.stats.snapshot();
    } catch {
      return null;
    }
  }

  /** The newest sample at least minAgeMs older than `cur` (for rates). */
  previousSample(cur: StatsSnapshot, minAgeMs = 100): StatsSnapshot | undefined {
    const min = BigInt(minAgeMs) * 1_000_000n;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i];
      if (s.bootId === cur.bootId && cur.takenNs - s.takenNs >= min) return s;
    }
    return undefined;
  }
}
