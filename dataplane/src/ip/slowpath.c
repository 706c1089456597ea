/* SPDX-License-Identifier: BSD-3-Clause */
/* Slow path: ARP, ND, ICMP echo on the main lcore (see slowpath.h). */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "addr.h"
#include "icmp.h"
#include "ipaddr.h"
#include "log.h"
#include "neigh.h"
#include "parse.h"
#include "port.h"
#include "slowpath.h"
#include "stats.h"
#include "worker.h"

#define ND_NA_LEN    32  /* NA + target link-layer option */
#define ND_NS_LEN    32  /* NS + source link-layer option */
#define ND_OPT_SLL   1
#define ND_OPT_TLL   2
#define ND_NA_F_ROUTER    0x80
#define ND_NA_F_SOLICITED 0x40
#define ND_NA_F_OVERRIDE  0x20
#define LR_MIN_FRAME 60

static struct rte_mempool *sp_pool;

void
lr_slow_init(struct rte_mempool *mp)
{
	sp_pool = mp;
	lr_neigh_set_solicit(lr_slow_resolve);
}

static void
sp_drop(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	lr_shm->slow.dropped++;
}

/* Sets the frame length (the mbuf is a single segment of ample room). */
static int
set_len(struct rte_mbuf *m, uint32_t len)
{
	if (len > rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m))
		return -1;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return 0;
}

static void
arp_input(struct rte_mbuf *m, unsigned w)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &a->arp_data;
	uint16_t port = m->port;
	uint8_t sip[4], tip[4];
	bool for_us;

	memcpy(sip, &d->arp_sip, 4);
	memcpy(tip, &d->arp_tip, 4);
	if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST))
		lr_shm->slow.arp_request_rx++;
	else
		lr_shm->slow.arp_reply_rx++;
	if (lr_addr_is_ours(port, LR_AF_INET, sip)) {
		sp_drop(m);  /* someone else claims our address */
		return;
	}
	for_us = lr_addr_is_ours(port, LR_AF_INET, tip);
	/* RFC 826: update the sender if known; add it when the frame is for us */
	lr_neigh_learn(port, LR_AF_INET, sip, d->arp_sha.addr_bytes,
		       (for_us ? LR_NEIGH_LEARN_CREATE : 0) |
		       (for_us && a->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) ? LR_NEIGH_LEARN_ANSWER : 0),
		       w);
	if (a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || !for_us) {
		rte_pktmbuf_free(m);
		return;
	}
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	d->arp_tha = d->arp_sha;
	d->arp_sha = lr_port_rt[port].mac;
	memcpy(&d->arp_tip, sip, 4);
	memcpy(&d->arp_sip, tip, 4);
	eth->dst_addr = d->arp_tha;
	eth->src_addr = lr_port_rt[port].mac;
	lr_shm->slow.arp_reply_tx++;
	lr_worker_inject(m, port, w);
}

static void
icmp4_input(struct rte_mbuf *m, unsigned w)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	unsigned ihl = (ip->version_ihl & 0xf) * 4u;
	uint32_t tl = rte_be_to_cpu_16(ip->total_length), addr;
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	uint32_t ilen = tl - ihl;

	/* the worker checked the IP header; fragments are not reassembled */
	if (ip->next_proto_id != IPPROTO_ICMP || ilen < sizeof(*ic) ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0 ||
	    LR_ETH_HLEN + tl > rte_pktmbuf_data_len(m) || rte_raw_cksum(ic, ilen) != 0xffff) {
		sp_drop(m);
		return;
	}
	lr_shm->slow.icmp_echo_rx++;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, ilen);
	addr = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = addr;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = lr_port_rt[m->port].mac;
	set_len(m, LR_ETH_HLEN + tl);
	lr_shm->slow.icmp_echo_tx++;
	lr_worker_inject(m, m->port, w);
}

static void
solicited_node(const uint8_t *ip, uint8_t out[16], struct rte_ether_addr *mac)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(out, prefix, 13);
	memcpy(out + 13, ip + 13, 3);
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], out + 12, 4);
}

