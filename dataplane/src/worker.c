/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: the forwarding loop (see worker.h). Per burst: classify
 * every frame (parse.h), look the forwardable ones up in bulk in the
 * published FIB copy, pick the adjacency (ECMP by flow hash), rewrite
 * (MACs, TTL with RFC 1624 checksum update, hop limit) and send them with
 * one tx burst per output port. Counts are kept in locals and added to the
 * stats memory once per burst (plain stores to this worker's own lines).
 * No locks, syscalls, allocations or logs here.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "fib.h"
#include "log.h"
#include "nexthop.h"
#include "parse.h"
#include "port.h"
#include "stats.h"
#include "worker.h"

#define PREFETCH_AHEAD 4

struct lr_worker *lr_workers[LR_MAX_WORKERS];
unsigned lr_n_workers;
static uint32_t lr_worker_running;

/* State of one RX burst. Frames to send are collected with their output
 * port and sent per port at the end of the burst. */
struct burst {
	struct lr_worker *w;
	struct lr_stats_rxq *rs;
	uint32_t ports;               /* output ports used */
	uint16_t n_out, n_punt, n_drop;
	struct rte_mbuf *out[LR_BURST_MAX];
	uint8_t out_port[LR_BURST_MAX];
	struct rte_mbuf *punt[LR_BURST_MAX];
	struct rte_mbuf *drop[LR_BURST_MAX];
};

static inline void
drop(struct burst *b, struct rte_mbuf *m, unsigned reason)
{
	b->drop[b->n_drop++] = m;
	b->rs->drops[reason]++;
}

static inline void
punt(struct burst *b, struct rte_mbuf *m, uint16_t in_port)
{
	m->port = in_port;  /* linerate port index for the slow path */
	b->punt[b->n_punt++] = m;
}

/*
 * Sends n frames on port through this worker's TX queue; refused frames
 * are dropped as TX_FULL (on rs when they came from one RX queue).
 */
static inline void
tx_send(struct lr_worker *w, uint16_t port, struct rte_mbuf **m, uint16_t n,
	struct lr_stats_rxq *rs)
{
	struct lr_stats_txq *ts = &lr_shm->txq[port][w->idx];
	uint64_t bytes = 0;
	uint16_t sent, k;

	for (k = 0; k < n; k++)
		bytes += m[k]->pkt_len;  /* before: a sent mbuf is the driver's */
	sent = rte_eth_tx_burst(lr_port_rt[port].dpdk_id, (uint16_t)w->idx, m, n);
	if (unlikely(sent < n)) {
		unsigned lost = n - sent;

		for (k = sent; k < n; k++)
			bytes -= m[k]->pkt_len;
		rte_pktmbuf_free_bulk(&m[sent], lost);
		ts->tx_dropped += lost;
		if (rs != NULL)
			rs->drops[LR_DROP_TX_FULL] += lost;
		w->st->drops += lost;
	}
	ts->tx_packets += sent;
	ts->tx_bytes += bytes;
	w->st->tx_packets += sent;
}

/* Sends frames m[i] on port[i]: one burst per port, in arrival order. */
static inline void
tx_out(struct lr_worker *w, struct rte_mbuf **m, const uint8_t *port, uint16_t n,
       uint32_t ports, struct lr_stats_rxq *rs)
{
	struct rte_mbuf *sub[LR_BURST_MAX];

	if (likely((ports & (ports - 1)) == 0)) {  /* one output port: the usual case */
		tx_send(w, (uint16_t)__builtin_ctz(ports), m, n, rs);
		return;
	}
	while (ports != 0) {
		unsigned p = (unsigned)__builtin_ctz(ports);
		uint16_t k, c = 0;

		ports &= ports - 1;
		for (k = 0; k < n; k++)
			if (port[k] == p)
				sub[c++] = m[k];
		tx_send(w, (uint16_t)p, sub, c, rs);
	}
}

/* Asks the main lcore to resolve ip, at most once per want_gap per address. */
static inline void
want(struct lr_worker *w, uint16_t port, uint8_t family, const uint8_t *ip)
{
	struct lr_resolve_req r;
	uint64_t a[2] = { 0, 0 }, now = rte_rdtsc();
	uint32_t key;
	typeof(w->want[0]) *s;

	memcpy(a, ip, family == LR_AF_INET ? 4 : 16);  /* aligned for the CRC */
	key = rte_hash_crc_8byte(a[1], rte_hash_crc_8byte(a[0], (uint32_t)port << 8 | family));
	s = &w->want[key % LR_WANT_SLOTS];
	if (s->key == key && now - s->tsc < w->want_gap)
		return;
	s->key = key;
	s->tsc = now;
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.port = port;
	memcpy(r.ip, a, 16);
	rte_ring_sp_enqueue_elem(w->resolve, &r, sizeof(r));  /* full: next packet retries */
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

/* One frame that the FIB matched: value = next-hop value. */
static inline void
forward(struct burst *b, struct rte_mbuf *m, uint32_t value, bool v6, uint16_t in_port)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *l3 = frame + LR_ETH_HLEN;
	uint32_t adj = value;
	uint64_t word;
	unsigned kind;

	if (value & LR_NH_GROUP)
		adj = lr_nh_group_pick(&lr_nh_groups[value & LR_NH_IDX_MASK], flow_hash(m, l3, v6));
	word = __atomic_load_n(&lr_adj_word[adj], __ATOMIC_RELAXED);
	kind = (unsigned)(word >> LR_ADJW_KIND_SHIFT) & 0xf;
	if (unlikely(kind == LR_ADJ_LOCAL)) {
		punt(b, m, in_port);
		return;
	}
	if (unlikely((v6 ? ((struct rte_ipv6_hdr *)l3)->hop_limits
			 : ((struct rte_ipv4_hdr *)l3)->time_to_live) <= 1)) {
		drop(b, m, LR_DROP_TTL_EXPIRED);
		return;
	}
	/* RFC 4291: a link-local source never leaves its link */
	if (unlikely(v6 && l3[8] == 0xfe && (l3[9] & 0xc0) == 0x80)) {
		drop(b, m, LR_DROP_BAD_ADDRESS);
		return;
	}
	if (likely(word & LR_ADJW_RESOLVED)) {
		uint16_t out = (uint16_t)((word >> LR_ADJW_PORT_SHIFT) & 0xff);
		const struct lr_port_rt *o = &lr_port_rt[out];
		uint32_t l3len;

		if (unlikely(!o->up)) {
			drop(b, m, LR_DROP_PORT_DOWN);
			return;
		}
		l3len = v6 ? LR_IP6_HLEN + rte_be_to_cpu_16(((struct rte_ipv6_hdr *)l3)->payload_len)
			   : rte_be_to_cpu_16(((struct rte_ipv4_hdr *)l3)->total_length);
		if (unlikely(l3len > o->mtu)) {
			drop(b, m, LR_DROP_MTU_EXCEEDED);
			return;
		}
		memcpy(frame, &word, 6);               /* dst MAC: low 48 bits, frame order */
		memcpy(frame + 6, &o->mac, 6);
		if (v6)
			((struct rte_ipv6_hdr *)l3)->hop_limits--;
		else
			lr_ip4_ttl_dec((struct rte_ipv4_hdr *)l3);
		b->out[b->n_out] = m;
		b->out_port[b->n_out++] = (uint8_t)out;
		b->ports |= 1u << out;
		return;
	}
	if (kind == LR_ADJ_GLEAN) {
		/* on-link destination without a host route yet: resolve it */
		uint16_t out = (uint16_t)((word >> LR_ADJW_PORT_SHIFT) & 0xff);

		if (v6)
			want(b->w, out, LR_AF_INET6, ((struct rte_ipv6_hdr *)l3)->dst_addr);
		else
			want(b->w, out, LR_AF_INET, (const uint8_t *)&((struct rte_ipv4_hdr *)l3)->dst_addr);
	} else if (kind == LR_ADJ_NEIGH) {
		const struct lr_adj_info *ai = &lr_adj_info[adj];

		want(b->w, ai->port, ai->family, ai->ip);
	}
	drop(b, m, LR_DROP_NO_NEIGHBOR);
}

static inline uint16_t
poll_rxq(struct lr_worker *w, const struct lr_fib_tables *fib, const struct lr_worker_rxq *q)
{
	struct rte_mbuf *pkts[LR_BURST_MAX];
	uint32_t ip4[LR_BURST_MAX];
	uint64_t hop4[LR_BURST_MAX];
	uint8_t ip6[LR_BURST_MAX][16];
	int32_t hop6[LR_BURST_MAX];
	uint16_t idx4[LR_BURST_MAX], idx6[LR_BURST_MAX];
	const struct lr_port_rt *in = &lr_port_rt[q->port];
	unsigned n4 = 0, n6 = 0, i, k;
	uint64_t bytes = 0;
	struct burst b;
	uint16_t n;

	n = rte_eth_rx_burst(q->dpdk_id, q->queue, pkts, w->burst);
	if (n == 0)
		return 0;
	b.w = w;
	b.rs = q->st;
	b.ports = 0;
	b.n_out = 0;
	b.n_punt = 0;
	b.n_drop = 0;
	if (unlikely(!in->admin_up)) {
		for (i = 0; i < n; i++) {
			bytes += pkts[i]->pkt_len;
			drop(&b, pkts[i], LR_DROP_PORT_DOWN);
		}
		goto done;
	}

	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t v;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		bytes += m->pkt_len;
		v = lr_parse_frame(frame, m->data_len, m->pkt_len, &in->mac, m->ol_flags,
				   in->parse_flags);
		switch (LR_PARSE_CLS(v)) {
		case LR_CLS_FWD4: {
			uint32_t d;

			memcpy(&d, frame + LR_ETH_HLEN + offsetof(struct rte_ipv4_hdr, dst_addr), 4);
			ip4[n4] = rte_be_to_cpu_32(d);
			idx4[n4++] = (uint16_t)i;
			break;
		}
		case LR_CLS_FWD6:
			memcpy(ip6[n6], frame + LR_ETH_HLEN + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
			idx6[n6++] = (uint16_t)i;
			break;
		case LR_CLS_PUNT:
			punt(&b, m, q->port);
			break;
		default:
			drop(&b, m, LR_PARSE_REASON(v));
			break;
		}
	}
	if (n4 != 0) {
		rte_fib_lookup_bulk(fib->v4, ip4, hop4, (int)n4);
		for (k = 0; k < n4; k++) {
			struct rte_mbuf *m = pkts[idx4[k]];

			if (likely(hop4[k] != LR_FIB_MISS))
				forward(&b, m, (uint32_t)hop4[k], false, q->port);
			else
				drop(&b, m, LR_DROP_NO_ROUTE);
		}
	}
	if (n6 != 0) {
		rte_lpm6_lookup_bulk_func(fib->v6, ip6, hop6, n6);
		for (k = 0; k < n6; k++) {
			struct rte_mbuf *m = pkts[idx6[k]];

			if (likely(hop6[k] >= 0))
				forward(&b, m, (uint32_t)hop6[k], true, q->port);
			else if (fib->v6_default != LR_NH_NONE)
				forward(&b, m, fib->v6_default, true, q->port);
			else
				drop(&b, m, LR_DROP_NO_ROUTE);
		}
	}
	if (b.n_punt != 0) {
		unsigned ok = rte_ring_sp_enqueue_burst(w->punt, (void **)b.punt, b.n_punt, NULL);

		b.rs->punt_packets += ok;
		for (k = ok; k < b.n_punt; k++)
			drop(&b, b.punt[k], LR_DROP_PUNT_FULL);
	}
	if (b.n_out != 0) {
		b.rs->fwd_packets += b.n_out;
		tx_out(w, b.out, b.out_port, b.n_out, b.ports, b.rs);
	}
done:
	if (b.n_drop != 0)
		rte_pktmbuf_free_bulk(b.drop, b.n_drop);
	b.rs->rx_packets += n;
	b.rs->rx_bytes += bytes;
	w->st->rx_packets += n;
	w->st->drops += b.n_drop;
	return n;
}

/* Frames from the slow path: m->port is the output port index. */
static void
drain_inject(struct lr_worker *w)
{
	struct rte_mbuf *m[LR_BURST_MAX], *ok[LR_BURST_MAX];
	uint8_t port[LR_BURST_MAX];
	uint32_t ports = 0;
	unsigned n, i, c = 0;

	n = rte_ring_sc_dequeue_burst(w->inject, (void **)m, LR_BURST_MAX, NULL);
	for (i = 0; i < n; i++) {
		uint16_t p = m[i]->port;

		if (p >= lr_n_ports || !lr_port_rt[p].admin_up) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		ok[c] = m[i];
		port[c++] = (uint8_t)p;
		ports |= 1u << p;
	}
	if (c != 0)
		tx_out(w, ok, port, (uint16_t)c, ports, NULL);
}

static void
clear_own_stats(struct lr_worker *w)
{
	struct lr_stats_worker *s = w->st;
	unsigned i, p;

	for (i = 0; i < w->rx_queues; i++) {
		struct lr_stats_rxq *r = w->rxq[i].st;
		int32_t owner = r->worker;

		memset(r, 0, sizeof(*r));
		r->worker = owner;
	}
	for (p = 0; p < lr_n_ports; p++)
		memset(&lr_shm->txq[p][w->idx], 0, sizeof(lr_shm->txq[p][w->idx]));
	s->polls = s->busy_polls = s->busy_cycles = s->idle_cycles = 0;
	s->rx_packets = s->tx_packets = s->drops = s->rcu_quiescent = 0;
}

static int
worker_main(void *arg)
{
	struct lr_worker *w = arg;
	struct lr_stats_worker *s = w->st;
	unsigned idle_run = 0, i;

	rte_rcu_qsbr_thread_online(w->rcu, w->idx);
	while (__atomic_load_n(&lr_worker_running, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc(), t1;
		const struct lr_fib_tables *fib;
		uint32_t req;
		unsigned nrx = 0;

		/* Nothing from the previous iteration is held past this point. */
		rte_rcu_qsbr_quiescent(w->rcu, w->idx);
		s->rcu_quiescent++;
		req = __atomic_load_n(&w->clear_req, __ATOMIC_ACQUIRE);
		if (unlikely(req != w->clear_ack)) {
			clear_own_stats(w);
			__atomic_store_n(&w->clear_ack, req, __ATOMIC_RELEASE);
		}
		fib = lr_fib_current();
		for (i = 0; i < w->rx_queues; i++)
			nrx += poll_rxq(w, fib, &w->rxq[i]);
		if (!rte_ring_empty(w->inject))
			drain_inject(w);
		t1 = rte_rdtsc();
		s->polls++;
		if (nrx != 0) {
			s->busy_polls++;
			s->busy_cycles += t1 - t0;
			idle_run = 0;
			continue;
		}
		s->idle_cycles += t1 - t0;
		if (w->idle_sleep_us != 0 && ++idle_run > LR_IDLE_POLLS) {
			rte_delay_us_sleep(w->idle_sleep_us);
			s->idle_cycles += rte_rdtsc() - t1;
		}
	}
	rte_rcu_qsbr_thread_offline(w->rcu, w->idx);
	return 0;
}

unsigned
lr_worker_count_lcores(void)
{
	unsigned lcore, n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore)
		n++;
	return n;
}

int
lr_worker_init(const struct lr_args *a, struct rte_rcu_qsbr *rcu)
{
	unsigned lcore, n = 0, q, p, k = 0, max_q = 0;
	char name[RTE_RING_NAMESIZE];

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct lr_worker *w;
		int socket = (int)rte_lcore_to_socket_id(lcore);

		if (n == LR_MAX_WORKERS) {
			LR_LOG(WARNING, "worker: at most %d workers, lcore %u unused", LR_MAX_WORKERS, lcore);
			break;
		}
		w = rte_zmalloc_socket("lr_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
		if (w == NULL)
			return -ENOMEM;
		lr_workers[n] = w;
		lr_n_workers = n + 1;
		w->idx = n;
		w->lcore = lcore;
		w->burst = a->burst;
		w->idle_sleep_us = a->idle_sleep_us;
		w->rcu = rcu;
		w->st = &lr_shm->workers[n];
		w->want_gap = rte_get_tsc_hz() / 10;
		snprintf(name, sizeof(name), "lr_punt_%u", n);
		w->punt = rte_ring_create(name, LR_PUNT_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "lr_inject_%u", n);
		w->inject = rte_ring_create(name, LR_INJECT_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "lr_resolve_%u", n);
		w->resolve = rte_ring_create_elem(name, sizeof(struct lr_resolve_req), LR_RESOLVE_RING,
						  socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->punt == NULL || w->inject == NULL || w->resolve == NULL) {
			LR_LOG(ERR, "worker %u: cannot create rings: %s", n, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		if (rte_rcu_qsbr_thread_register(rcu, n) != 0)
			return -EINVAL;
		w->st->lcore_id = lcore;
		n++;
	}
	if (n == 0) {
		LR_LOG(ERR, "worker: no worker lcore (give the EAL at least two lcores, e.g. -l 0,1)");
		return -EINVAL;
	}
	/* (port, queue) pairs round-robin, port-major: the queues of one port
	 * (its RSS spread) land on different workers */
	for (p = 0; p < lr_n_ports; p++)
		max_q = RTE_MAX(max_q, (unsigned)lr_ports[p].rx_queues);
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < max_q; q++) {
			struct lr_worker *w;
			struct lr_worker_rxq *r;

			if (q >= lr_ports[p].rx_queues)
				continue;
			w = lr_workers[k++ % n];
			r = &w->rxq[w->rx_queues++];
			r->port = (uint16_t)p;
			r->dpdk_id = lr_port_rt[p].dpdk_id;
			r->queue = (uint16_t)q;
			r->st = &lr_shm->rxq[p][q];
			r->st->worker = (int32_t)w->idx;
		}
	for (k = 0; k < n; k++) {
		lr_workers[k]->st->rx_queues = lr_workers[k]->rx_queues;
		LR_LOG(INFO, "worker %u on lcore %u polls %u queue(s)", k, lr_workers[k]->lcore,
		       lr_workers[k]->rx_queues);
	}
	lr_shm->n_workers = n;
	return 0;
}

int
lr_worker_launch(void)
{
	unsigned i;
	int rc;

	__atomic_store_n(&lr_worker_running, 1, __ATOMIC_RELEASE);
	for (i = 0; i < lr_n_workers; i++) {
		rc = rte_eal_remote_launch(worker_main, lr_workers[i], lr_workers[i]->lcore);
		if (rc != 0) {
			LR_LOG(ERR, "worker %u: launch on lcore %u: %s", i, lr_workers[i]->lcore,
			       rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void
lr_worker_stop(void)
{
	__atomic_store_n(&lr_worker_running, 0, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
}

static void
ring_drain_free(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void
lr_worker_fini(void)
{
	unsigned i;

	for (i = 0; i < lr_n_workers; i++) {
		struct lr_worker *w = lr_workers[i];

		if (w == NULL)
			continue;
		if (w->punt != NULL)
			ring_drain_free(w->punt);
		if (w->inject != NULL)
			ring_drain_free(w->inject);
		rte_ring_free(w->punt);
		rte_ring_free(w->inject);
		rte_ring_free(w->resolve);
		rte_free(w);
		lr_workers[i] = NULL;
	}
	lr_n_workers = 0;
}

int
lr_worker_clear_stats(unsigned timeout_ms)
{
	uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * timeout_ms;
	unsigned i;

	for (i = 0; i < lr_n_workers; i++)
		__atomic_store_n(&lr_workers[i]->clear_req, lr_workers[i]->clear_req + 1,
				 __ATOMIC_RELEASE);
	for (i = 0; i < lr_n_workers; i++)
		while (__atomic_load_n(&lr_workers[i]->clear_ack, __ATOMIC_ACQUIRE) !=
		       lr_workers[i]->clear_req) {
			if (rte_rdtsc() > deadline)
				return -ETIMEDOUT;
			rte_delay_us_sleep(10);
		}
	return 0;
}
