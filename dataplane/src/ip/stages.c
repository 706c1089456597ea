/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP forwarding as three stages of the pipeline (core/stage.h):
 *  - ip-classify: parse and validate every frame (parse.h); IPv4 and IPv6
 *    to route stay (meta: the IPv4 destination in host order, or
 *    LR_IP_META_V6), ARP/ND/local go to the slow path, the malformed are
 *    dropped by reason;
 *  - ip-lookup: on ports that ask for it, the source checks (our own
 *    address, unicast RPF: a bulk lookup of the sources); then the
 *    longest-prefix match in bulk per family in the FIB of this poll's
 *    table-set version (meta = next-hop value); a miss is dropped and
 *    answered with ICMP net unreachable;
 *  - ip-forward: next-hop choice (ECMP bucket, adjacency), forwarding
 *    checks (TTL: time exceeded; link-local source; output port up; MTU:
 *    IPv4 without DF is fragmented (rte_ip_frag, by copy, so fast-free TX
 *    stays valid), else ICMP fragmentation needed / packet too big with the
 *    next-hop MTU), rewrite (MACs, TTL with RFC 1624 checksum update, hop
 *    limit), then tx. A subnet broadcast address is never forwarded.
 * Written by nobody at run time: the workers run them, the main lcore
 * changes the tables they read (fib.h, nexthop.h) under RCU.
 */
#define ALLOW_EXPERIMENTAL_API  /* rte_ipv4_fragment_copy_nonseg_packet (22.07) */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip_frag.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "fib.h"
#include "neigh.h"
#include "icmp.h"
#include "nexthop.h"
#include "parse.h"
#include "police.h"
#include "port.h"
#include "stage.h"
#include "worker.h"

#define PREFETCH_AHEAD 4
#define WANT_SLOTS 64  /* per-worker filter of resolution requests */
#define HOLD_RATE 20000  /* packets a worker may punt to be held, per second */
#define HOLD_BURST 64
#define FRAG_MAX 32    /* fragments of one packet (9000 B at a 576 B MTU: 17) */

/* To the slow path within the port's rate for the packet's class, else policed. */
static inline void
police_punt(struct lr_burst *b, struct rte_mbuf *m)
{
	unsigned c = lr_police_classify(m);

	if (likely(lr_police_ok(b->w->idx, b->in_port, c)))
		lr_burst_punt(b, m);
	else
		lr_burst_drop(b, m, lr_police_rate[c].drop_reason);
}

/* ---- ip-classify ---- */

static void
classify_run(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	const struct lr_port_rt *in = &lr_port_rt[b->in_port];
	uint16_t i, k = 0, n = v->n;

	(void)priv;
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(v->m[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = v->m[i];
		uint32_t c;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(v->m[i + PREFETCH_AHEAD], void *));
		c = lr_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
				   &in->mac, m->ol_flags, in->parse_flags);
		switch (LR_PARSE_CLS(c)) {
		case LR_CLS_FWD4: {
			uint32_t d;

			memcpy(&d, rte_pktmbuf_mtod_offset(m, const uint8_t *, LR_ETH_HLEN +
							  offsetof(struct rte_ipv4_hdr, dst_addr)), 4);
			v->m[k] = m;
			v->meta[k++] = rte_be_to_cpu_32(d);
			break;
		}
		case LR_CLS_FWD6:
			v->m[k] = m;
			v->meta[k++] = LR_IP_META_V6;
			break;
		case LR_CLS_PUNT:
			police_punt(b, m);
			break;
		default:
			lr_burst_drop(b, m, LR_PARSE_REASON(c));
			break;
		}
	}
	v->n = k;
}

static const struct lr_stage ip_classify = {
	.name = "ip-classify", .order = LR_STAGE_ORDER_CLASSIFY, .run = classify_run,
};
LR_STAGE_REGISTER(ip_classify)

/* ---- ip-lookup ---- */

/* Does next-hop value v lead out of port (any member of a group)? */
static inline bool
leads_out(uint32_t v, uint16_t port)
{
	const struct lr_nh_group *g;
	unsigned i;

	if (!(v & LR_NH_GROUP))
		return lr_adj_info[v].kind != LR_ADJ_LOCAL && lr_adj_info[v].port == port;
	g = &lr_nh_groups[v & LR_NH_IDX_MASK];
	for (i = 0; i < g->n; i++)
		if (lr_adj_info[g->adj[i]].port == port)
			return true;
	return false;
}

