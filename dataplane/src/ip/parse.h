/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet parsing and validation: pure functions over frame bytes.
 *
 * The fast-path part is inline here (the worker calls it per packet):
 * lr_parse_frame() classifies a frame as forward-IPv4, forward-IPv6, punt
 * or drop with an lr_drop_reason, applying the RFC 1812 / RFC 8200 checks
 * that need no table; lr_ip4_ttl_dec() is the RFC 1624 incremental update.
 * parse.c holds the slow-path helpers (ICMP / ICMPv6 / ND).
 */
#ifndef LR_PARSE_H
#define LR_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>

#include "lr_common.h"

enum lr_cls {
	LR_CLS_DROP = 0,  /**< reason in bits 8..15 */
	LR_CLS_FWD4,      /**< unicast IPv4 to look up */
	LR_CLS_FWD6,      /**< unicast IPv6 to look up */
	LR_CLS_PUNT,      /**< ARP, ND: to the main lcore */
};

/**
 * ip-classify's metadata for an IPv6 packet; an IPv4 one carries its
 * destination (host order), which is never 255.255.255.255 (classify
 * drops the limited broadcast).
 */
#define LR_IP_META_V6 UINT32_MAX

#define LR_PARSE_DROP(r)      ((uint32_t)LR_CLS_DROP | ((uint32_t)(r) << 8))
#define LR_PARSE_CLS(v)       ((v) & 0xff)
#define LR_PARSE_REASON(v)    (((v) >> 8) & 0xff)

#define LR_ETH_HLEN  14
#define LR_IP4_HLEN  20
#define LR_IP6_HLEN  40
#define LR_ARP_LEN   28

#define LR_ICMP6_RS       133
#define LR_ICMP6_RA       134
#define LR_ICMP6_NS       135
#define LR_ICMP6_NA       136
#define LR_ICMP6_REDIRECT 137
#define LR_ICMP6_ECHO_REQUEST 128
#define LR_ICMP6_ECHO_REPLY   129

/** Flags describing how the port delivers frames. */
#define LR_PARSE_HW_IP_CKSUM 0x1  /**< trust RTE_MBUF_F_RX_IP_CKSUM_GOOD/BAD */
#define LR_PARSE_ALLOW_CLASS_E 0x2 /**< forward IPv4 sources in 240/4 (off: martian) */

/** Minimum ICMPv6 length of an ND message (RFC 4861), 0 = not ND. */
static inline unsigned
lr_nd_min_len(uint8_t type)
{
	switch (type) {
	case LR_ICMP6_RS: return 8;
	case LR_ICMP6_RA: return 16;
	case LR_ICMP6_NS: return 24;
	case LR_ICMP6_NA: return 24;
	case LR_ICMP6_REDIRECT: return 40;
	default: return 0;
	}
}

/**
 * The IPv4 header checksum verifies (the ones' complement sum of the
 * header, checksum included, is all ones). A 20-byte header is summed as
 * five 32-bit words (RFC 1071: any word size folds to the same sum).
 */
static inline bool
lr_ip4_cksum_ok(const void *hdr, unsigned ihl)
{
	if (likely(ihl == LR_IP4_HLEN)) {
		uint32_t w[5];
		uint64_t s;

		memcpy(w, hdr, sizeof(w));
		s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		s = (s & 0xffffffff) + (s >> 32);
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		return s == 0xffff;
	}
	return rte_raw_cksum(hdr, ihl) == 0xffff;
}

