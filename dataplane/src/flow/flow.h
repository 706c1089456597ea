/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Flow tables (contract: include/lr_flow.h): the rules the main lcore
 * keeps, and the version of them the `flow` stage reads, as one table of
 * the table set (core/tset.h).
 *
 * Each copy of the set holds: the rte_acl contexts of the wildcard table
 * (one per family; NULL when a family has no rule), the rte_hash of the
 * exact table (5-tuple -> slot) and the actions by slot. A slot is the
 * rule's position in the main lcore's id table; counters are per worker,
 * by slot, so both copies count into the same place.
 *
 * An ACL context is immutable once built, so a change to the wildcard
 * table builds new contexts aside (main lcore, traffic keeps flowing on
 * the published ones) and stages ONE change record that points the shadow
 * copy at them; the replay after the grace period points the other copy
 * at the same contexts, and the old ones are freed. The copy[2] + replay
 * model of the table set thus fits an ACL rebuild without a new kind of
 * publication: the record carries the pointers, not the rules.
 *
 * Written by the FLOW_BATCH handler (flow.c) on the main lcore; read by
 * the `flow` stage (stage.c) on the workers.
 */
#ifndef LR_FLOW_MOD_H
#define LR_FLOW_MOD_H

#include <stdint.h>

#include <rte_acl.h>
#include <rte_hash.h>
#include <rte_meter.h>

#include "lr_ctl.h"

/** The exact-match key: what the stage builds from each packet. */
struct lr_flow_key {
	uint8_t family;
	uint8_t proto;
	uint16_t pad;
	uint16_t sport;        /**< network byte order */
	uint16_t dport;
	uint8_t src[16];       /**< IPv4 in the first 4 bytes, rest zero */
	uint8_t dst[16];
};

/** What the stage does with a packet that hit a rule. */
struct lr_flow_act {
	uint8_t action;        /**< enum lr_flow_action */
	uint8_t flags;         /**< LR_FLOW_F_* */
	uint8_t set_dscp;
	uint8_t meter_mode;
	uint16_t mirror_port;
	uint16_t meter;        /**< F_METER: meter index (profile, per-worker state) */
	uint32_t nh;           /**< FORWARD: next-hop value (ip-forward's meta) */
	uint8_t yellow_dscp, red_dscp;
	uint16_t pad;
};

/** One copy of the flow tables, as the stage reads it. */
struct lr_flow_copy {
	struct rte_acl_ctx *acl[2];  /**< [0] IPv4, [1] IPv6 */
	struct rte_hash *exact;      /**< struct lr_flow_key -> slot (data) */
	struct lr_flow_act *act;     /**< by slot */
	uint32_t n_wild;             /**< wildcard rules published */
	uint32_t n_exact;
};

/** Per-worker counters of one slot. */
struct lr_flow_ctr {
	uint64_t packets;
	uint64_t bytes;
};

/** Table-set id of the flow tables (-1 before lr_flow_init()). */
extern int lr_flow_id;

/** Counters by worker index, then by slot (read by dumps, written by the stage). */
extern struct lr_flow_ctr *lr_flow_ctr[LR_MAX_WORKERS];

/**
 * Meters by index: the profile (written once, before any published rule
 * names the index) and each worker's trTCM state. An index is reused only
 * after the grace period of the batch that released it.
 */
extern struct rte_meter_trtcm_profile *lr_flow_meter_prof;
extern struct rte_meter_trtcm *lr_flow_meter[LR_MAX_WORKERS];

/**
 * Creates the tables: `wild` wildcard rules, `exact` exact flows, counters
 * for `workers` workers. @return 0 or -errno.
 */
int lr_flow_init(uint32_t wild, uint32_t exact, unsigned workers);

/** Frees them (also after a failed init). */
void lr_flow_fini(void);

/**
 * FLOW_BATCH: applies n rules all-or-nothing (st names the entry and field
 * at fault). @return enum lr_status.
 */
int lr_flow_batch(const struct lr_flow *e, uint32_t n, struct lr_ctl_status *st);

/** FLOW_DUMP: rules from cursor on, with their counters summed over workers. */
uint32_t lr_flow_dump(uint8_t family, uint32_t cursor, struct lr_flow *out, uint32_t max,
		      uint32_t *next, uint32_t *done);

/** FLOW_STATS: sizes, memory, last classifier build. */
void lr_flow_get_stats(struct lr_flow_stats *s);

#endif /* LR_FLOW_MOD_H */
