/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `upf` stage (LR_STAGE_ORDER_UPF: after ip-classify and flow, before
 * ip-lookup), run by the workers on each burst, on ports the UPF
 * configuration tags ACCESS or CORE (others: the stage returns at once):
 *
 * ACCESS (N3): an IPv4 packet to the N3 address (ip-classify's meta is its
 * destination), UDP to port 2152, not a fragment, is GTP-U (gtpu.h). A
 * malformed one is dropped by reason; an Echo Request is answered here (the
 * packet becomes the Echo Response: same sequence number, S=1, TEID 0,
 * Recovery IE 0, to the sender's address and port, from the N3 address)
 * and goes on to ip-lookup like any packet we send; another non-G-PDU type
 * is dropped (gtpu_unsupported_type). G-PDUs are looked up in bulk by
 * (TEID, N3 address); a miss is gtpu_unknown_teid. Other packets on the
 * port (to other addresses, or not GTP-U) continue untouched: packets to
 * the N3 address that are not GTP-U reach the slow path as before.
 *
 * CORE (N6): every IP packet is looked up in bulk by its destination (the
 * UE IP); a miss continues untouched (plain routing).
 *
 * A hit picks the session's first PDR (by precedence, lowest value first)
 * of the packet's direction whose key matches and, uplink, whose QFI
 * matches the PDU Session Container's (a PDR with a QFI needs a container);
 * none: upf_no_pdr. Then, in this order: the PDR's QERs' gates
 * (upf_qer_gate) and meters (trTCM colour-blind on this worker's state,
 * red: upf_qer_mbr), the FAR (drop: upf_far_drop; buffer: upf_buffer, not
 * implemented; forward: uplink outer IPv4/UDP/GTP-U removed, the inner
 * packet validated (upf_bad_inner) and routed; downlink outer
 * IPv4/UDP(2152)/GTP-U with E=1 and a DL PDU Session Container carrying
 * the FAR's QFI put in front, source the N3 address, destination the
 * gNB, IPv4 checksum computed, UDP checksum 0, then routed), then the
 * PDR's URRs count the packet and its inner IP bytes. The meta word
 * becomes the new IPv4 destination (or LR_IP_META_V6), ip-lookup's
 * contract. TTL of the inner packet is decremented by ip-forward (a hop).
 * Written by nobody at run time; reads this poll's table-set version.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_meter.h>
#include <rte_udp.h>

#include "gtpu.h"
#include "parse.h"
#include "stage.h"
#include "upf.h"
#include "worker.h"

#define OUTER_LEN (LR_IP4_HLEN + 8 + LR_GTPU_HLEN + LR_GTPU_OPT_LEN + 4)  /* 44 */

enum { ST_KEEP = 0, ST_GONE, ST_UL, ST_DL };

struct pinfo {
	uint8_t st;
	uint8_t qfi_present;
	uint8_t qfi;
	uint8_t pad;
	uint16_t inner;        /* UL: offset of the inner packet in the frame */
	uint16_t inner_avail;  /* UL: its octets within the GTP-U message */
};

/*
 * Turns the Echo Request at ip (ihl octets of header) into the response;
 * returns the new meta, 0 when the mbuf has no room for it.
 */
static uint32_t
echo_reply(struct rte_mbuf *m, uint8_t *frame, const struct lr_gtpu *g, unsigned ihl)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + LR_ETH_HLEN);
	uint8_t *udp, *gt;
	uint32_t src = ip->src_addr, dst = ip->dst_addr;
	uint16_t sport;
	uint16_t seq = (g->flags & LR_GTPU_F_S) ? g->seq : 0;
	const uint32_t tot = LR_IP4_HLEN + 8 + LR_GTPU_HLEN + LR_GTPU_OPT_LEN + 2;

	if (m->pkt_len < LR_ETH_HLEN + tot &&
	    rte_pktmbuf_append(m, (uint16_t)(LR_ETH_HLEN + tot - m->pkt_len)) == NULL)
		return 0;
	memcpy(&sport, frame + LR_ETH_HLEN + ihl, 2);
	memset(ip, 0, LR_IP4_HLEN);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = dst;
	ip->dst_addr = src;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = frame + LR_ETH_HLEN + LR_IP4_HLEN;
	udp[0] = LR_UPF_GTPU_PORT >> 8;
	udp[1] = LR_UPF_GTPU_PORT & 0xff;
	memcpy(udp + 2, &sport, 2);
	udp[4] = 0;
	udp[5] = 8 + LR_GTPU_HLEN + LR_GTPU_OPT_LEN + 2;
	udp[6] = udp[7] = 0;
	gt = udp + 8;
	gt[0] = 0x32;                 /* version 1, PT 1, S */
	gt[1] = LR_GTPU_ECHO_REP;
	gt[2] = 0;
	gt[3] = LR_GTPU_OPT_LEN + 2;
	memset(gt + 4, 0, 4);         /* TEID 0 */
	gt[8] = (uint8_t)(seq >> 8);
	gt[9] = (uint8_t)seq;
	gt[10] = 0;                   /* N-PDU */
	gt[11] = 0;                   /* no extension */
	gt[12] = LR_GTPU_RECOVERY_IE;
	gt[13] = 0;                   /* restart counter: 0 */
	if (m->pkt_len > LR_ETH_HLEN + tot)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (LR_ETH_HLEN + tot)));
	return rte_be_to_cpu_32(src);
}

