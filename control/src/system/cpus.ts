/**
 * CPU sets of the host as the kernel writes them: the list format of
 * /sys/devices/system/cpu/{online,isolated,nohz_full} and
 * /proc/irq/N/smp_affinity_list ("0-3,8,10-11"), parsed into sorted
 * arrays and formatted back canonically; the online, isolated and
 * nohz_full sets read under a configurable sysfs root (tests use a
 * prepared tree). Used by the IRQ and core services (system/irq.ts,
 * services/core.ts); nothing here writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../errors';

/** The highest CPU number a list may name (the kernel's NR_CPUS is at most 8192). */
export const MAX_CPU = 8191;

/**
 * Parses a CPU list ("0-3,8"; "" is the empty set) into sorted unique CPU
 * numbers; throws INVALID_ARGUMENT naming `field`.
 */
export function parseCpuList(text: string, field: string): number[] {
  const s = text.trim();
  if (s === '') return [];
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw invalid(field, `not a CPU list: ${JSON.stringify(text.slice(0, 64))} (expected e.g. "0-3,8")`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw invalid(field, `range ${part} is reversed`);
    if (b > MAX_CPU) throw invalid(field, `CPU ${b} is above ${MAX_CPU}`);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** The kernel's list format of a set of CPUs: [0,1,2,3,8] -> "0-3,8"; [] -> "". */
export function formatCpuList(cpus: Iterable<number>): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export const cpuSetMinus = (a: readonly number[], b: readonly number[]): number[] => a.filter((c) => !b.includes(c));
export const cpuSetAnd = (a: readonly number[], b: readonly number[]): number[] => a.filter((c) => b.includes(c));

/** The host's CPU partitioning as sysfs shows it. */
export interface CpuLayout {
  online: number[];
  /** isolcpus= (domain isolation): /sys/devices/system/cpu/isolated. */
  isolated: number[];
  /** nohz_full=: /sys/devices/system/cpu/nohz_full (absent on kernels without it: empty). */
  nohzFull: number[];
}

function readList(file: string): number[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  // "(null)" is what some kernels print for an empty nohz_full.
  return parseCpuList(text.trim() === '(null)' ? '' : text, file);
}

/** Reads the online, isolated and nohz_full CPUs under `sysRoot` (normally /sys). */
export function readCpuLayout(sysRoot: string): CpuLayout {
  const dir = path.join(sysRoot, 'devices', 'system', 'cpu');
  const online = readList(path.join(dir, 'online'));
  if (online === null || online.length === 0) throw new Error(`${path.join(dir, 'online')}: missing or empty`);
  return { online, isolated: readList(path.join(dir, 'isolated')) ?? [], nohzFull: readList(path.join(dir, 'nohz_full')) ?? [] };
}

/** Throws INVALID_ARGUMENT naming `field` and the online set when `cpus` is empty or not all online. */
export function checkOnline(cpus: readonly number[], online: readonly number[], field: string): void {
  if (cpus.length === 0) throw invalid(field, `no CPU given (online: ${formatCpuList(online)})`);
  const off = cpuSetMinus(cpus, online);
  if (off.length) {
    throw invalid(field, `CPU ${formatCpuList(off)} ${off.length > 1 ? 'are' : 'is'} not online (online: ${formatCpuList(online)})`);
  }
}

/** The dataplane's EAL lcores and the CPUs they run on. */
export interface DataplaneLcores {
  /** Main lcore id. */
  main: number;
  /** Worker lcore ids, ascending. */
  workerLcores: number[];
  /** CPUs of each lcore (lcore id -> CPUs). */
  cpusOf: Map<number, number[]>;
  /** CPUs of the main lcore. */
  mainCpus: number[];
  /** CPUs the worker lcores run on (the polling CPUs), sorted. */
  workers: number[];
}

/** "3", "1-2" or "(1,3-4)" of an EAL --lcores element. */
function lcoreGroup(text: string, field: string): number[] {
  const t = text.startsWith('(') && text.endsWith(')') ? text.slice(1, -1) : text;
  return parseCpuList(t, field);
}

/**
 * EAL's --lcores map ("0@0,1@1,2@1", "(0-1)@0,2", "1-3@(4,5)"): lcore id ->
 * CPUs; an element without "@" runs each lcore on the CPU of its number.
 */
export function parseEalLcores(text: string, field: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  // Commas inside parentheses belong to a group.
  const elems: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      elems.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  elems.push(cur);
  for (const e of elems) {
    const [l, c, extra] = e.trim().split('@');
    if (extra !== undefined || !l) throw invalid(field, `cannot read the EAL --lcores element ${JSON.stringify(e)}`);
    const lcores = lcoreGroup(l, field);
    for (const id of lcores) out.set(id, c === undefined ? [id] : lcoreGroup(c, field));
  }
  return out;
}

/**
 * The lcores serve starts the dataplane with: dataplane.lcores (the EAL -l
 * list, lcore N on CPU N) or, when dataplane.eal has --lcores, that map;
 * --main-lcore picks the main lcore, else EAL's default, the lowest.
 */
export function dataplaneLcores(d: { lcores: string; eal: readonly string[] }): DataplaneLcores {
  let cpusOf: Map<number, number[]> | null = null;
  let main: number | undefined;
  d.eal.forEach((a, i) => {
    const val = (opt: string): string | undefined => (a === opt ? d.eal[i + 1] : a.startsWith(`${opt}=`) ? a.slice(opt.length + 1) : undefined);
    const lc = val('--lcores');
    if (lc !== undefined) cpusOf = parseEalLcores(lc, 'dataplane.eal --lcores');
    const m = val('--main-lcore');
    if (m !== undefined && /^\d+$/.test(m)) main = Number(m);
  });
  const map: Map<number, number[]> = cpusOf ?? new Map(parseCpuList(d.lcores, 'dataplane.lcores').map((c) => [c, [c]]));
  const ids = [...map.keys()].sort((a, b) => a - b);
  const mainId = main ?? ids[0];
  const workerLcores = ids.filter((id) => id !== mainId);
  return {
    main: mainId,
    workerLcores,
    cpusOf: map,
    mainCpus: map.get(mainId) ?? [],
    workers: [...new Set(workerLcores.flatMap((id) => map.get(id) ?? []))].sort((a, b) => a - b),
  };
}
