/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The (port, RX queue) -> worker map (lr_ctl.h: LR_CTL_QUEUE_MAP,
 * LR_CTL_QUEUE_MOVE). Owned by the main lcore: it alone builds the
 * workers' queue lists (struct lr_rxq_set, worker.h) and publishes them;
 * each worker loads its own list once per loop iteration, after its
 * quiescent state (worker.c).
 *
 * A move batch, all-or-nothing: every entry is checked and every new list
 * allocated before anything is published. Then (1) each worker that loses
 * queues gets its list without them, and a grace period passes
 * (rte_rcu_qsbr_synchronize on the workers' QSBR): no worker polls a
 * moving queue any more; (2) each worker that gains queues gets its final
 * list, another grace period passes, and the replaced lists are freed. A
 * queue is thus never polled by two workers at once (the RX burst and the
 * queue's counters keep one writer) and waits for a poller only during
 * the grace period in between; its frames wait in the device's RX
 * descriptors meanwhile.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "ctl.h"
#include "log.h"
#include "port.h"
#include "stats.h"
#include "status.h"
#include "tset.h"
#include "worker.h"

/* Main lcore's view of the map: owner[p][q] = worker index. */
static uint16_t rxq_owner[LR_MAX_PORTS][LR_MAX_QUEUES];
static uint32_t rxq_moves[LR_MAX_PORTS][LR_MAX_QUEUES];
static uint32_t rxq_version;
/* RX queues of each port the map knows (what lr_rxq_port_attach compares with). */
static uint16_t rxq_known[LR_MAX_PORTS];
static uint64_t rxq_last_move_ns;

/* Ports whose queues no worker polls (their device is being reconfigured). */
static uint8_t rxq_detached[LR_MAX_PORTS];

/* A list for worker w from owner[][] (port-major, queue order); NULL on no memory. */
static struct lr_rxq_set *
rxq_build(unsigned w, const uint16_t owner[LR_MAX_PORTS][LR_MAX_QUEUES], int only_kept)
{
	struct lr_rxq_set *s;
	unsigned p, q, n = 0;

	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues && !rxq_detached[p]; q++)
			n += owner[p][q] == w && (!only_kept || rxq_owner[p][q] == w);
	s = rte_zmalloc_socket("lr_rxq_set", sizeof(*s) + n * sizeof(s->q[0]), RTE_CACHE_LINE_SIZE,
			       (int)rte_lcore_to_socket_id(lr_workers[w]->lcore));
	if (s == NULL)
		return NULL;
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues && !rxq_detached[p]; q++) {
			struct lr_worker_rxq *r;

			if (owner[p][q] != w || (only_kept && rxq_owner[p][q] != w))
				continue;
			r = &s->q[s->n++];
			r->port = (uint16_t)p;
			r->dpdk_id = lr_port_rt[p].dpdk_id;
			r->queue = (uint16_t)q;
			r->st = &lr_shm->rxq[p][q];
		}
	return s;
}

/* Stats memory: who polls what (read by serve, StatsService and QueueService). */
static void
rxq_publish_stats(void)
{
	unsigned p, q, w;

	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues; q++)
			__atomic_store_n(&lr_shm->rxq[p][q].worker, (int32_t)rxq_owner[p][q], __ATOMIC_RELAXED);
	for (w = 0; w < lr_n_workers; w++)
		lr_workers[w]->st->rx_queues = lr_workers[w]->rxqs->n;
}

int
lr_rxq_init(void)
{
	unsigned p, q, w, k = 0, max_q = 0;

	for (p = 0; p < lr_n_ports; p++)
		max_q = RTE_MAX(max_q, (unsigned)lr_ports[p].rx_queues);
	/* port-major: (p0,q0) w0, (p0,q1) w1, (p1,q0) w0 ... */
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < max_q; q++)
			if (q < lr_ports[p].rx_queues)
				rxq_owner[p][q] = (uint16_t)(k++ % lr_n_workers);
	for (w = 0; w < lr_n_workers; w++) {
		lr_workers[w]->rxqs = rxq_build(w, rxq_owner, 0);
		if (lr_workers[w]->rxqs == NULL)
			return -ENOMEM;
		LR_LOG(INFO, "worker %u on lcore %u polls %u queue(s)", w, lr_workers[w]->lcore,
		       lr_workers[w]->rxqs->n);
	}
	memset(rxq_moves, 0, sizeof(rxq_moves));
	memset(rxq_detached, 0, sizeof(rxq_detached));
	for (p = 0; p < lr_n_ports; p++)
		rxq_known[p] = lr_ports[p].rx_queues;
	rxq_version = 1;
	rxq_publish_stats();
	return 0;
}

