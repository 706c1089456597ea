/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Table-set publication: the versioned set of every table the workers read
 * (FIB today; PDR/FAR/QER/URR, flow classifiers tomorrow), changed in
 * batches that readers see whole or not at all, across tables.
 *
 * Each registered table has two identical copies. A writer (main lcore)
 * stages changes with lr_tset_stage(): the table's apply() runs on the
 * shadow copies and the change record is journalled. Then either
 * lr_tset_abort() undoes them on the shadows (nothing visible happened), or
 * lr_tset_commit() publishes the shadows with ONE pointer store (the whole
 * set flips: a batch touching several tables is one version), waits for
 * every worker to pass a quiescent state (rte_rcu_qsbr_synchronize) and
 * replays the journal onto the old copies, so both are identical again.
 *
 * Workers load lr_tset_current() once per poll iteration and reach a table
 * with lr_tset_table(); they must not keep it past their next quiescent
 * state report. Main lcore only, except those two.
 */
#ifndef LR_TSET_H
#define LR_TSET_H

#include <stddef.h>
#include <stdint.h>
#include <rte_rcu_qsbr.h>

#define LR_TSET_MAX 16 /**< tables in the set */

/** One published version of the set. */
struct lr_tset {
	uint64_t version;
	void *tab[LR_TSET_MAX];  /**< copy of table id, as registered */
};

/** What a table gives the set when it registers. */
struct lr_tset_table {
	const char *name;
	void *copy[2];        /**< two identical, separately allocated copies */
	/** Applies a change record to one copy; must succeed on the replay. */
	int (*apply)(void *copy, const void *change);
	/** Reverts a change record applied to one copy (abort). */
	void (*undo)(void *copy, const void *change);
};

extern struct lr_tset *lr_tset_cur;

/** The published version (workers: once per poll iteration). */
static inline const struct lr_tset *
lr_tset_current(void)
{
	return __atomic_load_n(&lr_tset_cur, __ATOMIC_ACQUIRE);
}

/** Table id's copy in version ts. */
static inline const void *
lr_tset_table(const struct lr_tset *ts, unsigned id)
{
	return ts->tab[id];
}

/** Sets up the empty set; rcu may be NULL (no workers: unit tests). */
int lr_tset_init(struct rte_rcu_qsbr *rcu);
void lr_tset_fini(void);

/**
 * Adds a table (before anything is staged). The set keeps t.
 * @return the table id (>= 0), or -ENOSPC.
 */
int lr_tset_register(const struct lr_tset_table *t);

/** Forgets table id (at shutdown, after its copies are freed). */
void lr_tset_unregister(int id);

/** The copy writers change (index 1) or the published one (index 0). */
void *lr_tset_copy(int id, int shadow);

/**
 * Applies change (change_size bytes, copied into the journal) to table
 * id's shadow copy.
 * @return what apply() returned; nothing is journalled on error.
 */
int lr_tset_stage(int id, const void *change, size_t change_size);

/** Changes staged and not yet committed or aborted. */
uint32_t lr_tset_staged(void);

/** Undoes every staged change, newest first. */
void lr_tset_abort(void);

/**
 * Publishes the shadows as one new version, waits for the workers, replays
 * the journal onto the old copies. No-op when nothing is staged.
 * @return 1 when a version was published, 0 otherwise.
 */
int lr_tset_commit(void);

/**
 * Waits until every worker has passed a quiescent state (main lcore): what
 * a writer of any other worker-read pointer (the capture tap) waits for
 * before freeing what the old value pointed to.
 */
void lr_tset_synchronize(void);

/** Versions published so far. */
uint64_t lr_tset_versions(void);

#endif /* LR_TSET_H */
