/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_tmpl: packet template construction (see pg_tmpl.h). */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "pg_stamp.h"
#include "pg_tmpl.h"

#define PG_TTL 64

static uint16_t
gtpu_len(const struct pg_pkt_cfg *pkt)
{
	/* 8 mandatory bytes; +4 (seq, N-PDU, next type) +4 (PDU session container) */
	return pkt->qfi >= 0 ? 16 : 8;
}

static uint16_t
inner_l3_len(const struct pg_pkt_cfg *pkt)
{
	return pkt->ipv6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
}

uint16_t
pg_tmpl_hdr_len(const struct pg_pkt_cfg *pkt)
{
	uint16_t n = sizeof(struct rte_ether_hdr);

	if (pkt->gtpu)
		n += sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + gtpu_len(pkt);
	return n + inner_l3_len(pkt) + sizeof(struct rte_udp_hdr);
}

uint16_t
pg_tmpl_min_frame(const struct pg_pkt_cfg *pkt)
{
	uint16_t n = pg_tmpl_hdr_len(pkt) + PG_STAMP_LEN + RTE_ETHER_CRC_LEN;
	return n < PG_MIN_FRAME ? PG_MIN_FRAME : n;
}

/* Adds @p i to the address in @p a (4 or 16 bytes, network order). */
static void
addr_add(uint8_t *a, unsigned len, uint32_t i)
{
	uint64_t carry = i;

	for (int k = (int)len - 1; k >= 0 && carry; k--) {
		carry += a[k];
		a[k] = (uint8_t)carry;
		carry >>= 8;
	}
}

static void
ipv4_build(struct rte_ipv4_hdr *ip, const uint8_t *src, const uint8_t *dst,
	   uint16_t total_len)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(total_len);
	ip->time_to_live = PG_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, src, 4);
	memcpy(&ip->dst_addr, dst, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void
udp_build(struct rte_udp_hdr *udp, uint16_t sport, uint16_t dport, uint16_t len)
{
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(len);
	udp->dgram_cksum = 0;
}

void
pg_tmpl_build(const struct pg_pkt_cfg *pkt, uint32_t flow, uint16_t size,
	      struct pg_tmpl *t)
{
	/* the whole frame is built (zero payload) so that the IPv6 checksum
	 * sum covers it; only the first PG_TMPL_COPY bytes are kept */
	uint8_t frame[PG_MAX_FRAME] = { 0 };
	uint16_t frame_len = size - RTE_ETHER_CRC_LEN;
	uint16_t off = 0;
	uint8_t src[16], dst[16];
	uint16_t sport = pkt->sport, dport = pkt->dport;
	uint32_t teid = pkt->teid;

	memcpy(src, pkt->src, sizeof(src));
	memcpy(dst, pkt->dst, sizeof(dst));
	if (pkt->vary & PG_VARY_SRC)
		addr_add(src, pkt->ipv6 ? 16 : 4, flow);
	if (pkt->vary & PG_VARY_DST)
		addr_add(dst, pkt->ipv6 ? 16 : 4, flow);
	if (pkt->vary & PG_VARY_SPORT)
		sport = (uint16_t)(sport + flow);
	if (pkt->vary & PG_VARY_DPORT)
		dport = (uint16_t)(dport + flow);
	if (pkt->vary & PG_VARY_TEID)
		teid += flow;

	struct rte_ether_hdr *eth = (void *)frame;
	rte_ether_addr_copy(&pkt->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&pkt->src_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(pkt->gtpu || !pkt->ipv6 ?
					   RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	off += sizeof(*eth);

	if (pkt->gtpu) {
		ipv4_build((void *)(frame + off), pkt->outer_src, pkt->outer_dst,
			   frame_len - off);
		off += sizeof(struct rte_ipv4_hdr);
		udp_build((void *)(frame + off), PG_GTPU_PORT, PG_GTPU_PORT, frame_len - off);
		off += sizeof(struct rte_udp_hdr);
		uint8_t *g = frame + off;
		uint16_t glen = gtpu_len(pkt);
		g[0] = PG_GTPU_FLAGS_V1_PT | (pkt->qfi >= 0 ? PG_GTPU_FLAG_E : 0);
		g[1] = PG_GTPU_TYPE_GPDU;
		/* length: everything after the mandatory 8 bytes */
		uint16_t gl = rte_cpu_to_be_16(frame_len - off - 8);
		memcpy(g + 2, &gl, 2);
		uint32_t te = rte_cpu_to_be_32(teid);
		memcpy(g + 4, &te, 4);
		if (pkt->qfi >= 0) {
			/* seq 0, N-PDU 0, next: PDU session container (TS 38.415),
			 * length 1 (x4 bytes), PDU type 1 (UL), QFI, no next */
			g[8] = g[9] = g[10] = 0;
			g[11] = PG_GTPU_EXT_PDU_SESSION;
			g[12] = 1;
			g[13] = 1 << 4;
			g[14] = (uint8_t)(pkt->qfi & 0x3f);
			g[15] = 0;
		}
		off += glen;
	}

	uint16_t l3 = off;
	if (pkt->ipv6) {
		struct rte_ipv6_hdr *ip6 = (void *)(frame + off);
		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(frame_len - off - sizeof(*ip6));
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = PG_TTL;
		memcpy(ip6->src_addr, src, 16);
		memcpy(ip6->dst_addr, dst, 16);
		off += sizeof(*ip6);
	} else {
		ipv4_build((void *)(frame + off), src, dst, frame_len - off);
		off += sizeof(struct rte_ipv4_hdr);
	}
	struct rte_udp_hdr *udp = (void *)(frame + off);
	udp_build(udp, sport, dport, frame_len - off);
	t->cksum_off = 0;
	t->cksum_sum = 0;
	if (pkt->ipv6) {
		/* IPv6 forbids a zero UDP checksum (RFC 8200 8.1) */
		const struct rte_ipv6_hdr *ip6 = (const void *)(frame + l3);
		uint32_t sum = rte_ipv6_phdr_cksum(ip6, 0);
		sum = __rte_raw_cksum(udp, frame_len - off, sum);
		t->cksum_sum = __rte_raw_cksum_reduce(sum);
		t->cksum_off = off + offsetof(struct rte_udp_hdr, dgram_cksum);
	}
	off += sizeof(*udp);

	t->stamp_off = off;
	t->frame_len = frame_len;
	memcpy(t->data, frame, PG_TMPL_COPY);
}
