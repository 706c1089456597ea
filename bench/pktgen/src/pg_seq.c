/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_seq: per-flow sequence accounting (see pg_seq.h). */
#include <stdlib.h>
#include <string.h>

#include "pg_seq.h"

int
pg_seq_init(struct pg_seq *s, uint32_t nb_flows)
{
	memset(s, 0, sizeof(*s));
	s->flow = calloc(nb_flows, sizeof(*s->flow));
	if (s->flow == NULL)
		return -1;
	s->nb_flows = nb_flows;
	return 0;
}

void
pg_seq_free(struct pg_seq *s)
{
	free(s->flow);
	s->flow = NULL;
	s->nb_flows = 0;
}

uint64_t
pg_seq_span(const struct pg_seq *s)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < s->nb_flows; i++)
		n += s->flow[i].next;
	return n;
}
