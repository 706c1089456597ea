/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP / ICMPv6 errors on the main lcore (see icmp.h). The error goes
 * toward the offending packet's source: through the route the FIB has for
 * it when that route's next hop is resolved, else back to the previous hop
 * (the frame's source MAC, out of the input port).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "addr.h"
#include "fib.h"
#include "icmp.h"
#include "ipaddr.h"
#include "nexthop.h"
#include "parse.h"
#include "port.h"
#include "stats.h"
#include "worker.h"

#define ICMP4_MAX_LEN 576   /* RFC 1812 4.3.2.3: the whole error at most 576 bytes */
#define ICMP6_MAX_LEN 1280  /* RFC 4443 2.4(c): at most the IPv6 minimum MTU */

static struct {
	struct rte_mempool *pool;
	uint64_t tsc_per_token;   /* 0: no errors at all */
	uint64_t burst;           /* bucket depth in tokens */
	uint64_t last[LR_MAX_PORTS];
	uint64_t tokens[LR_MAX_PORTS];  /* scaled by tsc_per_token */
	uint16_t ip_id;
} ic;

void
lr_icmp_init(struct rte_mempool *mp, uint32_t rate)
{
	unsigned i;

	memset(&ic, 0, sizeof(ic));
	ic.pool = mp;
	if (rate == 0)
		return;
	ic.tsc_per_token = rte_get_tsc_hz() / rate;
	if (ic.tsc_per_token == 0)
		ic.tsc_per_token = 1;
	ic.burst = rate / 10 > 10 ? rate / 10 : 10;
	for (i = 0; i < LR_MAX_PORTS; i++) {
		ic.tokens[i] = ic.burst * ic.tsc_per_token;
		ic.last[i] = rte_rdtsc();
	}
}

/* Token bucket of the input port: one error may go now. */
static bool
allowed(uint16_t port)
{
	uint64_t now = rte_rdtsc(), cap = ic.burst * ic.tsc_per_token;

	if (ic.tsc_per_token == 0)
		return false;
	ic.tokens[port] += now - ic.last[port];
	ic.last[port] = now;
	if (ic.tokens[port] > cap)
		ic.tokens[port] = cap;
	if (ic.tokens[port] < ic.tsc_per_token)
		return false;
	ic.tokens[port] -= ic.tsc_per_token;
	return true;
}

/* The offending packet is one an error may be sent about (RFC 1812 4.3.2.7, RFC 4443 2.4). */
static bool
may_answer4(const uint8_t *frame, uint32_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + LR_ETH_HLEN);
	unsigned ihl = (ip->version_ihl & 0xf) * 4u;
	const uint8_t *src = (const uint8_t *)&ip->src_addr;

	if ((frame[0] & 1) || !lr_ip_is_unicast_host(LR_AF_INET, src) ||
	    lr_ip_is_multicast(LR_AF_INET, (const uint8_t *)&ip->dst_addr) ||
	    lr_ip_is_bcast4((const uint8_t *)&ip->dst_addr))
		return false;
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return false;  /* only about the first fragment */
	if (ip->next_proto_id == IPPROTO_ICMP) {
		uint8_t t;

		if (len < LR_ETH_HLEN + ihl + 1)
			return false;
		t = frame[LR_ETH_HLEN + ihl];
		/* never about an error: only queries (echo, timestamp, ...) */
		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			return false;
	}
	return true;
}

static bool
may_answer6(const uint8_t *frame, uint32_t len)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(frame + LR_ETH_HLEN);

	if ((frame[0] & 1) || !lr_ip_is_unicast_host(LR_AF_INET6, ip->src_addr) ||
	    lr_ip_is_multicast(LR_AF_INET6, ip->dst_addr))
		return false;
	/* an ICMPv6 error (types below 128) right after the fixed header */
	if (ip->proto == IPPROTO_ICMPV6 &&
	    (len < LR_ETH_HLEN + LR_IP6_HLEN + 1 || frame[LR_ETH_HLEN + LR_IP6_HLEN] < 128))
		return false;
	return true;
}

/*
 * Where the error goes: the resolved next hop of the FIB's route to dst
 * (first member of a group), else back to the previous hop.
 */
static void
route_back(uint8_t family, const uint8_t *dst, uint16_t in_port, const uint8_t *prev_mac,
	   uint16_t *out, uint8_t mac[6])
{
	uint32_t v;

	if (lr_fib_lookup(family, dst, 0, &v) == 0) {
		uint32_t adj = (v & LR_NH_GROUP) ? lr_nh_groups[v & LR_NH_IDX_MASK].adj[0] : v;
		uint64_t w = __atomic_load_n(&lr_adj_word[adj], __ATOMIC_RELAXED);

		if (w & LR_ADJW_RESOLVED) {
			*out = (uint16_t)((w >> LR_ADJW_PORT_SHIFT) & 0xff);
			memcpy(mac, &w, 6);
			return;
		}
	}
	*out = in_port;
	memcpy(mac, prev_mac, 6);
}

/*
 * A new frame of l3len bytes after its Ethernet header, addressed toward
 * dst (route_back), from the output port's MAC; NULL when out of mbufs.
 */
static struct rte_mbuf *
new_error(uint8_t family, const uint8_t *dst, const uint8_t *frame, uint16_t in_port,
	  uint32_t l3len, uint16_t *out)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ic.pool);
	struct rte_ether_hdr *eth;
	uint8_t mac[6];

	if (m == NULL || (eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(LR_ETH_HLEN + l3len))) == NULL) {
		rte_pktmbuf_free(m);
		lr_shm->slow.dropped++;
		return NULL;
	}
	route_back(family, dst, in_port, ((const struct rte_ether_hdr *)frame)->src_addr.addr_bytes,
		   out, mac);
	memcpy(eth->dst_addr.addr_bytes, mac, 6);
	eth->src_addr = lr_port_rt[*out].mac;
	eth->ether_type = family == LR_AF_INET ? RTE_BE16(RTE_ETHER_TYPE_IPV4) : RTE_BE16(RTE_ETHER_TYPE_IPV6);
	return m;
}