static inline bool
is_local(uint32_t v)
{
	return !(v & LR_NH_GROUP) && lr_adj_info[v].kind == LR_ADJ_LOCAL;
}

/*
 * Next-hop value of every packet's destination (or source) in this FIB
 * copy, in bulk per family; LR_NH_NONE where no route matches. The meta
 * says the family.
 */
static inline void
lookup_vec(const struct lr_fib_tables *fib, const struct lr_vec *v, bool src, uint32_t *val)
{
	const size_t off4 = src ? offsetof(struct rte_ipv4_hdr, src_addr)
				: offsetof(struct rte_ipv4_hdr, dst_addr);
	const size_t off6 = src ? offsetof(struct rte_ipv6_hdr, src_addr)
				: offsetof(struct rte_ipv6_hdr, dst_addr);
	uint32_t ip4[LR_BURST_MAX];
	uint64_t hop4[LR_BURST_MAX];
	uint8_t ip6[LR_BURST_MAX][16];
	int32_t hop6[LR_BURST_MAX];
	uint16_t idx4[LR_BURST_MAX], idx6[LR_BURST_MAX];
	uint16_t i, k, n4 = 0, n6 = 0;

	for (i = 0; i < v->n; i++) {
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(v->m[i], const uint8_t *, LR_ETH_HLEN);

		if (v->meta[i] != LR_IP_META_V6) {
			uint32_t a;

			memcpy(&a, l3 + off4, 4);
			ip4[n4] = rte_be_to_cpu_32(a);
			idx4[n4++] = i;
		} else {
			memcpy(ip6[n6], l3 + off6, 16);
			idx6[n6++] = i;
		}
	}
	if (n4 != 0) {
		rte_fib_lookup_bulk(fib->v4, ip4, hop4, (int)n4);
		for (k = 0; k < n4; k++)
			val[idx4[k]] = hop4[k] != LR_FIB_MISS ? (uint32_t)hop4[k] : LR_NH_NONE;
	}
	if (n6 != 0) {
		rte_lpm6_lookup_bulk_func(fib->v6, ip6, hop6, n6);
		for (k = 0; k < n6; k++)
			val[idx6[k]] = hop6[k] >= 0 ? (uint32_t)hop6[k] : fib->v6_default;
	}
}

/*
 * Source checks of the input port (LR_SRC_CHECK_*): our own address is a
 * martian, and RPF wants a route back (loose) through this port (strict).
 * Compacts v.
 */
static void
check_sources(struct lr_burst *b, struct lr_vec *v, const struct lr_fib_tables *fib,
	      unsigned chk)
{
	uint32_t val[LR_BURST_MAX];
	uint16_t i, k;

	lookup_vec(fib, v, true, val);
	for (i = 0, k = 0; i < v->n; i++) {
		uint32_t s = val[i];

		if ((chk & LR_SRC_CHECK_OWN) && s != LR_NH_NONE && is_local(s))
			lr_burst_drop(b, v->m[i], LR_DROP_MARTIAN_SOURCE);
		else if ((chk & (LR_SRC_CHECK_LOOSE | LR_SRC_CHECK_STRICT)) &&
			 (s == LR_NH_NONE ||
			  ((chk & LR_SRC_CHECK_STRICT) && !leads_out(s, b->in_port))))
			lr_burst_drop(b, v->m[i], LR_DROP_RPF_FAILED);
		else {
			v->m[k] = v->m[i];
			v->meta[k++] = v->meta[i];
		}
	}
	v->n = k;
}

