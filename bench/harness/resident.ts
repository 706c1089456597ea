// SPDX-License-Identifier: BSD-3-Clause
// The forwarders of a run, all started once and kept up, one of them
// running at a time: the others are paused with SIGSTOP (their threads get
// no CPU, their memif servers wait on their own sockets). Pairs of trials
// need two forwarders measured back to back, and restarting one between
// trials takes seconds (linerate: serve, the dataplane, its programming
// over gRPC) while the host's slow spells last seconds too; a switch here
// takes milliseconds. Two busy-polling forwarders never share the worker
// core: the one that is not measured is stopped, not idle.

import type { Forwarder } from './forwarders';
import { pause, resume } from './procs';

export class Resident {
  private active: Forwarder | null = null;
  private readonly started = new Set<Forwarder>();

  /** Starts `f` (others paused first) and leaves it running. */
  async start(f: Forwarder): Promise<void> {
    this.pauseActive();
    await f.start();
    this.started.add(f);
    this.active = f;
  }

  /** Makes `f` the one running forwarder (pausing the one that ran). */
  async activate(f: Forwarder): Promise<void> {
    if (this.active === f) return;
    if (!this.started.has(f)) throw new Error(`${f.id} was not started`);
    this.pauseActive();
    // the dataplane before the control plane, so serve finds a fresh heartbeat
    for (const pid of [...f.pids()].reverse()) {
      resume(pid);
      await new Promise((r) => setTimeout(r, 10));
    }
    this.active = f;
  }

  /** Pauses the running forwarder, if any (e.g. before a phase that needs the CPUs to itself). */
  pauseActive(): void {
    if (!this.active) return;
    for (const pid of this.active.pids()) pause(pid);
    this.active = null;
  }

  /** The forwarder that runs now. */
  get current(): Forwarder | null {
    return this.active;
  }

  /** Stops every started forwarder (each continued first); errors are reported, not thrown. */
  async stopAll(onError: (f: Forwarder, e: unknown) => void): Promise<void> {
    for (const f of [...this.started].reverse()) {
      for (const pid of f.pids()) resume(pid);
      await f.stop().catch((e: unknown) => onError(f, e));
      this.started.delete(f);
    }
    this.active = null;
  }
}
