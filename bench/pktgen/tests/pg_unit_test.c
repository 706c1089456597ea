/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of pktgen's receive-side accounting: the latency histogram
 * (bucket bounds, percentiles) and per-flow sequence tracking (loss,
 * reordering, duplicates, wrap-around). Runs under ctest.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_hist.h"
#include "pg_seq.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

static uint64_t rng = 88172645463325252ull;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_hist_buckets(void)
{
	/* every value lies in its bucket, buckets are at most 1/32 wide and
	 * consecutive buckets tile the value range without gaps */
	for (int i = 0; i < 200000; i++) {
		uint64_t v = xorshift() >> (xorshift() % 64);
		unsigned idx = pg_hist_index(v);
		uint64_t lo, hi;
		CHECK(idx < PG_HIST_BUCKETS, "v=%" PRIu64 " idx=%u", v, idx);
		pg_hist_bucket_range(idx, &lo, &hi);
		CHECK(lo <= v && v <= hi, "v=%" PRIu64 " in [%" PRIu64 ",%" PRIu64 "]", v, lo, hi);
		CHECK(hi - lo <= lo / PG_HIST_SUB, "v=%" PRIu64 " width %" PRIu64, v, hi - lo);
	}
	uint64_t prev_hi = 0;
	for (unsigned idx = 1; idx < PG_HIST_BUCKETS; idx++) {
		uint64_t lo, hi;
		pg_hist_bucket_range(idx, &lo, &hi);
		CHECK(lo == prev_hi + 1, "bucket %u starts at %" PRIu64 " after %" PRIu64, idx, lo, prev_hi);
		CHECK(pg_hist_index(lo) == idx && pg_hist_index(hi) == idx, "bucket %u bounds", idx);
		prev_hi = hi;
	}
	CHECK(prev_hi == UINT64_MAX, "last bucket ends at %" PRIu64, prev_hi);
}

static void
test_hist_percentiles(void)
{
	static struct pg_hist h;

	pg_hist_reset(&h);
	CHECK(pg_hist_percentile(&h, 50) == 0, "empty");

	/* 1..N in random order: the k-th percentile is k% of N, within a bucket */
	const uint64_t n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));
	for (uint64_t i = 0; i < n; i++)
		v[i] = i + 1;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = xorshift() % (i + 1), t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	for (uint64_t i = 0; i < n; i++)
		pg_hist_add(&h, v[i]);
	free(v);
	CHECK(h.count == n && h.min == 1 && h.max == n, "count/min/max");
	CHECK(h.sum == n * (n + 1) / 2, "sum");
	static const double pcts[] = { 1, 10, 50, 90, 99, 99.9, 100 };
	for (unsigned i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double exact = ceil(pcts[i] / 100.0 * (double)n);
		double got = (double)pg_hist_percentile(&h, pcts[i]);
		CHECK(got >= exact && got <= exact * (1.0 + 1.0 / PG_HIST_SUB),
		      "p%g = %.0f, exact %.0f", pcts[i], got, exact);
	}
	CHECK(pg_hist_percentile(&h, 100) == n, "p100 is the max");

	/* a bimodal distribution: 99 % at 1000, 1 % at 50000 */
	pg_hist_reset(&h);
	for (int i = 0; i < 9900; i++)
		pg_hist_add(&h, 1000);
	for (int i = 0; i < 100; i++)
		pg_hist_add(&h, 50000);
	uint64_t p50 = pg_hist_percentile(&h, 50), p99 = pg_hist_percentile(&h, 99);
	uint64_t p999 = pg_hist_percentile(&h, 99.9);
	CHECK(p50 >= 1000 && p50 <= 1000 + 1000 / PG_HIST_SUB, "bimodal p50 %" PRIu64, p50);
	CHECK(p99 == p50, "bimodal p99 %" PRIu64, p99);
	CHECK(p999 == 50000, "bimodal p99.9 %" PRIu64 " (capped by the max)", p999);

	/* a single sample: every percentile is that sample */
	pg_hist_reset(&h);
	pg_hist_add(&h, 777777);
	CHECK(pg_hist_percentile(&h, 0.1) == 777777 && pg_hist_percentile(&h, 99.9) == 777777,
	      "single sample");
}