/* Length of the IP packet at l3 (validated). */
static inline uint32_t
ip_len(const uint8_t *l3)
{
	if ((l3[0] >> 4) == 4)
		return rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)l3)->total_length);
	return LR_IP6_HLEN + rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)l3)->payload_len);
}

/* Uplink: the inner packet is valid IP; its length in *len. @return LR_DROP_MAX or a reason. */
static inline unsigned
inner_check(const struct rte_mbuf *m, const struct pinfo *pi, uint32_t *len)
{
	const uint8_t *in = rte_pktmbuf_mtod(m, const uint8_t *) + pi->inner;

	if (pi->inner_avail < 1)
		return LR_DROP_UPF_BAD_INNER;
	if ((in[0] >> 4) == 4) {
		if (lr_parse_ip4(in, pi->inner_avail, pi->inner_avail, false, 0, 0) != LR_CLS_FWD4)
			return LR_DROP_UPF_BAD_INNER;
	} else if ((in[0] >> 4) == 6) {
		if (lr_parse_ip6(in, pi->inner_avail, pi->inner_avail, false) != LR_CLS_FWD6)
			return LR_DROP_UPF_BAD_INNER;
	} else {
		return LR_DROP_UPF_BAD_INNER;
	}
	*len = ip_len(in);
	return LR_DROP_MAX;
}

/* Uplink decapsulation of a checked packet of len inner octets; returns the meta. */
static inline uint32_t
decap(struct rte_mbuf *m, const struct pinfo *pi, uint32_t len)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *in = frame + pi->inner;
	uint16_t et = (in[0] >> 4) == 4 ? RTE_BE16(RTE_ETHER_TYPE_IPV4) : RTE_BE16(RTE_ETHER_TYPE_IPV6);
	uint32_t d;

	memmove(in - LR_ETH_HLEN, frame, 12);
	memcpy(in - 2, &et, 2);
	rte_pktmbuf_adj(m, (uint16_t)(pi->inner - LR_ETH_HLEN));
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (LR_ETH_HLEN + len)));
	if ((in[0] >> 4) == 6)
		return LR_IP_META_V6;
	memcpy(&d, in + offsetof(struct rte_ipv4_hdr, dst_addr), 4);
	return rte_be_to_cpu_32(d);
}

