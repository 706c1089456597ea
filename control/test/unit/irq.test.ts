/**
 * IrqService and CoreService over real gRPC (in-process serve on the fake
 * dataplane): IRQ listing, set, isolate and restore against a prepared
 * procfs/sysfs tree (the exact files written and restored, the journal
 * across a serve restart, refusals and effective affinities that did not
 * follow reported), once against this machine's real /proc/irq (restored
 * afterwards), bad inputs; the CPU layout from a prepared sysfs; serve's
 * threads pinned with the addon's native sched_setaffinity, checked in
 * /proc/self/task/N/status.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { loadAddon } from '../../src/dataplane/addon';
import { dataplaneLcores, formatCpuList, parseCpuList } from '../../src/system/cpus';
import { type Harness, rejectsWith, startHarness, tempDir } from './helpers';
import { FakeWorld } from './fake-dataplane';

interface FakeIrq { affinity: string; effective: string; handlers: string[]; counts: number[]; chip: string }

/**
 * A procfs/sysfs tree: 4 online CPUs, /proc/irq/N for each IRQ, a
 * virtio-net eth0 whose msi_irqs are on the PCI function above it, eth1
 * known only by its handler names. `linkIrq` gets an smp_affinity_list
 * that is a symlink to a read-only sysfs file: its writes fail (EACCES).
 */
function makeTree(root: string, irqs: Record<number, FakeIrq>, linkIrq: number): void {
  const w = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  w('sys/devices/system/cpu/online', '0-3\n');
  w('sys/devices/system/cpu/isolated', '3\n');
  w('sys/devices/system/cpu/nohz_full', '3\n');
  const lines = ['           CPU0       CPU1       CPU2       CPU3       '];
  for (const [n, q] of Object.entries(irqs)) {
    w(`proc/irq/${n}/smp_affinity_list`, `${q.affinity}\n`);
    w(`proc/irq/${n}/effective_affinity_list`, `${q.effective}\n`);
    for (const h of q.handlers) fs.mkdirSync(path.join(root, 'proc/irq', n, h), { recursive: true });
    lines.push(`${n.padStart(4)}: ${q.counts.map((c) => String(c).padStart(10)).join(' ')}  ${q.chip}   ${q.handlers.join(', ')}`);
  }
  fs.mkdirSync(path.join(root, `proc/irq/${linkIrq}/ahci`), { recursive: true });
  fs.writeFileSync(path.join(root, `proc/irq/${linkIrq}/effective_affinity_list`), '1\n');
  fs.symlinkSync('/sys/devices/system/cpu/online', path.join(root, `proc/irq/${linkIrq}/smp_affinity_list`));
  lines.push(`${String(linkIrq).padStart(4)}:          0          5          0          0  PCI-MSI 512000-edge   ahci`);
  lines.push(' NMI:          0          0          0          0   Non-maskable interrupts');
  w('proc/interrupts', lines.join('\n') + '\n');
  w('proc/irq/default_smp_affinity', 'f\n');
  const pci = 'sys/devices/pci0000:00/0000:00:03.0';
  for (const n of [37, 38, 39]) w(`${pci}/msi_irqs/${n}`, 'msix\n');
  fs.mkdirSync(path.join(root, pci, 'virtio2'), { recursive: true });
  fs.mkdirSync(path.join(root, 'sys/class/net/eth0'), { recursive: true });
  fs.symlinkSync(path.join(root, pci, 'virtio2'), path.join(root, 'sys/class/net/eth0/device'));
  fs.mkdirSync(path.join(root, 'sys/class/net/eth1'), { recursive: true });
}

const read = (root: string, n: number): string => fs.readFileSync(path.join(root, `proc/irq/${n}/smp_affinity_list`), 'utf8');

