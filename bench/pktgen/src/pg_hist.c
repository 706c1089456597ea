/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_hist: log-linear latency histogram (see pg_hist.h). */
#include <math.h>
#include <string.h>

#include "pg_hist.h"

void
pg_hist_reset(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
pg_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi)
{
	if (idx < PG_HIST_SUB) {
		*lo = *hi = idx;
		return;
	}
	unsigned shift = (idx >> PG_HIST_SUB_BITS) - 1;
	uint64_t m = (uint64_t)(idx & (PG_HIST_SUB - 1)) + PG_HIST_SUB;
	*lo = m << shift;
	*hi = *lo + ((UINT64_C(1) << shift) - 1);
}

uint64_t
pg_hist_percentile(const struct pg_hist *h, double pct)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (unsigned i = 0; i < PG_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t lo, hi;
			pg_hist_bucket_range(i, &lo, &hi);
			if (hi > h->max)
				hi = h->max;
			if (hi < h->min)
				hi = h->min;
			return hi;
		}
	}
	return h->max;
}
