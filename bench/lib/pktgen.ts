// SPDX-License-Identifier: BSD-3-Clause
// Runs linerate-pktgen and parses what it prints: shared by bench/test and
// the benchmark harness. Every run gets its own EAL file prefix (lrp-...)
// and the runtime directory DPDK leaves in /var/run/dpdk is removed
// afterwards, whatever happened.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Repository root, from dist/bench/lib (compiled) or bench/lib (ts-node). */
export const repoRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

export function pktgenBinary(): string {
  return process.env.LINERATE_PKTGEN ?? path.join(repoRoot, 'build/dp/bench/pktgen/linerate-pktgen');
}

const steady = z.object({
  packets: z.number(),
  seconds: z.number(),
  pps: z.number(),
  mpps: z.number(),
});

/** The {"type":"result"} object (bench/pktgen/src/pg_report.c). */
export const pktgenResult = z.object({
  type: z.literal('result'),
  interrupted: z.boolean(),
  tsc_hz: z.number(),
  config: z.object({
    tx_port: z.string(),
    rx_port: z.string(),
    tx_driver: z.string(),
    rx_driver: z.string(),
    sizes: z.array(z.number()),
    imix: z.boolean(),
    mean_frame: z.number(),
    ipv6: z.boolean(),
    gtpu: z.boolean(),
    teid: z.number(),
    qfi: z.number(),
    flows: z.number(),
    burst: z.number(),
    retry: z.boolean(),
    rate_pps: z.number().nullable(),
    duration_s: z.number(),
    warmup_s: z.number(),
    count: z.number(),
    lcores: z.number(),
  }),
  tx: z.object({
    packets: z.number(),
    bytes: z.number(),
    refused: z.number(),
    retries: z.number(),
    alloc_fail: z.number(),
    steady,
  }),
  rx: z.object({
    packets: z.number(),
    bytes: z.number(),
    matched: z.number(),
    foreign: z.number(),
    bad_flow: z.number(),
    unique: z.number(),
    duplicates: z.number(),
    reordered: z.number(),
    late: z.number(),
    span: z.number(),
    steady,
  }),
  loss: z
    .object({
      basis: z.enum(['tx', 'sequence']),
      sent: z.number(),
      packets: z.number(),
      ratio: z.number(),
    })
    .nullable(),
  latency_ns: z.object({
    samples: z.number(),
    min: z.number(),
    mean: z.number(),
    p50: z.number(),
    p99: z.number(),
    p999: z.number(),
    max: z.number(),
  }),
  device: z.object({
    tx: z
      .object({
        port: z.string(),
        opackets: z.number(),
        obytes: z.number(),
        oerrors: z.number(),
        steady_mpps: z.number(),
      })
      .optional(),
    rx: z
      .object({
        port: z.string(),
        ipackets: z.number(),
        ibytes: z.number(),
        imissed: z.number(),
        ierrors: z.number(),
        rx_nombuf: z.number(),
        steady_mpps: z.number(),
      })
      .optional(),
  }),
});
export type PktgenResult = z.infer<typeof pktgenResult>;

export const pktgenProgress = z.object({
  type: z.literal('progress'),
  t: z.number(),
  tx_packets: z.number(),
  rx_packets: z.number(),
  tx_mpps: z.number(),
  rx_mpps: z.number(),
});
export type PktgenProgress = z.infer<typeof pktgenProgress>;

export interface PktgenRun {
  /** pktgen options (after EAL's "--"); --json is added. */
  args: string[];
  /** EAL core list; default "0" (generator and sink on one core). */
  lcores?: string;
  /** extra EAL arguments, e.g. ["--vdev", "net_ring0"] */
  eal?: string[];
  /** role tag in the file prefix (lrp-<tag>-<pid>-<n>) */
  tag?: string;
  /** kill the run after this long (SIGTERM, then SIGKILL) */
  timeoutMs?: number;
  /** progress lines, as they arrive */
  onProgress?: (p: PktgenProgress) => void;
  /**
   * How to start it, given pktgen's argv (EAL options, "--", its options):
   * default the host binary (pktgenBinary()); the container bench runs it
   * with `docker run ... --entrypoint linerate-pktgen IMAGE ARGV`.
   */
  launch?: (argv: string[]) => { cmd: string; args: string[] };
}

export interface PktgenOutcome {
  result: PktgenResult;
  progress: PktgenProgress[];
  stderr: string;
  /** the EAL file prefix the run used */
  prefix: string;
}

let runCounter = 0;

/** Removes what a DPDK process with this file prefix leaves behind. */
export function removeDpdkRuntime(prefix: string): void {
  for (const dir of ['/var/run/dpdk', path.join(process.env.XDG_RUNTIME_DIR ?? '/nonexistent', 'dpdk')]) {
    const p = path.join(dir, prefix);
    if (existsSync(p)) rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Runs pktgen to completion and returns its parsed result. Rejects when it
 * exits non-zero, prints no result, or outlives timeoutMs.
 */
export function runPktgen(run: PktgenRun): Promise<PktgenOutcome> {
  const prefix = `lrp-${run.tag ?? 'run'}-${process.pid}-${++runCounter}`;
  const argv = [
    '-l', run.lcores ?? '0',
    '--no-pci', '--in-memory', '--file-prefix', prefix,
    '--log-level', 'warning',
    ...(run.eal ?? []),
    '--', ...run.args, '--json',
  ];
  const timeoutMs = run.timeoutMs ?? 60_000;
  return new Promise<PktgenOutcome>((resolve, reject) => {
    const how = run.launch ? run.launch(argv) : { cmd: pktgenBinary(), args: argv };
    const child = spawn(how.cmd, how.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const progress: PktgenProgress[] = [];
    let result: PktgenResult | undefined;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let parseError: Error | undefined;

    const onLine = (line: string): void => {
      if (line.trim() === '') return;
      try {
        const obj: unknown = JSON.parse(line);
        const type = (obj as { type?: unknown }).type;
        if (type === 'progress') {
          const p = pktgenProgress.parse(obj);
          progress.push(p);
          run.onProgress?.(p);
        } else {
          result = pktgenResult.parse(obj);
        }
      } catch (e) {
        parseError ??= new Error(`pktgen printed an unexpected line: ${line}\n${String(e)}`);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        onLine(stdout.slice(0, nl));
        stdout = stdout.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      removeDpdkRuntime(prefix);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      removeDpdkRuntime(prefix);
      if (stdout.trim() !== '') onLine(stdout);
      const cmd = `${how.cmd} ${how.args.join(' ')}`;
      if (timedOut) reject(new Error(`pktgen timed out after ${timeoutMs} ms: ${cmd}\n${stderr}`));
      else if (code !== 0) reject(new Error(`pktgen exited with ${code ?? signal}: ${cmd}\n${stderr}`));
      else if (parseError) reject(parseError);
      else if (!result) reject(new Error(`pktgen printed no result: ${cmd}\n${stderr}`));
      else resolve({ result, progress, stderr, prefix });
    });
  });
}
