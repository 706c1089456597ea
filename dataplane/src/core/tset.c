/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Table-set publication (see tset.h): two lr_tset versions, one published,
 * one shadow, and a journal of the staged change records (table id, size,
 * bytes), replayed in order on commit and undone in reverse on abort.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stats.h"
#include "tset.h"

struct lr_tset *lr_tset_cur;

struct jrec {
	uint16_t id;
	uint16_t size;
	uint32_t pad;
	/* followed by size bytes, rounded up to 8 */
};

static struct {
	struct lr_tset set[2];
	struct lr_tset_table tab[LR_TSET_MAX];
	unsigned n_tab;
	unsigned active;          /* index of the published set */
	struct rte_rcu_qsbr *rcu;
	uint8_t *jr;              /* journal */
	size_t jr_len, jr_cap;
	uint32_t n_staged;
	uint32_t *rec_off;        /* offset of each record (reverse walk) */
	uint32_t cap_off;
	uint64_t versions;
} ts;

static size_t
rec_len(size_t size)
{
	return sizeof(struct jrec) + ((size + 7) & ~(size_t)7);
}

int
lr_tset_init(struct rte_rcu_qsbr *rcu)
{
	memset(&ts, 0, sizeof(ts));
	ts.rcu = rcu;
	__atomic_store_n(&lr_tset_cur, &ts.set[0], __ATOMIC_RELEASE);
	return 0;
}

void
lr_tset_fini(void)
{
	free(ts.jr);
	free(ts.rec_off);
	memset(&ts, 0, sizeof(ts));
	lr_tset_cur = NULL;
}

int
lr_tset_register(const struct lr_tset_table *t)
{
	unsigned id;

	for (id = 0; id < ts.n_tab; id++)
		if (ts.tab[id].name == NULL)
			break;
	if (id == LR_TSET_MAX || ts.n_staged != 0)
		return -ENOSPC;
	ts.tab[id] = *t;
	ts.set[ts.active].tab[id] = t->copy[0];
	ts.set[ts.active ^ 1].tab[id] = t->copy[1];
	if (id == ts.n_tab)
		ts.n_tab++;
	return (int)id;
}

void
lr_tset_unregister(int id)
{
	if (id < 0 || (unsigned)id >= ts.n_tab)
		return;
	memset(&ts.tab[id], 0, sizeof(ts.tab[id]));
	ts.set[0].tab[id] = ts.set[1].tab[id] = NULL;
}

void *
lr_tset_copy(int id, int shadow)
{
	return ts.set[shadow ? ts.active ^ 1 : ts.active].tab[id];
}

int
lr_tset_stage(int id, const void *change, size_t change_size)
{
	size_t need = rec_len(change_size);
	struct jrec *r;
	int rc;

	if (id < 0 || (unsigned)id >= ts.n_tab || ts.tab[id].apply == NULL || change_size > UINT16_MAX)
		return -EINVAL;
	if (ts.jr_len + need > ts.jr_cap) {
		size_t cap = ts.jr_cap ? ts.jr_cap : 64 << 10;
		void *p;

		while (cap < ts.jr_len + need)
			cap *= 2;
		p = realloc(ts.jr, cap);
		if (p == NULL)
			return -ENOMEM;
		ts.jr = p;
		ts.jr_cap = cap;
	}
	if (ts.n_staged == ts.cap_off) {
		uint32_t cap = ts.cap_off ? ts.cap_off * 2 : 1024;
		void *p = realloc(ts.rec_off, sizeof(*ts.rec_off) * cap);

		if (p == NULL)
			return -ENOMEM;
		ts.rec_off = p;
		ts.cap_off = cap;
	}
	rc = ts.tab[id].apply(ts.set[ts.active ^ 1].tab[id], change);
	if (rc < 0)
		return rc;
	r = (struct jrec *)(void *)(ts.jr + ts.jr_len);
	r->id = (uint16_t)id;
	r->size = (uint16_t)change_size;
	memcpy(r + 1, change, change_size);
	ts.rec_off[ts.n_staged++] = (uint32_t)ts.jr_len;
	ts.jr_len += need;
	return rc;
}

uint32_t
lr_tset_staged(void)
{
	return ts.n_staged;
}

static void
journal_clear(void)
{
	ts.jr_len = 0;
	ts.n_staged = 0;
	/* a huge batch does not keep its journal */
	if (ts.jr_cap > (64u << 20)) {
		free(ts.jr);
		ts.jr = NULL;
		ts.jr_cap = 0;
	}
}

void
lr_tset_abort(void)
{
	struct lr_tset *shadow = &ts.set[ts.active ^ 1];
	uint32_t i;

	for (i = ts.n_staged; i-- > 0;) {
		const struct jrec *r = (const struct jrec *)(const void *)(ts.jr + ts.rec_off[i]);

		ts.tab[r->id].undo(shadow->tab[r->id], r + 1);
	}
	journal_clear();
}

int
lr_tset_commit(void)
{
	struct lr_tset *old;
	size_t off;

	if (ts.n_staged == 0)
		return 0;
	old = &ts.set[ts.active];
	ts.set[ts.active ^ 1].version = old->version + 1;
	ts.active ^= 1;
	__atomic_store_n(&lr_tset_cur, &ts.set[ts.active], __ATOMIC_RELEASE);
	if (ts.rcu != NULL)
		rte_rcu_qsbr_synchronize(ts.rcu, RTE_QSBR_THRID_INVALID);
	/* no worker holds the old version any more: bring it up to date */
	for (off = 0; off < ts.jr_len;) {
		const struct jrec *r = (const struct jrec *)(const void *)(ts.jr + off);

		if (ts.tab[r->id].apply(old->tab[r->id], r + 1) < 0)
			LR_LOG(CRIT, "tset: replay failed on %s: the two copies differ", ts.tab[r->id].name);
		off += rec_len(r->size);
	}
	journal_clear();
	ts.versions++;
	if (lr_shm != NULL)
		lr_shm->slow.table_swaps++;
	return 1;
}

uint64_t
lr_tset_versions(void)
{
	return ts.versions;
}

void
lr_tset_synchronize(void)
{
	if (ts.rcu != NULL)
		rte_rcu_qsbr_synchronize(ts.rcu, RTE_QSBR_THRID_INVALID);
}
