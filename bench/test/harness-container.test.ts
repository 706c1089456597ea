// SPDX-License-Identifier: BSD-3-Clause
// The container bench's report (bench/harness/container.ts) on a synthetic
// run: the markdown's target line, per-pair table and cycles per packet,
// and the line the full bench prints about the container figure.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerNote, type ContainerResults, dpdkFlags, renderContainerMarkdown } from '../harness/container';
import type { CaseResult } from '../harness/results';

function side(forwarder: 'linerate' | 'linerate-container', mpps: number, cpp: number): CaseResult {
  return {
    name: `max 64B ${forwarder}`, test: 'max', forwarder, frame_size: 64, flows: 256, routes: null, offered_mpps: null, mpps, gbps: 0,
    loss_ratio: 0, loss_packets: 0, latency_ns: null, trials: [mpps, mpps], best_mpps: mpps, others_cpu_percent: 0, ratio: {}, ratio_best: {},
    cycles_per_packet: cpp, core_cycles_per_packet: 2.6e9 / (mpps * 1e6),
  };
}

function results(): ContainerResults {
  const flags = ['--cap-drop', 'ALL', '--cpuset-cpus', '0,1'];
  return {
    schema: 1, command: 'npm run bench -- --container --pairs 2', started_at: '2026-01-02T03:04:05.000Z', finished_at: '2026-01-02T03:09:05.000Z',
    duration_s: 300, commit: '0123456789abcdef', dirty: false, seed: 7,
    image: { name: 'linerate:dev', id: 'sha256:abcdef0123456789', created: '2026-01-02' }, engine: { docker: '20.10.24', host: 'unix:///x', nice: 0 },
    machine: { cpus: 2, cpu_model: 'test cpu', tsc_hz: 2.6e9, kernel: '6.1', node: 'v20', dpdk: '22.11' },
    settings: { frame_size: 64, flows: 256, seconds: 3, warmup_s: 0.3, pairs: { minPairs: 2, maxPairs: 6, maxSpread: 0.03 }, generator_cpu: 0,
      forwarder_cpus: '0,1', linerate_flags: flags, pktgen_flags: flags },
    pairs: [
      { pair: 1, first: 'bare', bare_mpps: 10, container_mpps: 9.9, ratio: 0.99, bare_cpp: 100, container_cpp: 101 },
      { pair: 2, first: 'container', bare_mpps: 10, container_mpps: 9.7, ratio: 0.97, bare_cpp: 100, container_cpp: 103 },
    ],
    ratio: { pairs: 2, median: 0.98, p25: 0.975, p75: 0.985, min: 0.97, max: 0.99, spread: 0.0102, ratios: [0.99, 0.97], subject_first: 1,
      cpp_ratio: { median: 1.02, p25: 1.015, p75: 1.025, pairs: 2 } },
    target: { name: 'Containerised Mpps ÷ bare-host Mpps, same run', target: 0.98, value: 0.98, met: true },
    cases: [side('linerate', 10, 100), side('linerate-container', 9.8, 102)],
    noise: { loadavg_start: [1, 1, 1], loadavg_end: [2, 2, 2], busy_others: [{ pid: 5, comm: 'fuzz', cpu_percent: 60 }], reruns: 3, disturbed_trials: 1,
      steal_run_percent: { cpu: 0.1 } },
    errors: [],
    trials_log: [],
  };
}

describe('bench harness: container report', () => {
  it('renders the target, both sides and every pair with its cycles per packet', () => {
    const md = renderContainerMarkdown(results());
    assert.match(md, /\*\*Containerised Mpps ÷ bare-host Mpps, same run: 0\.980\*\* \(target ≥ 0\.98: MET\); quartiles 0\.975–0\.985/);
    assert.match(md, /Busy cycles per packet, container ÷ bare: 1\.020/);
    assert.match(md, /\| bare host \| 10\.00 \| 10\.00, 10\.00 \| 100 \|/);
    assert.match(md, /\| container \| 9\.80 \| 9\.80, 9\.80 \| 102 \|/);
    assert.match(md, /\| 2 \| container \| 10\.000 \| 9\.700 \| 0\.9700 \| 100 \| 103 \|/);
    assert.match(md, /Command: `npm run bench -- --container --pairs 2`/);
    assert.match(md, /busy others: fuzz 60 %/);
  });

  it('says NOT MET and not measured honestly', () => {
    const r = results();
    r.target = { ...r.target, value: 0.95, met: false };
    assert.match(renderContainerMarkdown(r), /: 0\.950\*\* \(target ≥ 0\.98: NOT MET\)/);
    r.target = { ...r.target, value: null, met: null };
    r.ratio = null;
    r.pairs = [];
    r.errors = ['no Docker engine can be started here: dockerd needs root'];
    const md = renderContainerMarkdown(r);
    assert.match(md, /: not measured\*\* \(target ≥ 0\.98: not measured\)\./);
    assert.match(md, /- no Docker engine can be started here/);
  });

  it('the containers\' flags: least privilege, the cpuset, and a host process\'s CPU weight per polling thread', () => {
    const f = dpdkFlags('0,1', 2);
    for (const x of [['--cap-drop', 'ALL'], ['--cap-add', 'IPC_LOCK'], ['--cap-add', 'SYS_NICE'], ['--cpuset-cpus', '0,1'], ['--cgroup-parent', '/'], ['--cpu-shares', '2048']]) {
      assert.ok(f.join(' ').includes(x.join(' ')), `${x.join(' ')} in ${f.join(' ')}`);
    }
    assert.ok(!f.includes('--privileged'));
    assert.ok(!dpdkFlags('0', 1, false).includes('--cgroup-parent'), '--docker-cgroup: Docker\'s default cgroup');
    assert.match(renderContainerMarkdown({ ...results(), settings: { ...results().settings, linerate_flags: f } }), /1024 shares per polling thread/);
  });

  it('the full bench\'s line: the last recorded figure, or where to measure it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-ctr-note-'));
    try {
      const file = path.join(dir, 'container.json');
      assert.match(containerNote(file), /not in this run; measured by npm run bench -- --container \(bench\/results\/container\.md\)/);
      writeFileSync(file, JSON.stringify(results()));
      assert.match(containerNote(file), /last recorded 0\.980 on 2026-01-02 \(2 pairs, commit 0123456789ab;/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
