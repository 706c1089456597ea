/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_run: the transmit and receive loops and the state they own.
 *
 * One lcore may run both roles (the 2-core set-up: generator and sink on
 * one core, forwarder on the other) or each role gets its own lcore. The
 * TX role owns pg_tx, the RX role owns pg_rx; what the other role or the
 * progress printer needs is published with relaxed atomics once per burst.
 * Time is the TSC throughout: t_start, t_warm = t_start + warm-up, t_stop =
 * t_warm + duration (0 = none). The steady window of each role runs from
 * the first time it sees t_warm to the time TX stopped.
 */
#ifndef PG_RUN_H
#define PG_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pg_config.h"
#include "pg_hist.h"
#include "pg_port.h"
#include "pg_seq.h"
#include "pg_tmpl.h"

/** Packet and time counters at a window edge. */
struct pg_mark {
	bool seen;
	uint64_t tsc;
	uint64_t packets;
};

/** Device counters of both ports at one instant. */
struct pg_dev_mark {
	bool seen;
	uint64_t tsc;
	struct rte_eth_stats tx, rx;
};

struct pg_tx {
	struct pg_tmpl *tmpl;       /**< [flow * nb_sizes + size index] */
	uint32_t *seq;              /**< next sequence number per flow */
	struct rte_mempool *pool;
	uint32_t flow_idx;          /**< next flow (round robin) */
	uint32_t pat_base, pat_idx; /**< size pattern position, see pg_run.c */
	struct rte_mbuf *pend[PG_MAX_BURST]; /**< the last burst; with --retry, what is left to resend */
	uint32_t pend_flow[PG_MAX_BURST];   /**< flow of each pend[] packet */
	uint16_t pend_len[PG_MAX_BURST];    /**< frame length of each pend[] packet */
	uint16_t pend_n, pend_off;
	uint64_t packets;           /**< accepted by the device */
	uint64_t bytes;             /**< frame bytes accepted (FCS excluded) */
	uint64_t refused;           /**< refused by the device, not retried */
	uint64_t retries;           /**< tx_burst calls for refused packets */
	uint64_t alloc_fail;
	struct pg_mark warm, end;
	bool done;
} __rte_cache_aligned;

struct pg_rx {
	struct pg_seq seq;
	uint64_t packets;           /**< every frame received */
	uint64_t bytes;
	uint64_t matched;           /**< carrying our stamp */
	uint64_t foreign;           /**< not ours (no stamp) */
	uint64_t bad_flow;          /**< stamp with a flow index >= --flows */
	uint16_t next_q;            /**< RX queue polled next (round-robin over rx_port.nb_rxq) */
	struct pg_mark warm, end;
	struct pg_hist hist;        /**< latency in TSC cycles, steady window */
} __rte_cache_aligned;

struct pg_ctx {
	const struct pg_config *cfg;
	bool has_tx, has_rx;
	struct pg_port tx_port, rx_port; /**< rx_port.id == tx_port.id when shared */
	uint64_t hz;
	uint64_t t_start, t_warm, t_stop; /**< t_stop 0: no time limit */
	uint64_t drain_cycles, progress_cycles;
	double pps_per_cycle;        /**< 0: no pacing */
	struct pg_tx tx;
	struct pg_rx rx;
	struct pg_dev_mark dev_start, dev_warm, dev_end, dev_final;
	/* published by the TX role for the RX role and the progress line */
	uint64_t pub_tx_packets;
	uint64_t pub_tx_done;        /**< 1 once TX stopped for good */
	uint64_t pub_rx_packets;
	volatile int *quit;
};

/** Reads the device counters of the ports in use. */
void pg_dev_mark_take(struct pg_ctx *ctx, struct pg_dev_mark *m);

/** Runs the TX role, the RX role or both until the run is over. */
void pg_run_loop(struct pg_ctx *ctx, bool do_tx, bool do_rx);

#endif /* PG_RUN_H */