static void
lookup_run(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	const struct lr_fib_tables *fib = lr_fib_of(b->ts);
	unsigned chk = lr_port_rt[b->in_port].src_check;
	uint64_t hop4[LR_BURST_MAX];
	uint8_t ip6[LR_BURST_MAX][16];
	int32_t hop6[LR_BURST_MAX];
	uint16_t idx6[LR_BURST_MAX];
	uint16_t i, k, n, n6 = 0;

	(void)priv;
	if (unlikely(chk != 0)) {
		check_sources(b, v, fib, chk);
		if (v->n == 0)
			return;
	}
	n = v->n;
	/* meta is the IPv4 destination already: one bulk lookup over the whole
	 * vector (IPv6 slots look up 255.255.255.255 and are overwritten) */
	rte_fib_lookup_bulk(fib->v4, v->meta, hop4, (int)n);
	for (i = 0; i < n; i++) {
		if (unlikely(v->meta[i] == LR_IP_META_V6)) {
			memcpy(ip6[n6], rte_pktmbuf_mtod_offset(v->m[i], const uint8_t *, LR_ETH_HLEN +
				offsetof(struct rte_ipv6_hdr, dst_addr)), 16);
			idx6[n6++] = i;
		}
	}
	if (n6 != 0) {
		rte_lpm6_lookup_bulk_func(fib->v6, ip6, hop6, n6);
		for (k = 0; k < n6; k++)
			hop4[idx6[k]] = hop6[k] >= 0 ? (uint32_t)hop6[k] : fib->v6_default;
	}
	/* the family stays visible to ip-forward in the packet itself */
	for (i = 0, k = 0; i < n; i++) {
		uint32_t nh = hop4[i] != LR_FIB_MISS ? (uint32_t)hop4[i] : LR_NH_NONE;

		if (likely(nh != LR_NH_NONE)) {
			v->m[k] = v->m[i];
			v->meta[k++] = nh;
		} else if (lr_police_ok(b->w->idx, b->in_port, LR_PUNT_ERROR)) {
			lr_burst_punt_error(b, v->m[i], LR_DROP_NO_ROUTE,
					    LR_ICMP_TAG(LR_ICMP_NET_UNREACH, 0));
		} else {
			lr_burst_drop(b, v->m[i], LR_DROP_NO_ROUTE);  /* the slow path would not answer it */
		}
	}
	v->n = k;
}

static const struct lr_stage ip_lookup = {
	.name = "ip-lookup", .order = LR_STAGE_ORDER_LOOKUP, .run = lookup_run,
};
LR_STAGE_REGISTER(ip_lookup)

/* ---- ip-forward ---- */

/* This worker's recent resolution requests, one per address per gap. */
struct want_filter {
	uint64_t gap;  /* TSC between two requests for one address */
	struct { uint32_t key; uint64_t tsc; } slot[WANT_SLOTS];
	uint64_t hold_gap;     /* TSC per token of the hold bucket */
	uint64_t hold_tsc;     /* last refill */
	uint32_t hold_tokens;
};

/* Asks the main lcore to resolve ip, at most once per gap per address. */
static inline void
want(struct lr_burst *b, struct want_filter *f, uint16_t port, uint8_t family, const uint8_t *ip)
{
	struct lr_resolve_req r;
	uint64_t a[2] = { 0, 0 }, now = rte_rdtsc();
	uint32_t key;
	typeof(f->slot[0]) *s;

	if (unlikely(f->gap == 0))
		f->gap = rte_get_tsc_hz() / 10;
	memcpy(a, ip, family == LR_AF_INET ? 4 : 16);  /* aligned for the CRC */
	key = rte_hash_crc_8byte(a[1], rte_hash_crc_8byte(a[0], (uint32_t)port << 8 | family));
	s = &f->slot[key % WANT_SLOTS];
	if (s->key == key && now - s->tsc < f->gap)
		return;
	s->key = key;
	s->tsc = now;
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.port = port;
	memcpy(r.ip, a, 16);
	rte_ring_sp_enqueue_elem(b->w->resolve, &r, sizeof(r));  /* full: next packet retries */
}

/*
 * May this packet be held for its neighbor (punted to the main lcore)?
 * A token bucket per worker (HOLD_RATE/s, HOLD_BURST) keeps a flood to
 * unresolved hosts from filling the punt ring the ARP/NA answers need.
 */
static inline bool
hold_ok(struct want_filter *f)
{
	if (lr_neigh_hold_per == 0)
		return false;
	if (f->hold_tokens == 0) {
		uint64_t now = rte_rdtsc(), k;

		if (unlikely(f->hold_gap == 0))
			f->hold_gap = rte_get_tsc_hz() / HOLD_RATE;
		k = (now - f->hold_tsc) / f->hold_gap;
		if (k == 0)
			return false;
		f->hold_tokens = k > HOLD_BURST ? HOLD_BURST : (uint32_t)k;
		f->hold_tsc = now;
	}
	f->hold_tokens--;
	return true;
}

