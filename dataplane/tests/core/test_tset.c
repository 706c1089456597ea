/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Table-set publication and the stage pipeline, on a real EAL without
 * hugepages:
 *  - two tables changed in one batch become visible in one version, while
 *    a reader on a worker lcore checks, at every poll, that it never sees
 *    one table changed without the other; abort leaves nothing behind;
 *  - stages run in their declared order, a stage can jump ahead, and the
 *    sinks receive what the stages sent them.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "lrtest.h"
#include "stage.h"
#include "stats.h"
#include "tset.h"

/* A toy table: a counter array; a change record sets one slot. */
struct toy { uint64_t slot[4]; };
struct toy_change { uint32_t slot; uint64_t old, new_; };

static struct toy toy_a[2], toy_b[2];

static int
toy_apply(void *copy, const void *change)
{
	const struct toy_change *c = change;

	((struct toy *)copy)->slot[c->slot] = c->new_;
	return 0;
}

static void
toy_undo(void *copy, const void *change)
{
	const struct toy_change *c = change;

	((struct toy *)copy)->slot[c->slot] = c->old;
}

static int id_a, id_b;
static struct rte_rcu_qsbr *rcu;
static volatile int reader_run = 1;
static uint64_t reader_polls, reader_torn, reader_versions;

static int
reader(void *arg)
{
	uint64_t last = 0;

	(void)arg;
	rte_rcu_qsbr_thread_online(rcu, 0);
	while (__atomic_load_n(&reader_run, __ATOMIC_RELAXED)) {
		const struct lr_tset *ts = lr_tset_current();
		const struct toy *a = lr_tset_table(ts, (unsigned)id_a);
		const struct toy *b = lr_tset_table(ts, (unsigned)id_b);

		if (a->slot[0] != b->slot[0])
			reader_torn++;
		if (ts->version != last)
			reader_versions++;
		last = ts->version;
		reader_polls++;
		rte_rcu_qsbr_quiescent(rcu, 0);
	}
	rte_rcu_qsbr_thread_offline(rcu, 0);
	return 0;
}

static void
stage_pair(uint64_t from, uint64_t to)
{
	struct toy_change c = { 0, from, to };

	REQUIRE(lr_tset_stage(id_a, &c, sizeof(c)) == 0);
	REQUIRE(lr_tset_stage(id_b, &c, sizeof(c)) == 0);
}

static void
test_tset(unsigned reader_lcore)
{
	struct lr_tset_table ta = { "toy_a", { &toy_a[0], &toy_a[1] }, toy_apply, toy_undo };
	struct lr_tset_table tb = { "toy_b", { &toy_b[0], &toy_b[1] }, toy_apply, toy_undo };
	uint64_t v0, i;
	size_t sz = rte_rcu_qsbr_get_memsize(1);

	rcu = rte_zmalloc("lrt_rcu", sz, RTE_CACHE_LINE_SIZE);
	REQUIRE(rcu != NULL && rte_rcu_qsbr_init(rcu, 1) == 0);
	REQUIRE(rte_rcu_qsbr_thread_register(rcu, 0) == 0);
	REQUIRE(lr_tset_init(rcu) == 0);
	id_a = lr_tset_register(&ta);
	id_b = lr_tset_register(&tb);
	REQUIRE(id_a >= 0 && id_b >= 0 && id_a != id_b);

	/* staged changes are seen on the shadow only */
	stage_pair(0, 7);
	CHECK_EQ(lr_tset_staged(), 2);
	CHECK_EQ(((struct toy *)lr_tset_copy(id_a, 0))->slot[0], 0);
	CHECK_EQ(((struct toy *)lr_tset_copy(id_a, 1))->slot[0], 7);
	/* abort: nothing left, nothing published */
	v0 = lr_tset_versions();
	lr_tset_abort();
	CHECK_EQ(lr_tset_staged(), 0);
	CHECK_EQ(((struct toy *)lr_tset_copy(id_a, 1))->slot[0], 0);
	CHECK_EQ(((struct toy *)lr_tset_copy(id_b, 1))->slot[0], 0);
	CHECK_EQ(lr_tset_commit(), 0);
	CHECK_EQ(lr_tset_versions(), v0);

	/* a reader on another lcore never sees one table without the other */
	REQUIRE(rte_eal_remote_launch(reader, NULL, reader_lcore) == 0);
	for (i = 0; i < 20000; i++) {
		stage_pair(i, i + 1);
		CHECK_EQ(lr_tset_commit(), 1);
		/* both copies of both tables are equal again after the replay */
		CHECK_EQ(((struct toy *)lr_tset_copy(id_a, 1))->slot[0], i + 1);
		CHECK_EQ(((struct toy *)lr_tset_copy(id_b, 0))->slot[0], i + 1);
	}
	__atomic_store_n(&reader_run, 0, __ATOMIC_RELAXED);
	rte_eal_wait_lcore(reader_lcore);
	CHECK_EQ(lr_tset_versions(), v0 + 20000);
	CHECK_EQ(lr_tset_current()->version, 20000);
	CHECK_EQ(reader_torn, 0);
	CHECK(reader_polls > 0);
	CHECK(reader_versions > 1);
	printf("test_tset: reader polled %llu times, saw %llu versions, 0 torn\n",
	       (unsigned long long)reader_polls, (unsigned long long)reader_versions);
	lr_tset_unregister(id_a);
	lr_tset_unregister(id_b);
	lr_tset_fini();
	rte_free(rcu);
}

/* ---- stages: test-only stages registered before the real IP ones ---- */

