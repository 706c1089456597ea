/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `flow` stage (LR_STAGE_ORDER_FLOW: after ip-classify, before
 * ip-lookup), run by the workers on each burst:
 *  1. one pass over the vector builds each packet's keys (5-tuple for the
 *     exact table, the rte_acl key of its family for the wildcard table);
 *  2. the exact table first, one rte_hash_lookup_bulk_data for the whole
 *     vector: a pinned 5-tuple is the operator's most specific intent, and
 *     a hit skips the classifier;
 *  3. the misses go through rte_acl_classify, one call per family;
 *  4. a hit counts (packets, bytes of the frame as received, this worker's
 *     counters), mirrors the frame as received (a copy, byte-identical),
 *     sets DSCP, meters (trTCM, colour-blind, this worker's state: red
 *     dropped as flow_meter_drop, or yellow/red DSCP-marked), then continues
 *     to ip-lookup, drops (flow_drop) or jumps to ip-forward with the
 *     rule's next hop. A miss continues unchanged.
 * With both tables empty the stage returns at once. The meta word is kept
 * for packets that continue (ip-lookup's contract). Ports are read from the
 * first fragment only; IPv6 extension headers are not walked (the next
 * header is the protocol matched).
 * Written by nobody at run time; reads this poll's table-set version.
 */
#include <string.h>

#include <rte_acl.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_meter.h>

#include "flow.h"
#include "flow_acl.h"
#include "nexthop.h"
#include "parse.h"
#include "port.h"
#include "stage.h"
#include "worker.h"

struct flow_priv {
	int fwd_id;  /* ip-forward's stage id + 1 (0: not looked up yet) */
};

/* Fills the keys of one packet (v6: by the meta contract of ip-classify). */
static inline void
make_keys(const struct rte_mbuf *m, bool v6, uint16_t in_port_be, struct lr_flow_key *ek,
	  void *ak)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *l3 = frame + LR_ETH_HLEN, *end = frame + m->data_len, *l4;
	uint8_t proto, dscp, tcpf = 0;
	uint16_t ports[2] = { 0, 0 };
	bool l4ok;

	if (!v6) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		struct lr_facl4_key *k = ak;

		proto = ip->next_proto_id;
		dscp = ip->type_of_service >> 2;
		l4 = l3 + (ip->version_ihl & 0xf) * 4;
		l4ok = !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK));
		if (l4ok && l4 + 4 <= end &&
		    (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP))
			memcpy(ports, l4, 4);
		if (l4ok && proto == IPPROTO_TCP && l4 + 14 <= end)
			tcpf = l4[13];
		k->proto = proto;
		k->dscp = dscp;
		k->tcp_flags = tcpf;
		k->in_port = in_port_be;
		memcpy(&k->src, &ip->src_addr, 8);
		k->sport = ports[0];
		k->dport = ports[1];
		memset(ek, 0, sizeof(*ek));
		ek->family = LR_AF_INET;
		memcpy(ek->src, &ip->src_addr, 4);
		memcpy(ek->dst, &ip->dst_addr, 4);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;
		struct lr_facl6_key *k = ak;

		proto = ip->proto;
		dscp = (uint8_t)((rte_be_to_cpu_32(ip->vtc_flow) >> 22) & 0x3f);
		l4 = l3 + LR_IP6_HLEN;
		if (l4 + 4 <= end &&
		    (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP))
			memcpy(ports, l4, 4);
		if (proto == IPPROTO_TCP && l4 + 14 <= end)
			tcpf = l4[13];
		k->proto = proto;
		k->dscp = dscp;
		k->tcp_flags = tcpf;
		k->in_port = in_port_be;
		memcpy(k->src, ip->src_addr, 32);
		k->sport = ports[0];
		k->dport = ports[1];
		ek->family = LR_AF_INET6;
		ek->pad = 0;
		memcpy(ek->src, ip->src_addr, 32);
	}
	ek->proto = proto;
	ek->sport = ports[0];
	ek->dport = ports[1];
}

/* Rewrites the DSCP (the ECN bits stay), IPv4 checksum updated. */
static inline void
set_dscp(struct rte_mbuf *m, uint8_t dscp)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, LR_ETH_HLEN);

	if ((l3[0] >> 4) == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		ip->type_of_service = (uint8_t)((dscp << 2) | (ip->type_of_service & 3));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		uint32_t v = rte_be_to_cpu_32(ip->vtc_flow);

		v = (v & ~(0x3fu << 22)) | ((uint32_t)dscp << 22);
		ip->vtc_flow = rte_cpu_to_be_32(v);
	}
}

