/**
 * The queue settings the operator gave (QueueService: RX queue counts,
 * the queue -> worker map, RSS redirection tables and hash fields), kept in queues.json in
 * the state dir (replaced atomically) so that a new dataplane (a respawn,
 * a restart of the host) gets them back: serve applies them after every
 * attach, after reconcile (counts first, then one move batch, then the
 * tables, then the hash fields). Owned by services/queue.ts, which records after every change
 * the dataplane accepted; what no longer fits the dataplane (a port gone,
 * fewer workers, another table size) is skipped with a warning, never an
 * attach failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Reta } from '../dataplane/addon';
import type { Attachment } from '../dataplane/supervisor';
import type { Logger } from '../log';

const VERSION = 1;

interface RetaRecord { retaSize: number; groups: { mask: string; queues: number[] }[] }

interface Doc {
  version: number;
  /** RX queue count by port name. */
  rxQueues: Record<string, number>;
  /** Worker by "port/queue". */
  workers: Record<string, number>;
  reta: Record<string, RetaRecord>;
  /** RSS hash fields (names, as read back) by port name. */
  rss: Record<string, string[]>;
}

export class QueueSettings {
  readonly file: string;
  private doc: Doc = { version: VERSION, rxQueues: {}, workers: {}, reta: {}, rss: {} };

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'queues.json');
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const d = JSON.parse(text) as Doc;
    if (d.version !== VERSION) throw new Error(`${this.file}: not queue settings of version ${VERSION}`);
    this.doc = { version: VERSION, rxQueues: d.rxQueues ?? {}, workers: d.workers ?? {}, reta: d.reta ?? {}, rss: d.rss ?? {} };
  }

  get empty(): boolean {
    return !Object.keys(this.doc.rxQueues).length && !Object.keys(this.doc.workers).length && !Object.keys(this.doc.reta).length &&
      !Object.keys(this.doc.rss).length;
  }

  /** The whole map as the dataplane has it now (after a move, a rebalance or a count change). */
  recordMap(a: Attachment, entries: { portId: number; queue: number; worker: number }[]): void {
    this.doc.workers = Object.fromEntries(entries.map((e) => [`${a.ports.name(e.portId)}/${e.queue}`, e.worker]));
    this.save();
  }

  /** A port's RSS hash fields, as the dataplane read them back (kept through count changes). */
  recordRss(port: string, fields: string[]): void {
    this.doc.rss[port] = fields;
    this.save();
  }

  /** A port's RX queue count; its table goes back to the device's default with it. */
  recordCount(port: string, n: number): void {
    this.doc.rxQueues[port] = n;
    delete this.doc.reta[port];
    this.save();
  }

  recordReta(port: string, r: Reta): void {
    this.doc.reta[port] = { retaSize: r.retaSize, groups: r.groups.map((g) => ({ mask: g.mask.toString(), queues: g.queues })) };
    this.save();
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(this.doc, null, 1) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }

  /**
   * Applies the settings to a freshly attached dataplane: counts, then the
   * map (one batch, for the queues and workers that exist), then tables.
   * What does not fit is logged and skipped.
   */
  async apply(a: Attachment, log: Logger): Promise<void> {
    if (this.empty) return;
    for (const [port, n] of Object.entries(this.doc.rxQueues)) {
      const p = a.ports.get(port);
      if (!p) { log.warn({ port }, 'queue settings: no such port any more; RX queue count skipped'); continue; }
      if (p.rxQueues === n) continue;
      try {
        await a.dp.portQueues([{ portId: p.portId, rxQueues: n }]);
      } catch (e) {
        log.warn({ port, rxQueues: n, err: (e as Error).message }, 'queue settings: RX queue count refused');
      }
    }
    for (const fresh of await a.dp.portList()) {
      const known = a.ports.get(fresh.name);
      if (known) Object.assign(known, fresh);
    }
    const moves = [];
    for (const [key, worker] of Object.entries(this.doc.workers)) {
      const [port, q] = key.split('/');
      const p = a.ports.get(port);
      if (!p || Number(q) >= p.rxQueues || worker >= a.hello.nWorkers) continue;
      moves.push({ portId: p.portId, queue: Number(q), worker });
    }
    if (moves.length) {
      try {
        await a.dp.queueMove(moves);
      } catch (e) {
        log.warn({ moves: moves.length, err: (e as Error).message }, 'queue settings: queue map refused');
      }
    }
    for (const [port, r] of Object.entries(this.doc.reta)) {
      const p = a.ports.get(port);
      if (!p) continue;
      try {
        await a.dp.retaSet({ portId: p.portId, retaSize: r.retaSize, groups: r.groups.map((g) => ({ mask: BigInt(g.mask), queues: g.queues })) });
      } catch (e) {
        log.warn({ port, err: (e as Error).message }, 'queue settings: RSS redirection table refused');
      }
    }
    for (const [port, fields] of Object.entries(this.doc.rss)) {
      const p = a.ports.get(port);
      if (!p) continue;
      try {
        await a.dp.rssConf(p.portId, fields);
      } catch (e) {
        log.warn({ port, fields: fields.join(','), err: (e as Error).message }, 'queue settings: RSS hash fields refused');
      }
    }
    log.info({ counts: Object.keys(this.doc.rxQueues).length, queues: moves.length, tables: Object.keys(this.doc.reta).length,
      rss: Object.keys(this.doc.rss).length }, 'queue settings applied');
  }
}