void
lr_rxq_fini(void)
{
	unsigned w;

	for (w = 0; w < lr_n_workers; w++)
		if (lr_workers[w] != NULL) {
			rte_free(lr_workers[w]->rxqs);
			lr_workers[w]->rxqs = NULL;
		}
}

/*
 * Every worker gets a list from rxq_owner again: all are built before any
 * is published (no memory: nothing changes, -ENOMEM); one grace period,
 * then the old lists go.
 */
static int
rxq_republish(void)
{
	struct lr_rxq_set *old[LR_MAX_WORKERS] = {0}, *s[LR_MAX_WORKERS] = {0};
	unsigned w;

	for (w = 0; w < lr_n_workers; w++) {
		s[w] = rxq_build(w, rxq_owner, 0);
		if (s[w] == NULL) {
			while (w-- > 0)
				rte_free(s[w]);
			LR_LOG(ERR, "queue map: no memory for the workers' lists");
			return -ENOMEM;
		}
	}
	for (w = 0; w < lr_n_workers; w++) {
		old[w] = lr_workers[w]->rxqs;
		__atomic_store_n(&lr_workers[w]->rxqs, s[w], __ATOMIC_RELEASE);
	}
	lr_tset_synchronize();
	for (w = 0; w < lr_n_workers; w++)
		rte_free(old[w]);
	rxq_version++;
	return 0;
}

int
lr_rxq_port_detach(uint16_t port)
{
	int rc;

	rxq_detached[port] = 1;
	rc = rxq_republish();
	if (rc != 0)
		rxq_detached[port] = 0;
	return rc;
}

int
lr_rxq_port_attach(uint16_t port)
{
	unsigned q, w, load[LR_MAX_WORKERS] = {0}, p;
	uint16_t n = lr_ports[port].rx_queues;
	int rc;

	/* Queues it kept stay with their workers; new ones go to the least loaded. */
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues; q++)
			if (p != port || q < rxq_known[port])
				load[rxq_owner[p][q]]++;
	for (q = rxq_known[port]; q < n; q++) {
		unsigned best = 0;

		for (w = 1; w < lr_n_workers; w++)
			if (load[w] < load[best])
				best = w;
		rxq_owner[port][q] = (uint16_t)best;
		rxq_moves[port][q] = 0;
		load[best]++;
	}
	/* Counters of queues that are gone: no worker writes them any more. */
	for (q = n; q < LR_MAX_QUEUES; q++) {
		memset(&lr_shm->rxq[port][q], 0, sizeof(lr_shm->rxq[port][q]));
		lr_shm->rxq[port][q].worker = -1;
	}
	rxq_known[port] = n;
	rxq_detached[port] = 0;
	rc = rxq_republish();
	rxq_publish_stats();
	return rc;
}

/* QUEUE_MOVE: see the file comment. */
static int
rxq_move_batch(const struct lr_queue_move *m, uint32_t n, struct lr_ctl_status *st)
{
	static uint16_t next[LR_MAX_PORTS][LR_MAX_QUEUES];
	static uint8_t seen[LR_MAX_PORTS][LR_MAX_QUEUES];
	struct lr_rxq_set *mid[LR_MAX_WORKERS] = {0}, *fin[LR_MAX_WORKERS] = {0};
	struct lr_rxq_set *old[LR_MAX_WORKERS] = {0};
	uint8_t loses[LR_MAX_WORKERS] = {0}, gains[LR_MAX_WORKERS] = {0};
	unsigned p, q, w, changed = 0;
	uint64_t t0 = rte_get_timer_cycles();
	uint32_t i;

	memcpy(next, rxq_owner, sizeof(next));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		if (m[i].port_id >= lr_n_ports)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "port_id: no port %u (%u ports)",
					     m[i].port_id, lr_n_ports);
		p = m[i].port_id;
		if (m[i].queue >= lr_ports[p].rx_queues)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "queue: port %s has %u RX queue(s), no queue %u",
					     lr_ports[p].name, lr_ports[p].rx_queues, m[i].queue);
		if (m[i].worker >= lr_n_workers)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "worker: no worker %u (%u workers)",
					     m[i].worker, lr_n_workers);
		q = m[i].queue;
		if (seen[p][q])
			return lr_status_set(st, LR_ERR_INVALID, i, "queue: port %s queue %u is moved twice in the batch",
					     lr_ports[p].name, q);
		seen[p][q] = 1;
		if (next[p][q] != m[i].worker) {
			loses[next[p][q]] = 1;
			gains[m[i].worker] = 1;
			next[p][q] = m[i].worker;
			changed++;
		}
	}
	if (changed == 0)
		return LR_OK;
	/* Every list is made before the first is published: no memory, no change. */
	for (w = 0; w < lr_n_workers; w++) {
		if (loses[w] && gains[w]) {
			mid[w] = rxq_build(w, next, 1);
			if (mid[w] == NULL)
				goto nomem;
		}
		if (loses[w] || gains[w]) {
			fin[w] = rxq_build(w, next, 0);
			if (fin[w] == NULL)
				goto nomem;
		}
	}
	/* (1) the moving queues leave their workers */
	for (w = 0; w < lr_n_workers; w++) {
		if (!loses[w])
			continue;
		old[w] = lr_workers[w]->rxqs;
		__atomic_store_n(&lr_workers[w]->rxqs, gains[w] ? mid[w] : fin[w], __ATOMIC_RELEASE);
	}
	lr_tset_synchronize();
	/* (2) nobody polls them now: they join their new workers */
	for (w = 0; w < lr_n_workers; w++) {
		if (!gains[w])
			continue;
		if (old[w] == NULL)
			old[w] = lr_workers[w]->rxqs;
		__atomic_store_n(&lr_workers[w]->rxqs, fin[w], __ATOMIC_RELEASE);
	}
	lr_tset_synchronize();
	for (w = 0; w < lr_n_workers; w++) {
		rte_free(old[w]);
		rte_free(mid[w]);
	}
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues; q++)
			rxq_moves[p][q] += next[p][q] != rxq_owner[p][q];
	memcpy(rxq_owner, next, sizeof(rxq_owner));
	rxq_version++;
	rxq_last_move_ns = (rte_get_timer_cycles() - t0) * 1000000000ull / rte_get_timer_hz();
	rxq_publish_stats();
	LR_LOG(INFO, "queue map v%u: %u queue(s) moved in %lu ns", rxq_version, changed,
	       (unsigned long)rxq_last_move_ns);
	return LR_OK;
