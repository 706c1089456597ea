/**
 * Persistence of the desired state in a state directory:
 *
 *   snapshot.ndjson  header line {format, version, seq} then one Change per
 *                    line; replaced atomically (write tmp, fsync, rename,
 *                    fsync dir)
 *   journal.ndjson   one fsync'd line {seq, changes} per applied batch,
 *                    appended after the dataplane accepted it
 *   lock             pid of the serve owning the directory
 *
 * A batch costs one append, never a rewrite: 1M routes stay cheap. When the
 * journal grows past `compactBytes` the caller writes a new snapshot, which
 * records the last seq it covers; journal lines with seq <= that are
 * skipped on load, so a crash between the rename and the journal truncation
 * loses and duplicates nothing. A torn last journal line (crash during the
 * append, the client got no reply) is cut off.
 *
 * Tables whose map persists itself (routes: the addon's RouteStore, with
 * routes.snap and routes.journal; tables/table.ts OwnFiles) are loaded
 * before the journal replays and left out of these files; route records
 * that an older state dir holds here are replayed into them and moved
 * there by an immediate compaction.
 *
 * A Change is stored as {kind, op, <kind>: entry} ({"kind":"route","op":
 * "add","route":{...}}): the record format linerate has always written, for
 * every registered table, so older state dirs load as they are. A table
 * whose entry shape changes upgrades old entries in its decode().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DesiredState } from '../model/state';
import { tableOf, tables } from '../tables';
import { type Change, type OwnFiles, ownFiles } from '../tables/table';
import { silentLogger, type Logger } from '../log';
import { processAlive } from '../proc';

const FORMAT = 'linerate-snapshot';
const VERSION = 1;

export interface StoreOptions { compactBytes?: number; log?: Logger }

interface JournalLine { seq: number; changes: StoredChange[] }

/** A Change as stored: its entry under the field named by its kind. */
type StoredChange = { kind: string; op: Change['op'] } & Record<string, unknown>;

/** (One JSON.stringify over a whole batch of these is ~4x faster than one per change.) */
const stored = (c: Change): StoredChange => ({ kind: c.kind, op: c.op, [c.kind]: c.entry });

function decodeChange(s: StoredChange): Change {
  const t = tableOf(s.kind);
  const stored = s[s.kind];
  return { kind: s.kind, op: s.op, entry: t.decode ? t.decode(stored) : stored };
}

/** State dirs locked by this process (a lock file naming our own pid may be held by another store here). */
const heldHere = new Set<string>();

export class StateStore {
  readonly snapshotPath: string;
  readonly journalPath: string;
  readonly lockPath: string;
  private fd = -1;
  private seq = 0;
  private journalBytes = 0;
  private locked = false;
  /** The own-files maps of the state this store persists. */
  private own: OwnFiles[] = [];
  /** Records of own-files tables found in the JSON files by the last open(). */
  private legacyOwn = 0;
  private readonly compactBytes: number;
  private readonly log: Logger;

  constructor(readonly dir: string, opts: StoreOptions = {}) {
    this.snapshotPath = path.join(dir, 'snapshot.ndjson');
    this.journalPath = path.join(dir, 'journal.ndjson');
    this.lockPath = path.join(dir, 'lock');
    this.compactBytes = opts.compactBytes ?? 64 << 20;
    this.log = opts.log ?? silentLogger;
  }

  /** Takes the directory (one serve per state dir) and reads it. `fresh`: nothing was stored yet. */
  async open(): Promise<{ state: DesiredState; fresh: boolean }> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    this.lock();
    try {
      const state = new DesiredState();
      this.own = ownMaps(state);
      let ownEntries = 0;
      for (const o of this.own) ownEntries += o.loadFiles(this.dir);
      const hasSnap = fs.existsSync(this.snapshotPath);
      const hasJournal = fs.existsSync(this.journalPath);
      let snapSeq = 0;
      this.legacyOwn = 0;
      if (hasSnap) snapSeq = await this.readSnapshot(state);
      this.seq = snapSeq;
      if (hasJournal) this.replayJournal(state, snapSeq);
      this.fd = fs.openSync(this.journalPath, 'a', 0o640);
      this.journalBytes = fs.fstatSync(this.fd).size;
      fs.rmSync(this.snapshotPath + '.tmp', { force: true });
      const fresh = !hasSnap && this.seq === 0 && ownEntries === 0;
      if (this.legacyOwn > 0 && !fresh) {
        this.log.info({ records: this.legacyOwn }, 'moving routes out of the JSON state files into routes.snap');
        this.compact(state);
      }
      return { state, fresh };
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Durably records one applied batch (returns after fdatasync). */
  append(changes: readonly Change[]): void {
    if (this.fd < 0) throw new Error('state store is not open');
    if (changes.some((c) => isOwnKind(c.kind))) throw new Error(`${changes[0].kind} changes are journaled by their own table`);
    const line = JSON.stringify({ seq: this.seq + 1, changes: changes.map(stored) }) + '\n';
    const buf = Buffer.from(line);
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off);
    fs.fdatasyncSync(this.fd);
    this.seq++;
    this.journalBytes += buf.length;
  }