/* Downlink encapsulation towards far; returns the meta, or 0 when there is no headroom. */
static inline uint32_t
encap(struct rte_mbuf *m, uint32_t len, const struct lr_upf_cfar *far, uint32_t n3)
{
	struct rte_ipv4_hdr *ip;
	uint8_t *p, *udp, *gt;
	uint16_t gl = (uint16_t)(LR_GTPU_OPT_LEN + 4 + len);

	if (m->pkt_len > LR_ETH_HLEN + len)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (LR_ETH_HLEN + len)));
	p = (uint8_t *)rte_pktmbuf_prepend(m, OUTER_LEN);
	if (p == NULL)
		return 0;
	memmove(p, p + OUTER_LEN, 12);
	p[12] = 0x08;
	p[13] = 0x00;
	ip = (struct rte_ipv4_hdr *)(p + LR_ETH_HLEN);
	memset(ip, 0, LR_IP4_HLEN);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(OUTER_LEN + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(n3);
	ip->dst_addr = far->peer;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = p + LR_ETH_HLEN + LR_IP4_HLEN;
	udp[0] = udp[2] = LR_UPF_GTPU_PORT >> 8;
	udp[1] = udp[3] = LR_UPF_GTPU_PORT & 0xff;
	udp[4] = (uint8_t)((8 + LR_GTPU_HLEN + gl) >> 8);
	udp[5] = (uint8_t)(8 + LR_GTPU_HLEN + gl);
	udp[6] = udp[7] = 0;          /* legal for IPv4 (RFC 768) */
	gt = udp + 8;
	gt[0] = 0x34;                 /* version 1, PT 1, E */
	gt[1] = LR_GTPU_GPDU;
	gt[2] = (uint8_t)(gl >> 8);
	gt[3] = (uint8_t)gl;
	memcpy(gt + 4, &far->peer_teid, 4);
	gt[8] = gt[9] = gt[10] = 0;   /* sequence, N-PDU: not used */
	gt[11] = LR_GTPU_EXT_PDU_SESSION;
	gt[12] = 1;                   /* 4 octets */
	gt[13] = 0x00;                /* PDU type 0: DL PDU SESSION INFORMATION */
	gt[14] = far->qfi & 0x3f;     /* PPP 0, RQI 0, QFI */
	gt[15] = 0;                   /* no further extension */
	return rte_be_to_cpu_32(far->peer);
}

/* The first PDR of direction d in cs matching the key (and, uplink, the QFI). */
static inline const struct lr_upf_cpdr *
pick(const struct lr_upf_csess *cs, unsigned d, const void *key, const struct pinfo *pi)
{
	unsigned j;

	for (j = 0; j < cs->n_pdr; j++) {
		const struct lr_upf_cpdr *p = &cs->pdr[j];

		if (d == 0) {
			if (p->src_if != LR_UPF_ACCESS || memcmp(&p->ul, key, sizeof(p->ul)) != 0)
				continue;
			if (p->qfi != LR_UPF_ANY_QFI && (!pi->qfi_present || pi->qfi != p->qfi))
				continue;
			return p;
		}
		if (p->src_if == LR_UPF_CORE && memcmp(&p->dl, key, sizeof(p->dl)) == 0)
			return p;
	}
	return NULL;
}

