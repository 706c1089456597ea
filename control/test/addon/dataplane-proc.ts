/**
 * Runs a real linerate-dp for the addon suites: null vdevs (no NIC, no
 * root beyond hugepages), its own EAL file prefix, control socket and stats
 * file, all named lra-<pid>-<n> and removed on stop() or at exit (the
 * process by PID, SIGTERM then SIGKILL).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defer, isAlive, killSync } from '../helpers/cleanup';
import { DP_BIN } from '../helpers/env';

export interface DpOptions {
  /** Ports as NAME=DEVSTR; default two idle null ports. */
  ports?: string[];
  /** Extra options after the EAL's "--". */
  extra?: string[];
}

let seq = 0;

export class DataplaneProc {
  readonly tag: string;
  readonly ctlPath: string;
  readonly statsPath: string;
  readonly filePrefix: string;
  pid = 0;
  output = '';
  private undo: () => void = () => undefined;

  constructor(private readonly opts: DpOptions = {}) {
    this.tag = `lra-${process.pid}-${++seq}`;
    this.ctlPath = path.join(os.tmpdir(), `${this.tag}.sock`);
    this.statsPath = `/dev/shm/${this.tag}.stats`;
    this.filePrefix = this.tag;
  }

  /** Starts the process and waits until its control socket exists. */
  async start(timeoutMs = 20000): Promise<void> {
    const ports = this.opts.ports ?? ['p0=net_null0,no-rx=1', 'p1=net_null1,no-rx=1'];
    const args = [
      '-l', '0,1', '--no-pci', '--in-memory', '--file-prefix', this.filePrefix, '--log-level', 'lib.eal:error',
      '--',
      '--name', this.tag,
      '--ctl', this.ctlPath,
      '--stats', this.statsPath,
      ...ports.flatMap((p) => ['--port', p]),
      '--idle-sleep-us', '200',
      // Test-sized tables: the 1M-route default takes ~1.4 GB of hugepages.
      '--routes4', '262144', '--routes6', '16384', '--neighbors', '1024',
      ...(this.opts.extra ?? []),
    ];
    const child = spawn(DP_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`cannot spawn ${DP_BIN}`);
    this.pid = child.pid;
    child.stdout.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (this.output += b.toString()));
    this.undo = defer(`linerate-dp ${this.tag}`, () => this.destroySync());

    const until = Date.now() + timeoutMs;
    while (!fs.existsSync(this.ctlPath)) {
      if (!isAlive(this.pid)) throw new Error(`linerate-dp exited during start:\n${this.output}`);
      if (Date.now() > until) throw new Error(`linerate-dp did not open ${this.ctlPath} in ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: the dataplane gets no chance to say goodbye. */
  crash(): void {
    if (this.pid && isAlive(this.pid)) process.kill(this.pid, 'SIGKILL');
  }

  /** Stops the process and removes everything it left. */
  stop(): void {
    this.undo();
  }

  private destroySync(): void {
    if (this.pid) killSync(this.pid);
    for (const f of [this.ctlPath, this.statsPath]) fs.rmSync(f, { force: true });
    fs.rmSync(`/var/run/dpdk/${this.filePrefix}`, { recursive: true, force: true });
  }
}