/* Flow hash for ECMP: the NIC's RSS hash, else addresses and ports. */
static inline uint32_t
flow_hash(const struct rte_mbuf *m, const uint8_t *l3, bool v6)
{
	uint32_t h;
	uint8_t proto;
	const uint8_t *l4;

	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;
	if (!v6) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		uint64_t a;

		memcpy(&a, &ip->src_addr, 8);
		h = rte_hash_crc_8byte(a, 0);
		proto = ip->next_proto_id;
		l4 = l3 + (ip->version_ihl & 0xf) * 4;
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
			return h;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;
		uint64_t a[4];

		memcpy(a, ip->src_addr, 32);  /* source and destination */
		h = rte_hash_crc_8byte(a[0], 0);
		h = rte_hash_crc_8byte(a[1], h);
		h = rte_hash_crc_8byte(a[2], h);
		h = rte_hash_crc_8byte(a[3], h);
		proto = ip->proto;
		l4 = l3 + LR_IP6_HLEN;
	}
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
	    l4 + 4 <= rte_pktmbuf_mtod(m, const uint8_t *) + m->data_len) {
		uint32_t ports;

		memcpy(&ports, l4, 4);
		h = rte_hash_crc_4byte(ports, h);
	}
	return h;
}

/* Next-hop choice: the adjacency of a next-hop value (ECMP: by flow). */
static inline uint32_t
choose(const struct rte_mbuf *m, const uint8_t *l3, bool v6, uint32_t value)
{
	if (value & LR_NH_GROUP)
		return lr_nh_group_pick(&lr_nh_groups[value & LR_NH_IDX_MASK], flow_hash(m, l3, v6));
	return value;
}

/*
 * Checks before rewriting; returns a drop reason or LR_DROP_MAX (go on).
 * The caller answers TTL_EXPIRED and MTU_EXCEEDED.
 */
static inline unsigned
check(const uint8_t *l3, bool v6, const struct lr_port_rt *o)
{
	uint32_t l3len;

	if (unlikely((v6 ? ((const struct rte_ipv6_hdr *)l3)->hop_limits
			 : ((const struct rte_ipv4_hdr *)l3)->time_to_live) <= 1))
		return LR_DROP_TTL_EXPIRED;
	/* RFC 4291: a link-local source never leaves its link */
	if (unlikely(v6 && l3[8] == 0xfe && (l3[9] & 0xc0) == 0x80))
		return LR_DROP_BAD_ADDRESS;
	if (o == NULL)
		return LR_DROP_MAX;
	if (unlikely(!o->up))
		return LR_DROP_PORT_DOWN;
	l3len = v6 ? LR_IP6_HLEN + rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)l3)->payload_len)
		   : rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)l3)->total_length);
	if (unlikely(l3len > o->mtu))
		return LR_DROP_MTU_EXCEEDED;
	return LR_DROP_MAX;
}

/* Rewrite for the output port: MACs, then TTL / hop limit. */
static inline void
rewrite(uint8_t *frame, uint8_t *l3, bool v6, uint64_t word, const struct lr_port_rt *o)
{
	memcpy(frame, &word, 6);  /* dst MAC: low 48 bits, frame order */
	memcpy(frame + 6, &o->mac, 6);
	if (v6)
		((struct rte_ipv6_hdr *)l3)->hop_limits--;
	else
		lr_ip4_ttl_dec((struct rte_ipv4_hdr *)l3);
}

/* Drops m for reason, with the ICMP error that goes with it. */
static inline void
refuse(struct lr_burst *b, struct rte_mbuf *m, unsigned why, const struct lr_port_rt *o)
{
	if ((why == LR_DROP_TTL_EXPIRED || why == LR_DROP_MTU_EXCEEDED) &&
	    !lr_police_ok(b->w->idx, b->in_port, LR_PUNT_ERROR))
		lr_burst_drop(b, m, why);  /* the slow path would not answer it */
	else if (why == LR_DROP_TTL_EXPIRED)
		lr_burst_punt_error(b, m, why, LR_ICMP_TAG(LR_ICMP_TIME_EXCEEDED, 0));
	else if (why == LR_DROP_MTU_EXCEEDED)
		lr_burst_punt_error(b, m, why, LR_ICMP_TAG(LR_ICMP_TOO_BIG, o->mtu));
	else
		lr_burst_drop(b, m, why);
}

/*
 * IPv4 without DF over the output MTU (RFC 1812 5.2.6): rewritten, then
 * cut into fragments copied into fresh mbufs of its pool, each sent.
 */
