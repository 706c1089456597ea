/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * FIB: the longest-prefix-match tables workers look destinations up in
 * (rte_fib DIR-24-8 for IPv4, rte_lpm6 for IPv6), double-buffered.
 * IPv4 uses rte_fib rather than rte_lpm because rte_lpm finds an existing
 * rule by a linear scan of its depth group, so adding N routes costs
 * O(N^2) (measured: 71k routes/s at 100k routes); rte_fib keeps its rules
 * in an rte_rib trie (6M routes/s) and looks up as fast.
 *
 * The FIB is one table of the table set (core/tset.h): two identical
 * copies of the pair {v4, v6}; writers stage changes on the shadow copy
 * (lr_fib_stage) inside a table-set batch, which lr_tset_commit() publishes
 * with every other table of the batch, or lr_tset_abort() undoes. Readers
 * therefore see a batch entirely or not at all, in both families at once.
 *
 * Values are next-hop values (nexthop.h). Main lcore only, except
 * lr_fib_of() which is the workers' entry point.
 */
#ifndef LR_FIB_H
#define LR_FIB_H

#include <stdint.h>
#include <rte_fib.h>
#include <rte_lpm6.h>
#include "tset.h"

/** What the IPv4 table returns for a destination without a route. */
#define LR_FIB_MISS (1u << 30)

struct lr_fib_tables {
	struct rte_fib *v4;
	struct rte_lpm6 *v6;
	uint32_t v6_default;  /**< ::/0 (rte_lpm6 takes depths 1-128 only), LR_NH_NONE if none */
};

/** The FIB's id in the table set. */
extern int lr_fib_id;

/** The FIB copy of a table-set version (workers). */
static inline const struct lr_fib_tables *
lr_fib_of(const struct lr_tset *ts)
{
	return (const struct lr_fib_tables *)lr_tset_table(ts, (unsigned)lr_fib_id);
}

/**
 * Creates both copies and registers them in the table set (lr_tset_init()
 * first). rules4/rules6: route capacity; tbl8 groups are derived from them.
 */
int lr_fib_init(uint32_t rules4, uint32_t rules6);
void lr_fib_fini(void);

/**
 * Stages one change on the shadow copy: prefix/plen goes from value old to
 * value new (LR_NH_NONE = absent). Prefix has its host bits cleared.
 * Published by lr_tset_commit(), undone by lr_tset_abort().
 * @return 0, -ENOSPC (rules or tbl8 groups exhausted), -EINVAL.
 */
int lr_fib_stage(uint8_t family, const uint8_t *prefix, uint8_t plen, uint32_t old, uint32_t new_);

/**
 * Looks an address up (main lcore, tests).
 * @param copy 0 = published copy, 1 = shadow copy.
 * @return 0 and *value, or -ENOENT.
 */
int lr_fib_lookup(uint8_t family, const uint8_t *addr, int copy, uint32_t *value);

#endif /* LR_FIB_H */
