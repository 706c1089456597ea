/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Stages: the seam between the worker loop and the features.
 *
 * A stage works on a burst: a vector of packets in, and for each packet
 * one of: stay in the vector (go on to the next stage), jump ahead to a
 * later stage (lr_burst_goto), leave through a sink (tx, punt, drop). One
 * call per stage per burst, never one per packet; a stage compacts the
 * vector in place, so the common path copies nothing.
 *
 * The pipeline is the registered stages sorted by their order, run in that
 * order (a later stage never feeds an earlier one):
 *
 *   rx -> ip-classify (100) -> [flow 200] -> [upf 300] -> [lb 400]
 *      -> ip-lookup (500) -> ip-forward (600) -> tx
 *
 * The worker loop knows no feature: it receives, runs the pipeline, and
 * flushes the sinks (one tx burst per output port, the punt ring, one bulk
 * free of the drops). Features register their stages at load time
 * (LR_STAGE_REGISTER) and reach each other only by stage name.
 *
 * Per-packet metadata is one 32-bit word (lr_vec.meta) whose meaning is a
 * contract between adjacent stages (ip-classify -> ip-lookup: the IPv4
 * destination, or LR_IP_META_V6; ip-lookup -> ip-forward: the next-hop
 * value). Everything here runs on a
 * worker lcore: no locks, syscalls, allocations or logs.
 */
#ifndef LR_STAGE_H
#define LR_STAGE_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "args.h"
#include "lr_stats.h"
#include "tset.h"

#define LR_STAGE_MAX 16

/* Orders of the known stages (gaps leave room). */
#define LR_STAGE_ORDER_CLASSIFY 100
#define LR_STAGE_ORDER_FLOW     200
#define LR_STAGE_ORDER_UPF      300
#define LR_STAGE_ORDER_LB       400
#define LR_STAGE_ORDER_LOOKUP   500
#define LR_STAGE_ORDER_FORWARD  600

/** Packets and their metadata words. */
struct lr_vec {
	uint16_t n;
	struct rte_mbuf *m[LR_BURST_MAX];
	uint32_t meta[LR_BURST_MAX];
};

struct lr_worker;

/** One RX burst on its way through the pipeline, with its sinks. */
struct lr_burst {
	struct lr_worker *w;
	const struct lr_tset *ts;      /**< table-set version of this poll */
	struct lr_stats_rxq *rs;       /**< counters of the RX queue (drops by reason) */
	uint16_t in_port;              /**< linerate port the burst came from */
	uint16_t n_out, n_punt, n_drop;
	uint32_t out_ports;            /**< bit per output port used */
	uint32_t pending;              /**< bit per stage with packets in jump[] */
	struct rte_mbuf *out[LR_BURST_MAX];
	uint8_t out_port[LR_BURST_MAX];
	uint16_t n_err;
	struct rte_mbuf *punt[LR_BURST_MAX];
	struct rte_mbuf *err[LR_BURST_MAX];    /**< dropped, and punted to answer with an error */
	struct rte_mbuf *drop[LR_BURST_MAX];
	uint8_t drop_reason[LR_BURST_MAX];  /**< of drop[i] (what a drop capture selects on) */
	struct lr_vec *jump;           /**< LR_STAGE_MAX vectors (the worker's) */
	void *const *priv;             /**< per-stage private state of this worker */
};

/** A stage as a feature declares it. */
struct lr_stage {
	const char *name;              /**< "ip-lookup"; also what lr_stage_id() finds */
	int order;                     /**< position in the pipeline (LR_STAGE_ORDER_*) */
	size_t priv_size;              /**< per-worker private state, zeroed, cache aligned */
	/** Works on v (v->n >= 1); priv is this worker's private state. */
	void (*run)(struct lr_burst *b, struct lr_vec *v, void *priv);
};

/** Adds a stage (load time). */
void lr_stage_register(const struct lr_stage *s);

/** Registers stage s (a static const struct lr_stage) when the program loads. */
#define LR_STAGE_REGISTER(s) \
	RTE_INIT(lr_stage_register_##s) { lr_stage_register(&(s)); }

/**
 * Sorts the registered stages into the pipeline (main lcore, once, before
 * workers start). @return number of stages.
 */
unsigned lr_stage_setup(void);

/** Position of a stage in the pipeline, or -1 (after lr_stage_setup()). */
int lr_stage_id(const char *name);

/** Stages in the pipeline, and stage i's declaration. */
unsigned lr_stage_count(void);
const struct lr_stage *lr_stage_get(unsigned i);

/** Drops m, counted under reason on the burst's RX queue. */
static inline void
lr_burst_drop(struct lr_burst *b, struct rte_mbuf *m, unsigned reason)
{
	b->drop_reason[b->n_drop] = (uint8_t)reason;
	b->drop[b->n_drop++] = m;
	b->rs->drops[reason]++;
}

/**
 * Hands m to the main lcore's slow path (m->port = input port,
 * m->hash.usr = 0: for the slow path to look at).
 */
static inline void
lr_burst_punt(struct lr_burst *b, struct rte_mbuf *m)
{
	m->port = b->in_port;
	m->hash.usr = 0;
	b->punt[b->n_punt++] = m;
}

/**
 * Hands m to the slow path with a nonzero tag (m->hash.usr) saying what it
 * is for (a feature's own protocol between its stage and its slow path);
 * counted as a punt, dropped as punt_full when the ring is full.
 */
static inline void
lr_burst_punt_tagged(struct lr_burst *b, struct rte_mbuf *m, uint32_t tag)
{
	m->port = b->in_port;
	m->hash.usr = tag;
	b->punt[b->n_punt++] = m;
}

/**
 * Drops m, counted under reason, and hands it to the slow path with a
 * nonzero tag (m->hash.usr) saying what to answer (an ICMP error). It is
 * not counted as a punt; if the ring is full it is just freed.
 */
static inline void
lr_burst_punt_error(struct lr_burst *b, struct rte_mbuf *m, unsigned reason, uint32_t tag)
{
	b->rs->drops[reason]++;
	m->port = b->in_port;
	m->hash.usr = tag;
	b->err[b->n_err++] = m;
}

/** Sends m on linerate port `port` (one tx burst per port at the end). */
static inline void
lr_burst_tx(struct lr_burst *b, struct rte_mbuf *m, uint16_t port)
{
	b->out[b->n_out] = m;
	b->out_port[b->n_out++] = (uint8_t)port;
	b->out_ports |= 1u << port;
}

/** Sends the packets queued by lr_burst_tx() now (room for more). */
void lr_burst_flush_tx(struct lr_burst *b);

/** Makes room for n more lr_burst_tx() calls (n <= LR_BURST_MAX). */
static inline void
lr_burst_tx_room(struct lr_burst *b, uint16_t n)
{
	if (unlikely(b->n_out + n > LR_BURST_MAX))
		lr_burst_flush_tx(b);
}

/** Sends m, with meta, on to stage id (a later stage than the caller). */
static inline void
lr_burst_goto(struct lr_burst *b, int id, struct rte_mbuf *m, uint32_t meta)
{
	struct lr_vec *v = &b->jump[id];

	v->m[v->n] = m;
	v->meta[v->n++] = meta;
	b->pending |= 1u << id;
}

/**
 * Runs the pipeline on v (the received burst, metadata zero) from the
 * first stage on. Worker lcores.
 */
void lr_pipeline_run(struct lr_burst *b, struct lr_vec *v);

#endif /* LR_STAGE_H */
