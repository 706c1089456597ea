/**
 * The kernel's IRQs as procfs and sysfs show them, and the writes of their
 * affinity: listing (/proc/irq/N/{smp,effective}_affinity_list, handler
 * names, /proc/interrupts counts), a network device's IRQs (sysfs
 * msi_irqs or the legacy irq line of its device or the device's parent,
 * and /proc/interrupts names after the interface or the device), one IRQ's
 * affinity set, isolate (every IRQ steered off a set of CPUs) and restore.
 *
 * Every write is journaled first (IrqJournal: irq-journal.json in serve's
 * state dir, written atomically) with the affinity it replaces, so restore
 * works after a restart of serve. Owned by services/irq.ts, the only
 * caller; the roots are serve's config (system.procRoot / sysRoot), a
 * prepared tree in tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiError, notFound } from '../errors';
import { status } from '@grpc/grpc-js';
import { cpuSetAnd, cpuSetMinus, formatCpuList, parseCpuList } from './cpus';

export interface SystemRoots {
  /** procfs root, normally /proc. */
  procRoot: string;
  /** sysfs root, normally /sys. */
  sysRoot: string;
}

export type IrqSource = 'msi_irqs' | 'irq' | 'name' | '';

export interface IrqInfo {
  irq: number;
  /** Handler names, comma separated ("" when none). */
  name: string;
  /** Chip and hardware IRQ columns of /proc/interrupts. */
  chip: string;
  affinity: string;
  effectiveAffinity: string;
  counts: bigint[];
  source: IrqSource;
}

export type IrqResult = 'moved' | 'not_followed' | 'refused' | 'restored' | 'gone';

export interface IrqChange {
  irq: number;
  name: string;
  before: string;
  requested: string;
  after: string;
  effectiveAffinity: string;
  result: IrqResult;
  error: string;
}

/** One journaled IRQ: what linerate replaced and what it wrote last. */
export interface IrqJournalEntry {
  irq: number;
  name: string;
  /** smp_affinity_list before linerate's first write. */
  original: string;
  /** linerate's last write. */
  applied: string;
  at: string;
}

const JOURNAL_VERSION = 1;

/**
 * The IRQ journal: irq-journal.json in the state dir, replaced atomically
 * (write a temp file, fsync, rename, fsync the dir) at every change. An
 * IRQ keeps the original affinity of linerate's first write until it is
 * restored.
 */
export class IrqJournal {
  readonly file: string;
  private entries = new Map<number, IrqJournalEntry>();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'irq-journal.json');
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const doc = JSON.parse(text) as { version?: number; irqs?: IrqJournalEntry[] };
    if (doc.version !== JOURNAL_VERSION || !Array.isArray(doc.irqs)) {
      throw new Error(`${this.file}: not an IRQ journal of version ${JOURNAL_VERSION}`);
    }
    for (const e of doc.irqs) this.entries.set(e.irq, e);
  }

  get size(): number { return this.entries.size; }
  get(irq: number): IrqJournalEntry | undefined { return this.entries.get(irq); }
  all(): IrqJournalEntry[] { return [...this.entries.values()].sort((a, b) => a.irq - b.irq); }

  /** Records that `irq` (now at `current`) is about to get `applied`; keeps an older original. */
  record(irq: number, name: string, current: string, applied: string): void {
    const prev = this.entries.get(irq);
    this.entries.set(irq, { irq, name, original: prev?.original ?? current, applied, at: new Date().toISOString() });
  }

  /** Takes `irq` back out (its write failed and nothing earlier was recorded, or it was restored). */
  forget(irq: number): void { this.entries.delete(irq); }

  /** Replaces a journal entry as it was (a failed write over an older record). */
  put(e: IrqJournalEntry | undefined, irq: number): void {
    if (e) this.entries.set(irq, e);
    else this.entries.delete(irq);
  }

  /** Writes the journal to disk (atomically); an empty journal removes the file. */
  save(): void {
    if (this.entries.size === 0) {
      fs.rmSync(this.file, { force: true });
      return;
    }
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify({ version: JOURNAL_VERSION, irqs: this.all() }, null, 1) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(path.dirname(this.file), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
}

const readTrim = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
};

const irqDir = (roots: SystemRoots, irq: number): string => path.join(roots.procRoot, 'irq', String(irq));

