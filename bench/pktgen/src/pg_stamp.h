/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_stamp: the 18 bytes pktgen writes at the start of the (inner) UDP
 * payload, and the receive-side parser that finds them again.
 *
 * Layout, little-endian, unaligned (it fits a 64-byte IPv4/UDP frame:
 * 60 - 14 - 20 - 8 = 18 bytes of payload):
 *   0  magic  u32  PG_STAMP_MAGIC
 *   4  flow   u32  flow index (0 .. flows-1)
 *   8  seq    u32  per-flow sequence number, wraps
 *  12  tsc    u48  TX timestamp: low 48 bits of the sender's TSC
 * The parser walks Ethernet (+VLAN), IPv4/IPv6, UDP and, on port 2152,
 * GTP-U (with extension headers) to the innermost UDP payload, so that the
 * stamp is found whether a forwarder encapsulated, decapsulated or rewrote
 * the headers in between.
 */
#ifndef PG_STAMP_H
#define PG_STAMP_H

#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#define PG_STAMP_MAGIC  0x4b50524cu /* "LRPK" on the wire */
#define PG_STAMP_LEN    18
#define PG_TSC_MASK     ((UINT64_C(1) << 48) - 1)
#define PG_GTPU_PORT    2152

struct pg_stamp {
	uint32_t magic;
	uint32_t flow;
	uint32_t seq;
	uint32_t tsc_lo;
	uint16_t tsc_hi;
} __attribute__((packed));

_Static_assert(sizeof(struct pg_stamp) == PG_STAMP_LEN, "stamp layout");

static inline void
pg_stamp_write(void *p, uint32_t flow, uint32_t seq, uint64_t tsc)
{
	struct pg_stamp *s = p;

	s->magic = PG_STAMP_MAGIC;
	s->flow = flow;
	s->seq = seq;
	s->tsc_lo = (uint32_t)tsc;
	s->tsc_hi = (uint16_t)(tsc >> 32);
}

static inline uint64_t
pg_stamp_tsc(const struct pg_stamp *s)
{
	return (uint64_t)s->tsc_lo | ((uint64_t)s->tsc_hi << 32);
}

/* GTP-U (TS 29.281) header: flags, message type, length, TEID. */
#define PG_GTPU_FLAGS_V1_PT 0x30 /* version 1, protocol type GTP */
#define PG_GTPU_FLAG_E      0x04 /* extension header follows */
#define PG_GTPU_FLAG_S      0x02
#define PG_GTPU_FLAG_PN     0x01
#define PG_GTPU_TYPE_GPDU   0xff
#define PG_GTPU_EXT_PDU_SESSION 0x85

/*
 * Returns the stamp inside [p, p+len), or NULL when the frame is not one of
 * ours. Only one level of GTP-U is followed.
 */
static inline const struct pg_stamp *
pg_stamp_find(const uint8_t *p, uint32_t len)
{
	uint32_t off = sizeof(struct rte_ether_hdr);
	uint16_t type;
	int gtp_left = 1;

	if (len < off)
		return NULL;
	type = ((const struct rte_ether_hdr *)p)->ether_type;
	while (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN) ||
	       type == rte_cpu_to_be_16(RTE_ETHER_TYPE_QINQ)) {
		if (len < off + 4)
			return NULL;
		memcpy(&type, p + off + 2, 2);
		off += 4;
	}
	for (;;) {
		uint8_t proto;
		if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
			const struct rte_ipv4_hdr *ip = (const void *)(p + off);
			if (len < off + sizeof(*ip))
				return NULL;
			proto = ip->next_proto_id;
			off += (uint32_t)(ip->version_ihl & 0xf) * 4;
		} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
			const struct rte_ipv6_hdr *ip6 = (const void *)(p + off);
			if (len < off + sizeof(*ip6))
				return NULL;
			proto = ip6->proto;
			off += sizeof(*ip6);
		} else {
			return NULL;
		}
		if (proto != IPPROTO_UDP || len < off + sizeof(struct rte_udp_hdr))
			return NULL;
		const struct rte_udp_hdr *udp = (const void *)(p + off);
		off += sizeof(*udp);
		if (udp->dst_port != rte_cpu_to_be_16(PG_GTPU_PORT) || !gtp_left)
			break;
		/* GTP-U G-PDU: skip its header and any extension headers */
		if (len < off + 8)
			return NULL;
		uint8_t flags = p[off];
		if ((flags & 0xf0) != PG_GTPU_FLAGS_V1_PT || p[off + 1] != PG_GTPU_TYPE_GPDU)
			break; /* not a G-PDU: treat as plain UDP payload */
		off += 8;
		if (flags & (PG_GTPU_FLAG_E | PG_GTPU_FLAG_S | PG_GTPU_FLAG_PN)) {
			if (len < off + 4)
				return NULL;
			uint8_t next = (flags & PG_GTPU_FLAG_E) ? p[off + 3] : 0;
			off += 4;
			while (next != 0) {
				if (len < off + 1 || p[off] == 0)
					return NULL;
				uint32_t elen = (uint32_t)p[off] * 4;
				if (len < off + elen)
					return NULL;
				next = p[off + elen - 1];
				off += elen;
			}
		}
		if (len < off + 1)
			return NULL;
		switch (p[off] >> 4) {
		case 4: type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4); break;
		case 6: type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6); break;
		default: return NULL;
		}
		gtp_left = 0;
	}
	if (len < off + PG_STAMP_LEN)
		return NULL;
	const struct pg_stamp *s = (const void *)(p + off);
	return s->magic == PG_STAMP_MAGIC ? s : NULL;
}

#endif /* PG_STAMP_H */
