// SPDX-License-Identifier: BSD-3-Clause
// The bench topology on one machine:
//
//   linerate-pktgen TX (memif client) --sock0--> forwarder p0 (memif server)
//   linerate-pktgen RX (memif client) <--sock1-- forwarder p1 (memif server)
//
// The forwarder under test (linerate, testpmd, l3fwd) owns both sockets as
// memif servers and outlives the trials; each trial is one pktgen process
// that connects as the client (a memif client does not retry, so the
// server must be up first). Fixed MACs make the forwarders' configuration
// independent of the run. The forwarder's worker runs on CPU 1, pktgen and
// everything else (Node, the forwarder's main lcore) on CPU 0.

import path from 'node:path';

export const FWD_MAC = ['02:00:00:00:01:00', '02:00:00:00:01:01'] as const;
export const GEN_MAC = ['02:00:00:00:00:00', '02:00:00:00:00:01'] as const;
/** linerate's port addresses and the generator-side gateways behind them */
export const FWD_ADDR = ['192.168.0.1/24', '192.168.1.1/24'] as const;
export const GEN_ADDR = ['192.168.0.2', '192.168.1.2'] as const;
export const GEN_CPU = 0;
export const FWD_CPU = 1;

export class Topology {
  readonly sockets: readonly [string, string];

  /**
   * `dir`: a private directory (sockets, configs, logs); `tag`: unique per
   * run, e.g. "lrp-bench-1234"; `socketDir`: where the memif sockets are as
   * the forwarder and the generator see them (default `dir`; the container
   * bench: the shared volume's mount point inside the containers).
   */
  constructor(readonly dir: string, readonly tag: string, socketDir = dir) {
    this.sockets = [path.join(socketDir, 'p0.sock'), path.join(socketDir, 'p1.sock')];
  }

  /** Devargs of the forwarder's port i (memif server). */
  serverDev(i: 0 | 1): string {
    return `net_memif${i},role=server,socket=${this.sockets[i]},socket-abstract=no,mac=${FWD_MAC[i]}`;
  }

  /** Devargs of the generator's port i (memif client). */
  clientDev(i: 0 | 1): string {
    return `net_memif_g${i},role=client,socket=${this.sockets[i]},socket-abstract=no,mac=${GEN_MAC[i]}`;
  }

  /** EAL file prefix for one process of this run. */
  prefix(what: string): string {
    return `${this.tag}-${what}`;
  }
}