static void
ns_input(struct rte_mbuf *m, unsigned w, struct rte_ipv6_hdr *ip, uint8_t *ic, uint32_t ilen)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint16_t port = m->port;
	uint8_t target[16];
	const uint8_t *sll;
	int bad;
	bool dad;

	lr_shm->slow.nd_ns_rx++;
	memcpy(target, ic + 8, 16);
	sll = lr_nd_find_lladdr(ic + 24, ilen - 24, ND_OPT_SLL, &bad);
	dad = lr_ip_is_zero(LR_AF_INET6, ip->src_addr);
	if (bad || lr_ip_is_multicast(LR_AF_INET6, target) || (dad && sll != NULL) ||
	    !lr_addr_is_ours(port, LR_AF_INET6, target)) {
		sp_drop(m);
		return;
	}
	if (!dad && sll != NULL)
		lr_neigh_learn(port, LR_AF_INET6, ip->src_addr, sll, LR_NEIGH_LEARN_CREATE, w);
	/* NA in place: target link-layer option, R|S|O (no S for DAD) */
	if (set_len(m, LR_ETH_HLEN + LR_IP6_HLEN + ND_NA_LEN) < 0) {
		sp_drop(m);
		return;
	}
	if (dad) {
		eth->dst_addr = (struct rte_ether_addr){ { 0x33, 0x33, 0, 0, 0, 1 } };
		memcpy(ip->dst_addr, all_nodes, 16);
	} else {
		if (sll != NULL)
			memcpy(eth->dst_addr.addr_bytes, sll, 6);
		else
			eth->dst_addr = eth->src_addr;
		memcpy(ip->dst_addr, ip->src_addr, 16);
	}
	eth->src_addr = lr_port_rt[port].mac;
	memcpy(ip->src_addr, target, 16);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(ND_NA_LEN);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memset(ic, 0, ND_NA_LEN);
	ic[0] = LR_ICMP6_NA;
	ic[4] = ND_NA_F_ROUTER | ND_NA_F_OVERRIDE | (dad ? 0 : ND_NA_F_SOLICITED);
	memcpy(ic + 8, target, 16);
	ic[24] = ND_OPT_TLL;
	ic[25] = 1;
	memcpy(ic + 26, lr_port_rt[port].mac.addr_bytes, 6);
	{
		uint16_t c = lr_icmp6_cksum(ip, ic, ND_NA_LEN);

		memcpy(ic + 2, &c, 2);
	}
	lr_shm->slow.nd_na_tx++;
	lr_worker_inject(m, port, w);
}

static void
icmp6_input(struct rte_mbuf *m, unsigned w)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	uint8_t *ic = (uint8_t *)(ip + 1);
	uint32_t ilen = rte_be_to_cpu_16(ip->payload_len);
	const uint8_t *tll;
	uint8_t addr[16];
	int bad;

	if (ip->proto != IPPROTO_ICMPV6 || ilen < 8 ||
	    LR_ETH_HLEN + LR_IP6_HLEN + ilen > rte_pktmbuf_data_len(m) ||
	    !lr_icmp6_cksum_ok(ip, ic, ilen)) {
		sp_drop(m);
		return;
	}
	switch (ic[0]) {
	case LR_ICMP6_NS:
		ns_input(m, w, ip, ic, ilen);
		return;
	case LR_ICMP6_NA:
		lr_shm->slow.nd_na_rx++;
		tll = lr_nd_find_lladdr(ic + 24, ilen - 24, ND_OPT_TLL, &bad);
		/* an answer updates an entry; it never creates one */
		if (!bad && tll != NULL)
			lr_neigh_learn(m->port, LR_AF_INET6, ic + 8, tll, LR_NEIGH_LEARN_ANSWER, w);
		rte_pktmbuf_free(m);
		return;
	case LR_ICMP6_ECHO_REQUEST: {
		uint16_t c;

		if (ic[1] != 0) {
			sp_drop(m);
			return;
		}
		lr_shm->slow.icmp_echo_rx++;
		ic[0] = LR_ICMP6_ECHO_REPLY;
		memcpy(addr, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, addr, 16);
		ip->hop_limits = 64;
		ic[2] = ic[3] = 0;
		c = lr_icmp6_cksum(ip, ic, ilen);
		memcpy(ic + 2, &c, 2);
		eth->dst_addr = eth->src_addr;
		eth->src_addr = lr_port_rt[m->port].mac;
		set_len(m, LR_ETH_HLEN + LR_IP6_HLEN + ilen);
		lr_shm->slow.icmp_echo_tx++;
		lr_worker_inject(m, m->port, w);
		return;
	}
	default:
		sp_drop(m);  /* RS, RA, redirects, other ICMPv6 to us */
		return;
	}
}