static void
test_seq_basic(void)
{
	struct pg_seq s;

	/* in order */
	CHECK(pg_seq_init(&s, 1) == 0, "init");
	for (uint32_t i = 0; i < 1000; i++)
		pg_seq_rx(&s, 0, i);
	CHECK(s.unique == 1000 && s.reordered == 0 && s.duplicates == 0, "in order");
	CHECK(pg_seq_span(&s) == 1000, "span");
	pg_seq_free(&s);

	/* loss of 10..19 and of the tail beyond 999 */
	pg_seq_init(&s, 1);
	for (uint32_t i = 0; i < 1000; i++)
		if (i < 10 || i >= 20)
			pg_seq_rx(&s, 0, i);
	CHECK(s.unique == 990 && s.reordered == 0, "gap");
	CHECK(pg_seq_span(&s) - s.unique == 10, "loss from the span");
	pg_seq_free(&s);

	/* reordering: 0 1 2 4 3 5 7 6 ...; duplicates of 2 and 4 */
	pg_seq_init(&s, 1);
	static const uint32_t order[] = { 0, 1, 2, 4, 3, 5, 7, 6, 2, 4, 8, 9 };
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		pg_seq_rx(&s, 0, order[i]);
	CHECK(s.unique == 10 && s.reordered == 2 && s.duplicates == 2 && s.late == 0,
	      "reorder: unique %" PRIu64 " reordered %" PRIu64 " dup %" PRIu64,
	      s.unique, s.reordered, s.duplicates);
	pg_seq_free(&s);

	/* a packet later than the window: reordered and late, not a duplicate */
	pg_seq_init(&s, 1);
	for (uint32_t i = 0; i < 200; i++)
		if (i != 50)
			pg_seq_rx(&s, 0, i);
	pg_seq_rx(&s, 0, 50);
	CHECK(s.unique == 200 && s.reordered == 1 && s.late == 1 && s.duplicates == 0, "late");
	CHECK(pg_seq_span(&s) == s.unique, "late: no loss");
	pg_seq_free(&s);
}

static void
test_seq_flows_and_wrap(void)
{
	struct pg_seq s;

	/* flows are independent: interleaving them is not reordering */
	pg_seq_init(&s, 4);
	for (uint32_t i = 0; i < 100; i++)
		for (uint32_t f = 0; f < 4; f++)
			pg_seq_rx(&s, 3 - f, i);
	CHECK(s.unique == 400 && s.reordered == 0 && pg_seq_span(&s) == 400, "flows");
	pg_seq_free(&s);

	/* the 32-bit wire sequence wraps; the 64-bit count goes on */
	pg_seq_init(&s, 1);
	s.flow[0].next = UINT32_MAX - 99; /* as if 2^32 - 100 had been received */
	for (uint64_t i = UINT32_MAX - 99; i < (uint64_t)UINT32_MAX + 101; i++)
		if (i != (uint64_t)UINT32_MAX + 60)
			pg_seq_rx(&s, 0, (uint32_t)i);
	pg_seq_rx(&s, 0, 59); /* the one skipped above (2^32 + 59), after the wrap */
	CHECK(s.unique == 200 && s.reordered == 1 && s.duplicates == 0 && s.late == 0,
	      "wrap: unique %" PRIu64 " reordered %" PRIu64, s.unique, s.reordered);
	CHECK(s.flow[0].next == (uint64_t)UINT32_MAX + 101, "wrap: next %" PRIu64, s.flow[0].next);
	pg_seq_free(&s);
}

int
main(void)
{
	test_hist_buckets();
	test_hist_percentiles();
	test_seq_basic();
	test_seq_flows_and_wrap();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("pg_unit_test: all checks passed\n");
	return 0;
}