static void
fragment4(struct lr_burst *b, struct rte_mbuf *m, uint64_t word, const struct lr_port_rt *o,
	  uint16_t out)
{
	struct rte_mbuf *f[FRAG_MAX];
	uint8_t eth[LR_ETH_HLEN];
	int32_t n, i;

	rewrite(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_mtod_offset(m, uint8_t *, LR_ETH_HLEN),
		false, word, o);
	memcpy(eth, rte_pktmbuf_mtod(m, uint8_t *), LR_ETH_HLEN);
	rte_pktmbuf_adj(m, LR_ETH_HLEN);
	n = rte_ipv4_fragment_copy_nonseg_packet(m, f, FRAG_MAX, o->mtu, m->pool);
	if (n <= 0) {
		rte_pktmbuf_prepend(m, LR_ETH_HLEN);
		lr_burst_drop(b, m, LR_DROP_MTU_EXCEEDED);
		return;
	}
	rte_pktmbuf_free(m);
	lr_burst_tx_room(b, (uint16_t)n);
	/* fwd_packets counts received packets; the fragments show on TX */
	b->rs->fwd_packets -= (uint64_t)(n - 1);
	for (i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f[i], struct rte_ipv4_hdr *);
		uint8_t *p;

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		p = (uint8_t *)rte_pktmbuf_prepend(f[i], LR_ETH_HLEN);
		memcpy(p, eth, LR_ETH_HLEN);
		lr_burst_tx(b, f[i], out);
	}
}

static void
forward_run(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	struct want_filter *f = priv;
	uint16_t i, n = v->n;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = v->m[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		uint8_t *l3 = frame + LR_ETH_HLEN;
		bool v6 = (l3[0] >> 4) == 6;  /* ip-classify checked the version */
		uint32_t adj = choose(m, l3, v6, v->meta[i]);
		uint64_t word = __atomic_load_n(&lr_adj_word[adj], __ATOMIC_RELAXED);
		unsigned kind = (unsigned)(word >> LR_ADJW_KIND_SHIFT) & 0xf, why;

		if (unlikely(kind == LR_ADJ_LOCAL)) {
			police_punt(b, m);
			continue;
		}
		if (likely(word & LR_ADJW_RESOLVED)) {
			uint16_t out = (uint16_t)((word >> LR_ADJW_PORT_SHIFT) & 0xff);
			const struct lr_port_rt *o = &lr_port_rt[out];

			why = check(l3, v6, o);
			if (unlikely(why != LR_DROP_MAX)) {
				if (why == LR_DROP_MTU_EXCEEDED && !v6 &&
				    !(((struct rte_ipv4_hdr *)l3)->fragment_offset &
				      RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) &&
				    m->nb_segs == 1)
					fragment4(b, m, word, o, out);
				else
					refuse(b, m, why, o);
				continue;
			}
			rewrite(frame, l3, v6, word, o);
			lr_burst_tx(b, m, out);
			continue;
		}
		if (unlikely(kind == LR_ADJ_BCAST)) {
			lr_burst_drop(b, m, LR_DROP_DIRECTED_BROADCAST);
			continue;
		}
		why = check(l3, v6, NULL);
		if (unlikely(why != LR_DROP_MAX)) {
			refuse(b, m, why, NULL);
			continue;
		}
		if (kind == LR_ADJ_GLEAN) {
			/* on-link destination without a host route yet: resolve it */
			uint16_t out = (uint16_t)((word >> LR_ADJW_PORT_SHIFT) & 0xff);

			if (v6)
				want(b, f, out, LR_AF_INET6, ((struct rte_ipv6_hdr *)l3)->dst_addr);
			else
				want(b, f, out, LR_AF_INET,
				     (const uint8_t *)&((struct rte_ipv4_hdr *)l3)->dst_addr);
		} else if (kind == LR_ADJ_NEIGH) {
			const struct lr_adj_info *ai = &lr_adj_info[adj];

			want(b, f, ai->port, ai->family, ai->ip);
		}
		if ((kind == LR_ADJ_GLEAN || kind == LR_ADJ_NEIGH) && hold_ok(f))
			lr_burst_punt_tagged(b, m, LR_NEIGH_HOLD_TAG | adj);  /* neigh.h */
		else
			lr_burst_drop(b, m, LR_DROP_NO_NEIGHBOR);
	}
	v->n = 0;
}

static const struct lr_stage ip_forward = {
	.name = "ip-forward", .order = LR_STAGE_ORDER_FORWARD,
	.priv_size = sizeof(struct want_filter), .run = forward_run,
};
LR_STAGE_REGISTER(ip_forward)