static inline uint32_t
lr_parse_ip4(const uint8_t *l3, uint32_t avail, uint32_t l3len, bool l2_mcast,
	     uint64_t ol_flags, unsigned flags)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	unsigned ihl;
	uint32_t tl;
	const uint8_t *s, *d;

	if (unlikely(avail < LR_IP4_HLEN))
		return LR_PARSE_DROP(LR_DROP_TRUNCATED);
	if (unlikely((ip->version_ihl >> 4) != 4))
		return LR_PARSE_DROP(LR_DROP_BAD_VERSION);
	ihl = (ip->version_ihl & 0xf) * 4u;
	if (unlikely(ihl < LR_IP4_HLEN || ihl > avail))
		return LR_PARSE_DROP(LR_DROP_BAD_IHL);
	tl = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tl < ihl || tl > l3len))
		return LR_PARSE_DROP(LR_DROP_BAD_LENGTH);
	if ((flags & LR_PARSE_HW_IP_CKSUM) &&
	    (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN &&
	    (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_NONE) {
		if (unlikely((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD))
			return LR_PARSE_DROP(LR_DROP_BAD_CHECKSUM);
	} else if (unlikely(!lr_ip4_cksum_ok(ip, ihl))) {
		return LR_PARSE_DROP(LR_DROP_BAD_CHECKSUM);
	}
	s = (const uint8_t *)&ip->src_addr;
	d = (const uint8_t *)&ip->dst_addr;
	/* multicast (224/4) or limited broadcast source */
	if (unlikely((s[0] & 0xf0) == 0xe0 || ip->src_addr == UINT32_MAX))
		return LR_PARSE_DROP(LR_DROP_BAD_ADDRESS);
	/* RFC 1812 5.3.7: "this network" 0/8, loopback 127/8, reserved 240/4 */
	if (unlikely(s[0] == 0 || s[0] == 127 ||
		     ((s[0] & 0xf0) == 0xf0 && !(flags & LR_PARSE_ALLOW_CLASS_E))))
		return LR_PARSE_DROP(LR_DROP_MARTIAN_SOURCE);
	if (unlikely(ip->dst_addr == 0 || d[0] == 127))
		return LR_PARSE_DROP(LR_DROP_BAD_ADDRESS);
	if (unlikely((d[0] & 0xf0) == 0xe0 || ip->dst_addr == UINT32_MAX || l2_mcast))
		return LR_PARSE_DROP(LR_DROP_LOCAL);
	return LR_CLS_FWD4;
}

static inline bool
lr_ip6_is_zero(const uint8_t *a)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return (x | y) == 0;
}

static inline bool
lr_ip6_is_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return memcmp(a, lo, 16) == 0;
}

static inline uint32_t
lr_parse_ip6(const uint8_t *l3, uint32_t avail, uint32_t l3len, bool l2_mcast)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;
	const uint8_t *d = ip->dst_addr;

	if (unlikely(avail < LR_IP6_HLEN))
		return LR_PARSE_DROP(LR_DROP_TRUNCATED);
	if (unlikely((l3[0] >> 4) != 6))
		return LR_PARSE_DROP(LR_DROP_BAD_VERSION);
	if (unlikely(LR_IP6_HLEN + (uint32_t)rte_be_to_cpu_16(ip->payload_len) > l3len))
		return LR_PARSE_DROP(LR_DROP_BAD_LENGTH);
	if (unlikely(ip->src_addr[0] == 0xff))
		return LR_PARSE_DROP(LR_DROP_BAD_ADDRESS);
	if (unlikely(lr_ip6_is_zero(d) || lr_ip6_is_loopback(d)))
		return LR_PARSE_DROP(LR_DROP_BAD_ADDRESS);
	/* ND checks its own sources (DAD uses ::); below, :: and ::1 are martians
	 * (RFC 4291 2.5.2, 2.5.3) */
	/* ND (directly after the fixed header) is for the main lcore, to
	 * whichever address: hop limit 255 means it never left its link. */
	if (ip->proto == IPPROTO_ICMPV6 && avail >= LR_IP6_HLEN + 4 &&
	    lr_nd_min_len(l3[LR_IP6_HLEN]) != 0) {
		unsigned need = lr_nd_min_len(l3[LR_IP6_HLEN]);

		if (unlikely(ip->hop_limits != 255 || l3[LR_IP6_HLEN + 1] != 0 ||
			     rte_be_to_cpu_16(ip->payload_len) < need || avail < LR_IP6_HLEN + need))
			return LR_PARSE_DROP(LR_DROP_BAD_ND);
		return LR_CLS_PUNT;
	}
	/* multicast, and link-local unicast (fe80::/10: never routed) */
	if (unlikely(d[0] == 0xff || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) || l2_mcast))
		return LR_PARSE_DROP(LR_DROP_LOCAL);
	if (unlikely(ip->src_addr[0] == 0 && (lr_ip6_is_zero(ip->src_addr) ||
					      lr_ip6_is_loopback(ip->src_addr))))
		return LR_PARSE_DROP(LR_DROP_MARTIAN_SOURCE);
	return LR_CLS_FWD6;
}

