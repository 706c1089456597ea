/**
 * linerate.v1.CoreService: the CPU layout (sysfs under serve's system
 * root), the dataplane's lcores and each worker's load from the stats
 * memory (the same figures as StatsService's WorkerStats), and serve's own
 * threads, which PinControlPlane moves with the addon's native
 * sched_setaffinity. Works detached too (lcores from the config, no load).
 */
import type * as api from '../gen';
import type { CoreServiceHandlers } from '../gen/linerate/v1/CoreService';
import type { Controller } from '../controller';
import type { Logger } from '../log';
import { buildStats, queueUsage } from '../stats/rates';
import { type SetAffinity, controlPlaneThreads, pinControlPlane, threadsCpus } from '../system/affinity';
import { type CpuLayout, checkOnline, cpuSetMinus, dataplaneLcores, formatCpuList, parseCpuList, readCpuLayout } from '../system/cpus';
import { unary } from './common';

export interface CoreServiceOptions {
  sysRoot: string;
  dataplane: { lcores: string; eal: readonly string[] };
  /** The addon's setThreadAffinity (loaded when first needed). */
  setAffinity: () => SetAffinity;
}

/** Online CPUs less the worker lcores, isolcpus and nohz_full: where IRQs and serve belong. */
export function housekeepingCpus(layout: CpuLayout, workers: readonly number[]): number[] {
  return cpuSetMinus(cpuSetMinus(cpuSetMinus(layout.online, workers), layout.isolated), layout.nohzFull);
}

/**
 * The CPUs `spec` names: a CPU list, or "housekeeping"/"" (online less the
 * config's worker lcores, isolated and nohz_full CPUs); checked online.
 */
export function controlPlaneCpus(spec: string, sysRoot: string, dataplane: CoreServiceOptions['dataplane'], field: string): number[] {
  const layout = readCpuLayout(sysRoot);
  const cpus = spec === '' || spec === 'housekeeping'
    ? housekeepingCpus(layout, dataplaneLcores(dataplane).workers)
    : parseCpuList(spec, field);
  checkOnline(cpus, layout.online, field);
  return cpus;
}

function controlPlaneMsg(): api.ControlPlane {
  const threads = controlPlaneThreads();
  return { pid: process.pid, threads: threads.map((t) => ({ tid: t.tid, name: t.name, cpus: formatCpuList(t.cpus) })), cpus: threadsCpus(threads) };
}

export function coreService(ctl: Controller, o: CoreServiceOptions, log: Logger): CoreServiceHandlers {
  return {
    GetCores: unary(log, 'GetCores', () => {
      const layout = readCpuLayout(o.sysRoot);
      const lc = dataplaneLcores(o.dataplane);
      const cur = ctl.snapshot();
      const stats = cur ? buildStats(cur, ctl.previousSample(cur)) : null;
      const workers = stats ? stats.workers : [];
      const usage = stats ? queueUsage(stats) : [];
      const workerLcores = stats ? workers.map((w) => w.lcore) : lc.workerLcores;
      // An lcore the config does not map runs on the CPU of its number (EAL -l).
      const cpusOf = (id: number): number[] => lc.cpusOf.get(id) ?? [id];
      const workerCpus = [...new Set(workerLcores.flatMap(cpusOf))].sort((a, b) => a - b);
      const mainCpus = cpusOf(lc.main);
      const cp = controlPlaneMsg();
      const cpCpus = parseCpuList(cp.cpus ?? '', 'cpus');
      const cores: api.Core[] = layout.online.map((cpu) => {
        const isolated = layout.isolated.includes(cpu);
        const nohzFull = layout.nohzFull.includes(cpu);
        const here = workerLcores.filter((id) => cpusOf(id).includes(cpu));
        const lcores = [...(mainCpus.includes(cpu) ? [lc.main] : []), ...here].sort((a, b) => a - b);
        const role: api.CoreRole = here.length ? 'CORE_ROLE_WORKER' : mainCpus.includes(cpu) ? 'CORE_ROLE_MAIN'
          : isolated || nohzFull ? 'CORE_ROLE_ISOLATED' : 'CORE_ROLE_HOUSEKEEPING';
        return { cpu, role, isolated, nohzFull, lcores, workers: workers.filter((w) => here.includes(w.lcore)), controlPlane: cpCpus.includes(cpu),
          queues: usage.filter((q) => here.includes(q.lcore)) };
      });
      return {
        cores,
        onlineCpus: formatCpuList(layout.online),
        isolatedCpus: formatCpuList(layout.isolated),
        nohzFullCpus: formatCpuList(layout.nohzFull),
        mainLcore: lc.main,
        workerLcores: formatCpuList(workerLcores),
        mainCpus: formatCpuList(mainCpus),
        workerCpus: formatCpuList(workerCpus),
        housekeepingCpus: formatCpuList(housekeepingCpus(layout, workerCpus)),
        attached: stats !== null,
        intervalSeconds: stats?.intervalSeconds ?? 0,
        controlPlane: cp,
      };
    }),

    PinControlPlane: unary(log, 'PinControlPlane', (req) => {
      const cpus = controlPlaneCpus(req.cpus ?? '', o.sysRoot, o.dataplane, 'cpus');
      pinControlPlane(o.setAffinity(), cpus);
      const cp = controlPlaneMsg();
      log.info({ cpus: formatCpuList(cpus), threads: cp.threads?.length }, 'control plane pinned');
      return cp;
    }),
  };
}