describe('IRQs and cores', function () {
  this.timeout(20000);

  it('reads CPU lists and the dataplane\'s lcores (EAL -l, --lcores, --main-lcore)', () => {
    assert.deepEqual(parseCpuList(' 0-2,5,3 \n', 'x'), [0, 1, 2, 3, 5]);
    assert.equal(formatCpuList([5, 0, 1, 2, 3, 9, 10]), '0-3,5,9-10');
    assert.equal(formatCpuList([]), '');
    assert.throws(() => parseCpuList('1,,2', 'cpus'), /^ApiError: cpus: not a CPU list/);
    const simple = dataplaneLcores({ lcores: '0-2', eal: [] });
    assert.deepEqual([simple.main, simple.workerLcores, simple.workers, simple.mainCpus], [0, [1, 2], [1, 2], [0]]);
    const mapped = dataplaneLcores({ lcores: '0,1', eal: ['--lcores=0@0,1@1,2@1'] });
    assert.deepEqual([mapped.main, mapped.workerLcores, mapped.workers], [0, [1, 2], [1]]);
    const groups = dataplaneLcores({ lcores: '0,1', eal: ['--lcores', '(0-1)@0,2@(1,3),4', '--main-lcore', '4'] });
    assert.deepEqual([groups.main, groups.workerLcores, groups.workers, groups.mainCpus], [4, [0, 1, 2], [0, 1, 3], [4]]);
    assert.throws(() => dataplaneLcores({ lcores: '0', eal: ['--lcores=1@2@3'] }), /dataplane\.eal --lcores: cannot read/);
  });

  describe('on a prepared procfs/sysfs tree', () => {
    let dir: string;
    let h: Harness;
    const tree = (): { procRoot: string; sysRoot: string } => ({ procRoot: path.join(dir, 'tree/proc'), sysRoot: path.join(dir, 'tree/sys') });
    // Main lcore 0, workers 1 and 3: the IRQs belong on 0 and 2.
    const cfg = () => ({ system: tree(), dataplane: { lcores: '0,1,3' } });
    beforeEach(async () => {
      dir = tempDir('irq');
      makeTree(path.join(dir, 'tree'), {
        24: { affinity: '0-3', effective: '0', handlers: ['ACPI:Ged'], counts: [1, 0, 0, 0], chip: 'IO-APIC 5-edge' },
        26: { affinity: '3', effective: '3', handlers: ['eth1-TxRx-0'], counts: [0, 14, 0, 2], chip: 'IR-PCI-MSI 1-edge' },
        38: { affinity: '1-2', effective: '2', handlers: ['virtio2-input.0'], counts: [0, 3126, 0, 0], chip: 'PCI-MSIX-0000:00:03.0 1-edge' },
        39: { affinity: '0,2', effective: '0', handlers: ['virtio2-output.0'], counts: [2620, 0, 0, 0], chip: 'PCI-MSIX-0000:00:03.0 2-edge' },
      }, 40);
      h = await startHarness(cfg(), new FakeWorld(), dir);
    });
    afterEach(async () => {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists the host\'s IRQs and a device\'s (msi_irqs of its PCI function, /proc/interrupts names)', async () => {
      const all = await h.client.irq.listIrqs({});
      assert.equal(all.onlineCpus, '0-3');
      assert.deepEqual(all.irqs.map((i) => [i.irq, i.name, i.affinity, i.effectiveAffinity]), [
        [24, 'ACPI:Ged', '0-3', '0'], [26, 'eth1-TxRx-0', '3', '3'], [38, 'virtio2-input.0', '1-2', '2'],
        [39, 'virtio2-output.0', '0,2', '0'], [40, 'ahci', '0-1', '1'],
      ]);
      const i38 = all.irqs.find((i) => i.irq === 38)!;
      assert.deepEqual(i38.counts, ['0', '3126', '0', '0']);
      assert.equal(i38.chip, 'PCI-MSIX-0000:00:03.0 1-edge');
      assert.equal(i38.source, '');
      // msi_irqs names 37 too, which has no /proc/irq/37: left out.
      const eth0 = await h.client.irq.listIrqs({ device: 'eth0' });
      assert.deepEqual(eth0.irqs.map((i) => [i.irq, i.source]), [[38, 'msi_irqs'], [39, 'msi_irqs']]);
      const eth1 = await h.client.irq.listIrqs({ device: 'eth1' });
      assert.deepEqual(eth1.irqs.map((i) => [i.irq, i.source]), [[26, 'name']]);
      await rejectsWith(h.client.irq.listIrqs({ device: 'eth9' }), status.NOT_FOUND, /^device: no kernel network device eth9/);
      await rejectsWith(h.client.irq.listIrqs({ device: '../../etc' }), status.NOT_FOUND, /^device: no kernel network device/);
    });

    it('sets one IRQ\'s affinity: the exact file, journaled; bad inputs change nothing', async () => {
      const c = await h.client.irq.setIrqAffinity({ irq: 24, cpus: '2,0' });
      assert.equal(read(path.join(dir, 'tree'), 24), '0,2\n');
      assert.deepEqual([c.before, c.requested, c.after, c.effectiveAffinity, c.result], ['0-3', '0,2', '0,2', '0', 'IRQ_RESULT_MOVED']);
      const journal = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'irq-journal.json'), 'utf8')) as { irqs: { irq: number; original: string; applied: string }[] };
      assert.deepEqual(journal.irqs.map((e) => [e.irq, e.original, e.applied]), [[24, '0-3', '0,2']]);
      // A second write keeps the first original.
      await h.client.irq.setIrqAffinity({ irq: 24, cpus: '1' });
      const l = await h.client.irq.listIrqs({});
      const i24 = l.irqs.find((i) => i.irq === 24)!;
      assert.deepEqual([i24.affinity, i24.journaled, i24.originalAffinity], ['1', true, '0-3']);

      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 999, cpus: '0' }), status.NOT_FOUND, /^irq: no IRQ 999 /);
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 24, cpus: '0,7' }), status.INVALID_ARGUMENT,
        /^cpus: CPU 7 is not online \(online: 0-3\)/);
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 24, cpus: '4-9' }), status.INVALID_ARGUMENT, /^cpus: CPU 4-9 are not online \(online: 0-3\)/);
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 24, cpus: 'zero' }), status.INVALID_ARGUMENT, /^cpus: not a CPU list/);
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 24, cpus: '3-1' }), status.INVALID_ARGUMENT, /^cpus: range 3-1 is reversed/);
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 24, cpus: '' }), status.INVALID_ARGUMENT, /^cpus: no CPU given \(online: 0-3\)/);
      // The kernel refusing the write: reported, nothing journaled.
      await rejectsWith(h.client.irq.setIrqAffinity({ irq: 40, cpus: '0' }), status.FAILED_PRECONDITION, /^irq: IRQ 40 \(ahci\) affinity 0: EACCES/);
      assert.equal(read(path.join(dir, 'tree'), 24), '1\n');
      const j2 = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'irq-journal.json'), 'utf8')) as { irqs: { irq: number }[] };
      assert.deepEqual(j2.irqs.map((e) => e.irq), [24]);
      // Restore: the original, and the journal is gone.
      const r = await h.client.irq.restoreIrqs({});
      assert.deepEqual(r.changes.map((x) => [x.irq, x.before, x.after, x.result]), [[24, '1', '0-3', 'IRQ_RESULT_RESTORED']]);
      assert.equal(read(path.join(dir, 'tree'), 24), '0-3\n');
      assert.equal(fs.existsSync(path.join(dir, 'state', 'irq-journal.json')), false);
    });

    it('isolates the worker lcores (refusals and unfollowed effective affinities reported), restores after a serve restart', async () => {
      const root = path.join(dir, 'tree');
      const before = Object.fromEntries([24, 26, 38, 39].map((n) => [n, read(root, n)]));
      const r = await h.client.irq.isolateIrqs({});
      assert.equal(r.cpus, '1,3');
      assert.equal(r.housekeepingCpus, '0,2');
      assert.equal(r.unchanged, 1); // 39 is on 0,2 already
      assert.deepEqual(r.changes.map((c) => [c.irq, c.before, c.requested, c.after, c.result]), [
        [24, '0-3', '0,2', '0,2', 'IRQ_RESULT_MOVED'],
        // Written, but the (prepared) kernel keeps delivering it on CPU 3.
        [26, '3', '0,2', '0,2', 'IRQ_RESULT_NOT_FOLLOWED'],
        [38, '1-2', '2', '2', 'IRQ_RESULT_MOVED'],
        [40, '0-1', '0', '0-1', 'IRQ_RESULT_REFUSED'],
      ]);
      assert.match(r.changes[1].error, /^effective_affinity_list 3 still includes CPU 3/);
      assert.match(r.changes[3].error, /^EACCES/);
      assert.equal(r.journaled, 3);
      // Exactly these files were written.
      assert.deepEqual([24, 26, 38, 39].map((n) => read(root, n)), ['0,2\n', '0,2\n', '2\n', '0,2\n']);

      // serve restarts: the journal in the state dir still knows the originals.
      await h.close();
      h = await startHarness(cfg(), new FakeWorld(), dir);
      const listed = await h.client.irq.listIrqs({ device: 'eth0' });
      assert.deepEqual(listed.irqs.map((i) => [i.irq, i.journaled, i.originalAffinity]), [[38, true, '1-2'], [39, false, '']]);
      const back = await h.client.irq.restoreIrqs({});
      assert.deepEqual(back.changes.map((c) => [c.irq, c.before, c.after, c.result]), [
        [24, '0,2', '0-3', 'IRQ_RESULT_RESTORED'], [26, '0,2', '3', 'IRQ_RESULT_RESTORED'], [38, '2', '1-2', 'IRQ_RESULT_RESTORED'],
      ]);
      assert.equal(back.journaled, 0);
      assert.deepEqual(Object.fromEntries([24, 26, 38, 39].map((n) => [n, read(root, n)])), before);
      assert.equal((await h.client.irq.restoreIrqs({})).changes.length, 0);
    });

    it('isolates one device\'s IRQs off given CPUs; refuses CPU sets that leave nothing', async () => {
      const r = await h.client.irq.isolateIrqs({ device: 'eth0', cpus: '2' });
      assert.deepEqual(r.changes.map((c) => [c.irq, c.after, c.result]), [
        [38, '1', 'IRQ_RESULT_NOT_FOLLOWED'], [39, '0', 'IRQ_RESULT_MOVED'],
      ]);
      assert.equal(read(path.join(dir, 'tree'), 24), '0-3\n', 'another device\'s IRQ is untouched');
      await rejectsWith(h.client.irq.isolateIrqs({ cpus: '0-3' }), status.INVALID_ARGUMENT,
        /^cpus: 0-3 leaves no online CPU for the IRQs \(online: 0-3\)/);
      await rejectsWith(h.client.irq.isolateIrqs({ cpus: '5' }), status.INVALID_ARGUMENT, /^cpus: CPU 5 is not online \(online: 0-3\)/);
      await rejectsWith(h.client.irq.isolateIrqs({ device: 'nope0' }), status.NOT_FOUND, /^device: no kernel network device nope0/);
      await h.client.irq.restoreIrqs({});
      assert.deepEqual([38, 39].map((n) => read(path.join(dir, 'tree'), n)), ['1-2\n', '0,2\n']);
    });

    it('isolates the CPUs of the worker lcores of an EAL --lcores map', async () => {
      await h.close();
      // Workers 1 and 2 both on CPU 3, the main lcore on CPU 0.
      h = await startHarness({ system: tree(), dataplane: { lcores: '0', eal: ['--lcores=0@0,(1-2)@3'] } }, new FakeWorld(), dir);
      const r = await h.client.irq.isolateIrqs({});
      assert.deepEqual([r.cpus, r.housekeepingCpus], ['3', '0-2']);
      assert.deepEqual(r.changes.map((c) => [c.irq, c.after, c.result]), [[24, '0-2', 'IRQ_RESULT_MOVED'], [26, '0-2', 'IRQ_RESULT_NOT_FOLLOWED']]);
      await h.client.irq.restoreIrqs({});
      const c = await h.client.core.getCores({});
      // The fake dataplane's worker is lcore 1: on CPU 3 by the map.
      assert.deepEqual([c.mainCpus, c.workerLcores, c.workerCpus], ['0', '1', '3']);
      assert.deepEqual(c.cores.map((k) => [k.cpu, k.role]), [
        [0, 'CORE_ROLE_MAIN'], [1, 'CORE_ROLE_HOUSEKEEPING'], [2, 'CORE_ROLE_HOUSEKEEPING'], [3, 'CORE_ROLE_WORKER']]);
    });

    it('shows the CPU layout: main, workers with their load, housekeeping, isolated', async () => {
      h.world.busyCycles = 0n;
      const c = await h.client.core.getCores({});
      assert.equal(c.onlineCpus, '0-3');
      assert.equal(c.isolatedCpus, '3');
      assert.equal(c.nohzFullCpus, '3');
      assert.equal(c.mainLcore, 0);
      assert.equal(c.attached, true);
      // The fake dataplane has one worker, on lcore 1.
      assert.equal(c.workerLcores, '1');
      assert.equal(c.housekeepingCpus, '0,2');
      assert.deepEqual(c.cores.map((k) => [k.cpu, k.role, k.isolated]), [
        [0, 'CORE_ROLE_MAIN', false], [1, 'CORE_ROLE_WORKER', false], [2, 'CORE_ROLE_HOUSEKEEPING', false], [3, 'CORE_ROLE_ISOLATED', true],
      ]);
      assert.deepEqual(c.cores[1].workers.map((x) => x.lcore), [1]);
      assert.deepEqual(c.cores.map((k) => k.lcores), [[0], [1], [], []]);
      assert.deepEqual([c.mainCpus, c.workerCpus], ['0', '1']);
      assert.equal(c.cores[0].workers.length, 0);
      assert.equal(c.controlPlane?.pid, process.pid);
      assert.ok((c.controlPlane?.threads.length ?? 0) >= 1);
    });
  });

  describe('pinning serve\'s threads (native sched_setaffinity)', () => {
    let h: Harness;
    const addon = loadAddon();
    const original = addon.getThreadAffinity(process.pid);
    const allowed = (): Map<number, string> => new Map(fs.readdirSync('/proc/self/task').map((t) => {
      const st = fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8');
      return [Number(t), /^Cpus_allowed_list:\s*(\S+)/m.exec(st)![1]];
    }));
    before(async () => { h = await startHarness(); });
    after(async () => {
      // This process is serve here: give every thread its CPUs back.
      for (const t of allowed().keys()) {
        try { addon.setThreadAffinity(t, original); } catch { /* exited */ }
      }
      await h.close();
    });

    it('pins every thread to the CPUs asked, as /proc/self/task/N/status shows; refuses offline CPUs', async function () {
      const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
      const cpu = Math.max(...original);
      const r = await h.client.core.pinControlPlane({ cpus: String(cpu) });
      assert.equal(r.cpus, String(cpu));
      const seen = allowed();
      assert.ok(seen.size >= 2, `threads: ${seen.size}`);
      for (const [tid, cpus] of seen) assert.equal(cpus, String(cpu), `thread ${tid}`);
      assert.deepEqual(r.threads.map((t) => t.tid).sort(), [...seen.keys()].sort());
      // A thread started after the pin (libuv's pool, grown by fs work) inherits it.
      await Promise.all(Array.from({ length: 8 }, () => fs.promises.readFile('/proc/self/status')));
      for (const [tid, cpus] of allowed()) assert.equal(cpus, String(cpu), `thread ${tid} (after)`);
      const c = await h.client.core.getCores({});
      assert.equal(c.controlPlane?.cpus, String(cpu));
      await rejectsWith(h.client.core.pinControlPlane({ cpus: '4095' }), status.INVALID_ARGUMENT,
        new RegExp(`^cpus: CPU 4095 is not online \\(online: ${online}\\)`));
      // Back to every CPU it had.
      const b = await h.client.core.pinControlPlane({ cpus: original.join(',') });
      for (const t of b.threads) assert.deepEqual(t.cpus, b.cpus);
    });
  });

  describe('on this machine\'s real /proc/irq', () => {
    let h: Harness;
    let irq = -1;
    let original = '';
    before(async () => { h = await startHarness({ system: { procRoot: '/proc', sysRoot: '/sys' } }); });
    after(async () => {
      // Whatever happened, the IRQ gets its affinity back.
      if (irq >= 0 && fs.readFileSync(`/proc/irq/${irq}/smp_affinity_list`, 'utf8').trim() !== original) {
        fs.writeFileSync(`/proc/irq/${irq}/smp_affinity_list`, original);
      }
      await h.close();
    });

    it('reads and sets a kernel device\'s channels (ethtool -l / -L) on a veth made for it', async function () {
      if (process.getuid?.() !== 0) this.skip();
      const name = `lrqc${process.pid % 100000}`;
      execFileSync('ip', ['link', 'add', `${name}a`, 'type', 'veth', 'peer', 'name', `${name}b`]);
      try {
        const dev = `${name}a`;
        const c = await h.client.irq.getChannels({ device: dev });
        assert.equal(c.device, dev);
        assert.ok(c.max!.rx >= 1 && c.max!.tx >= 1, JSON.stringify(c));
        assert.deepEqual([c.current!.rx, c.current!.tx, c.max!.combined], [1, 1, 0]);
        const max = c.max!.rx;
        const r = await h.client.irq.setChannels({ device: dev, channels: { rx: max, tx: c.max!.tx } });
        assert.deepEqual([r.current!.rx, r.current!.tx], [max, c.max!.tx]);
        // The kernel's own view: one rx-N directory per RX channel.
        assert.equal(fs.readdirSync(`/sys/class/net/${dev}/queues`).filter((q) => q.startsWith('rx-')).length, max);
        await rejectsWith(h.client.irq.setChannels({ device: dev, channels: { rx: max + 1 } }), status.INVALID_ARGUMENT,
          new RegExp(`^channels\\.rx: ${max + 1}, but ${dev} takes at most ${max}`));
        await rejectsWith(h.client.irq.setChannels({ device: dev, channels: { combined: 1 } }), status.INVALID_ARGUMENT,
          /^channels\.combined: \S+ has no combined channels \(maximums: rx/);
        await rejectsWith(h.client.irq.setChannels({ device: dev, channels: {} }), status.INVALID_ARGUMENT, /^channels: no count given/);
        assert.equal((await h.client.irq.getChannels({ device: dev })).current!.rx, max, 'refusals changed nothing');
        await rejectsWith(h.client.irq.getChannels({ device: 'lo' }), status.FAILED_PRECONDITION, /^device: lo: its driver has no channel settings/);
        await rejectsWith(h.client.irq.getChannels({ device: `${name}zz` }), status.NOT_FOUND, /^device: no kernel network device/);
      } finally {
        execFileSync('ip', ['link', 'del', `${name}a`]);
      }
    });

    it('moves an IRQ that exists here to one CPU and restores its original affinity', async function () {
      const { irqs, onlineCpus } = await h.client.irq.listIrqs({});
      assert.ok(irqs.length > 0, 'this machine has IRQs');
      assert.equal(onlineCpus, fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim());
      // A device IRQ allowed on more than one CPU; a serial port or ACPI line first (nothing depends on their placement).
      const multi = irqs.filter((i) => /[-,]/.test(i.affinity));
      const pick = multi.find((i) => /ttyS|ACPI/.test(i.name)) ?? multi[0];
      if (!pick) this.skip();
      irq = pick.irq;
      original = pick.affinity;
      const target = original.split(/[-,]/)[0];
      const c = await h.client.irq.setIrqAffinity({ irq, cpus: target });
      assert.equal(c.before, original);
      assert.equal(fs.readFileSync(`/proc/irq/${irq}/smp_affinity_list`, 'utf8').trim(), target);
      assert.equal(c.after, target);
      assert.ok(c.result === 'IRQ_RESULT_MOVED' || c.result === 'IRQ_RESULT_NOT_FOLLOWED', c.result);
      const r = await h.client.irq.restoreIrqs({});
      assert.deepEqual(r.changes.map((x) => [x.irq, x.after, x.result]), [[irq, original, 'IRQ_RESULT_RESTORED']]);
      assert.equal(fs.readFileSync(`/proc/irq/${irq}/smp_affinity_list`, 'utf8').trim(), original);
    });
  });
});