  get needsCompaction(): boolean {
    return this.journalBytes >= this.compactBytes;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Writes `state` (which must include every appended batch) as the new snapshot and empties the journal. */
  compact(state: DesiredState): void {
    // Tables with their own files first: once the JSON snapshot leaves them out, they must hold them.
    const own = ownMaps(state);
    for (const o of this.own) if (!own.includes(o)) o.closeFiles();
    for (const o of own) o.compactFiles(this.dir);
    this.own = own;
    const tmp = this.snapshotPath + '.tmp';
    const fd = fs.openSync(tmp, 'w', 0o640);
    try {
      let chunk = JSON.stringify({ format: FORMAT, version: VERSION, seq: this.seq }) + '\n';
      for (const c of state.asChanges()) {
        chunk += JSON.stringify(stored(c)) + '\n';
        if (chunk.length >= 1 << 20) {
          writeAll(fd, chunk);
          chunk = '';
        }
      }
      writeAll(fd, chunk);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.snapshotPath);
    fsyncDir(this.dir);
    // The snapshot covers every journal line now: start an empty journal.
    if (this.fd >= 0) fs.ftruncateSync(this.fd, 0);
    else fs.writeFileSync(this.journalPath, '');
    if (this.fd >= 0) fs.fsyncSync(this.fd);
    this.journalBytes = 0;
    this.log.info({ seq: this.seq, ...state.size }, 'state snapshot written');
  }

  close(): void {
    for (const o of this.own) o.closeFiles();
    this.own = [];
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    if (this.locked) {
      fs.rmSync(this.lockPath, { force: true });
      heldHere.delete(this.lockPath);
    }
    this.locked = false;
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o640 });
        this.locked = true;
        heldHere.add(this.lockPath);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(fs.readFileSync(this.lockPath, 'utf8').trim());
        const mine = pid === process.pid;
        if (pid > 0 && ((mine && heldHere.has(this.lockPath)) || (!mine && processAlive(pid)))) {
          throw new Error(`state dir ${this.dir} is in use by pid ${pid}`);
        }
        fs.rmSync(this.lockPath, { force: true }); // stale: its owner is gone
      }
    }
    throw new Error(`cannot lock state dir ${this.dir}`);
  }

  private async readSnapshot(state: DesiredState): Promise<number> {
    const rl = readline.createInterface({ input: fs.createReadStream(this.snapshotPath), crlfDelay: Infinity });
    let seq = -1;
    let n = 0;
    for await (const line of rl) {
      n++;
      if (!line) continue;
      if (seq < 0) {
        const h = JSON.parse(line) as { format?: string; version?: number; seq?: number };
        if (h.format !== FORMAT || h.version !== VERSION || typeof h.seq !== 'number') {
          throw new Error(`${this.snapshotPath}: not a version ${VERSION} linerate snapshot`);
        }
        seq = h.seq;
        continue;
      }
      try {
        const c = decodeChange(JSON.parse(line) as StoredChange);
        if (isOwnKind(c.kind)) this.legacyOwn++;
        state.applyChanges([c]);
      } catch (e) {
        throw new Error(`${this.snapshotPath}:${n}: ${(e as Error).message}`);
      }
    }
    if (seq < 0) throw new Error(`${this.snapshotPath}: empty snapshot`);
    return seq;
  }

  private replayJournal(state: DesiredState, snapSeq: number): void {
    const text = fs.readFileSync(this.journalPath, 'utf8');
    let off = 0;
    let lineNo = 0;
    let replayed = 0;
    while (off < text.length) {
      const nl = text.indexOf('\n', off);
      lineNo++;
      const last = nl < 0 || nl === text.length - 1;
      const raw = text.slice(off, nl < 0 ? text.length : nl);
      let rec: JournalLine | undefined;
      try {
        rec = JSON.parse(raw) as JournalLine;
      } catch {
        rec = undefined;
      }
      if (nl < 0 || !rec) {
        if (!last) throw new Error(`${this.journalPath}:${lineNo}: corrupt journal line`);
        // Torn append: the batch was never acknowledged. Cut it off.
        this.log.warn({ line: lineNo }, 'cutting a torn journal line');
        fs.truncateSync(this.journalPath, Buffer.byteLength(text.slice(0, off)));
        break;
      }
      if (rec.seq > snapSeq) {
        if (rec.seq !== this.seq + 1) throw new Error(`${this.journalPath}:${lineNo}: seq ${rec.seq} after ${this.seq}`);
        try {
          const changes = rec.changes.map(decodeChange);
          this.legacyOwn += changes.filter((c) => isOwnKind(c.kind)).length;
          state.applyChanges(changes);
        } catch (e) {
          throw new Error(`${this.journalPath}:${lineNo}: ${(e as Error).message}`);
        }
        this.seq = rec.seq;
        replayed++;
      }
      off = nl + 1;
    }
    if (replayed) this.log.info({ batches: replayed, seq: this.seq }, 'journal replayed');
  }
}

/** The maps of `state` that persist themselves. */
function ownMaps(state: DesiredState): OwnFiles[] {
  return tables.map((t) => ownFiles(state.of(t))).filter((o): o is OwnFiles => o !== null);
}

const ownKinds = new Set(tables.filter((t) => t.newMap !== undefined).map((t) => t.kind));
const isOwnKind = (kind: string): boolean => ownKinds.has(kind);

function writeAll(fd: number, s: string): void {
  const buf = Buffer.from(s);
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
