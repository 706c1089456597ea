/* SPDX-License-Identifier: BSD-3-Clause */
/* The stage registry and the pipeline run (see stage.h). */
#include <stdlib.h>
#include <string.h>

#include <rte_debug.h>

#include "stage.h"

static const struct lr_stage *registered[LR_STAGE_MAX];
static unsigned n_registered;

/* The pipeline, in order (written once by lr_stage_setup()). */
static const struct lr_stage *pipe[LR_STAGE_MAX];
static void (*pipe_run[LR_STAGE_MAX])(struct lr_burst *, struct lr_vec *, void *);
static unsigned n_pipe;

void
lr_stage_register(const struct lr_stage *s)
{
	if (n_registered == LR_STAGE_MAX)
		rte_panic("stage: more than %d stages\n", LR_STAGE_MAX);
	registered[n_registered++] = s;
}

static int
by_order(const void *a, const void *b)
{
	const struct lr_stage *x = *(const struct lr_stage *const *)a;
	const struct lr_stage *y = *(const struct lr_stage *const *)b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);  /* equal orders: a stated tie-break */
}

unsigned
lr_stage_setup(void)
{
	unsigned i;

	memcpy(pipe, registered, sizeof(pipe[0]) * n_registered);
	qsort(pipe, n_registered, sizeof(pipe[0]), by_order);
	for (i = 0; i < n_registered; i++)
		pipe_run[i] = pipe[i]->run;
	n_pipe = n_registered;
	return n_pipe;
}

int
lr_stage_id(const char *name)
{
	unsigned i;

	for (i = 0; i < n_pipe; i++)
		if (strcmp(pipe[i]->name, name) == 0)
			return (int)i;
	return -1;
}

unsigned
lr_stage_count(void)
{
	return n_pipe;
}

const struct lr_stage *
lr_stage_get(unsigned i)
{
	return i < n_pipe ? pipe[i] : NULL;
}

void
lr_pipeline_run(struct lr_burst *b, struct lr_vec *v)
{
	unsigned i;

	for (i = 0; i < n_pipe; i++) {
		if (unlikely(b->pending & (1u << i))) {
			struct lr_vec *j = &b->jump[i];

			memcpy(&v->m[v->n], j->m, sizeof(j->m[0]) * j->n);
			memcpy(&v->meta[v->n], j->meta, sizeof(j->meta[0]) * j->n);
			v->n = (uint16_t)(v->n + j->n);
			j->n = 0;
			b->pending &= ~(1u << i);
		}
		if (v->n != 0)
			pipe_run[i](b, v, b->priv[i]);
		else if (b->pending == 0)
			break;
	}
}
