/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Slow path on the main lcore: drains the workers' punt and resolve rings;
 * answers ARP for our addresses and learns from ARP (RFC 826 merge rule);
 * answers NS for our addresses and learns from NS/NA (RFC 4861); answers
 * ICMP / ICMPv6 echo to our addresses; sends the ARP requests / NS that
 * neighbor resolution asks for. Frames leave through a worker's inject
 * ring (the worker that punted the request, else worker 0).
 */
#ifndef LR_SLOWPATH_H
#define LR_SLOWPATH_H

#include <stdint.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>

#define LR_SLOW_BUDGET 256  /* punted frames handled per call */

void lr_slow_init(struct rte_mempool *mp);

/**
 * Handles what the workers queued.
 * @return work done (0 = nothing was waiting).
 */
unsigned lr_slow_poll(void);

/** Handles one punted frame (m->port = linerate port) from worker w. */
void lr_slow_input(struct rte_mbuf *m, unsigned w);

/**
 * Sends an ARP request (IPv4) or a neighbor solicitation (IPv6) for ip out
 * of port; to dst_mac when given (re-confirmation), else broadcast /
 * solicited-node multicast.
 */
void lr_slow_resolve(uint16_t port, uint8_t family, const uint8_t *ip, const uint8_t *dst_mac);

#endif /* LR_SLOWPATH_H */
