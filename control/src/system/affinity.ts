/**
 * serve's own threads and their CPU affinity: listed from /proc/self/task
 * (comm, Cpus_allowed_list), pinned through the addon's native
 * sched_setaffinity (setThreadAffinity). Threads made later inherit the
 * affinity of the thread that makes them (libuv's pool is started from the
 * main thread), so pinning all present threads pins the process. Used by
 * services/core.ts and by serve at start (system.controlPlaneCpus). Always
 * the real /proc: these are this process's threads, not a prepared tree's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatCpuList, parseCpuList } from './cpus';

export interface ThreadAffinity { tid: number; name: string; cpus: number[] }

/** Whatever can set a thread's affinity: the addon's setThreadAffinity. */
export type SetAffinity = (tid: number, cpus: number[]) => void;

const TASKS = '/proc/self/task';

/** This process's threads with their names and allowed CPUs. */
export function controlPlaneThreads(): ThreadAffinity[] {
  const out: ThreadAffinity[] = [];
  for (const t of fs.readdirSync(TASKS)) {
    if (!/^\d+$/.test(t)) continue;
    try {
      const st = fs.readFileSync(path.join(TASKS, t, 'status'), 'utf8');
      const m = /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(st);
      const name = fs.readFileSync(path.join(TASKS, t, 'comm'), 'utf8').trim();
      out.push({ tid: Number(t), name, cpus: m ? parseCpuList(m[1], 'Cpus_allowed_list') : [] });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  return out.sort((a, b) => a.tid - b.tid);
}

/** Pins every thread of this process to `cpus` (checked online by the caller); returns the threads after. */
export function pinControlPlane(set: SetAffinity, cpus: number[]): ThreadAffinity[] {
  // The main thread first: whatever it starts from now on inherits the set.
  set(process.pid, cpus);
  for (const t of controlPlaneThreads()) {
    try {
      set(t.tid, cpus);
    } catch (e) {
      if ((e as { errno?: number }).errno !== 3 /* ESRCH: it exited */) throw e;
    }
  }
  return controlPlaneThreads();
}

/** The union of the threads' CPUs as a list. */
export const threadsCpus = (ts: ThreadAffinity[]): string => formatCpuList(ts.flatMap((t) => t.cpus));
