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
 * Two identical copies of the pair {lpm4, lpm6} exist. Writers stage a
 * batch of changes on the shadow copy (lr_fib_stage), then either undo them
 * there (lr_fib_abort: nothing visible changed) or publish the shadow with
 * one atomic pointer store (lr_fib_commit), wait for every worker to pass a
 * quiescent state (rte_rcu_qsbr_synchronize) and replay the batch onto the
 * old copy, so both are identical again. Readers therefore see a batch
 * entirely or not at all, in both families at once.
 *
 * Values are next-hop values (nexthop.h). Main lcore only, except
 * lr_fib_current() which is the workers' entry point.
 */
#ifndef LR_FIB_H
#define LR_FIB_H

#include <stdint.h>
#include <rte_fib.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

/** What the IPv4 table returns for a destination without a route. */
#define LR_FIB_MISS (1u << 30)

struct lr_fib_tables {
	struct rte_fib *v4;
	struct rte_lpm6 *v6;
	uint32_t v6_default;  /**< ::/0 (rte_lpm6 takes depths 1-128 only), LR_NH_NONE if none */
};

/** The published copy. */
extern struct lr_fib_tables *lr_fib_cur;

static inline const struct lr_fib_tables *
lr_fib_current(void)
{
	return __atomic_load_n(&lr_fib_cur, __ATOMIC_ACQUIRE);
}

/**
 * Creates both copies. rules4/rules6: route capacity; tbl8 groups are
 * derived from them.
 */
int lr_fib_init(struct rte_rcu_qsbr *rcu, uint32_t rules4, uint32_t rules6);
void lr_fib_fini(void);

/**
 * Stages one change on the shadow copy: prefix/plen goes from value old to
 * value new (LR_NH_NONE = absent). Prefix has its host bits cleared.
 * @return 0, -ENOSPC (rules or tbl8 groups exhausted), -EINVAL.
 */
int lr_fib_stage(uint8_t family, const uint8_t *prefix, uint8_t plen, uint32_t old, uint32_t new_);

/** Number of staged changes. */
uint32_t lr_fib_staged(void);

/** Undoes every staged change on the shadow copy. */
void lr_fib_abort(void);

/**
 * Publishes the shadow copy, waits for the workers, replays the staged
 * changes onto the old copy. No-op when nothing is staged.
 * @return 1 when a new version was published, 0 otherwise.
 */
int lr_fib_commit(void);

/**
 * Looks an address up (main lcore, tests).
 * @param copy 0 = published copy, 1 = shadow copy.
 * @return 0 and *value, or -ENOENT.
 */
int lr_fib_lookup(uint8_t family, const uint8_t *addr, int copy, uint32_t *value);

/** Versions published so far. */
uint64_t lr_fib_versions(void);

#endif /* LR_FIB_H */
