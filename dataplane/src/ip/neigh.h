/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Neighbors: (port, family, IP) → MAC, with state STATIC (NEIGH_BATCH),
 * LEARNED (ARP / NA, RFC 826 merge rule) or INCOMPLETE (resolving).
 *
 * Every entry holds a reference on the NEIGH adjacency of its key and
 * publishes its MAC there, so gateway routes sharing that adjacency follow
 * it. A route that creates a new gateway adjacency does not call us: the
 * adjacency table tells us (lr_adj_on_created) and we start resolving. A resolved entry also installs a host route (/32, /128) with source
 * NEIGH (route.h), which keeps on-link forwarding one LPM lookup; learned
 * entries only where the FIB already makes the address on-link (glean).
 * Resolution requests from the workers are rate-limited to one ARP request
 * / NS per address per second; learned entries expire after
 * LR_NEIGH_REACHABLE_S without confirmation (probed first when routes still
 * use them), incomplete ones soon after traffic stops asking.
 * Main lcore only.
 */
#ifndef LR_NEIGH_H
#define LR_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include "lr_ctl.h"

#define LR_NEIGH_REACHABLE_S   300
#define LR_NEIGH_PROBE_WAIT_S  3
#define LR_NEIGH_RETRY_MS      1000
#define LR_NEIGH_INCOMPLETE_S  5   /* drop an unanswered entry nobody asked for since */
#define LR_NEIGH_HOLD_S        3   /* a held packet older than this: host unreachable */
#define LR_NEIGH_HOLD_TOTAL    2048 /* packets held, all entries together (mbuf pool reserve) */

/** Punt tag (m->hash.usr) of a packet to hold: LR_NEIGH_HOLD_TAG | adjacency index. */
#define LR_NEIGH_HOLD_TAG      0x80000000u

/** Flags of lr_neigh_learn(). */
#define LR_NEIGH_LEARN_CREATE  1u  /**< the frame was addressed to us (RFC 826): may create */
#define LR_NEIGH_LEARN_ANSWER  2u  /**< an ARP reply / NA to us: may answer our request */

/** Packets ip-forward may hold per neighbor (0: it drops them as no_neighbor). */
extern uint32_t lr_neigh_hold_per;

/** Learning limits and holding (from the command line; before traffic). */
struct lr_neigh_conf {
	uint32_t port_max;      /**< learned + INCOMPLETE entries per port, 0 = max / 4 (>= 64) */
	uint32_t hold;          /**< packets held per INCOMPLETE entry, 0 = none */
	bool replies_only;      /**< create / change entries only from answers to our requests */
};

int lr_neigh_init(uint32_t max);
void lr_neigh_fini(void);

/** Number of ports requests are accepted for (set once ports exist). */
void lr_neigh_set_ports(uint16_t n_ports);

/**
 * Sends an ARP request / NS for ip out of port (to dst_mac when given,
 * else broadcast / solicited-node multicast). The slow path provides it:
 * neighbors decide when to ask, the slow path builds the frames.
 */
typedef void (*lr_neigh_solicit_fn)(uint16_t port, uint8_t family, const uint8_t *ip,
				    const uint8_t *dst_mac);

/** Sets who sends solicitations (NULL: none are sent). */
void lr_neigh_set_solicit(lr_neigh_solicit_fn fn);

/** Applies the learning limits and holding of c. */
void lr_neigh_configure(const struct lr_neigh_conf *c);

/** NEIGH_BATCH, all-or-nothing. @return enum lr_status. */
int lr_neigh_batch(const struct lr_neigh *e, uint32_t n, struct lr_ctl_status *st);

/** NEIGH_DUMP, like lr_route_dump(). */
uint32_t lr_neigh_dump(uint8_t family, uint32_t cursor, struct lr_neigh *out, uint32_t max,
		       uint32_t *next, uint32_t *done);

/**
 * A packet from the wire says ip is at mac on port (ARP sender, NS source
 * link-layer option, NA target). Updates an existing entry (not a static
 * one); creates a LEARNED entry only with LR_NEIGH_LEARN_CREATE and a
 * sender on a connected subnet of port; in replies-only mode only an
 * LR_NEIGH_LEARN_ANSWER to a request of ours does either. Packets held for
 * the entry leave through worker w's inject ring.
 * @return 1 if an entry was created or updated.
 */
int lr_neigh_learn(uint16_t port, uint8_t family, const uint8_t *ip, const uint8_t *mac,
		   unsigned flags, unsigned w);

/**
 * A packet ip-forward punted with LR_NEIGH_HOLD_TAG (m->port = input port,
 * from worker w): held until its neighbor resolves, sent at once if it has,
 * or dropped and counted. Takes m.
 */
void lr_neigh_hold(struct rte_mbuf *m, unsigned w);

/** Traffic needs ip on port resolved (worker request, glean). */
void lr_neigh_want(uint16_t port, uint8_t family, const uint8_t *ip);

/** Ageing and retries; call about once a second. */
void lr_neigh_timer(void);

/** Entries in the table. */
uint32_t lr_neigh_count(void);

/**
 * Looks an entry up (tests, slow path).
 * @return state (enum lr_neigh_state) and *mac, or 0 when absent.
 */
int lr_neigh_lookup(uint16_t port, uint8_t family, const uint8_t *ip, uint8_t mac[6]);

#endif /* LR_NEIGH_H */
