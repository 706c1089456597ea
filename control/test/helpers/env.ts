/**
 * Where things are and what an integration test needs before it can run.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defer } from './cleanup';

/** Repository root (this file compiles to dist/control/test/helpers/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const DP_BIN = process.env.LINERATE_DP ?? path.join(ROOT, 'build', 'dp', 'dataplane', 'linerate-dp');
export const ADDON = process.env.LINERATE_ADDON ?? path.join(ROOT, 'build', 'addon', 'Release', 'linerate_addon.node');
export const CLI = path.join(ROOT, 'dist', 'control', 'src', 'cli', 'main.js');
export const PKT_PY = path.join(ROOT, 'control', 'test', 'pkt', 'pkt.py');
/** Debian's interpreter: the one with scapy. */
export const PYTHON = '/usr/bin/python3';
export const HUGEPAGES = '/dev/hugepages';

/**
 * Why integration tests cannot run here, or undefined when they can. The
 * tests need root (veth, namespaces, AF_PACKET), hugepages, scapy and the
 * built binaries; `npm test` provides all of them.
 */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'integration tests need root (veth, netns, AF_PACKET, hugepages)';
  for (const f of [DP_BIN, ADDON, CLI]) if (!fs.existsSync(f)) return `${f} is not built (run scripts/build.sh)`;
  const free = Number(/HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  if (free < 256) return `only ${free} free hugepages (scripts/setup.sh reserves them)`;
  try {
    execFileSync(PYTHON, ['-c', 'import scapy'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} has no scapy (apt-get install python3-scapy)`;
  }
  return undefined;
}

/** Short random id: names in a run are lrt<id>..., so parallel runs never clash. */
export function uniqueId(): string {
  return crypto.randomBytes(2).toString('hex');
}

/** A temp dir removed on cleanup. */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lrt-${tag}-`));
  defer(`rm ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Files in /dev/hugepages (the tests check they leave none behind). */
export function hugepageFiles(): Set<string> {
  try {
    return new Set(fs.readdirSync(HUGEPAGES, { recursive: true }).map(String));
  } catch {
    return new Set();
  }
}

/** Entries in /dev/hugepages that were not there before. */
export function newHugepageFiles(before: Set<string>): string[] {
  return [...hugepageFiles()].filter((f) => !before.has(f));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10000, everyMs = 100): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await sleep(everyMs);
  }
}