void
lr_slow_input(struct rte_mbuf *m, unsigned w)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (m->port >= lr_n_ports) {
		sp_drop(m);
		return;
	}
	if (m->hash.usr != 0 && !(m->hash.usr & LR_NEIGH_HOLD_TAG)) {
		lr_icmp_error(m, w);  /* dropped by a stage, to be answered with an error */
		return;
	}
	lr_shm->slow.punt_rx++;
	if (m->hash.usr & LR_NEIGH_HOLD_TAG) {  /* waits for its neighbor */
		lr_neigh_hold(m, w);
		return;
	}
	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		arp_input(m, w);
		break;
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		icmp4_input(m, w);
		break;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		icmp6_input(m, w);
		break;
	default:
		sp_drop(m);
		break;
	}
}

unsigned
lr_slow_poll(void)
{
	struct rte_mbuf *m[32];
	struct lr_resolve_req r[32];
	unsigned i, k, n, done = 0;

	for (i = 0; i < lr_n_workers; i++) {
		struct lr_worker *w = lr_workers[i];

		do {
			n = rte_ring_sc_dequeue_burst(w->punt, (void **)m, RTE_DIM(m), NULL);
			for (k = 0; k < n; k++)
				lr_slow_input(m[k], i);
			done += n;
		} while (n == RTE_DIM(m) && done < LR_SLOW_BUDGET);
		n = rte_ring_sc_dequeue_burst_elem(w->resolve, r, sizeof(r[0]), RTE_DIM(r), NULL);
		for (k = 0; k < n; k++)
			lr_neigh_want(r[k].port, r[k].family, r[k].ip);
		done += n;
	}
	return done;
}

/* fe80::/64 with the modified EUI-64 of mac (RFC 4291). */
static void
link_local(const struct rte_ether_addr *mac, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac->addr_bytes[0] ^ 0x02;
	out[9] = mac->addr_bytes[1];
	out[10] = mac->addr_bytes[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac->addr_bytes[3];
	out[14] = mac->addr_bytes[4];
	out[15] = mac->addr_bytes[5];
}

void
lr_slow_resolve(uint16_t port, uint8_t family, const uint8_t *ip, const uint8_t *dst_mac)
{
	const struct rte_ether_addr *mac;
	struct rte_ether_hdr *eth;
	struct rte_mbuf *m;
	uint8_t src[16];

	if (sp_pool == NULL || port >= lr_n_ports)
		return;
	mac = &lr_port_rt[port].mac;
	m = rte_pktmbuf_alloc(sp_pool);
	if (m == NULL) {
		lr_shm->slow.dropped++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eth->src_addr = *mac;
	if (family == LR_AF_INET) {
		struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

		memset(src, 0, sizeof(src));
		lr_addr_pick_src(port, LR_AF_INET, ip, src);  /* else 0.0.0.0 */
		set_len(m, LR_MIN_FRAME);
		memset(eth + 1, 0, LR_MIN_FRAME - LR_ETH_HLEN);
		if (dst_mac != NULL)
			memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
		else
			memset(eth->dst_addr.addr_bytes, 0xff, 6);
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
		a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
		a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		a->arp_hlen = RTE_ETHER_ADDR_LEN;
		a->arp_plen = 4;
		a->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
		a->arp_data.arp_sha = *mac;
		memcpy(&a->arp_data.arp_sip, src, 4);
		memcpy(&a->arp_data.arp_tip, ip, 4);
		lr_shm->slow.arp_request_tx++;
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)(eth + 1);
		uint8_t *ic = (uint8_t *)(h + 1);
		struct rte_ether_addr dmac;
		uint16_t c;

		if (!lr_addr_pick_src(port, LR_AF_INET6, ip, src))
			link_local(mac, src);
		set_len(m, LR_ETH_HLEN + LR_IP6_HLEN + ND_NS_LEN);
		if (dst_mac != NULL) {
			memcpy(dmac.addr_bytes, dst_mac, 6);
			memcpy(h->dst_addr, ip, 16);
		} else {
			solicited_node(ip, h->dst_addr, &dmac);
		}
		eth->dst_addr = dmac;
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		h->vtc_flow = RTE_BE32(6u << 28);
		h->payload_len = RTE_BE16(ND_NS_LEN);
		h->proto = IPPROTO_ICMPV6;
		h->hop_limits = 255;
		memcpy(h->src_addr, src, 16);
		memset(ic, 0, ND_NS_LEN);
		ic[0] = LR_ICMP6_NS;
		memcpy(ic + 8, ip, 16);
		ic[24] = ND_OPT_SLL;
		ic[25] = 1;
		memcpy(ic + 26, mac->addr_bytes, 6);
		c = lr_icmp6_cksum(h, ic, ND_NS_LEN);
		memcpy(ic + 2, &c, 2);
		lr_shm->slow.nd_ns_tx++;
	}
	lr_worker_inject(m, port, 0);
}