static void
upf_run(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	const struct lr_upf_copy *c;
	struct lr_upf_ulkey ulk[LR_BURST_MAX];
	struct lr_upf_dlkey dlk[LR_BURST_MAX];
	const void *kp[LR_BURST_MAX];
	struct pinfo pi[LR_BURST_MAX];
	uint16_t ki[LR_BURST_MAX], nk = 0;
	void *data[LR_BURST_MAX];
	uint64_t hits = 0, now = 0;
	struct lr_upf_wstats *ws;
	struct lr_upf_uctr *ctr;
	struct rte_meter_trtcm *mst;
	uint16_t i, k, n = v->n;
	uint8_t role;

	(void)priv;
	if (unlikely(lr_upf_id < 0))
		return;
	c = lr_tset_table(b->ts, (unsigned)lr_upf_id);
	role = c->port_iface[b->in_port];
	if (likely(role == LR_UPF_IF_NONE))
		return;
	if (role == LR_UPF_ACCESS && c->n3 == 0)
		return;
	if (role == LR_UPF_CORE && c->n_sess == 0)
		return;
	ws = &lr_upf_wst[b->w->idx];
	ctr = lr_upf_ctr[b->w->idx];
	mst = lr_upf_meter[b->w->idx];
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = v->m[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		const uint8_t *l3 = frame + LR_ETH_HLEN;

		pi[i].st = ST_KEEP;
		if (role == LR_UPF_CORE) {
			struct lr_upf_dlkey *dk = &dlk[nk];

			memset(dk, 0, sizeof(*dk));
			if (v->meta[i] == LR_IP_META_V6) {
				dk->family = LR_AF_INET6;
				memcpy(dk->addr, l3 + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
			} else {
				dk->family = LR_AF_INET;
				memcpy(dk->addr, l3 + offsetof(struct rte_ipv4_hdr, dst_addr), 4);
			}
			pi[i].st = ST_DL;
			kp[nk] = dk;
			ki[nk++] = i;
			continue;
		}
		/* ACCESS: GTP-U to the N3 address */
		if (v->meta[i] != c->n3 || l3[9] != IPPROTO_UDP ||
		    (((const struct rte_ipv4_hdr *)l3)->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
			continue;
		{
			unsigned ihl = (l3[0] & 0xf) * 4u;
			const uint8_t *udp = l3 + ihl;
			uint32_t tl = rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)l3)->total_length);
			uint32_t ulen, avail;
			struct lr_gtpu g;
			unsigned why;

			if (tl < ihl + 8 || LR_ETH_HLEN + tl > m->data_len)
				continue;
			if (udp[2] != (LR_UPF_GTPU_PORT >> 8) || udp[3] != (LR_UPF_GTPU_PORT & 0xff))
				continue;
			ulen = (uint32_t)udp[4] << 8 | udp[5];
			avail = tl - ihl;
			if (ulen < 8 || ulen > avail) {
				pi[i].st = ST_GONE;
				lr_burst_drop(b, m, LR_DROP_GTPU_BAD_LENGTH);
				continue;
			}
			why = lr_gtpu_parse(udp + 8, ulen - 8, &g);
			if (why != LR_DROP_MAX) {
				pi[i].st = ST_GONE;
				lr_burst_drop(b, m, why);
				continue;
			}
			if (g.type == LR_GTPU_ECHO_REQ) {
				ws->c[LR_UPF_CTR_echo_requests]++;
				v->meta[i] = echo_reply(m, frame, &g, ihl);
				if (v->meta[i] == 0) {
					pi[i].st = ST_GONE;
					lr_burst_drop(b, m, LR_DROP_UPF_NO_HEADROOM);
					continue;
				}
				ws->c[LR_UPF_CTR_echo_responses]++;
				continue;  /* ST_KEEP: routed back to the peer */
			}
			if (g.type != LR_GTPU_GPDU) {
				pi[i].st = ST_GONE;
				lr_burst_drop(b, m, LR_DROP_GTPU_UNSUPPORTED_TYPE);
				continue;
			}
			pi[i].st = ST_UL;
			pi[i].qfi_present = g.has_qfi;
			pi[i].qfi = g.qfi;
			pi[i].inner = (uint16_t)(LR_ETH_HLEN + ihl + 8 + g.hlen);
			pi[i].inner_avail = (uint16_t)(g.len - g.hlen);
			ulk[nk].teid = g.teid;
			ulk[nk].addr = rte_cpu_to_be_32(c->n3);
			kp[nk] = &ulk[nk];
			ki[nk++] = i;
		}
	}
	if (nk != 0)
		rte_hash_lookup_bulk_data(role == LR_UPF_CORE ? c->dl : c->ul, kp, nk, &hits, data);
	for (k = 0; k < nk; k++) {
		uint16_t x = ki[k];
		struct rte_mbuf *m = v->m[x];
		unsigned d = role == LR_UPF_CORE;
		const struct lr_upf_csess *cs;
		const struct lr_upf_cpdr *p;
		const struct lr_upf_cfar *far;
		uint32_t slot, len, meta;
		unsigned q, why;

		if (!(hits & (1ull << k))) {
			if (d == 0) {
				pi[x].st = ST_GONE;
				lr_burst_drop(b, m, LR_DROP_GTPU_UNKNOWN_TEID);
			} else {
				pi[x].st = ST_KEEP;   /* not a UE: plain routing */
			}
			continue;
		}
		slot = (uint32_t)(uintptr_t)data[k];
		cs = &c->sess[slot];
		p = pick(cs, d, kp[k], &pi[x]);
		pi[x].st = ST_GONE;
		if (p == NULL) {
			lr_burst_drop(b, m, LR_DROP_UPF_NO_PDR);
			continue;
		}
		len = 0;
		why = LR_DROP_MAX;
		if (d == 0)
			why = inner_check(m, &pi[x], &len);
		else
			len = ip_len(rte_pktmbuf_mtod_offset(m, const uint8_t *, LR_ETH_HLEN));
		for (q = 0; q < p->n_qer && why == LR_DROP_MAX; q++)
			if (cs->qer[p->qer[q]].gate[d])
				why = LR_DROP_UPF_QER_GATE;
		for (q = 0; q < p->n_qer && why == LR_DROP_MAX; q++) {
			const struct lr_upf_cqer *qr = &cs->qer[p->qer[q]];

			if (!qr->metered[d])
				continue;
			if (now == 0)
				now = rte_rdtsc();
			if (rte_meter_trtcm_color_blind_check(
				    &mst[((size_t)slot * LR_UPF_MAX_QER + p->qer[q]) * 2 + d],
				    (struct rte_meter_trtcm_profile *)(uintptr_t)&qr->prof[d], now,
				    len) == RTE_COLOR_RED)
				why = LR_DROP_UPF_QER_MBR;
		}
		far = &cs->far[p->far];
		if (why == LR_DROP_MAX && far->action != LR_UPF_FORWARD)
			why = far->action == LR_UPF_DROP ? LR_DROP_UPF_FAR_DROP : LR_DROP_UPF_BUFFER;
		if (why != LR_DROP_MAX) {
			lr_burst_drop(b, m, why);
			continue;
		}
		if (d == 0) {
			meta = decap(m, &pi[x], len);
		} else {
			meta = encap(m, len, far, c->n3);
			if (meta == 0) {
				lr_burst_drop(b, m, LR_DROP_UPF_NO_HEADROOM);
				continue;
			}
		}
		for (q = 0; q < p->n_urr; q++) {
			struct lr_upf_uctr *u = &ctr[(size_t)slot * LR_UPF_MAX_URR + p->urr[q]];

			u->packets[d]++;
			u->bytes[d] += len;
		}
		ws->c[d == 0 ? LR_UPF_CTR_ul_packets : LR_UPF_CTR_dl_packets]++;
		ws->c[d == 0 ? LR_UPF_CTR_ul_bytes : LR_UPF_CTR_dl_bytes] += len;
		v->meta[x] = meta;
		pi[x].st = ST_KEEP;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (pi[i].st != ST_KEEP)
			continue;
		v->m[k] = v->m[i];
		v->meta[k++] = v->meta[i];
	}
	v->n = k;
}

static const struct lr_stage upf_stage = {
	.name = "upf", .order = LR_STAGE_ORDER_UPF, .run = upf_run,
};
LR_STAGE_REGISTER(upf_stage)
