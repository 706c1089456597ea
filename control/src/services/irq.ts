/**
 * linerate.v1.IrqService: the host's IRQs and their affinity, over
 * system/irq.ts (procfs/sysfs under serve's system roots, the journal in
 * the state dir). Calls run one at a time so that two isolates never
 * interleave their journal records. Needs no dataplane.
 */
import { status } from '@grpc/grpc-js';
import type * as api from '../gen';
import type { IrqServiceHandlers } from '../gen/linerate/v1/IrqService';
import { ApiError, invalid } from '../errors';
import type { Logger } from '../log';
import { checkOnline, dataplaneLcores, formatCpuList, parseCpuList, readCpuLayout } from '../system/cpus';
import { type IrqChange, type IrqInfo, IrqJournal, type SystemRoots, deviceIrqs, isolateIrqs, listIrqs, restoreIrqs,
  setIrqAffinity } from '../system/irq';
import { getChannels, setChannels } from '../system/channels';
import { unary } from './common';

export interface IrqServiceOptions {
  roots: SystemRoots;
  stateDir: string;
  /** The config's dataplane section: the default CPUs of IsolateIrqs. */
  dataplane: { lcores: string; eal: readonly string[] };
}

const RESULT: Record<IrqChange['result'], api.IrqResult> = {
  moved: 'IRQ_RESULT_MOVED', not_followed: 'IRQ_RESULT_NOT_FOLLOWED', refused: 'IRQ_RESULT_REFUSED',
  restored: 'IRQ_RESULT_RESTORED', gone: 'IRQ_RESULT_GONE',
};

const changeMsg = (c: IrqChange): api.IrqChange => ({ ...c, result: RESULT[c.result] });

export function irqService(o: IrqServiceOptions, log: Logger): IrqServiceHandlers {
  let journal: IrqJournal | null = null;
  const theJournal = (): IrqJournal => (journal ??= new IrqJournal(o.stateDir));
  let lock: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => T): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };
  const online = (): number[] => readCpuLayout(o.roots.sysRoot).online;

  const irqMsg = (i: IrqInfo): api.Irq => {
    const j = theJournal().get(i.irq);
    return { ...i, counts: i.counts.map(String), journaled: !!j, originalAffinity: j?.original ?? '' };
  };

  const irqsOf = (device: string): IrqInfo[] => (device ? deviceIrqs(o.roots, device) : listIrqs(o.roots));

  return {
    ListIrqs: unary(log, 'ListIrqs', (req) => serial(() => ({
      irqs: irqsOf(req.device ?? '').map(irqMsg),
      onlineCpus: formatCpuList(online()),
    }))),

    SetIrqAffinity: unary(log, 'SetIrqAffinity', (req) => serial(() => {
      const cpus = parseCpuList(req.cpus ?? '', 'cpus');
      checkOnline(cpus, online(), 'cpus');
      const c = setIrqAffinity(o.roots, theJournal(), Number(req.irq ?? 0), cpus);
      log.info({ irq: c.irq, name: c.name, before: c.before, after: c.after, effective: c.effectiveAffinity }, 'IRQ affinity set');
      return changeMsg(c);
    })),

    IsolateIrqs: unary(log, 'IsolateIrqs', (req) => serial(() => {
      const on = online();
      let cpus: number[];
      if (req.cpus) {
        cpus = parseCpuList(req.cpus, 'cpus');
        checkOnline(cpus, on, 'cpus');
      } else {
        cpus = dataplaneLcores(o.dataplane).workers.filter((c) => on.includes(c));
        if (!cpus.length) {
          throw new ApiError(status.FAILED_PRECONDITION, `cpus: the dataplane has no worker lcore on an online CPU (dataplane.lcores ${o.dataplane.lcores}, online ${formatCpuList(on)})`);
        }
      }
      if (cpus.length >= on.length) {
        throw invalid('cpus', `${formatCpuList(cpus)} leaves no online CPU for the IRQs (online: ${formatCpuList(on)})`);
      }
      const j = theJournal();
      const r = isolateIrqs(o.roots, j, irqsOf(req.device ?? ''), cpus, on);
      const count = (k: IrqChange['result']): number => r.changes.filter((c) => c.result === k).length;
      log.info({ cpus: formatCpuList(cpus), moved: count('moved'), notFollowed: count('not_followed'), refused: count('refused'),
        unchanged: r.unchanged, journal: j.file }, 'IRQs isolated');
      return { changes: r.changes.map(changeMsg), unchanged: r.unchanged, cpus: formatCpuList(r.cpus),
        housekeepingCpus: formatCpuList(r.housekeeping), journaled: j.size };
    })),

    GetChannels: unary(log, 'GetChannels', (req) => getChannels(req.device ?? '')),

    SetChannels: unary(log, 'SetChannels', async (req) => {
      const c: api.ChannelCounts = req.channels ?? {};
      const r = await setChannels(req.device ?? '', { rx: c.rx ?? 0, tx: c.tx ?? 0, other: c.other ?? 0, combined: c.combined ?? 0 });
      log.info({ device: r.device, current: r.current }, 'channels set');
      return r;
    }),

    RestoreIrqs: unary(log, 'RestoreIrqs', () => serial(() => {
      const j = theJournal();
      const changes = restoreIrqs(o.roots, j);
      log.info({ restored: changes.filter((c) => c.result === 'restored').length, left: j.size }, 'IRQs restored');
      return { changes: changes.map(changeMsg), unchanged: 0, cpus: '', housekeepingCpus: '', journaled: j.size };
    })),
  };
}
