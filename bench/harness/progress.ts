// SPDX-License-Identifier: BSD-3-Clause
// Progress display: on a terminal, a live status line (elapsed time, step,
// current trial, generator rates) under the log of finished results; in a
// pipe or CI log, just the result lines.

const tty = process.stderr.isTTY === true;

export class Progress {
  private readonly t0 = Date.now();
  private step = 0;
  private phaseName = '';
  private line = '';

  constructor(private readonly totalSteps: number) {}

  private elapsed(): string {
    const s = Math.round((Date.now() - this.t0) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  private clear(): void {
    if (tty && this.line) process.stderr.write('\r\x1b[2K');
  }

  private print(s: string): void {
    this.clear();
    process.stderr.write(`${s}\n`);
    if (tty && this.line) process.stderr.write(this.line);
  }

  /** A new step of the plan, e.g. "linerate: RFC 2544 NDR/PDR 64B". */
  phase(name: string): void {
    this.step = Math.min(this.step + 1, this.totalSteps);
    this.phaseName = name;
    this.print(`[${this.elapsed()}] (${this.step}/${this.totalSteps}) ${name}`);
  }

  /** Live detail of the current phase (terminal only). */
  status(detail: string): void {
    if (!tty) return;
    this.clear();
    const cols = process.stderr.columns || 120;
    this.line = `[${this.elapsed()}] ${this.phaseName} · ${detail}`.slice(0, cols - 1);
    process.stderr.write(this.line);
  }

  /** A finished result. */
  result(text: string): void {
    this.print(`         ${text}`);
  }

  warn(text: string): void {
    this.print(`         ! ${text}`);
  }

  end(): void {
    this.clear();
    this.line = '';
  }
}