/** The IRQ numbers of /proc/irq, sorted. */
export function irqNumbers(roots: SystemRoots): number[] {
  return fs.readdirSync(path.join(roots.procRoot, 'irq')).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

interface InterruptsLine { chip: string; counts: bigint[]; name: string }

/**
 * /proc/interrupts by IRQ number: per-CPU counts, chip columns and handler
 * names ("  38:  0  3126  PCI-MSIX-0000:00:03.0  1-edge  virtio2-input.0").
 */
export function readInterrupts(roots: SystemRoots): Map<number, InterruptsLine> {
  const out = new Map<number, InterruptsLine>();
  const text = readTrim(path.join(roots.procRoot, 'interrupts'));
  if (text === null) return out;
  const lines = text.split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/);
    const counts = f.slice(0, ncpu).filter((x) => /^\d+$/.test(x)).map((x) => BigInt(x));
    const rest = f.slice(counts.length);
    // Chip, hardware IRQ, then the handlers ("eth0, eth1" when shared).
    out.set(Number(m[1]), { counts, chip: rest.slice(0, 2).join(' '), name: rest.slice(2).join(' ').replace(/\s*,\s*/g, ',') });
  }
  return out;
}

/** One IRQ's listing; null when /proc/irq/N does not exist. */
export function readIrq(roots: SystemRoots, irq: number, interrupts?: Map<number, InterruptsLine>, source: IrqSource = ''): IrqInfo | null {
  const dir = irqDir(roots, irq);
  const affinity = readTrim(path.join(dir, 'smp_affinity_list'));
  if (affinity === null) return null;
  const line = (interrupts ?? readInterrupts(roots)).get(irq);
  // Handler names: the directories procfs makes for them, else /proc/interrupts.
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch { /* listed above: raced with its removal */ }
  return {
    irq,
    name: names.length ? names.join(',') : line?.name ?? '',
    chip: line?.chip ?? '',
    affinity,
    effectiveAffinity: readTrim(path.join(dir, 'effective_affinity_list')) ?? '',
    counts: line?.counts ?? [],
    source,
  };
}

/** Every IRQ of the host, in number order. */
export function listIrqs(roots: SystemRoots): IrqInfo[] {
  const ints = readInterrupts(roots);
  return irqNumbers(roots).map((n) => readIrq(roots, n, ints)).filter((x): x is IrqInfo => x !== null);
}

const devName = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,15}$/;

/**
 * The IRQs of kernel network device `dev`: the msi_irqs (else the legacy
 * `irq` line) of its sysfs device or the nearest parent that has them
 * (virtio-net's are on the PCI function above the virtio device), and the
 * IRQs whose /proc/interrupts name starts with the interface's or the
 * device's name ("eth0-TxRx-0", "virtio2-input.0"). NOT_FOUND when
 * /sys/class/net/<dev> does not exist.
 */
export function deviceIrqs(roots: SystemRoots, dev: string, field = 'device'): IrqInfo[] {
  if (!devName.test(dev)) throw notFound(field, `no kernel network device ${JSON.stringify(dev.slice(0, 64))}`);
  const netDir = path.join(roots.sysRoot, 'class', 'net', dev);
  if (!fs.existsSync(netDir)) throw notFound(field, `no kernel network device ${dev} (${netDir})`);
  const found = new Map<number, IrqSource>();
  const prefixes = [dev];
  let devDir: string | null = null;
  try {
    devDir = fs.realpathSync(path.join(netDir, 'device'));
  } catch { /* a virtual device (veth, bridge): names only */ }
  if (devDir !== null) {
    prefixes.push(path.basename(devDir));
    const top = path.join(roots.sysRoot, 'devices');
    for (let d = devDir, up = 0; up < 4 && d.startsWith(top) && d !== top; d = path.dirname(d), up++) {
      let msi: string[] = [];
      try {
        msi = fs.readdirSync(path.join(d, 'msi_irqs')).filter((n) => /^\d+$/.test(n));
      } catch { /* none here */ }
      if (msi.length) {
        for (const n of msi) found.set(Number(n), 'msi_irqs');
        break;
      }
      const line = readTrim(path.join(d, 'irq'));
      if (line !== null && /^\d+$/.test(line) && line !== '0') {
        found.set(Number(line), 'irq');
        break;
      }
    }
  }
  const ints = readInterrupts(roots);
  const byName = (name: string): boolean => name.split(',').some((h) => prefixes.some((p) => h === p || /^[-_.:@]/.test(h.slice(p.length)) && h.startsWith(p)));
  for (const [n, line] of ints) if (!found.has(n) && byName(line.name)) found.set(n, 'name');
  for (const n of irqNumbers(roots)) {
    if (found.has(n)) continue;
    try {
      if (fs.readdirSync(irqDir(roots, n), { withFileTypes: true }).some((d) => d.isDirectory() && byName(d.name))) found.set(n, 'name');
    } catch { /* gone */ }
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0])
    .map(([n, src]) => readIrq(roots, n, ints, src)).filter((x): x is IrqInfo => x !== null);
}