static void
flow_run(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	struct flow_priv *fp = priv;
	const struct lr_flow_copy *c;
	struct lr_flow_ctr *ctr;
	struct rte_meter_trtcm *mst;
	uint64_t now = 0;
	struct lr_flow_key ek[LR_BURST_MAX];
	const void *ekp[LR_BURST_MAX];
	union { struct lr_facl4_key k4; struct lr_facl6_key k6; } ak[LR_BURST_MAX];
	const uint8_t *ap[2][LR_BURST_MAX];
	uint32_t res[2][LR_BURST_MAX], hit[LR_BURST_MAX];
	uint16_t ai[2][LR_BURST_MAX], na[2] = { 0, 0 };
	uint16_t i, k, n = v->n, in_be;
	uint64_t hits = 0;
	void *data[LR_BURST_MAX];
	unsigned f;

	if (unlikely(lr_flow_id < 0))
		return;
	c = lr_tset_table(b->ts, (unsigned)lr_flow_id);
	if (likely(c->n_wild == 0 && c->n_exact == 0))
		return;
	if (unlikely(fp->fwd_id == 0))
		fp->fwd_id = lr_stage_id("ip-forward") + 1;
	ctr = lr_flow_ctr[b->w->idx];
	mst = lr_flow_meter[b->w->idx];
	in_be = rte_cpu_to_be_16(b->in_port);
	for (i = 0; i < n; i++) {
		make_keys(v->m[i], v->meta[i] == LR_IP_META_V6, in_be, &ek[i], &ak[i]);
		ekp[i] = &ek[i];
		hit[i] = 0;
	}
	if (c->n_exact != 0 &&
	    rte_hash_lookup_bulk_data(c->exact, ekp, n, &hits, data) > 0) {
		for (i = 0; i < n; i++)
			if (hits & (1ull << i))
				hit[i] = (uint32_t)(uintptr_t)data[i] + 1;
	}
	if (c->n_wild != 0) {
		for (i = 0; i < n; i++) {
			if (hit[i] != 0)
				continue;
			f = v->meta[i] == LR_IP_META_V6;
			ai[f][na[f]] = i;
			ap[f][na[f]++] = (const uint8_t *)&ak[i];
		}
		for (f = 0; f < 2; f++) {
			if (na[f] == 0 || c->acl[f] == NULL)
				continue;
			rte_acl_classify(c->acl[f], ap[f], res[f], na[f], 1);
			for (k = 0; k < na[f]; k++)
				hit[ai[f][k]] = res[f][k];
		}
	}
	for (i = 0, k = 0; i < n; i++) {
		struct rte_mbuf *m = v->m[i];
		const struct lr_flow_act *a;
		uint32_t slot;

		if (hit[i] == 0) {
			v->m[k] = m;
			v->meta[k++] = v->meta[i];
			continue;
		}
		slot = hit[i] - 1;
		a = &c->act[slot];
		ctr[slot].packets++;
		ctr[slot].bytes += m->pkt_len;
		if (a->flags & LR_FLOW_F_MIRROR && lr_port_rt[a->mirror_port].up) {
			struct rte_mbuf *cp = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

			if (cp != NULL) {
				lr_burst_tx_room(b, 1);
				lr_burst_tx(b, cp, a->mirror_port);
			}
		}
		if (a->flags & LR_FLOW_F_SET_DSCP)
			set_dscp(m, a->set_dscp);
		if (a->flags & LR_FLOW_F_METER) {
			enum rte_color col;

			if (now == 0)
				now = rte_rdtsc();
			col = rte_meter_trtcm_color_blind_check(&mst[a->meter], &lr_flow_meter_prof[a->meter],
								now, m->pkt_len);
			if (col == RTE_COLOR_RED && a->meter_mode == LR_FLOW_METER_DROP_RED) {
				lr_burst_drop(b, m, LR_DROP_FLOW_METER);
				continue;
			}
			if (col != RTE_COLOR_GREEN && a->meter_mode == LR_FLOW_METER_MARK)
				set_dscp(m, col == RTE_COLOR_YELLOW ? a->yellow_dscp : a->red_dscp);
		}
		switch (a->action) {
		case LR_FLOW_DROP:
			lr_burst_drop(b, m, LR_DROP_FLOW_DROP);
			break;
		case LR_FLOW_FORWARD:
			lr_burst_goto(b, fp->fwd_id - 1, m, a->nh);
			break;
		default:
			v->m[k] = m;
			v->meta[k++] = v->meta[i];
			break;
		}
	}
	v->n = k;
}

static const struct lr_stage flow_stage = {
	.name = "flow", .order = LR_STAGE_ORDER_FLOW,
	.priv_size = sizeof(struct flow_priv), .run = flow_run,
};
LR_STAGE_REGISTER(flow_stage)
