/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_tmpl: per (flow, size) packet templates and the per-packet fill.
 *
 * Every header is built once, at start-up, into a template holding the
 * first PG_TMPL_COPY bytes of the frame (headers, a zero stamp, zero
 * payload). Sending a packet copies that fixed-size block, writes the stamp
 * and, for IPv6 UDP, patches the checksum incrementally from a sum
 * precomputed with the stamp zeroed (RFC 1624). The rest of the payload is
 * zero: the TX mempool is zeroed once when created and nobody writes TX
 * mbufs afterwards, so nothing is cleared per packet. IPv4 UDP checksums
 * are 0 (RFC 768: "no checksum"), IPv4 header checksums are final.
 */
#ifndef PG_TMPL_H
#define PG_TMPL_H

#include <stdint.h>

#include <rte_common.h>

#include "pg_config.h"

#define PG_TMPL_COPY 128 /**< longest header stack + stamp fits: 106 + 18 */

struct pg_tmpl {
	uint8_t data[PG_TMPL_COPY];
	uint16_t frame_len;   /**< mbuf data length: frame size minus FCS */
	uint16_t stamp_off;   /**< where the stamp goes */
	uint16_t cksum_off;   /**< IPv6 UDP checksum field, 0 = none to patch */
	uint16_t cksum_sum;   /**< folded sum of the L4 pseudo header + datagram, stamp zeroed */
} __rte_cache_aligned;

/** Bytes before the stamp: Ethernet + (outer IPv4/UDP/GTP-U) + IP + UDP. */
uint16_t pg_tmpl_hdr_len(const struct pg_pkt_cfg *pkt);

/** Smallest frame size (FCS included) that holds the headers and the stamp. */
uint16_t pg_tmpl_min_frame(const struct pg_pkt_cfg *pkt);

/**
 * Builds the template of flow @p flow for frame size @p size (FCS included)
 * into @p t. The MACs must be final (pg_pkt_cfg src_mac/dst_mac).
 */
void pg_tmpl_build(const struct pg_pkt_cfg *pkt, uint32_t flow, uint16_t size,
		   struct pg_tmpl *t);

#endif /* PG_TMPL_H */
