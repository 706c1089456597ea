/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_hist: latency histogram with log-linear buckets (HdrHistogram style).
 *
 * Values (TSC cycles) below 2^PG_HIST_SUB_BITS get one bucket each; above,
 * every power of two is split into 2^PG_HIST_SUB_BITS equal buckets, so a
 * bucket is at most 1/32 (3.1 %) of its value wide. Recording is a clz, a
 * shift and an increment: no allocation, no floating point. min, max and the
 * sum are kept exactly. Pure C (no DPDK) so that it is unit tested alone.
 */
#ifndef PG_HIST_H
#define PG_HIST_H

#include <stdint.h>

#define PG_HIST_SUB_BITS 5
#define PG_HIST_SUB      (1u << PG_HIST_SUB_BITS)
/* groups: exact group 0 then one per exponent PG_HIST_SUB_BITS..63 */
#define PG_HIST_BUCKETS  ((64 - PG_HIST_SUB_BITS + 1) * PG_HIST_SUB)

struct pg_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t bucket[PG_HIST_BUCKETS];
};

void pg_hist_reset(struct pg_hist *h);

static inline unsigned
pg_hist_index(uint64_t v)
{
	if (v < PG_HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= SUB_BITS */
	unsigned shift = e - PG_HIST_SUB_BITS;
	return ((shift + 1) << PG_HIST_SUB_BITS) +
		(unsigned)((v >> shift) - PG_HIST_SUB);
}

static inline void
pg_hist_add(struct pg_hist *h, uint64_t v)
{
	h->bucket[pg_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/** Lowest and highest value that fall into bucket @p idx. */
void pg_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi);

/**
 * Value at percentile @p pct (0 < pct <= 100): the highest value of the
 * bucket holding the ceil(pct% * count)-th smallest sample, capped by the
 * exact max. 0 when the histogram is empty.
 */
uint64_t pg_hist_percentile(const struct pg_hist *h, double pct);

#endif /* PG_HIST_H */
