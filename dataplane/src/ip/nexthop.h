/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Next hops: adjacencies and ECMP groups, the values FIB entries point at.
 *
 * An LPM next-hop value is either an adjacency index or LR_NH_GROUP | group
 * index (rte_lpm6 keeps 21 bits, so both index spaces are 20 bits).
 *
 * An adjacency is (kind, port, family, IP): NEIGH = a neighbor or gateway
 * to forward to, GLEAN = "destination is on-link on this port, resolve it",
 * LOCAL = "addressed to us, punt". Its forwarding state is one 64-bit word
 * (MAC | port | kind | resolved) that the main lcore replaces with a single
 * atomic store, so a worker never sees a torn MAC. Its key (lr_adj_info)
 * is immutable while referenced; workers read it to request resolution.
 *
 * Groups are immutable once created and deduplicated: routes with the same
 * ordered next-hop list share one group. Both kinds are refcounted; the
 * last lr_nh_put() frees the slot, so callers release a value only once no
 * worker can reach it (after the RCU grace period of the FIB swap).
 * Main lcore only, except the read-only arrays below.
 */
#ifndef LR_NEXTHOP_H
#define LR_NEXTHOP_H

#include <stdint.h>
#include "lr_ctl.h"

#define LR_NH_NONE      UINT32_MAX
#define LR_NH_GROUP     (1u << 20)
#define LR_NH_IDX_MASK  (LR_NH_GROUP - 1)
#define LR_NH_MAX_IDX   LR_NH_GROUP
#define LR_NH_BUCKETS   80  /* weighted groups spread over ~64 buckets (+1 per member) */

enum lr_adj_kind {
	LR_ADJ_NEIGH = 1,
	LR_ADJ_GLEAN = 2,
	LR_ADJ_LOCAL = 3,
	LR_ADJ_BCAST = 4,   /**< a connected subnet's broadcast address: dropped (RFC 2644) */
	LR_ADJ_KIND_MAX,
};

/** Told about an adjacency lr_adj_get() just created (still unresolved). */
typedef void (*lr_adj_created_fn)(uint32_t idx);

#define LR_ADJW_RESOLVED   (1ull << 63)
#define LR_ADJW_KIND_SHIFT 56
#define LR_ADJW_PORT_SHIFT 48
#define LR_ADJW_MAC_MASK   ((1ull << 48) - 1)

/** Adjacency key (also its rte_hash key). */
struct lr_adj_info {
	uint8_t kind;
	uint8_t family;
	uint16_t port;
	uint8_t ip[16];
};

struct lr_nh_group {
	uint16_t n;                      /**< members */
	uint16_t n_buckets;
	uint32_t adj[LR_MAX_ECMP];
	uint16_t weight[LR_MAX_ECMP];    /**< as given, 0 stored as 1 */
	uint32_t bucket[LR_NH_BUCKETS];  /**< adjacency per hash bucket */
};

/* Read by workers. */
extern uint64_t *lr_adj_word;
extern struct lr_adj_info *lr_adj_info;
extern struct lr_nh_group *lr_nh_groups;

int lr_nh_init(uint32_t max_adj, uint32_t max_groups);
void lr_nh_fini(void);

/**
 * Finds or creates an adjacency and takes a reference.
 * @param created set to 1 when a new one was made (word unresolved).
 * @return 0, or -ENOSPC.
 */
int lr_adj_get(uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16],
	       uint32_t *idx, int *created);

/**
 * Has fn called for every new adjacency of this kind (one listener per
 * kind): whoever resolves it learns it exists without the route code
 * knowing who that is (neighbors register for LR_ADJ_NEIGH).
 */
void lr_adj_on_created(uint8_t kind, lr_adj_created_fn fn);

/** Adjacency index or LR_NH_NONE; no reference taken. */
uint32_t lr_adj_find(uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16]);

/** Publishes the adjacency's MAC (mac == NULL: unresolved). */
void lr_adj_set_mac(uint32_t idx, const uint8_t *mac);

/**
 * Finds or creates the group of these adjacencies (n >= 2) and takes a
 * reference; the group holds its own references on the adjacencies.
 */
int lr_nh_group_get(unsigned n, const uint32_t *adj, const uint16_t *weight, uint32_t *value);

void lr_nh_ref(uint32_t value);
void lr_nh_put(uint32_t value);
uint32_t lr_nh_refcnt(uint32_t value);

/** Next hops of a value as the control protocol shows them. */
unsigned lr_nh_describe(uint32_t value, struct lr_next_hop *out);

/** Live adjacencies / groups (leak checks in tests). */
uint32_t lr_nh_adj_count(void);
uint32_t lr_nh_group_count(void);

/** Hash bucket → adjacency of a group (fast path). */
static inline uint32_t
lr_nh_group_pick(const struct lr_nh_group *g, uint32_t hash)
{
	return g->bucket[((uint64_t)hash * g->n_buckets) >> 32];
}

#endif /* LR_NEXTHOP_H */
