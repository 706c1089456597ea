// SPDX-License-Identifier: BSD-3-Clause
// Child processes of the harness and what to undo at exit. Every process
// the harness starts is registered here and stopped by its PID (never by
// name), also on Ctrl-C, SIGTERM or a crash; cleanup tasks (sockets, temp
// dirs, DPDK runtime dirs) run last, in reverse order. Forwarders that wait
// their turn are paused with SIGSTOP (pause/resume here); every paused
// process is continued before anything is stopped, since a stopped
// process acts on no SIGTERM.

import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, rmSync } from 'node:fs';
import path from 'node:path';

const children = new Set<ChildProcess>();
const paused = new Set<number>();
const cleanups: { name: string; fn: () => void | Promise<void> }[] = [];

export interface Started {
  child: ChildProcess;
  /** stdout + stderr so far */
  output(): string;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
  /** resolves once `re` matches the output; rejects if the process exits first or after timeoutMs */
  waitFor(re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray>;
}

/** Starts `cmd` (output to `logFile` and kept in memory), registered for cleanup. */
export function start(cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): Started {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.add(child);
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer): void => {
    const s = b.toString('utf8');
    log.write(s);
    out += s;
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.stdin?.on('error', () => undefined); // EPIPE when it exits first
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (e) => {
      out += `\nspawn error: ${e.message}\n`;
      children.delete(child);
      resolve(`error: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  const waitFor = (re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = out.match(re);
        if (m) return finish(() => resolve(m));
        if (done) finish(() => reject(new Error(`${what}: ${path.basename(cmd)} exited before it was ready\n${tail(out)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not ready after ${timeoutMs} ms\n${tail(out)}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  return { child, output: () => out, exited, waitFor };
}

export function tail(s: string, lines = 12): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Sends `signal`, then SIGKILL after graceMs; resolves when it exited. */
export async function stop(p: Started, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | string> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(t);
  }
}

/** Is `pid` alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops `pid` (SIGSTOP: all its threads, no CPU) until resume(); false if it is gone. */
export function pause(pid: number): boolean {
  try {
    process.kill(pid, 'SIGSTOP');
    paused.add(pid);
    return true;
  } catch {
    paused.delete(pid);
    return false;
  }
}

/** Continues a paused process (SIGCONT). */
export function resume(pid: number): void {
  paused.delete(pid);
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    /* gone */
  }
}

/** Continues every process paused by pause(). */
export function resumeAll(): void {
  for (const pid of [...paused]) resume(pid);
}

/** Registers a cleanup task (run at exit, last registered first). */
export function onCleanup(name: string, fn: () => void | Promise<void>): void {
  cleanups.push({ name, fn });
}

let cleaning: Promise<void> | undefined;

/** Stops every registered child and runs the cleanup tasks (once). */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    resumeAll();
    for (const c of [...children]) c.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (children.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const c of [...children]) c.kill('SIGKILL');
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (e) {
        process.stderr.write(`cleanup ${c.name}: ${(e as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

/** Removes what a DPDK process with this --file-prefix leaves in /var/run/dpdk. */
export function removeDpdkRuntime(prefix: string): void {
  for (const dir of ['/var/run/dpdk', path.join(process.env.XDG_RUNTIME_DIR ?? '/nonexistent', 'dpdk')]) {
    const p = path.join(dir, prefix);
    if (existsSync(p)) rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Pins this process (all its threads) to one CPU, so that Node, the gRPC
 * server and the forwarders' main lcores share the generator's core and
 * leave the other one to the forwarding worker. Children inherit it; DPDK
 * then places its lcores itself. False if taskset is missing.
 */
export function pinSelf(cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