static inline uint32_t
lr_parse_arp(const uint8_t *l3, uint32_t avail)
{
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)l3;

	if (unlikely(avail < LR_ARP_LEN))
		return LR_PARSE_DROP(LR_DROP_TRUNCATED);
	if (a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4 ||
	    (a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) &&
	     a->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY)))
		return LR_PARSE_DROP(LR_DROP_BAD_ARP);
	return LR_CLS_PUNT;
}

/** dst MAC equal to mac (6 bytes). */
static inline bool
lr_mac_eq(const uint8_t *a, const uint8_t *b)
{
	uint32_t x0, y0;
	uint16_t x1, y1;

	memcpy(&x0, a, 4);
	memcpy(&y0, b, 4);
	memcpy(&x1, a + 4, 2);
	memcpy(&y1, b + 4, 2);
	return ((x0 ^ y0) | (uint32_t)(x1 ^ y1)) == 0;
}

/**
 * Classifies one frame.
 * @param frame   first byte of the Ethernet header
 * @param avail   bytes readable at frame (first segment)
 * @param flen    whole frame length (pkt_len)
 * @param mac     the receiving port's MAC
 * @return LR_CLS_FWD4 / FWD6 / PUNT, or LR_PARSE_DROP(reason).
 */
static inline uint32_t
lr_parse_frame(const uint8_t *frame, uint32_t avail, uint32_t flen,
	       const struct rte_ether_addr *mac, uint64_t ol_flags, unsigned flags)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	bool l2_mcast;

	if (unlikely(avail < LR_ETH_HLEN))
		return LR_PARSE_DROP(LR_DROP_TRUNCATED);
	l2_mcast = (frame[0] & 1) != 0;  /* multicast or broadcast */
	if (unlikely(!l2_mcast && !lr_mac_eq(frame, mac->addr_bytes)))
		return LR_PARSE_DROP(LR_DROP_NOT_FOR_US);
	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		return lr_parse_ip4(frame + LR_ETH_HLEN, avail - LR_ETH_HLEN, flen - LR_ETH_HLEN,
				    l2_mcast, ol_flags, flags);
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		return lr_parse_ip6(frame + LR_ETH_HLEN, avail - LR_ETH_HLEN, flen - LR_ETH_HLEN,
				    l2_mcast);
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return lr_parse_arp(frame + LR_ETH_HLEN, avail - LR_ETH_HLEN);
	default:
		return LR_PARSE_DROP(LR_DROP_NOT_IP);
	}
}

/**
 * Decrements the TTL and updates the header checksum incrementally
 * (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m = the TTL/protocol word).
 */
static inline void
lr_ip4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint16_t m_old, m_new;
	uint32_t sum;

	memcpy(&m_old, &ip->time_to_live, 2);  /* TTL and protocol */
	m_old = rte_be_to_cpu_16(m_old);
	m_new = (uint16_t)(m_old - 0x0100);

	sum = (uint32_t)(uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + (uint16_t)~m_old + m_new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->time_to_live--;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
}

/* ---- slow-path helpers (parse.c) ---- */

/** ICMPv6 checksum of a message of len bytes after ip (payload_len used for the pseudo-header). */
uint16_t lr_icmp6_cksum(const struct rte_ipv6_hdr *ip, const void *icmp, uint32_t len);

/** The ICMPv6 message checksum verifies. */
bool lr_icmp6_cksum_ok(const struct rte_ipv6_hdr *ip, const void *icmp, uint32_t len);

/**
 * Finds an ND option (1 = source, 2 = target link-layer address) in
 * opts[0..len). @return pointer to the 6-byte MAC, NULL when absent;
 * -1 in *bad when the options are malformed (zero length, overrun).
 */
const uint8_t *lr_nd_find_lladdr(const uint8_t *opts, uint32_t len, uint8_t type, int *bad);

#endif /* LR_PARSE_H */
