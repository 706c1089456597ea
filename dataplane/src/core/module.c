/* SPDX-License-Identifier: BSD-3-Clause */
/* The module registry (see module.h). */
#include <stdlib.h>
#include <string.h>

#include <rte_debug.h>

#include "log.h"
#include "module.h"

static const struct lr_module *mods[LR_MODULE_MAX];
static unsigned n_mods, n_inited;
static bool sorted;

void
lr_module_register(const struct lr_module *m)
{
	if (n_mods == LR_MODULE_MAX)
		rte_panic("module: more than %d modules\n", LR_MODULE_MAX);
	mods[n_mods++] = m;
	sorted = false;
}

static int
by_order(const void *a, const void *b)
{
	const struct lr_module *x = *(const struct lr_module *const *)a;
	const struct lr_module *y = *(const struct lr_module *const *)b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

uint32_t
lr_module_held_mbufs(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < n_mods; i++)
		n += mods[i]->held_mbufs;
	return n;
}

int
lr_module_init_all(const struct lr_module_env *env)
{
	int rc;

	if (!sorted) {
		qsort(mods, n_mods, sizeof(mods[0]), by_order);
		sorted = true;
	}
	for (n_inited = 0; n_inited < n_mods; n_inited++) {
		const struct lr_module *m = mods[n_inited];

		rc = m->init != NULL ? m->init(env) : 0;
		if (rc < 0) {
			LR_LOG(ERR, "module %s: initialisation failed", m->name);
			n_inited++;  /* its fini cleans up what it made */
			return rc;
		}
	}
	return 0;
}

void
lr_module_fini_all(void)
{
	while (n_inited > 0) {
		const struct lr_module *m = mods[--n_inited];

		if (m->fini != NULL)
			m->fini();
	}
}

unsigned
lr_module_poll_all(void)
{
	unsigned i, work = 0;

	for (i = 0; i < n_inited; i++)
		if (mods[i]->poll != NULL)
			work += mods[i]->poll();
	return work;
}

void
lr_module_timer_all(void)
{
	unsigned i;

	for (i = 0; i < n_inited; i++)
		if (mods[i]->timer != NULL)
			mods[i]->timer();
}
