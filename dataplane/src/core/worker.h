/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Workers: the run-to-completion loop on each worker lcore
 * (rx burst → the stage pipeline of stage.h → tx bursts) and the rings
 * that connect it to the main lcore:
 *  - punt:    worker → main, frames for the slow path (ARP, ND, local);
 *  - resolve: worker → main, addresses traffic needs resolved (stages
 *             post them; the slow path drains them);
 *  - inject:  main → worker, frames the slow path sends, transmitted on the
 *             worker's own TX queues (TX queue index = worker index).
 * A worker is the only writer of its counters in the stats memory.
 */
#ifndef LR_WORKER_H
#define LR_WORKER_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "args.h"
#include "lr_common.h"
#include "lr_stats.h"
#include "stage.h"

#define LR_PUNT_RING    1024
#define LR_INJECT_RING  1024
#define LR_RESOLVE_RING 256
#define LR_WORKER_RING_MBUFS (LR_PUNT_RING + LR_INJECT_RING)
#define LR_IDLE_POLLS   64   /* empty polls before --idle-sleep-us applies */

/** Element of a resolve ring. */
struct lr_resolve_req {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t ip[16];
};

struct lr_worker_rxq {
	uint16_t port;        /**< linerate port index */
	uint16_t dpdk_id;
	uint16_t queue;
	struct lr_stats_rxq *st;
};

/**
 * The RX queues one worker polls. Immutable once published: rxq.c builds a
 * new one, stores it in lr_worker.rxqs and frees the old one after a grace
 * period; the worker loads the pointer once per loop iteration, after its
 * quiescent state.
 */
struct lr_rxq_set {
	uint16_t n;
	struct lr_worker_rxq q[];
};

struct lr_worker {
	unsigned idx;
	unsigned lcore;
	uint16_t burst;
	uint32_t idle_sleep_us;
	struct lr_rxq_set *rxqs;           /**< RCU-published by the main lcore (rxq.c) */
	struct rte_ring *punt, *resolve, *inject;
	struct rte_rcu_qsbr *rcu;
	struct lr_stats_worker *st;
	uint32_t clear_req;   /**< written by main */
	uint32_t clear_ack;   /**< written by the worker */
	void *priv[LR_STAGE_MAX];          /**< each stage's private state */
	struct lr_vec vec;                 /**< the burst in flight */
	struct lr_vec jump[LR_STAGE_MAX];  /**< packets sent ahead to stage i */
} __rte_cache_aligned;

/**
 * Packet tap: while lr_tap is non-NULL (obs/capture.c sets it from the main
 * lcore, and waits a grace period, lr_tset_synchronize(), after clearing
 * it), each worker hands it every burst it receives, sends and drops, with
 * the mbufs unchanged and still its own. Off, it costs one load and one
 * predictable branch per burst. The callbacks must not keep, free or
 * modify the mbufs, nor block.
 */
struct lr_tap {
	/** Received on (port, queue), before any stage. */
	void (*rx)(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf *const *m, uint16_t n);
	/** About to be sent on port through TX queue `worker`, rewritten. */
	void (*tx)(unsigned worker, uint16_t port, struct rte_mbuf *const *m, uint16_t n);
	/** Dropped by the pipeline (reason[i] = enum lr_drop_reason of m[i]), about to be freed. */
	void (*drop)(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf *const *m,
		     const uint8_t *reason, uint16_t n);
};

/** The tap in force, NULL when nothing captures. */
extern const struct lr_tap *volatile lr_tap;

extern struct lr_worker *lr_workers[LR_MAX_WORKERS];
extern unsigned lr_n_workers;

/**
 * Creates a worker per EAL worker lcore, their rings and the stages'
 * private state, and spreads the (port, RX queue) pairs over them
 * round-robin (lr_rxq_init). Ports must be configured, lr_stage_setup() done.
 */
int lr_worker_init(const struct lr_args *a, struct rte_rcu_qsbr *rcu);

/**
 * Main lcore, at start: the first queue map, (port, RX queue) pairs
 * round-robin over the workers, port-major (the queues of one port, its
 * RSS spread, land on different workers). @return 0 or -ENOMEM.
 */
int lr_rxq_init(void);

/** Frees the workers' queue lists (after lr_worker_stop). */
void lr_rxq_fini(void);

/**
 * Main lcore: no worker polls port's queues once this returns 0 (one grace
 * period). @return 0, or -ENOMEM: nothing changed, the port is still polled.
 */
int lr_rxq_port_detach(uint16_t port);

/**
 * Main lcore: port's queues (lr_ports[port].rx_queues of them now) are
 * polled again; queues it kept keep their workers, new ones go to the
 * least loaded workers, the counters of removed ones are zeroed.
 * @return 0, or -ENOMEM: the port stays out of the workers' lists.
 */
int lr_rxq_port_attach(uint16_t port);

/** Launches every worker on its lcore. */
int lr_worker_launch(void);

/** Asks the workers to stop and waits for them. */
void lr_worker_stop(void);

/** Frees rings and workers (after stop); in-flight mbufs go back to the pool. */
void lr_worker_fini(void);

/**
 * Has every worker zero its own counters; waits for them up to timeout_ms.
 * @return 0, or -ETIMEDOUT.
 */
int lr_worker_clear_stats(unsigned timeout_ms);

/**
 * Main lcore: sends frame m out of port through worker w's inject ring
 * (worker 0 when w is out of range); freed and counted as a slow-path drop
 * when that cannot be done.
 */
void lr_worker_inject(struct rte_mbuf *m, uint16_t port, unsigned w);

/** Number of worker lcores EAL gave us. */
unsigned lr_worker_count_lcores(void);

#endif /* LR_WORKER_H */
