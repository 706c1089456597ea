/**
 * A private Docker engine for the container tests: started (and stopped, by
 * its pid) through control/deploy/engine.sh, which also builds the base and
 * the linerate image, cached under /var/cache/linerate-docker between runs.
 * Containers, volumes and the daemon a suite makes are registered with the
 * last-resort cleanup (cleanup.ts), so an interrupted run leaves none.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defer } from './cleanup';
import { ROOT } from './env';

export const ENGINE = path.join(ROOT, 'control', 'deploy', 'engine.sh');
export const IMAGE = process.env.LINERATE_IMAGE ?? 'linerate:dev';
const RUN_DIR = process.env.LINERATE_DOCKER_RUN ?? '/run/linerate-docker';
export const DOCKER_HOST = `unix://${RUN_DIR}/docker.sock`;
const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const env = { ...process.env, DOCKER_HOST, LINERATE_IMAGE: IMAGE };

/** Why no Docker engine can be started here, or undefined when one can. */
export function engineMissing(): string | undefined {
  try {
    execFileSync(ENGINE, ['check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return undefined;
  } catch (err) {
    const e = err as { stdout?: string; message: string };
    return e.stdout?.trim() || e.message;
  }
}

function engine(cmd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ENGINE, [cmd], { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, out, errOut) => {
      if (err) reject(new Error(`engine.sh ${cmd}: ${errOut.trim() || err.message}`));
      else resolve(out);
    });
  });
}

/**
 * Starts the private dockerd (registering its stop) and builds the image
 * (cached layers: seconds when nothing changed, minutes cold).
 */
export async function startEngine(buildTimeoutMs: number): Promise<void> {
  defer('dockerd', () => execFileSync(ENGINE, ['stop'], { env, stdio: 'ignore' }));
  await engine('start', 90000);
  await engine('image', buildTimeoutMs);
}

/** Stops the private dockerd (by its pid file). */
export function stopEngine(): void {
  execFileSync(ENGINE, ['stop'], { env, stdio: 'ignore' });
}

export interface DockerResult { code: number; out: string; err: string }

/** Runs `docker ARGS`; never throws on a non-zero exit (see docker()). */
export function dockerRun(args: string[], timeoutMs = 120000): Promise<DockerResult> {
  return new Promise((resolve) => {
    execFile(DOCKER, args, { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, out, errOut) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out, err: errOut });
    });
  });
}

/** Runs `docker ARGS` and returns its stdout; throws with stderr on failure. */
export async function docker(args: string[], timeoutMs = 120000): Promise<string> {
  const r = await dockerRun(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.err.trim() || r.out.trim()}`);
  return r.out;
}

function dockerSync(args: string[]): void {
  try {
    execFileSync(DOCKER, args, { env, stdio: 'ignore', timeout: 60000 });
  } catch { /* already gone */ }
}

/** Registers the removal of a container (docker rm -f), returns a function doing it now. */
export function ownContainer(name: string): () => void {
  return defer(`container ${name}`, () => dockerSync(['rm', '-f', '-v', name]));
}

/** Creates a named volume removed at cleanup. */
export async function ownVolume(name: string): Promise<() => void> {
  await docker(['volume', 'create', name]);
  return defer(`volume ${name}`, () => dockerSync(['volume', 'rm', '-f', name]));
}

/** State of a container: "running", "exited"... and its exit code. */
export async function containerState(name: string): Promise<{ status: string; exitCode: number; restarts: number; startedAt: string }> {
  const out = await docker(['inspect', '-f', '{{json .State}}|{{.RestartCount}}', name]);
  const [state, restarts] = out.trim().split('|');
  const s = JSON.parse(state) as { Status: string; ExitCode: number; StartedAt: string };
  return { status: s.Status, exitCode: s.ExitCode, restarts: Number(restarts), startedAt: s.StartedAt };
}

/** Last lines of a container's log (stdout and stderr), for failure messages. */
export async function containerLog(name: string, lines = 30): Promise<string> {
  const r = await dockerRun(['logs', '--tail', String(lines), name]);
  return `${r.out}${r.err}`.trim();
}

/**
 * `--ulimit memlock=-1:-1` where this host lets root raise RLIMIT_MEMLOCK,
 * else nothing: raising it needs CAP_SYS_RESOURCE outside the container (a
 * sandboxed VM's root may lack it; this dev VM's hard limit is 8 MiB). The
 * container's CAP_IPC_LOCK already exempts DPDK from the limit (mlock, and
 * VFIO's DMA pinning check only applies without CAP_IPC_LOCK).
 */
export function memlockFlags(): string[] {
  const line = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return line?.[2] === 'unlimited' ? ['--ulimit', 'memlock=-1:-1'] : [];
}
