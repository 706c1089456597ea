// SPDX-License-Identifier: BSD-3-Clause
// `npm run bench -- --compare REV`: linerate built from REV ("base") against
// the working tree ("head") in one run, so that a change to the fast path
// or the control plane states its before/after honestly. REV is checked
// out in a temporary git worktree (removed at the end, also on Ctrl-C or a
// failure) and only what `linerate serve` needs is built there: the
// dataplane binary, the addon and the TypeScript. Both run as resident
// forwarders; the 64B maximum is taken in pairs head/base (and each with
// the references), the route add rate in pairs of timed adds, and in a
// full run the 1M-route scale traffic in pairs too.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../lib/pktgen';
import type { Forwarder, Linerate } from './forwarders';
import { type Comparison } from './pairs';
import type { Plan } from './plan';
import { onCleanup, start } from './procs';
import type { Progress } from './progress';
import type { CompareInfo } from './results';
import { isLinerate, pairedRatio, type Runner } from './runner';

export interface BaseCheckout {
  root: string;
  rev: string;
  commit: string;
  subject: string;
  buildSeconds: number;
}

function git(args: string[], cwd = repoRoot): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** HEAD's commit of the working tree, and whether the tree has changes (tracked or untracked, ignored files aside). */
export function headInfo(): { commit: string; dirty: boolean } {
  return { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']).length > 0 };
}

/** Runs one build step in `cwd`, its output in `log`; throws with the log's tail when it fails. */
async function step(what: string, cmd: string, args: string[], cwd: string, log: string, progress: Progress): Promise<void> {
  progress.status(`base: ${what}`);
  const p = start(cmd, args, log, { cwd });
  const code = await p.exited;
  if (code !== 0) throw new Error(`building the base revision: ${what} failed (${code}); ${log}:\n${p.output().trimEnd().split('\n').slice(-15).join('\n')}`);
}

/**
 * Checks REV out in a temporary worktree and builds linerate-dp, the addon
 * and the TypeScript there. The worktree is removed at exit (cleanup
 * task), whatever happens.
 */
export async function prepareBase(rev: string, progress: Progress): Promise<BaseCheckout> {
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new Error(`--compare ${rev}: not a revision of this repository`);
  }
  const subject = git(['log', '-1', '--format=%s', commit]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-compare-'));
  onCleanup('compare worktree', () => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      /* not registered (add failed): the directory goes below */
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      git(['worktree', 'prune']);
    } catch {
      /* nothing to prune */
    }
  });
  const t0 = Date.now();
  progress.phase(`base: ${rev} = ${commit.slice(0, 12)} "${subject}" in a temporary worktree ${dir}`);
  git(['worktree', 'add', '--detach', dir, commit]);
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  const log = path.join(dir, 'build.log');
  const type = process.env.LINERATE_BUILD_TYPE ?? 'Release';
  await step('cmake configure', 'cmake', ['-S', '.', '-B', 'build/dp', `-DCMAKE_BUILD_TYPE=${type}`], dir, log, progress);
  await step('linerate-dp', 'cmake', ['--build', 'build/dp', '-j', String(os.cpus().length), '--target', 'linerate-dp'], dir, log, progress);
  await step('addon', 'npx', ['--no-install', 'cmake-js', 'compile', '-O', 'build/addon', '--config', type], dir, log, progress);
  // control/src/gen is generated, not committed: revisions that have the generator need it run.
  if (existsSync(path.join(dir, 'scripts/gen-types.sh'))) await step('API types', 'bash', ['scripts/gen-types.sh'], dir, log, progress);
  await step('TypeScript', 'npx', ['--no-install', 'tsc', '-p', '.'], dir, log, progress);
  for (const f of ['build/dp/dataplane/linerate-dp', 'dist/control/src/cli/main.js']) {
    if (!existsSync(path.join(dir, f))) throw new Error(`building the base revision: ${f} is missing after the build (${log})`);
  }
  const buildSeconds = Math.round((Date.now() - t0) / 100) / 10;
  progress.result(`base ${commit.slice(0, 12)} built in ${buildSeconds} s`);
  return { root: dir, rev, commit, subject, buildSeconds };
}

/** The comparisons of a --compare run: head/base first, then each linerate with each reference. */
export function compareComparisons<F>(head: F, base: F, refs: readonly F[]): Comparison<F>[] {
  return [{ subject: head, reference: base }, ...refs.flatMap((r) => [{ subject: head, reference: r }, { subject: base, reference: r }])];
}

export interface CompareContext {
  runner: Runner;
  plan: Plan;
  head: Linerate;
  base: Linerate;
  refs: Forwarder[];
  checkout: BaseCheckout;
  step: (what: string, fn: () => Promise<unknown>) => Promise<void>;
}

/** The measurements of a --compare run (the forwarders are started and warmed up); what goes into `compare`. */
export async function runCompare(c: CompareContext): Promise<CompareInfo> {
  const { runner, plan, head, base, refs } = c;
  const h = headInfo();
  const info: CompareInfo = {
    base_rev: c.checkout.rev, base_commit: c.checkout.commit, base_subject: c.checkout.subject,
    head_commit: h.commit, head_dirty: h.dirty, build_seconds: c.checkout.buildSeconds, route_add: null,
  };
  await c.step('64B maximum', async () => {
    runner.phase(`64B maximum rate: head/base${refs.length ? ' and each with ' + refs.map((r) => r.id).join(', ') : ''}, in pairs`);
    await runner.maxPaired(64, plan.maxSeconds, plan.maxPairs, compareComparisons<Forwarder>(head, base, refs), []);
  });
  await c.step('route add', async () => {
    runner.phase(`route add over gRPC: ${plan.compareRoutes} routes in batches of ${plan.routeBatch}, head and base in pairs`);
    const r = await runner.routeAddPairs(head, base, plan.compareRoutes);
    info.route_add = {
      routes: plan.compareRoutes, batch: plan.routeBatch,
      head_routes_per_s: r.head.map(Math.round), base_routes_per_s: r.base.map(Math.round), ratio: pairedRatio(r.paired),
    };
  });
  if (plan.compareScale) {
    await c.step('scale traffic', async () => {
      const io = refs.find((r) => r.id === 'testpmd-io');
      runner.phase(`64B with ${plan.compareRoutes} routes installed (scale traffic): head/base${io ? ' and each with testpmd io' : ''}, in pairs`);
      for (const lr of [head, base]) await runner.installScale(lr, plan.compareRoutes);
      const { runs, paired } = await runner.pairedMax(runner.scaleTraffic(), plan.scaleSeconds, plan.scalePairs,
        compareComparisons<Forwarder>(head, base, io ? [io] : []), `scale ${plan.compareRoutes} routes`);
      runner.casesFromPairs('scale', () => runner.scaleTraffic(), runs, paired, (f) => (isLinerate(f) ? { routes: plan.compareRoutes } : {}));
    });
  }
  return info;
}