nomem:
	for (w = 0; w < lr_n_workers; w++) {
		rte_free(mid[w]);
		rte_free(fin[w]);
	}
	return lr_status_set(st, LR_ERR_NO_SPACE, 0, "no memory for the workers' queue lists");
}

/* QUEUE_MAP: every (port, queue) with its worker, port-major. */
static int
rxq_map_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	    struct lr_ctl_status *st)
{
	struct lr_queue_entry *e = out;
	unsigned p, q, n = 0;

	(void)h;
	(void)st;
	for (p = 0; p < lr_n_ports; p++)
		for (q = 0; q < lr_ports[p].rx_queues; q++) {
			memset(&e[n], 0, sizeof(e[n]));
			e[n].port_id = (uint16_t)p;
			e[n].queue = (uint16_t)q;
			e[n].worker = rxq_owner[p][q];
			e[n].lcore = (uint16_t)lr_workers[rxq_owner[p][q]]->lcore;
			e[n].version = rxq_version;
			e[n].moves = rxq_moves[p][q];
			e[n].last_move_ns = rxq_last_move_ns;
			n++;
		}
	*count = n;
	*payload = n * sizeof(*e);
	return LR_OK;
}

static int
rxq_move_msg(const void *entries, uint32_t n, struct lr_ctl_status *st)
{
	return rxq_move_batch(entries, n, st);
}

/* PORT_QUEUES: a port's RX queue count (port/port.c does the device part; TX queues stay one per worker). */
static int
rxq_port_queues_msg(const void *entries, uint32_t n, struct lr_ctl_status *st)
{
	const struct lr_port_queues *e = entries;

	if (n != 1)
		return lr_status_set(st, LR_ERR_INVALID, 0, "ports: one port per request, got %u", n);
	if (e->port_id >= lr_n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "port_id: no port %u (%u ports)", e->port_id, lr_n_ports);
	return lr_port_set_queues(e->port_id, e->rx_queues, e->tx_queues, st);
}

static const struct lr_ctl_handler rxq_port_queues_handler = {
	.type = LR_CTL_PORT_QUEUES, .shape = LR_CTL_BATCH, .what = "ports",
	.entry_size = sizeof(struct lr_port_queues), .batch = rxq_port_queues_msg,
};
LR_CTL_REGISTER(rxq_port_queues_handler)

static const struct lr_ctl_handler rxq_map_handler = {
	.type = LR_CTL_QUEUE_MAP, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_queue_entry) * LR_MAX_PORTS * LR_MAX_QUEUES, .call = rxq_map_msg,
};
LR_CTL_REGISTER(rxq_map_handler)

static const struct lr_ctl_handler rxq_move_handler = {
	.type = LR_CTL_QUEUE_MOVE, .shape = LR_CTL_BATCH, .what = "moves",
	.entry_size = sizeof(struct lr_queue_move), .batch = rxq_move_msg,
};
LR_CTL_REGISTER(rxq_move_handler)