static void
error4(const uint8_t *frame, uint32_t len, uint16_t in_port, uint32_t tag, unsigned w)
{
	const struct rte_ipv4_hdr *oip = (const struct rte_ipv4_hdr *)(frame + LR_ETH_HLEN);
	uint32_t olen = RTE_MIN((uint32_t)rte_be_to_cpu_16(oip->total_length), len - LR_ETH_HLEN);
	uint32_t quote = RTE_MIN(olen, (uint32_t)(ICMP4_MAX_LEN - LR_IP4_HLEN - 8));
	struct rte_ipv4_hdr *ip;
	uint8_t *icmp, src[16];
	struct rte_mbuf *m;
	uint16_t out, ck;

	if (!lr_addr_pick_src(in_port, LR_AF_INET, (const uint8_t *)&oip->src_addr, src)) {
		lr_shm->slow.icmp_error_suppressed++;
		return;
	}
	m = new_error(LR_AF_INET, (const uint8_t *)&oip->src_addr, frame, in_port,
		      LR_IP4_HLEN + 8 + quote, &out);
	if (m == NULL)
		return;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, LR_ETH_HLEN);
	memset(ip, 0, LR_IP4_HLEN);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(LR_IP4_HLEN + 8 + quote));
	ip->packet_id = rte_cpu_to_be_16(ic.ip_id++);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	memcpy(&ip->src_addr, src, 4);
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp = (uint8_t *)(ip + 1);
	memset(icmp, 0, 8);
	switch (LR_ICMP_TAG_WHY(tag)) {
	case LR_ICMP_TIME_EXCEEDED:
		icmp[0] = 11;
		break;
	case LR_ICMP_HOST_UNREACH:
		icmp[0] = 3;
		icmp[1] = 1;
		break;
	case LR_ICMP_TOO_BIG: {
		uint16_t mtu = rte_cpu_to_be_16((uint16_t)LR_ICMP_TAG_MTU(tag));

		icmp[0] = 3;
		icmp[1] = 4;
		memcpy(icmp + 6, &mtu, 2);  /* RFC 1191: next-hop MTU */
		break;
	}
	default:
		icmp[0] = 3;  /* net unreachable */
		break;
	}
	memcpy(icmp + 8, oip, quote);
	ck = (uint16_t)~rte_raw_cksum(icmp, 8 + quote);
	memcpy(icmp + 2, &ck, 2);
	lr_shm->slow.icmp_error_tx++;
	lr_worker_inject(m, out, w);
}

static void
error6(const uint8_t *frame, uint32_t len, uint16_t in_port, uint32_t tag, unsigned w)
{
	const struct rte_ipv6_hdr *oip = (const struct rte_ipv6_hdr *)(frame + LR_ETH_HLEN);
	uint32_t olen = RTE_MIN((uint32_t)(LR_IP6_HLEN + rte_be_to_cpu_16(oip->payload_len)),
				len - LR_ETH_HLEN);
	uint32_t quote = RTE_MIN(olen, (uint32_t)(ICMP6_MAX_LEN - LR_IP6_HLEN - 8));
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp, src[16];
	struct rte_mbuf *m;
	uint32_t mtu;
	uint16_t out, ck;

	if (!lr_addr_pick_src(in_port, LR_AF_INET6, oip->src_addr, src)) {
		lr_shm->slow.icmp_error_suppressed++;
		return;
	}
	m = new_error(LR_AF_INET6, oip->src_addr, frame, in_port, LR_IP6_HLEN + 8 + quote, &out);
	if (m == NULL)
		return;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, LR_ETH_HLEN);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + quote));
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, oip->src_addr, 16);
	icmp = (uint8_t *)(ip + 1);
	memset(icmp, 0, 8);
	switch (LR_ICMP_TAG_WHY(tag)) {
	case LR_ICMP_TIME_EXCEEDED:
		icmp[0] = 3;
		break;
	case LR_ICMP_HOST_UNREACH:
		icmp[0] = 1;
		icmp[1] = 3;  /* address unreachable */
		break;
	case LR_ICMP_TOO_BIG:
		icmp[0] = 2;
		mtu = rte_cpu_to_be_32(LR_ICMP_TAG_MTU(tag));
		memcpy(icmp + 4, &mtu, 4);
		break;
	default:
		icmp[0] = 1;  /* no route to destination */
		break;
	}
	memcpy(icmp + 8, oip, quote);
	ck = lr_icmp6_cksum(ip, icmp, 8 + quote);
	memcpy(icmp + 2, &ck, 2);
	lr_shm->slow.icmp_error_tx++;
	lr_worker_inject(m, out, w);
}

void
lr_icmp_error(struct rte_mbuf *m, unsigned w)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), tag = m->hash.usr;
	uint16_t in_port = m->port;
	bool v6;

	/* the stages parsed it: the IP header is whole in the first segment */
	v6 = ((const struct rte_ether_hdr *)frame)->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
	if (in_port >= lr_n_ports || !(v6 ? may_answer6(frame, len) : may_answer4(frame, len))) {
		lr_shm->slow.icmp_error_suppressed++;
	} else if (!allowed(in_port)) {
		lr_shm->slow.icmp_error_limited++;
	} else if (v6) {
		error6(frame, len, in_port, tag, w);
	} else {
		error4(frame, len, in_port, tag, w);
	}
	rte_pktmbuf_free(m);
}
