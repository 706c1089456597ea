/**
 * Last-resort cleanup for integration tests. Every resource a test creates
 * (process, veth, namespace, temp dir) registers a synchronous undo here;
 * after() hooks run them in order, and a process exit / signal handler runs
 * whatever is left, so a crashed or interrupted run leaves nothing behind.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

type Undo = () => void;

const pending = new Map<number, { what: string; undo: Undo }>();
let nextId = 1;
let installed = false;

function runOne(id: number): void {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  try {
    entry.undo();
  } catch (err) {
    process.stderr.write(`[cleanup] ${entry.what}: ${(err as Error).message}\n`);
  }
}

/** Runs every pending undo, newest first (processes before their sockets). */
export function runAllCleanups(): void {
  for (const id of [...pending.keys()].sort((a, b) => b - a)) runOne(id);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAllCleanups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runAllCleanups();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Registers an undo; returns a function that runs it now (once) and
 * forgets it.
 */
export function defer(what: string, undo: Undo): () => void {
  install();
  const id = nextId++;
  pending.set(id, { what, undo });
  return () => runOne(id);
}

/** Sleeps synchronously (usable in exit handlers, where nothing async runs). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie child still answers kill(0): look at its state.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL: synchronous, by PID only. */
export function killSync(pid: number, graceMs = 3000): void {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until && isAlive(pid)) sleepSync(20);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    const hard = Date.now() + 2000;
    while (Date.now() < hard && isAlive(pid)) sleepSync(20);
  }
}

/**
 * PIDs of processes whose command line contains `marker` (a path unique to
 * one test run, e.g. its temp dir): finds a dataplane the control plane
 * spawned and lost track of. Our own process is never returned.
 */
export function pidsWithMarker(marker: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(marker)) out.push(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Runs a command, ignoring failure (for undo steps). */
export function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    /* best effort */
  }
}
