/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Routes: the record table behind the FIB (main lcore only).
 *
 * A record is keyed by (family, prefix, plen) and holds one next-hop value
 * per source; the FIB gets the value of the strongest source present:
 * LOCAL (a port address, punt) > CONNECTED (a port address's subnet, glean)
 * > OPERATOR (ROUTE_BATCH) > NEIGH (host route of a resolved neighbor).
 * So an operator route never conflicts with internal ones: it shadows a
 * neighbor's host route and deleting it restores that one. Only OPERATOR
 * and CONNECTED entries are dumped.
 *
 * Changes go through a transaction: lr_route_txn_set() updates records and
 * stages the FIB change (fib.h); lr_route_txn_commit() publishes and then
 * releases the values that were replaced; lr_route_txn_abort() restores
 * the records and releases the values that were set.
 */
#ifndef LR_ROUTE_H
#define LR_ROUTE_H

#include <stdint.h>
#include "lr_ctl.h"

enum lr_rsrc {
	LR_RSRC_NEIGH = 0,
	LR_RSRC_OPERATOR,
	LR_RSRC_CONNECTED,
	LR_RSRC_LOCAL,
	LR_RSRC_MAX,
};

int lr_route_init(uint32_t max_records);
void lr_route_fini(void);

/**
 * Sets (value) or clears (LR_NH_NONE) one source of a prefix. The
 * transaction takes over the caller's reference on value.
 * @return 0, -ENOSPC (record table or FIB full); on error nothing of this
 * call remains but earlier calls of the transaction do: abort it.
 */
int lr_route_txn_set(uint8_t family, const uint8_t *prefix, uint8_t plen,
		     enum lr_rsrc src, uint32_t value);

/** Current value of one source (transaction included), or LR_NH_NONE. */
uint32_t lr_route_get(uint8_t family, const uint8_t *prefix, uint8_t plen, enum lr_rsrc src);

void lr_route_txn_commit(void);
void lr_route_txn_abort(void);

/**
 * Applies a ROUTE_BATCH all-or-nothing (next hops on ports < lr_n_ports).
 * @return enum lr_status; st filled on error.
 */
int lr_route_batch(const struct lr_route *r, uint32_t n, struct lr_ctl_status *st);

/**
 * Dumps OPERATOR and CONNECTED entries from cursor on.
 * @return entries written (<= max); *next = cursor to continue, *done = 1
 * when nothing is left.
 */
uint32_t lr_route_dump(uint8_t family, uint32_t cursor, struct lr_route *out, uint32_t max,
		       uint32_t *next, uint32_t *done);

/** Records in the table (all sources). */
uint32_t lr_route_count(void);

#endif /* LR_ROUTE_H */