const errnoText: Record<string, string> = {
  EIO: 'the kernel refused it (a managed or per-CPU IRQ, or a chip that cannot move it)',
  EINVAL: 'the kernel refused the CPU set for this IRQ',
  EACCES: 'permission denied (serve must run as root to change IRQ affinity)',
  EPERM: 'permission denied (serve must run as root to change IRQ affinity)',
  EROFS: 'read-only file system',
};

/** "EIO: the kernel refused it (...)" for a failed write. */
export function writeErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return code ? `${code}: ${errnoText[code] ?? (e as Error).message}` : (e as Error).message;
}

/**
 * Writes `cpus` to /proc/irq/N/smp_affinity_list and reads back the
 * result. Throws the write's error (an ErrnoException) when it fails.
 */
function writeAffinity(roots: SystemRoots, irq: number, cpus: string): { after: string; effective: string } {
  const dir = irqDir(roots, irq);
  const fd = fs.openSync(path.join(dir, 'smp_affinity_list'), fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  try {
    fs.writeSync(fd, `${cpus}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return { after: readTrim(path.join(dir, 'smp_affinity_list')) ?? '', effective: readTrim(path.join(dir, 'effective_affinity_list')) ?? '' };
}

/** Canonical form of a list the kernel printed (it may differ from what was written only in form). */
const canon = (list: string): string => {
  try {
    return formatCpuList(parseCpuList(list, ''));
  } catch {
    return list;
  }
};

/**
 * Sets one IRQ's affinity to `cpus` (already checked against the online
 * set), journaled first. NOT_FOUND: no /proc/irq/N; FAILED_PRECONDITION:
 * the kernel refused (nothing changed, nothing left in the journal).
 */
export function setIrqAffinity(roots: SystemRoots, journal: IrqJournal, irq: number, cpus: number[], field = 'irq'): IrqChange {
  const info = readIrq(roots, irq);
  if (!info) throw notFound(field, `no IRQ ${irq} (${irqDir(roots, irq)})`);
  const requested = formatCpuList(cpus);
  const r = steer(roots, journal, info, requested, cpus);
  journal.save();
  if (r.result === 'refused') {
    throw new ApiError(status.FAILED_PRECONDITION, `${field}: IRQ ${irq} (${info.name || 'no handler'}) affinity ${requested}: ${r.error}`);
  }
  return r;
}

/**
 * Writes one IRQ whose change is journaled already (`prev`: its journal
 * entry before that); the result says whether it took and whether the
 * effective affinity is inside `allowed`. A refused write puts the journal
 * entry back as it was (the caller saves the journal).
 */
function writeJournaled(roots: SystemRoots, journal: IrqJournal, info: IrqInfo, requested: string, allowed: number[],
  prev: IrqJournalEntry | undefined): IrqChange {
  const base = { irq: info.irq, name: info.name, before: info.affinity, requested };
  let after: string;
  let effective: string;
  try {
    ({ after, effective } = writeAffinity(roots, info.irq, requested));
  } catch (e) {
    journal.put(prev, info.irq);
    return { ...base, after: info.affinity, effectiveAffinity: info.effectiveAffinity, result: 'refused', error: writeErrorText(e) };
  }
  let eff: number[] = [];
  try {
    eff = parseCpuList(effective, 'effective_affinity_list');
  } catch { /* unreadable: treated as none */ }
  const stray = cpuSetMinus(eff, allowed);
  if (canon(after) !== canon(requested)) {
    return { ...base, after, effectiveAffinity: effective, result: 'not_followed', error: `smp_affinity_list reads ${after} after writing ${requested}` };
  }
  if (stray.length) {
    return { ...base, after, effectiveAffinity: effective, result: 'not_followed',
      error: `effective_affinity_list ${effective} still includes CPU ${formatCpuList(stray)}` };
  }
  return { ...base, after, effectiveAffinity: effective, result: 'moved', error: '' };
}

/** Journals (on disk) then writes one IRQ. */
function steer(roots: SystemRoots, journal: IrqJournal, info: IrqInfo, requested: string, allowed: number[]): IrqChange {
  const prev = journal.get(info.irq);
  journal.record(info.irq, info.name, info.affinity, requested);
  journal.save(); // on disk before the write: a crash in between still restores
  return writeJournaled(roots, journal, info, requested, allowed, prev);
}

export interface IsolateResult {
  changes: IrqChange[];
  unchanged: number;
  cpus: number[];
  housekeeping: number[];
}

/**
 * Steers every IRQ in `irqs` whose affinity includes one of `cpus` onto
 * online CPUs outside `cpus`: the part of its affinity already outside, or
 * else every housekeeping CPU. Writes, refusals and effective affinities
 * that did not follow are all reported.
 */
export function isolateIrqs(roots: SystemRoots, journal: IrqJournal, irqs: IrqInfo[], cpus: number[], online: number[]): IsolateResult {
  const housekeeping = cpuSetMinus(online, cpus);
  const changes: (IrqChange | null)[] = [];
  const todo: { info: IrqInfo; target: string; prev: IrqJournalEntry | undefined }[] = [];
  let unchanged = 0;
  for (const info of irqs) {
    let aff: number[];
    try {
      aff = parseCpuList(info.affinity, 'smp_affinity_list');
    } catch {
      aff = online;
    }
    if (cpuSetAnd(aff, cpus).length === 0) {
      // Its affinity is clear of the cores: still report a delivery that is not.
      const eff = info.effectiveAffinity ? parseCpuList(info.effectiveAffinity, 'effective_affinity_list') : [];
      if (cpuSetAnd(eff, cpus).length) {
        changes.push({ irq: info.irq, name: info.name, before: info.affinity, requested: '', after: info.affinity,
          effectiveAffinity: info.effectiveAffinity, result: 'not_followed',
          error: `effective_affinity_list ${info.effectiveAffinity} includes CPU ${formatCpuList(cpuSetAnd(eff, cpus))}` });
      } else {
        unchanged++;
      }
      continue;
    }
    const keep = cpuSetAnd(cpuSetMinus(aff, cpus), housekeeping);
    todo.push({ info, target: formatCpuList(keep.length ? keep : housekeeping), prev: journal.get(info.irq) });
    journal.record(info.irq, info.name, info.affinity, todo[todo.length - 1].target);
    changes.push(null);
  }
  // Every write is on disk before the first one is made: a crash in between still restores.
  journal.save();
  let k = 0;
  changes.forEach((c, i) => {
    if (c !== null) return;
    const t = todo[k++];
    changes[i] = writeJournaled(roots, journal, t.info, t.target, housekeeping, t.prev);
  });
  journal.save();
  return { changes: changes as IrqChange[], unchanged, cpus, housekeeping };
}

/**
 * Writes back every journaled IRQ's original affinity. Restored and
 * vanished IRQs leave the journal; refused ones stay (a later restore
 * tries again) and are reported.
 */
export function restoreIrqs(roots: SystemRoots, journal: IrqJournal): IrqChange[] {
  const changes: IrqChange[] = [];
  for (const e of journal.all()) {
    const info = readIrq(roots, e.irq);
    const base = { irq: e.irq, name: e.name, requested: e.original };
    if (!info) {
      journal.forget(e.irq);
      changes.push({ ...base, before: '', after: '', effectiveAffinity: '', result: 'gone', error: `IRQ ${e.irq} no longer exists` });
      continue;
    }
    try {
      const { after, effective } = writeAffinity(roots, e.irq, e.original);
      journal.forget(e.irq);
      changes.push({ ...base, name: info.name || e.name, before: info.affinity, after, effectiveAffinity: effective, result: 'restored',
        error: canon(after) === canon(e.original) ? '' : `smp_affinity_list reads ${after} after writing ${e.original}` });
    } catch (err) {
      changes.push({ ...base, name: info.name || e.name, before: info.affinity, after: info.affinity,
        effectiveAffinity: info.effectiveAffinity, result: 'refused', error: writeErrorText(err) });
    }
  }
  journal.save();
  return changes;
}
