/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ICMP errors: what the IP stages ask the slow path to answer, as the tag
 * of a packet they drop and punt (lr_burst_punt_error(), m->hash.usr), and
 * the slow path's builder (RFC 792 / RFC 1812 4.3 for IPv4, RFC 4443 for
 * IPv6): rate-limited per input port with a token bucket, sourced from the
 * input port's address, never sent about an ICMP error, a non-first
 * fragment, a link-layer or IP multicast/broadcast, or a source that is not
 * a unicast host.
 */
#ifndef LR_ICMP_H
#define LR_ICMP_H

#include <stdint.h>
#include <rte_mbuf.h>

enum lr_icmp_why {
	LR_ICMP_TIME_EXCEEDED = 1,   /**< TTL / hop limit (11/0, ICMPv6 3/0) */
	LR_ICMP_NET_UNREACH,         /**< no route (3/0, ICMPv6 1/0) */
	LR_ICMP_HOST_UNREACH,        /**< resolution failed (3/1, ICMPv6 1/3) */
	LR_ICMP_TOO_BIG,             /**< DF set / IPv6, over the next-hop MTU (3/4, ICMPv6 2/0) */
};

/** Tag of a punted packet: why, and for TOO_BIG the next-hop MTU. */
#define LR_ICMP_TAG(why, mtu) ((uint32_t)(why) << 24 | (uint32_t)(mtu))
#define LR_ICMP_TAG_WHY(t)    ((t) >> 24)
#define LR_ICMP_TAG_MTU(t)    ((t) & 0xffffff)

/** Sets the per-port error rate (errors/s; 0: none are sent). Main lcore. */
void lr_icmp_init(struct rte_mempool *mp, uint32_t rate);

/**
 * Answers the packet m (tagged by a stage, m->port = input port) with the
 * ICMP error its tag asks for, when allowed, through worker w's inject
 * ring; frees m. Main lcore.
 */
void lr_icmp_error(struct rte_mbuf *m, unsigned w);

#endif /* LR_ICMP_H */