/* Fake packets: the pointer value is the tag, never dereferenced. */
#define TAG(m) ((uintptr_t)(m) >> 4)

static unsigned trace[8], n_trace, second_saw, third_saw22, third_saw33, bad_meta;

static void
t_first(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	uint16_t i, k = 0;

	(void)priv;
	trace[n_trace++] = 1;
	for (i = 0; i < v->n; i++) {
		switch (TAG(v->m[i]) % 3) {
		case 0:
			v->m[k] = v->m[i];
			v->meta[k++] = 11;
			break;
		case 1:
			lr_burst_goto(b, lr_stage_id("test-third"), v->m[i], 33);
			break;
		default:
			lr_burst_drop(b, v->m[i], LR_DROP_TRUNCATED);
			break;
		}
	}
	v->n = k;
}

static void
t_second(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	uint16_t i;

	(void)b;
	*(unsigned *)priv += 1;  /* private state is this worker's, zeroed */
	trace[n_trace++] = 2;
	for (i = 0; i < v->n; i++) {
		second_saw++;
		if (v->meta[i] != 11 || TAG(v->m[i]) % 3 != 0)
			bad_meta++;
		v->meta[i] = 22;
	}
}

static void
t_third(struct lr_burst *b, struct lr_vec *v, void *priv)
{
	uint16_t i;

	(void)priv;
	trace[n_trace++] = 3;
	for (i = 0; i < v->n; i++) {
		if (v->meta[i] == 22)
			third_saw22++;
		else if (v->meta[i] == 33 && TAG(v->m[i]) % 3 == 1)
			third_saw33++;
		else
			bad_meta++;
		lr_burst_tx(b, v->m[i], (uint16_t)(TAG(v->m[i]) % 2));
	}
	v->n = 0;
}

/* Declared out of order on purpose: the pipeline sorts them. */
static const struct lr_stage test_third = { .name = "test-third", .order = 3, .run = t_third };
static const struct lr_stage test_first = { .name = "test-first", .order = 1, .run = t_first };
static const struct lr_stage test_second = {
	.name = "test-second", .order = 2, .priv_size = sizeof(unsigned), .run = t_second,
};
LR_STAGE_REGISTER(test_third)
LR_STAGE_REGISTER(test_first)
LR_STAGE_REGISTER(test_second)

static void
test_pipeline(void)
{
	static struct lr_vec jump[LR_STAGE_MAX];
	static struct lr_stats_rxq rs;
	static struct lr_vec v;
	static unsigned second_priv;
	void *priv[LR_STAGE_MAX] = { NULL };
	struct lr_burst b;
	unsigned i, n;

	n = lr_stage_setup();
	CHECK(n >= 6);  /* ours and ip-classify, ip-lookup, ip-forward */
	CHECK_EQ(lr_stage_id("test-first"), 0);
	CHECK_EQ(lr_stage_id("test-second"), 1);
	CHECK_EQ(lr_stage_id("test-third"), 2);
	CHECK(lr_stage_id("ip-classify") > 2);
	CHECK(lr_stage_id("ip-lookup") > lr_stage_id("ip-classify"));
	CHECK(lr_stage_id("ip-forward") > lr_stage_id("ip-lookup"));
	CHECK_EQ(lr_stage_id("no-such-stage"), -1);
	CHECK_EQ(lr_stage_get(1)->priv_size, sizeof(unsigned));
	priv[1] = &second_priv;

	memset(&b, 0, sizeof(b));
	b.rs = &rs;
	b.jump = jump;
	b.priv = priv;
	v.n = 30;
	for (i = 0; i < v.n; i++)
		v.m[i] = (struct rte_mbuf *)(uintptr_t)((i + 1) << 4);
	lr_pipeline_run(&b, &v);
	CHECK_EQ(n_trace, 3);  /* the IP stages never ran: nothing reached them */
	CHECK_EQ(trace[0], 1);
	CHECK_EQ(trace[1], 2);
	CHECK_EQ(trace[2], 3);
	CHECK_EQ(second_priv, 1);
	CHECK_EQ(second_saw, 10);   /* tags 3, 6, ... 30 */
	CHECK_EQ(third_saw22, 10);
	CHECK_EQ(third_saw33, 10);  /* tags 1, 4, ... 28 jumped over test-second */
	CHECK_EQ(bad_meta, 0);
	CHECK_EQ(b.n_drop, 10);
	CHECK_EQ(rs.drops[LR_DROP_TRUNCATED], 10);
	CHECK_EQ(b.n_out, 20);
	CHECK_EQ(b.out_ports, 3);
	CHECK_EQ(b.pending, 0);
	CHECK_EQ(v.n, 0);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)"64", (char *)"--no-pci",
			(char *)"--no-shconf", (char *)"--no-telemetry", (char *)"-l", (char *)"0,1",
			prefix, (char *)"--log-level=lib.eal:error", NULL };
	unsigned reader_lcore;
	static char rundir[PATH_MAX];

	(void)argc;
	lrt_watchdog(60);
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-tset-%d", getpid());
	REQUIRE(rte_eal_init(RTE_DIM(eal) - 1, eal) >= 0);
	reader_lcore = rte_get_next_lcore(-1, 1, 0);
	REQUIRE(reader_lcore < RTE_MAX_LCORE);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	test_tset(reader_lcore);
	test_pipeline();
	rte_eal_cleanup();
	rmdir(rundir); /* the EAL leaves its (empty, --in-memory) runtime dir */
	return lrt_finish("test_tset");
}
