/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: the forwarding loop (see worker.h). Per RX burst: count
 * it, run the stage pipeline (stage.h) on it, then flush the sinks: one tx
 * burst per output port, the punt ring, one bulk free of the drops. Counts
 * are kept in locals and added to the stats memory once per burst (plain
 * stores to this worker's own lines). The loop knows no feature.
 * No locks, syscalls, allocations or logs here.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl.h"
#include "log.h"
#include "port.h"
#include "stage.h"
#include "stats.h"
#include "status.h"
#include "worker.h"

struct lr_worker *lr_workers[LR_MAX_WORKERS];
unsigned lr_n_workers;
const struct lr_tap *volatile lr_tap;
static uint32_t lr_worker_running;

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

	const struct lr_tap *tap = __atomic_load_n(&lr_tap, __ATOMIC_ACQUIRE);

	for (k = 0; k < n; k++)
		bytes += m[k]->pkt_len;  /* before: a sent mbuf is the driver's */
	if (unlikely(tap != NULL))
		tap->tx(w->idx, port, m, n);
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

void
lr_burst_flush_tx(struct lr_burst *b)
{
	if (b->n_out == 0)
		return;
	b->rs->fwd_packets += b->n_out;
	tx_out(b->w, b->out, b->out_port, b->n_out, b->out_ports, b->rs);
	b->n_out = 0;
	b->out_ports = 0;
}

static inline uint16_t
poll_rxq(struct lr_worker *w, const struct lr_tset *ts, const struct lr_worker_rxq *q)
{
	struct lr_vec *v = &w->vec;
	struct lr_burst b;
	const struct lr_tap *tap;
	uint64_t bytes = 0;
	uint16_t n, i;

	n = rte_eth_rx_burst(q->dpdk_id, q->queue, v->m, w->burst);
	if (n == 0)
		return 0;
	tap = __atomic_load_n(&lr_tap, __ATOMIC_ACQUIRE);
	if (unlikely(tap != NULL))
		tap->rx(w->idx, q->port, q->queue, v->m, n);
	/* Not kept across the pipeline (a register the stages want): the drop path loads it again. */
	v->n = n;
	b.w = w;
	b.ts = ts;
	b.rs = q->st;
	b.in_port = q->port;
	b.n_out = b.n_punt = b.n_drop = b.n_err = 0;
	b.out_ports = 0;
	b.pending = 0;
	b.jump = w->jump;
	b.priv = w->priv;
	for (i = 0; i < n; i++)
		bytes += v->m[i]->pkt_len;
	if (unlikely(!lr_port_rt[q->port].admin_up)) {
		for (i = 0; i < n; i++)
			lr_burst_drop(&b, v->m[i], LR_DROP_PORT_DOWN);
		v->n = 0;
	} else {
		lr_pipeline_run(&b, v);
	}
	for (i = 0; i < v->n; i++)  /* the last stage leaves nothing: a bug otherwise */
		lr_burst_drop(&b, v->m[i], LR_DROP_UNHANDLED);
	if (b.n_punt != 0) {
		unsigned ok = rte_ring_sp_enqueue_burst(w->punt, (void **)b.punt, b.n_punt, NULL);

		b.rs->punt_packets += ok;
		for (i = (uint16_t)ok; i < b.n_punt; i++)
			lr_burst_drop(&b, b.punt[i], LR_DROP_PUNT_FULL);
	}
	if (unlikely(b.n_err != 0)) {
		/* already counted as drops; the slow path answers what fits */
		unsigned ok = rte_ring_sp_enqueue_burst(w->punt, (void **)b.err, b.n_err, NULL);

		if (ok < b.n_err)
			rte_pktmbuf_free_bulk(&b.err[ok], b.n_err - ok);
	}
	if (b.n_out != 0)
		lr_burst_flush_tx(&b);
	if (b.n_drop != 0) {
		tap = __atomic_load_n(&lr_tap, __ATOMIC_ACQUIRE);
		if (unlikely(tap != NULL))
			tap->drop(w->idx, q->port, q->queue, b.drop, b.drop_reason, b.n_drop);
		rte_pktmbuf_free_bulk(b.drop, b.n_drop);
	}
	b.rs->rx_packets += n;
	b.rs->rx_bytes += bytes;
	w->st->rx_packets += n;
	w->st->drops += b.n_drop + b.n_err;
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

	const struct lr_rxq_set *rs = __atomic_load_n(&w->rxqs, __ATOMIC_ACQUIRE);

	for (i = 0; i < rs->n; i++) {
		struct lr_stats_rxq *r = rs->q[i].st;
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
		const struct lr_tset *ts;
		const struct lr_rxq_set *rs;
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
		ts = lr_tset_current();
		/* This iteration's queue list: rxq.c frees it only after our next quiescent state. */
		rs = __atomic_load_n(&w->rxqs, __ATOMIC_ACQUIRE);
		for (i = 0; i < rs->n; i++)
			nrx += poll_rxq(w, ts, &rs->q[i]);
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
	unsigned lcore, n = 0, i;
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
		for (i = 0; i < lr_stage_count(); i++) {
			size_t sz = lr_stage_get(i)->priv_size;

			if (sz == 0)
				continue;
			w->priv[i] = rte_zmalloc_socket("lr_stage_priv", sz, RTE_CACHE_LINE_SIZE, socket);
			if (w->priv[i] == NULL)
				return -ENOMEM;
		}
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
	lr_shm->n_workers = n;
	return lr_rxq_init();
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
	unsigned i, k;

	lr_rxq_fini();
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
		for (k = 0; k < LR_STAGE_MAX; k++)
			rte_free(w->priv[k]);
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

/* STATS_CLEAR: every software counter and the device counters. */
static int
stats_clear_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
		struct lr_ctl_status *st)
{
	(void)h;
	(void)out;
	(void)count;
	(void)payload;
	if (lr_worker_clear_stats(1000) < 0)
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "a worker did not clear its counters in time");
	lr_port_stats_reset();
	memset(&lr_shm->slow, 0, sizeof(lr_shm->slow));
	return LR_OK;
}

static const struct lr_ctl_handler stats_clear_handler = {
	.type = LR_CTL_STATS_CLEAR, .shape = LR_CTL_CALL, .call = stats_clear_msg,
};
LR_CTL_REGISTER(stats_clear_handler)

void
lr_worker_inject(struct rte_mbuf *m, uint16_t port, unsigned w)
{
	if (lr_n_workers == 0 || port >= lr_n_ports) {
		rte_pktmbuf_free(m);
		lr_shm->slow.dropped++;
		return;
	}
	if (w >= lr_n_workers)
		w = 0;
	m->port = port;
	if (rte_ring_sp_enqueue(lr_workers[w]->inject, m) != 0) {
		rte_pktmbuf_free(m);
		lr_shm->slow.dropped++;
	}
}
