/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route, address and neighbor tables over the double-buffered FIB, on a
 * real EAL without hugepages: batch semantics (all-or-nothing, status
 * index and message), both FIB copies identical after every change, source
 * layering (local > connected > operator > neighbor host route), ECMP
 * groups and their sharing, dumps with cursors, neighbor learning and the
 * ARP requests / NS it sends, and no leaked next hops at the end.
 */
#include <arpa/inet.h>
#include <limits.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "addr.h"
#include "fib.h"
#include "icmp.h"
#include "ipaddr.h"
#include "lrtest.h"
#include "neigh.h"
#include "nexthop.h"
#include "parse.h"
#include "port.h"
#include "route.h"
#include "slowpath.h"
#include "stats.h"
#include "tset.h"
#include "worker.h"

static struct lr_worker fake_worker;
static char rundir[PATH_MAX];

static void
eal_cleanup(void)
{
	rte_eal_cleanup();
	rmdir(rundir);
}

static void
ip(uint8_t family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	REQUIRE(inet_pton(family == LR_AF_INET ? AF_INET : AF_INET6, s, out) == 1);
}

/* "10.0.0.0/24" → route entry with its next hops "port:gw:weight" */
static struct lr_route
route(uint8_t op, const char *pfx, unsigned n, const char *const *nh)
{
	struct lr_route r;
	char buf[64], *slash;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.op = op;
	snprintf(buf, sizeof(buf), "%s", pfx);
	slash = strchr(buf, '/');
	REQUIRE(slash != NULL);
	*slash = '\0';
	r.family = strchr(buf, ':') ? LR_AF_INET6 : LR_AF_INET;
	r.plen = (uint8_t)atoi(slash + 1);
	ip(r.family, buf, r.prefix);
	r.n_next_hops = (uint8_t)n;
	for (i = 0; i < n; i++) {
		char tmp[64], *gw, *w;

		snprintf(tmp, sizeof(tmp), "%s", nh[i]);
		gw = strchr(tmp, '@');
		REQUIRE(gw != NULL);
		*gw++ = '\0';
		w = strchr(gw, '*');
		if (w != NULL) {
			*w++ = '\0';
			r.next_hops[i].weight = (uint16_t)atoi(w);
		}
		r.next_hops[i].port_id = (uint16_t)atoi(tmp);
		if (strcmp(gw, "-") != 0)
			ip(r.family, gw, r.next_hops[i].via);
	}
	return r;
}

static int
batch1(struct lr_route r, struct lr_ctl_status *st)
{
	memset(st, 0, sizeof(*st));
	return lr_route_batch(&r, 1, st);
}

/* Looks dst up in both FIB copies, which must agree. */
static uint32_t
lookup(const char *dst)
{
	uint8_t family = strchr(dst, ':') ? LR_AF_INET6 : LR_AF_INET, a[16];
	uint32_t v0 = LR_NH_NONE, v1 = LR_NH_NONE;
	int r0, r1;

	ip(family, dst, a);
	r0 = lr_fib_lookup(family, a, 0, &v0);
	r1 = lr_fib_lookup(family, a, 1, &v1);
	CHECK_EQ(r0, r1);
	CHECK_EQ(v0, v1);
	return r0 == 0 ? v0 : LR_NH_NONE;
}

static bool
adj_is(uint32_t v, uint8_t kind, uint16_t port, const char *gw)
{
	uint8_t a[16];

	if (v == LR_NH_NONE || (v & LR_NH_GROUP))
		return false;
	if (lr_adj_info[v].kind != kind || lr_adj_info[v].port != port)
		return false;
	if (gw == NULL)
		return true;
	ip(lr_adj_info[v].family, gw, a);
	return memcmp(lr_adj_info[v].ip, a, 16) == 0;
}

static struct rte_mbuf *
sent_frame(void)
{
	void *m = NULL;

	if (rte_ring_dequeue(fake_worker.inject, &m) != 0)
		return NULL;
	return m;
}

static void
drain_sent(void)
{
	struct rte_mbuf *m;

	while ((m = sent_frame()) != NULL)
		rte_pktmbuf_free(m);
}

static struct lr_addr
addr(uint8_t op, uint16_t port, const char *a, uint8_t plen)
{
	struct lr_addr x;

	memset(&x, 0, sizeof(x));
	x.op = op;
	x.family = strchr(a, ':') ? LR_AF_INET6 : LR_AF_INET;
	x.port_id = port;
	x.plen = plen;
	ip(x.family, a, x.addr);
	return x;
}

static struct lr_neigh
neigh(uint8_t op, uint16_t port, const char *a, uint8_t last_mac_byte)
{
	struct lr_neigh x;

	memset(&x, 0, sizeof(x));
	x.op = op;
	x.family = strchr(a, ':') ? LR_AF_INET6 : LR_AF_INET;
	x.port_id = port;
	ip(x.family, a, x.addr);
	x.mac[0] = 0x02;
	x.mac[5] = last_mac_byte;
	return x;
}

static void
test_route_basics(void)
{
	const char *via[] = { "1@10.2.0.2" };
	const char *via2[] = { "0@10.1.0.7" };
	struct lr_ctl_status st;
	uint32_t n0 = lr_route_count();

	CHECK_EQ(batch1(route(LR_OP_ADD, "198.51.100.0/24", 1, via), &st), LR_OK);
	CHECK(adj_is(lookup("198.51.100.77"), LR_ADJ_NEIGH, 1, "10.2.0.2"));
	CHECK_EQ(batch1(route(LR_OP_ADD, "198.51.100.0/24", 1, via), &st), LR_ERR_EXISTS);
	CHECK_STR_HAS(st.msg, "198.51.100.0/24 already exists");
	CHECK_EQ(batch1(route(LR_OP_REPLACE, "198.51.100.0/24", 1, via2), &st), LR_OK);
	CHECK(adj_is(lookup("198.51.100.77"), LR_ADJ_NEIGH, 0, "10.1.0.7"));
	CHECK_EQ(batch1(route(LR_OP_DEL, "198.51.100.0/24", 0, NULL), &st), LR_OK);
	CHECK_EQ(lookup("198.51.100.77"), LR_NH_NONE);
	CHECK_EQ(batch1(route(LR_OP_DEL, "198.51.100.0/24", 0, NULL), &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "does not exist");
	CHECK_EQ(batch1(route(LR_OP_REPLACE, "2001:db8:99::/48", 1, (const char *[]){ "1@fe80::1" }), &st),
		 LR_OK);
	CHECK(adj_is(lookup("2001:db8:99::5"), LR_ADJ_NEIGH, 1, "fe80::1"));
	CHECK_EQ(batch1(route(LR_OP_DEL, "2001:db8:99::/48", 0, NULL), &st), LR_OK);
	CHECK_EQ(lookup("2001:db8:99::5"), LR_NH_NONE);
	CHECK_EQ(lr_route_count(), n0);

	/* default routes, both families */
	CHECK_EQ(lookup("203.0.113.200"), LR_NH_NONE);
	CHECK_EQ(lookup("2001:db8:77::1"), LR_NH_NONE);
	CHECK_EQ(batch1(route(LR_OP_ADD, "0.0.0.0/0", 1, via), &st), LR_OK);
	CHECK_EQ(batch1(route(LR_OP_ADD, "::/0", 1, (const char *[]){ "0@fe80::9" }), &st), LR_OK);
	CHECK(adj_is(lookup("203.0.113.200"), LR_ADJ_NEIGH, 1, "10.2.0.2"));
	CHECK(adj_is(lookup("2001:db8:77::1"), LR_ADJ_NEIGH, 0, "fe80::9"));
	CHECK_EQ(batch1(route(LR_OP_ADD, "::/0", 1, (const char *[]){ "0@fe80::9" }), &st), LR_ERR_EXISTS);
	CHECK_EQ(batch1(route(LR_OP_DEL, "0.0.0.0/0", 0, NULL), &st), LR_OK);
	CHECK_EQ(batch1(route(LR_OP_DEL, "::/0", 0, NULL), &st), LR_OK);
	CHECK_EQ(lookup("203.0.113.200"), LR_NH_NONE);
	CHECK_EQ(lookup("2001:db8:77::1"), LR_NH_NONE);
	CHECK_EQ(lr_route_count(), n0);

	/* syntax errors name the entry and the field */
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.1/24", 1, via), &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "routes[0].prefix: host bits set in 10.0.0.1/24");
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.0/33", 1, via), &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "routes[0].plen");
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.0/24", 1, (const char *[]){ "7@10.2.0.2" }), &st),
		 LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "routes[0].next_hops[0].port_id");
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.0/24", 0, NULL), &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "n_next_hops");
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.0/24", 1, (const char *[]){ "1@224.0.0.1" }), &st),
		 LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "routes[0].next_hops[0].via");
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.0.0.0/24", 2, (const char *[]){ "1@10.2.0.2", "1@10.2.0.2" }), &st),
		 LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "duplicate");
	{
		struct lr_route r = route(LR_OP_ADD, "10.0.0.0/24", 1, via);

		r.family = 5;
		CHECK_EQ(batch1(r, &st), LR_ERR_INVALID);
		CHECK_STR_HAS(st.msg, "routes[0].family");
		r = route(LR_OP_ADD, "10.0.0.0/24", 1, via);
		r.op = 9;
		CHECK_EQ(batch1(r, &st), LR_ERR_INVALID);
		CHECK_STR_HAS(st.msg, "routes[0].op");
	}
	CHECK_EQ(lr_route_count(), n0);
}

/* A failing entry anywhere leaves tables, records and next hops as they were. */
static void
test_route_atomic(void)
{
	const char *a[] = { "0@10.1.0.50" }, *b[] = { "1@-" };
	struct lr_route r[4];
	struct lr_ctl_status st;
	uint32_t rc0 = lr_route_count(), adj0 = lr_nh_adj_count(), nb0 = lr_neigh_count();
	uint64_t v0 = lr_tset_versions();

	r[0] = route(LR_OP_ADD, "198.18.0.0/24", 1, a);
	r[1] = route(LR_OP_ADD, "2001:db8:18::/64", 1, b);
	r[2] = route(LR_OP_ADD, "198.18.1.0/24", 1, b);
	r[3] = route(LR_OP_ADD, "198.18.2.1/24", 1, a);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(lr_route_batch(r, 4, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 3);
	CHECK_STR_HAS(st.msg, "routes[3].prefix");
	CHECK_EQ(lookup("198.18.0.1"), LR_NH_NONE);
	CHECK_EQ(lookup("198.18.1.1"), LR_NH_NONE);
	CHECK_EQ(lookup("2001:db8:18::1"), LR_NH_NONE);
	CHECK_EQ(lr_route_count(), rc0);
	CHECK_EQ(lr_tset_versions(), v0);
	/* the gateway's resolution may have started; its adjacency is the
	 * neighbor entry's, nothing else remains */
	CHECK(lr_nh_adj_count() - adj0 == lr_neigh_count() - nb0);

	/* duplicate keys inside one batch */
	r[3] = route(LR_OP_ADD, "198.18.0.0/24", 1, b);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(lr_route_batch(r, 4, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 3);
	CHECK_STR_HAS(st.msg, "earlier in the same batch");
	CHECK_EQ(lookup("198.18.0.1"), LR_NH_NONE);
	CHECK_EQ(lr_route_count(), rc0);

	/* an existing key fails an ADD after earlier entries applied */
	r[3] = route(LR_OP_ADD, "198.18.3.0/24", 1, b);
	CHECK_EQ(lr_route_batch(r, 4, &st), LR_OK);
	CHECK(adj_is(lookup("198.18.0.1"), LR_ADJ_NEIGH, 0, "10.1.0.50"));
	CHECK(adj_is(lookup("198.18.1.1"), LR_ADJ_GLEAN, 1, NULL));
	CHECK(adj_is(lookup("2001:db8:18::1"), LR_ADJ_GLEAN, 1, NULL));
	r[0] = route(LR_OP_ADD, "198.18.9.0/24", 1, a);
	r[1] = route(LR_OP_DEL, "198.18.1.0/24", 0, NULL);
	r[2] = route(LR_OP_ADD, "198.18.3.0/24", 1, b);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(lr_route_batch(r, 3, &st), LR_ERR_EXISTS);
	CHECK_EQ(st.index, 2);
	CHECK_EQ(lookup("198.18.9.1"), LR_NH_NONE);
	CHECK(adj_is(lookup("198.18.1.1"), LR_ADJ_GLEAN, 1, NULL));
	r[0] = route(LR_OP_DEL, "198.18.0.0/24", 0, NULL);
	r[1] = route(LR_OP_DEL, "198.18.1.0/24", 0, NULL);
	r[2] = route(LR_OP_DEL, "198.18.3.0/24", 0, NULL);
	r[3] = route(LR_OP_DEL, "2001:db8:18::/64", 0, NULL);
	CHECK_EQ(lr_route_batch(r, 4, &st), LR_OK);
	CHECK_EQ(lr_route_count(), rc0);
}

/*
 * A key repeated in one batch is refused whatever the ops and wherever the
 * two entries fall: in one chunk of the batch's bulk lookup (the second
 * entry's lookup predates the first's add) or in two.
 */
static void
test_route_batch_repeats(void)
{
	const char *b[] = { "1@-" };
	static const struct {
		uint8_t op2;
		uint32_t first, second;
	} cases[] = {
		{ LR_OP_ADD, 0, 3 },      { LR_OP_DEL, 0, 3 },      { LR_OP_REPLACE, 0, 3 },
		{ LR_OP_ADD, 5, 40 },     { LR_OP_DEL, 5, 40 },     { LR_OP_REPLACE, 31, 32 },
		{ LR_OP_ADD, 63, 64 },
	};
	static struct lr_route r[70];
	struct lr_ctl_status st;
	uint32_t rc0 = lr_route_count(), adj0 = lr_nh_adj_count(), i, c;
	char pfx[32];

	for (c = 0; c < RTE_DIM(cases); c++) {
		uint32_t n = cases[c].second + 1;

		for (i = 0; i < n; i++) {
			snprintf(pfx, sizeof(pfx), "198.19.%u.0/24", i);
			r[i] = route(LR_OP_ADD, pfx, 1, b);
		}
		r[cases[c].second] = r[cases[c].first];
		r[cases[c].second].op = cases[c].op2;
		if (cases[c].op2 == LR_OP_DEL)
			r[cases[c].second].n_next_hops = 0;
		memset(&st, 0, sizeof(st));
		CHECK_EQ(lr_route_batch(r, n, &st), LR_ERR_INVALID);
		CHECK_EQ(st.index, cases[c].second);
		CHECK_STR_HAS(st.msg, "earlier in the same batch");
		CHECK_EQ(lookup("198.19.0.1"), LR_NH_NONE);
		CHECK_EQ(lr_route_count(), rc0);
		CHECK_EQ(lr_nh_adj_count(), adj0);
	}
	/* present before the batch: a DEL then an ADD of it in one chunk */
	r[0] = route(LR_OP_ADD, "198.19.0.0/24", 1, b);
	CHECK_EQ(lr_route_batch(r, 1, &st), LR_OK);
	r[0] = route(LR_OP_DEL, "198.19.0.0/24", 0, NULL);
	r[1] = route(LR_OP_ADD, "198.19.0.0/24", 1, b);
	CHECK_EQ(lr_route_batch(r, 2, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 1);
	CHECK_STR_HAS(st.msg, "earlier in the same batch");
	CHECK_EQ(lr_route_count(), rc0 + 1);
	CHECK_EQ(lr_route_batch(r, 1, &st), LR_OK);
	CHECK_EQ(lr_route_count(), rc0);
}

/* The FIB's rule capacity: a batch that does not fit changes nothing. */
static void
test_route_capacity(uint32_t rules4)
{
	uint32_t n = rules4 + 100, i, rc0 = lr_route_count();
	struct lr_route *r = calloc(n, sizeof(*r));
	const char *b[] = { "1@-" };
	struct lr_ctl_status st;

	REQUIRE(r != NULL);
	for (i = 0; i < n; i++) {
		char p[32];

		snprintf(p, sizeof(p), "100.%u.%u.%u/28", (i >> 12) & 0xff, (i >> 4) & 0xff, (i & 15) << 4);
		r[i] = route(LR_OP_ADD, p, 1, b);
	}
	memset(&st, 0, sizeof(st));
	CHECK_EQ(lr_route_batch(r, n, &st), LR_ERR_NO_SPACE);
	CHECK(st.index > 0 && st.index < n);
	CHECK_STR_HAS(st.msg, "table full");
	CHECK_EQ(lr_route_count(), rc0);
	CHECK_EQ(lookup("100.0.0.1"), LR_NH_NONE);
	/* what fits, fits */
	CHECK_EQ(lr_route_batch(r, 1000, &st), LR_OK);
	CHECK(adj_is(lookup("100.0.62.121"), LR_ADJ_GLEAN, 1, NULL));
	for (i = 0; i < 1000; i++)
		r[i].op = LR_OP_DEL;
	CHECK_EQ(lr_route_batch(r, 1000, &st), LR_OK);
	CHECK_EQ(lr_route_count(), rc0);
	free(r);
}

/*
 * Churn of long prefixes that resolve like their covering route must not
 * use up IPv4 capacity: rte_fib's tbl8 reservation is per /24 and has to
 * come back when the last long prefix of a /24 goes.
 */
/* Batch of n /25s in distinct /24s: how many fit before IPv4 is full. */
static uint32_t
long_prefixes_fit(struct lr_route *r, uint32_t n)
{
	const char *g[] = { "0@10.1.0.2" };
	struct lr_ctl_status st;
	uint32_t i;

	for (i = 0; i < n; i++) {
		char p[32];

		snprintf(p, sizeof(p), "100.%u.%u.128/25", i >> 8, i & 0xff);
		r[i] = route(LR_OP_ADD, p, 1, g);
	}
	memset(&st, 0, sizeof(st));
	if (lr_route_batch(r, n, &st) == LR_OK) {
		for (i = 0; i < n; i++)
			r[i].op = LR_OP_DEL;
		CHECK_EQ(lr_route_batch(r, n, &st), LR_OK);
		return n;
	}
	CHECK_EQ(st.code, LR_ERR_NO_SPACE);
	CHECK_STR_HAS(st.msg, "IPv4 route table full");
	return st.index;
}

/*
 * Churn of long prefixes that resolve like their covering route must not
 * use up IPv4 capacity: rte_fib reserves a tbl8 group per /24 holding
 * longer prefixes, and the reservation has to come back with the last one.
 */
static void
test_route_churn(uint32_t rules4)
{
	enum { CYCLES = 20, N = 200 };
	uint32_t n_tbl8 = rules4 / 64 < 256 ? 256 : rules4 / 64, rc0 = lr_route_count(), i, c;
	uint32_t fit;
	struct lr_route *r = calloc(n_tbl8 + 1, sizeof(*r));
	const char *b[] = { "1@-" };
	struct lr_ctl_status st;

	REQUIRE(r != NULL && N <= n_tbl8);
	/* one more /24 than there are tbl8 groups cannot fit; most do */
	fit = long_prefixes_fit(r, n_tbl8 + 1);
	CHECK(fit > n_tbl8 - 16 && fit <= n_tbl8);
	CHECK_EQ(batch1(route(LR_OP_ADD, "198.18.0.0/15", 1, b), &st), LR_OK);
	for (c = 0; c < CYCLES; c++) {
		for (i = 0; i < N; i++) {
			char p[32];

			/* distinct /24s, same next hop as the /15 */
			snprintf(p, sizeof(p), "198.%u.%u.%u/32", 18 + (i >> 8), i & 0xff, 1 + c);
			r[i] = route(LR_OP_ADD, p, 1, b);
		}
		CHECK_EQ(lr_route_batch(r, N, &st), LR_OK);
		CHECK_EQ(lookup("198.18.0.1"), lookup("198.18.0.2"));
		for (i = 0; i < N; i++)
			r[i].op = LR_OP_DEL;
		CHECK_EQ(lr_route_batch(r, N, &st), LR_OK);
	}
	CHECK_EQ(lr_route_count(), rc0 + 1);
	CHECK_EQ(batch1(route(LR_OP_DEL, "198.18.0.0/15", 0, NULL), &st), LR_OK);
	/* exactly as much room as before the churn */
	CHECK_EQ(long_prefixes_fit(r, n_tbl8 + 1), fit);
	CHECK_EQ(long_prefixes_fit(r, fit), fit);
	CHECK_EQ(lr_route_count(), rc0);
	free(r);
}

static void
test_ecmp(void)
{
	const char *nh[] = { "0@10.1.0.2*1", "1@10.2.0.2*3" };
	const char *eq[] = { "0@10.1.0.2", "1@10.2.0.2", "1@10.2.0.9" };
	struct lr_ctl_status st;
	struct lr_route dump[16];
	uint32_t g0 = lr_nh_group_count(), v, next, done, n, i, c0 = 0, c1 = 0;
	const struct lr_nh_group *g;

	CHECK_EQ(batch1(route(LR_OP_ADD, "203.0.113.0/24", 2, nh), &st), LR_OK);
	CHECK_EQ(batch1(route(LR_OP_ADD, "203.0.114.0/24", 2, nh), &st), LR_OK);
	v = lookup("203.0.113.1");
	CHECK(v != LR_NH_NONE && (v & LR_NH_GROUP));
	CHECK_EQ(lookup("203.0.114.1"), v);  /* one shared group */
	CHECK_EQ(lr_nh_group_count(), g0 + 1);
	g = &lr_nh_groups[v & LR_NH_IDX_MASK];
	for (i = 0; i < g->n_buckets; i++) {
		if (g->bucket[i] == g->adj[0])
			c0++;
		else if (g->bucket[i] == g->adj[1])
			c1++;
	}
	CHECK_EQ(c0 + c1, g->n_buckets);
	CHECK(c1 >= 2 * c0 && c1 <= 4 * c0);  /* weights 1:3 */
	/* hashes spread over the members by weight */
	c0 = c1 = 0;
	for (i = 0; i < 100000; i++) {
		uint32_t a = lr_nh_group_pick(g, i * 2654435761u);

		if (a == g->adj[0])
			c0++;
		else
			c1++;
	}
	CHECK(c0 > 20000 && c0 < 30000);
	n = lr_route_dump(LR_AF_INET, 0, dump, 16, &next, &done);
	for (i = 0; i < n; i++)
		if (dump[i].plen == 24 && dump[i].prefix[0] == 203 && dump[i].prefix[2] == 113) {
			CHECK_EQ(dump[i].n_next_hops, 2);
			CHECK_EQ(dump[i].next_hops[0].port_id, 0);
			CHECK_EQ(dump[i].next_hops[0].weight, 1);
			CHECK_EQ(dump[i].next_hops[1].port_id, 1);
			CHECK_EQ(dump[i].next_hops[1].weight, 3);
			CHECK_EQ(dump[i].flags, 0);
		}
	CHECK_EQ(batch1(route(LR_OP_REPLACE, "203.0.114.0/24", 3, eq), &st), LR_OK);
	v = lookup("203.0.114.1");
	CHECK_EQ(lr_nh_groups[v & LR_NH_IDX_MASK].n_buckets, 3);
	CHECK_EQ(lr_nh_group_count(), g0 + 2);
	CHECK_EQ(batch1(route(LR_OP_DEL, "203.0.113.0/24", 0, NULL), &st), LR_OK);
	CHECK_EQ(batch1(route(LR_OP_DEL, "203.0.114.0/24", 0, NULL), &st), LR_OK);
	CHECK_EQ(lr_nh_group_count(), g0);
}

static void
test_addresses(void)
{
	struct lr_addr a[3];
	struct lr_ctl_status st;
	struct lr_route dump[64];
	struct lr_addr ad[8];
	uint32_t next, done, n, i, conn = 0;

	a[0] = addr(LR_OP_ADD, 0, "10.1.0.1", 24);
	a[1] = addr(LR_OP_ADD, 1, "10.2.0.1", 24);
	a[2] = addr(LR_OP_ADD, 1, "2001:db8:2::1", 64);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(lr_addr_batch(a, 3, &st), LR_OK);
	CHECK(adj_is(lookup("10.1.0.1"), LR_ADJ_LOCAL, 0, NULL));
	CHECK(adj_is(lookup("10.1.0.200"), LR_ADJ_GLEAN, 0, NULL));
	CHECK(adj_is(lookup("10.2.0.77"), LR_ADJ_GLEAN, 1, NULL));
	CHECK(adj_is(lookup("2001:db8:2::1"), LR_ADJ_LOCAL, 0, NULL));
	CHECK(adj_is(lookup("2001:db8:2::99"), LR_ADJ_GLEAN, 1, NULL));
	CHECK(lr_addr_is_ours(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 1 }));
	CHECK(!lr_addr_is_ours(0, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 1 }));
	CHECK_EQ(lr_addr_dump(ad, 8), 3);

	n = lr_route_dump(0, 0, dump, 64, &next, &done);
	CHECK_EQ(done, 1);
	for (i = 0; i < n; i++)
		if (dump[i].flags & LR_ROUTE_F_CONNECTED) {
			conn++;
			CHECK_EQ(dump[i].n_next_hops, 1);
			CHECK(lr_ip_is_zero(dump[i].family, dump[i].next_hops[0].via));
		}
	CHECK_EQ(conn, 3);

	/* errors */
	a[0] = addr(LR_OP_ADD, 0, "10.2.0.1", 24);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_ERR_EXISTS);
	CHECK_STR_HAS(st.msg, "already on port 1");
	a[0] = addr(LR_OP_DEL, 0, "10.9.9.9", 24);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_ERR_NOT_FOUND);
	a[0] = addr(LR_OP_ADD, 5, "10.9.9.9", 24);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "addresses[0].port_id");
	a[0] = addr(LR_OP_ADD, 0, "224.1.1.1", 24);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_ERR_INVALID);
	a[0] = addr(LR_OP_ADD, 0, "10.9.9.9", 24);
	a[1] = addr(LR_OP_ADD, 0, "10.9.9.10", 33);
	CHECK_EQ(lr_addr_batch(a, 2, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 1);
	CHECK_EQ(lookup("10.9.9.9"), LR_NH_NONE);
	CHECK_EQ(lr_addr_count(), 3);
	/* a second address in the subnet keeps it connected when one goes */
	a[0] = addr(LR_OP_ADD, 0, "10.1.0.254", 24);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_OK);
	a[0] = addr(LR_OP_DEL, 0, "10.1.0.254", 0);
	CHECK_EQ(lr_addr_batch(a, 1, &st), LR_OK);
	CHECK(adj_is(lookup("10.1.0.200"), LR_ADJ_GLEAN, 0, NULL));
	CHECK_EQ(lookup("10.1.0.254") == lookup("10.1.0.200"), 1);
}

static void
test_neighbors(void)
{
	const char *via[] = { "1@10.2.0.12" };
	struct lr_ctl_status st;
	struct rte_mbuf *m;
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x22 }, got[6];
	uint32_t v, gw_adj;
	uint64_t learned0 = lr_shm->slow.neigh_learned;

	drain_sent();
	/* a route via an unknown gateway starts its resolution */
	CHECK_EQ(batch1(route(LR_OP_ADD, "192.0.2.0/24", 1, via), &st), LR_OK);
	gw_adj = lookup("192.0.2.1");
	CHECK(adj_is(gw_adj, LR_ADJ_NEIGH, 1, "10.2.0.12"));
	CHECK_EQ(lr_adj_word[gw_adj] & LR_ADJW_RESOLVED, 0);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 12 }, NULL),
		 LR_NEIGH_INCOMPLETE);
	m = sent_frame();
	REQUIRE(m != NULL);
	{
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(f + 14);

		CHECK_EQ(m->port, 1);
		CHECK(memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0);
		CHECK(memcmp(f + 6, lr_port_rt[1].mac.addr_bytes, 6) == 0);
		CHECK_EQ(f[12], 0x08);
		CHECK_EQ(f[13], 0x06);
		CHECK_EQ(a->arp_opcode, htons(1));
		CHECK(memcmp(&a->arp_data.arp_tip, (const uint8_t[]){ 10, 2, 0, 12 }, 4) == 0);
		/* sender: the port's address in the target's subnet */
		CHECK(memcmp(&a->arp_data.arp_sip, (const uint8_t[]){ 10, 2, 0, 1 }, 4) == 0);
		rte_pktmbuf_free(m);
	}
	/* a second request within the retry interval is not sent */
	lr_neigh_want(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 12 });
	CHECK(sent_frame() == NULL);

	/* the answer resolves the gateway and installs its host route */
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 12 }, mac,
				LR_NEIGH_LEARN_ANSWER, 0), 1);
	CHECK_EQ(lr_shm->slow.neigh_learned, learned0 + 1);
	CHECK(lr_adj_word[gw_adj] & LR_ADJW_RESOLVED);
	CHECK(memcmp(&lr_adj_word[gw_adj], mac, 6) == 0);
	CHECK_EQ(lookup("10.2.0.12"), gw_adj);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 12 }, got), LR_NEIGH_LEARNED);
	CHECK(memcmp(got, mac, 6) == 0);
	/* only senders inside a connected subnet of the receiving port are learned */
	{
		uint64_t refused0 = lr_shm->slow.neigh_refused;

		CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, (const uint8_t[]){ 8, 8, 8, 8 }, mac,
					LR_NEIGH_LEARN_CREATE, 0), 0);
		CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 8, 8, 8, 8 }, NULL), 0);
		CHECK_EQ(lookup("8.8.8.8"), LR_NH_NONE);
		CHECK_EQ(lr_neigh_learn(0, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 77 }, mac,
					LR_NEIGH_LEARN_CREATE, 0), 0);
		CHECK_EQ(lr_shm->slow.neigh_refused, refused0 + 2);
		CHECK(adj_is(lookup("10.2.0.77"), LR_ADJ_GLEAN, 1, NULL));
		/* IPv6 link-local senders are on every link */
		CHECK_EQ(lr_neigh_learn(0, LR_AF_INET6, (const uint8_t[]){ 0xfe, 0x80, [15] = 9 }, mac,
					LR_NEIGH_LEARN_CREATE, 0), 1);
	}
	/* unsolicited information about an unknown host creates nothing */
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 44 }, mac, 0, 0), 0);
	CHECK_EQ(lookup("10.2.0.44") == lookup("10.2.0.200"), 1);

	/* an operator /32 shadows the neighbor's host route, not in dumps of it */
	CHECK_EQ(batch1(route(LR_OP_ADD, "10.2.0.12/32", 1, (const char *[]){ "0@10.1.0.9" }), &st), LR_OK);
	v = lookup("10.2.0.12");
	CHECK(adj_is(v, LR_ADJ_NEIGH, 0, "10.1.0.9"));
	CHECK_EQ(batch1(route(LR_OP_DEL, "10.2.0.12/32", 0, NULL), &st), LR_OK);
	CHECK_EQ(lookup("10.2.0.12"), gw_adj);
	CHECK_EQ(batch1(route(LR_OP_DEL, "10.2.0.12/32", 0, NULL), &st), LR_ERR_NOT_FOUND);

	/* static entries */
	{
		struct lr_neigh n[2];
		struct lr_neigh dump[16];
		uint32_t next, done, k, cnt, seen = 0;

		n[0] = neigh(LR_OP_ADD, 1, "10.2.0.3", 0x33);
		n[1] = neigh(LR_OP_ADD, 1, "2001:db8:2::3", 0x34);
		CHECK_EQ(lr_neigh_batch(n, 2, &st), LR_OK);
		v = lookup("10.2.0.3");
		CHECK(adj_is(v, LR_ADJ_NEIGH, 1, "10.2.0.3"));
		CHECK(lr_adj_word[v] & LR_ADJW_RESOLVED);
		CHECK(adj_is(lookup("2001:db8:2::3"), LR_ADJ_NEIGH, 1, "2001:db8:2::3"));
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_ERR_EXISTS);
		/* learning never overrides a static entry */
		CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 3 }, mac,
					LR_NEIGH_LEARN_CREATE, 0), 0);
		CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 3 }, got),
			 LR_NEIGH_STATIC);
		CHECK_EQ(got[5], 0x33);
		/* static overrides learned: ADD over a learned entry is fine */
		n[0] = neigh(LR_OP_ADD, 1, "10.2.0.12", 0x35);
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_OK);
		CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 12 }, got),
			 LR_NEIGH_STATIC);
		CHECK_EQ(((uint8_t *)&lr_adj_word[gw_adj])[5], 0x35);
		/* REPLACE moves the MAC */
		n[0] = neigh(LR_OP_REPLACE, 1, "10.2.0.3", 0x36);
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_OK);
		CHECK_EQ(((uint8_t *)&lr_adj_word[lookup("10.2.0.3")])[5], 0x36);
		/* errors */
		n[0] = neigh(LR_OP_ADD, 1, "10.2.0.4", 0x37);
		n[1] = neigh(LR_OP_ADD, 1, "10.2.0.5", 0x38);
		n[1].mac[0] = 0x01;
		CHECK_EQ(lr_neigh_batch(n, 2, &st), LR_ERR_INVALID);
		CHECK_EQ(st.index, 1);
		CHECK_STR_HAS(st.msg, "neighbors[1].mac");
		CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, (const uint8_t[]){ 10, 2, 0, 4 }, NULL), 0);
		n[1] = neigh(LR_OP_ADD, 1, "10.2.0.4", 0x38);
		CHECK_EQ(lr_neigh_batch(n, 2, &st), LR_ERR_INVALID);
		CHECK_STR_HAS(st.msg, "earlier in the same batch");
		n[0] = neigh(LR_OP_DEL, 1, "10.2.0.99", 0);
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_ERR_NOT_FOUND);
		n[0] = neigh(LR_OP_ADD, 4, "10.2.0.99", 0x40);
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_ERR_NOT_FOUND);

		cnt = lr_neigh_dump(0, 0, dump, 16, &next, &done);
		CHECK_EQ(done, 1);
		for (k = 0; k < cnt; k++)
			if (dump[k].state == LR_NEIGH_STATIC)
				seen++;
		CHECK_EQ(seen, 3);
		cnt = lr_neigh_dump(LR_AF_INET6, 0, dump, 16, &next, &done);
		for (k = 0, seen = 0; k < cnt; k++)
			if (dump[k].state == LR_NEIGH_STATIC) {
				CHECK_EQ(dump[k].family, LR_AF_INET6);
				CHECK_EQ(dump[k].mac[5], 0x34);
				CHECK_EQ(dump[k].addr[15], 3);
				seen++;
			}
		CHECK_EQ(seen, 1);

		/* deleting the gateway's entry unresolves the route, keeps it */
		n[0] = neigh(LR_OP_DEL, 1, "10.2.0.12", 0);
		n[1] = neigh(LR_OP_DEL, 1, "10.2.0.3", 0);
		CHECK_EQ(lr_neigh_batch(n, 2, &st), LR_OK);
		CHECK_EQ(lr_adj_word[gw_adj] & LR_ADJW_RESOLVED, 0);
		CHECK_EQ(lookup("192.0.2.1"), gw_adj);
		CHECK_EQ(lookup("10.2.0.3") == lookup("10.2.0.200"), 1);
		n[0] = neigh(LR_OP_DEL, 1, "2001:db8:2::3", 0);
		CHECK_EQ(lr_neigh_batch(n, 1, &st), LR_OK);
	}
	CHECK_EQ(batch1(route(LR_OP_DEL, "192.0.2.0/24", 0, NULL), &st), LR_OK);

	/* IPv6 resolution sends an NS to the solicited-node group */
	drain_sent();
	lr_neigh_want(1, LR_AF_INET6, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [13] = 0xab, 0xcd, 0xef });
	m = sent_frame();
	REQUIRE(m != NULL);
	{
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_ipv6_hdr *h = (const struct rte_ipv6_hdr *)(f + 14);

		CHECK(memcmp(f, "\x33\x33\xff\xab\xcd\xef", 6) == 0);
		CHECK_EQ(h->hop_limits, 255);
		CHECK_EQ(f[54], LR_ICMP6_NS);
		CHECK(lr_icmp6_cksum_ok(h, f + 54, ntohs(h->payload_len)));
		CHECK_EQ(h->dst_addr[0], 0xff);
		CHECK_EQ(h->dst_addr[12], 0xff);
		CHECK_EQ(h->dst_addr[15], 0xef);
		CHECK_EQ(f[54 + 24], 1);  /* source link-layer option */
		CHECK(memcmp(f + 54 + 26, lr_port_rt[1].mac.addr_bytes, 6) == 0);
		rte_pktmbuf_free(m);
	}
}

/* Dumps page through everything exactly once. */
/* A frame from 10.9.0.2 to 198.51.100.7 as the workers punt it to be answered. */
static struct rte_mbuf *
punted(struct rte_mempool *mp, uint16_t frag, uint8_t proto, uint8_t icmp_type, bool l2_bcast)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *f;
	struct rte_ipv4_hdr *iph;

	REQUIRE(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 20);
	memset(f, 0, 62);
	memcpy(f, l2_bcast ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : lr_port_rt[0].mac.addr_bytes, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x09\x02", 6);
	f[12] = 0x08;
	iph = (struct rte_ipv4_hdr *)(f + 14);
	iph->version_ihl = 0x45;
	iph->total_length = rte_cpu_to_be_16(48);
	iph->fragment_offset = rte_cpu_to_be_16(frag);
	iph->time_to_live = 1;
	iph->next_proto_id = proto;
	{
		uint8_t a16[16];

		ip(LR_AF_INET, "10.9.0.2", a16);
		memcpy(&iph->src_addr, a16, 4);
		ip(LR_AF_INET, "198.51.100.7", a16);
		memcpy(&iph->dst_addr, a16, 4);
	}
	iph->hdr_checksum = rte_ipv4_cksum(iph);
	f[34] = icmp_type;
	m->port = 0;
	m->hash.usr = LR_ICMP_TAG(LR_ICMP_TIME_EXCEEDED, 0);
	return m;
}

/*
 * The slow path answers a TTL expiry with time exceeded from the input
 * port's address, and stays silent (counting it) about a non-first
 * fragment, an ICMP error and a link-layer broadcast (RFC 1812 4.3.2.7);
 * a lone fragment cannot be sent through af_packet in the integration suite.
 */
static void
test_icmp_errors(struct rte_mempool *mp)
{
	struct lr_ctl_status st;
	struct lr_addr a = addr(LR_OP_ADD, 0, "10.9.0.1", 24);
	uint64_t supp = lr_shm->slow.icmp_error_suppressed, tx = lr_shm->slow.icmp_error_tx;
	struct rte_mbuf *m;
	const uint8_t *f;

	drain_sent();
	REQUIRE(lr_addr_batch(&a, 1, &st) == LR_OK);
	lr_slow_input(punted(mp, 0, IPPROTO_UDP, 0, false), 0);
	m = sent_frame();
	CHECK(m != NULL);
	if (m != NULL) {
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		CHECK_EQ(f[23], IPPROTO_ICMP);
		CHECK(memcmp(f + 26, (const uint8_t[]){ 10, 9, 0, 1 }, 4) == 0);  /* from the port's address */
		CHECK(memcmp(f + 30, (const uint8_t[]){ 10, 9, 0, 2 }, 4) == 0);
		CHECK_EQ(f[34], 11);
		CHECK_EQ(f[35], 0);
		CHECK_EQ(rte_raw_cksum(f + 34, rte_pktmbuf_data_len(m) - 34), 0xffff);
		CHECK_EQ(rte_ipv4_cksum((const struct rte_ipv4_hdr *)(f + 14)), 0);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(lr_shm->slow.icmp_error_tx, tx + 1);
	lr_slow_input(punted(mp, 100, IPPROTO_UDP, 0, false), 0);       /* offset 800 bytes */
	lr_slow_input(punted(mp, 0, IPPROTO_ICMP, 3, false), 0);        /* about an error */
	lr_slow_input(punted(mp, 0, IPPROTO_ICMP, 11, false), 0);
	lr_slow_input(punted(mp, 0, IPPROTO_UDP, 0, true), 0);          /* L2 broadcast */
	CHECK(sent_frame() == NULL);
	CHECK_EQ(lr_shm->slow.icmp_error_suppressed, supp + 4);
	CHECK_EQ(lr_shm->slow.icmp_error_tx, tx + 1);
	a.op = LR_OP_DEL;
	REQUIRE(lr_addr_batch(&a, 1, &st) == LR_OK);
}

static void
test_dump_cursor(void)
{
	enum { N = 2000 };
	struct lr_route *r = calloc(N, sizeof(*r)), page[300];
	const char *b[] = { "1@-" };
	struct lr_ctl_status st;
	uint8_t *seen = calloc(N, 1);
	uint32_t cursor = 0, next, done = 0, n, i, total = 0, pages = 0;

	REQUIRE(r != NULL && seen != NULL);
	for (i = 0; i < N; i++) {
		char p[32];

		snprintf(p, sizeof(p), "172.%u.%u.0/24", 16 + i / 256, i % 256);
		r[i] = route(LR_OP_ADD, p, 1, b);
	}
	CHECK_EQ(lr_route_batch(r, N, &st), LR_OK);
	while (!done) {
		n = lr_route_dump(LR_AF_INET, cursor, page, 300, &next, &done);
		CHECK(n <= 300);
		for (i = 0; i < n; i++) {
			unsigned k;

			if (page[i].flags & LR_ROUTE_F_CONNECTED)
				continue;
			k = (page[i].prefix[1] - 16u) * 256 + page[i].prefix[2];
			CHECK(page[i].prefix[0] == 172 && k < N);
			if (k < N)
				seen[k]++;
			total++;
		}
		cursor = next;
		pages++;
		REQUIRE(pages < 100);
	}
	CHECK_EQ(total, N);
	for (i = 0; i < N; i++)
		if (seen[i] != 1) {
			CHECK_EQ(seen[i], 1);
			break;
		}
	CHECK(pages >= N / 300);
	for (i = 0; i < N; i++)
		r[i].op = LR_OP_DEL;
	CHECK_EQ(lr_route_batch(r, N, &st), LR_OK);
	free(r);
	free(seen);
}

/* Dynamic entries of a port in the table. */
static unsigned
dynamic_on(uint16_t port)
{
	struct lr_neigh d[256];
	uint32_t next, done, n, i, c = 0;

	n = lr_neigh_dump(0, 0, d, RTE_DIM(d), &next, &done);
	for (i = 0; i < n; i++)
		if (d[i].port_id == port && d[i].state != LR_NEIGH_STATIC)
			c++;
	return c;
}

static uint8_t *
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t out[4])
{
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
	return out;
}

/*
 * Learning limits (issue 15): a per-port cap with the least recently
 * confirmed entry evicted (never a static one), MAC changes counted, and
 * replies-only mode.
 */
static void
test_neighbor_limits(void)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0x77, 0 }, got[6], a[4];
	uint64_t ev0 = lr_shm->slow.neigh_evicted, mc0 = lr_shm->slow.neigh_mac_changed;
	uint64_t ref0;
	unsigned i, statics = 0;
	struct lr_neigh d[256];
	uint32_t next, done, n;

	drain_sent();
	n = lr_neigh_dump(0, 0, d, RTE_DIM(d), &next, &done);
	for (i = 0; i < n; i++)
		statics += d[i].state == LR_NEIGH_STATIC;
	lr_neigh_configure(&(struct lr_neigh_conf){ .port_max = 8 });
	for (i = 0; i < 20; i++) {
		mac[5] = (uint8_t)i;
		CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, (uint8_t)(100 + i), a), mac,
					LR_NEIGH_LEARN_CREATE, 0), 1);
	}
	CHECK(dynamic_on(1) <= 8);
	CHECK(lr_shm->slow.neigh_evicted >= ev0 + 12);
	/* the newest stay, the oldest went, the static ones all stay */
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 119, a), NULL), LR_NEIGH_LEARNED);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 100, a), NULL), 0);
	n = lr_neigh_dump(0, 0, d, RTE_DIM(d), &next, &done);
	for (i = 0; i < n; i++)
		statics -= d[i].state == LR_NEIGH_STATIC;
	CHECK_EQ(statics, 0);
	/* a confirmation makes an entry the youngest: the next one goes instead */
	mac[5] = 12;
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 112, a), mac, 0, 0), 1);
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 120, a), mac, LR_NEIGH_LEARN_CREATE, 0), 1);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 112, a), NULL), LR_NEIGH_LEARNED);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 113, a), NULL), 0);
	/* the other port's cap is its own */
	CHECK_EQ(lr_neigh_learn(0, LR_AF_INET, ip4(10, 1, 0, 50, a), mac, LR_NEIGH_LEARN_CREATE, 0), 1);
	CHECK(dynamic_on(1) <= 8);

	/* a learned MAC that changes is counted (and logged) */
	mac[5] = 0xee;
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 119, a), mac, 0, 0), 1);
	CHECK_EQ(lr_shm->slow.neigh_mac_changed, mc0 + 1);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 119, a), got), LR_NEIGH_LEARNED);
	CHECK_EQ(got[5], 0xee);
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 119, a), mac, 0, 0), 1);
	CHECK_EQ(lr_shm->slow.neigh_mac_changed, mc0 + 1);  /* same MAC: a confirmation */

	/* replies-only: nothing created or changed but by an answer to our request */
	lr_neigh_configure(&(struct lr_neigh_conf){ .port_max = 8, .replies_only = true });
	ref0 = lr_shm->slow.neigh_refused;
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 130, a), mac, LR_NEIGH_LEARN_CREATE, 0), 0);
	mac[5] = 0xef;
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, ip4(10, 2, 0, 119, a), mac, LR_NEIGH_LEARN_ANSWER, 0), 0);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 119, a), got), LR_NEIGH_LEARNED);
	CHECK_EQ(got[5], 0xee);
	lr_neigh_want(1, LR_AF_INET, ip4(10, 2, 0, 131, a));
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, a, NULL), LR_NEIGH_INCOMPLETE);
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, a, mac, LR_NEIGH_LEARN_CREATE, 0), 0);  /* a request */
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, a, NULL), LR_NEIGH_INCOMPLETE);
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, a, mac, LR_NEIGH_LEARN_ANSWER, 0), 1);   /* the answer */
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, a, NULL), LR_NEIGH_LEARNED);
	CHECK_EQ(lr_shm->slow.neigh_refused, ref0 + 3);
	lr_neigh_configure(&(struct lr_neigh_conf){ 0 });
	drain_sent();
}

/* The next frame sent that is not an ARP request (retries come meanwhile). */
static struct rte_mbuf *
sent_not_arp(void)
{
	struct rte_mbuf *m;

	while ((m = sent_frame()) != NULL && rte_pktmbuf_mtod(m, const uint8_t *)[13] == 0x06)
		rte_pktmbuf_free(m);
	return m;
}

/* An IPv4 UDP frame from 10.9.0.2 to dst as ip-forward punts it to be held. */
static struct rte_mbuf *
held_frame(struct rte_mempool *mp, const char *dst, uint8_t id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ipv4_hdr *iph;
	uint8_t *f, a16[16];
	uint32_t v;

	REQUIRE(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 4);
	memset(f, 0, 46);
	memcpy(f, lr_port_rt[0].mac.addr_bytes, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x09\x02", 6);
	f[12] = 0x08;
	iph = (struct rte_ipv4_hdr *)(f + 14);
	iph->version_ihl = 0x45;
	iph->total_length = rte_cpu_to_be_16(32);
	iph->time_to_live = 64;
	iph->next_proto_id = IPPROTO_UDP;
	ip(LR_AF_INET, "10.9.0.2", a16);
	memcpy(&iph->src_addr, a16, 4);
	ip(LR_AF_INET, dst, a16);
	memcpy(&iph->dst_addr, a16, 4);
	iph->hdr_checksum = rte_ipv4_cksum(iph);
	f[14 + 20 + 8] = id;
	v = lookup(dst);
	REQUIRE(v != LR_NH_NONE);
	m->port = 0;
	m->hash.usr = LR_NEIGH_HOLD_TAG | v;
	return m;
}

/*
 * Held packets (issue 12): queued on the resolving entry up to the limit,
 * sent in order with the rewrite when the answer comes, answered with host
 * unreachable when it never does.
 */
static void
test_hold(struct rte_mempool *mp)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0x88, 1 }, a[4];
	uint64_t held0 = lr_shm->slow.neigh_held, sent0 = lr_shm->slow.neigh_hold_sent;
	uint64_t drop0 = lr_shm->slow.neigh_hold_dropped, exp0 = lr_shm->slow.neigh_hold_expired;
	struct rte_mbuf *m;
	unsigned i;

	struct lr_addr ad = addr(LR_OP_ADD, 0, "10.9.0.1", 24);
	struct lr_ctl_status st;

	REQUIRE(lr_addr_batch(&ad, 1, &st) == LR_OK);
	drain_sent();
	lr_neigh_configure(&(struct lr_neigh_conf){ .hold = 3 });
	lr_port_rt[1].up = 1;
	lr_port_rt[1].mtu = 1500;
	for (i = 0; i < 5; i++)
		lr_slow_input(held_frame(mp, "10.2.0.140", (uint8_t)i), 0);
	CHECK_EQ(lr_shm->slow.neigh_held, held0 + 3);
	CHECK_EQ(lr_shm->slow.neigh_hold_dropped, drop0 + 2);
	CHECK_EQ(lr_neigh_lookup(1, LR_AF_INET, ip4(10, 2, 0, 140, a), NULL), LR_NEIGH_INCOMPLETE);
	m = sent_frame();  /* the ARP request */
	CHECK(m != NULL && rte_pktmbuf_mtod(m, const uint8_t *)[13] == 0x06);
	rte_pktmbuf_free(m);
	CHECK(sent_frame() == NULL);
	/* the answer sends the three, in order, rewritten */
	CHECK_EQ(lr_neigh_learn(1, LR_AF_INET, a, mac, LR_NEIGH_LEARN_ANSWER, 0), 1);
	for (i = 0; i < 3; i++) {
		const uint8_t *f;

		m = sent_frame();
		CHECK(m != NULL);
		if (m == NULL)
			break;
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		CHECK_EQ(m->port, 1);
		CHECK(memcmp(f, mac, 6) == 0);
		CHECK(memcmp(f + 6, lr_port_rt[1].mac.addr_bytes, 6) == 0);
		CHECK_EQ(f[14 + 8], 63);
		CHECK_EQ(rte_ipv4_cksum((const struct rte_ipv4_hdr *)(f + 14)), 0);
		CHECK_EQ(f[14 + 20 + 8], i);
		rte_pktmbuf_free(m);
	}
	CHECK(sent_frame() == NULL);
	CHECK_EQ(lr_shm->slow.neigh_hold_sent, sent0 + 3);
	/* resolved before the main lcore saw it: sent at once */
	lr_slow_input(held_frame(mp, "10.2.0.140", 9), 0);
	m = sent_frame();
	CHECK(m != NULL && rte_pktmbuf_mtod(m, const uint8_t *)[14 + 20 + 8] == 9);
	rte_pktmbuf_free(m);

	/* never answered: host unreachable (3/1) to the sender, from the input port */
	lr_slow_input(held_frame(mp, "10.2.0.141", 0), 0);
	drain_sent();
	rte_delay_ms((LR_NEIGH_HOLD_S + 1) * 1000 / 2);
	lr_neigh_timer();
	CHECK(sent_not_arp() == NULL);  /* not yet */
	rte_delay_ms((LR_NEIGH_HOLD_S + 1) * 1000 / 2 + 100);
	lr_neigh_timer();
	m = sent_not_arp();
	CHECK(m != NULL);
	if (m != NULL) {
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

		CHECK_EQ(m->port, 0);
		CHECK_EQ(f[23], IPPROTO_ICMP);
		CHECK(memcmp(f + 26, (const uint8_t[]){ 10, 9, 0, 1 }, 4) == 0);
		CHECK(memcmp(f + 30, (const uint8_t[]){ 10, 9, 0, 2 }, 4) == 0);
		CHECK_EQ(f[34], 3);
		CHECK_EQ(f[35], 1);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ(lr_shm->slow.neigh_hold_expired, exp0 + 1);
	/* an entry deleted with packets held answers them too */
	lr_slow_input(held_frame(mp, "10.2.0.141", 1), 0);
	{
		struct lr_neigh n = neigh(LR_OP_DEL, 1, "10.2.0.141", 0);

		CHECK_EQ(lr_neigh_batch(&n, 1, &st), LR_OK);
	}
	CHECK_EQ(lr_shm->slow.neigh_hold_expired, exp0 + 2);
	drain_sent();
	ad.op = LR_OP_DEL;
	REQUIRE(lr_addr_batch(&ad, 1, &st) == LR_OK);
	lr_neigh_configure(&(struct lr_neigh_conf){ 0 });
}

/* Everything removed: no record, adjacency or group left behind. */
static void
test_no_leaks(void)
{
	struct lr_neigh dump[64], del[64];
	struct lr_addr ad[16];
	struct lr_ctl_status st;
	uint32_t next, done, n, i;

	n = lr_neigh_dump(0, 0, dump, 64, &next, &done);
	for (i = 0; i < n; i++) {
		del[i] = dump[i];
		del[i].op = LR_OP_DEL;
	}
	CHECK_EQ(lr_neigh_batch(del, n, &st), LR_OK);
	n = lr_addr_dump(ad, 16);
	for (i = 0; i < n; i++)
		ad[i].op = LR_OP_DEL;
	CHECK_EQ(lr_addr_batch(ad, n, &st), LR_OK);
	CHECK_EQ(lr_neigh_count(), 0);
	CHECK_EQ(lr_route_count(), 0);
	CHECK_EQ(lr_nh_adj_count(), 0);
	CHECK_EQ(lr_nh_group_count(), 0);
	CHECK_EQ(lookup("10.1.0.1"), LR_NH_NONE);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)"640", (char *)"--no-pci",
			(char *)"--no-shconf", (char *)"--no-telemetry", (char *)"-l", (char *)"0", prefix,
			(char *)"--log-level=lib.eal:error", NULL };
	const uint32_t rules4 = 2048;
	struct rte_mempool *mp;

	(void)argc;
	lrt_watchdog(120);
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-tables-%d", getpid());
	REQUIRE(rte_eal_init(RTE_DIM(eal) - 1, eal) >= 0);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	lrt_on_cleanup(eal_cleanup);

	REQUIRE(lr_stats_create(NULL, 1, 1, rte_get_tsc_hz()) == 0);
	lr_n_ports = 2;
	lr_port_rt[0].mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0x10, 0 } };
	lr_port_rt[1].mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0x11, 0 } };
	REQUIRE(lr_nh_init(4096, 256) == 0);
	REQUIRE(lr_tset_init(NULL) == 0);
	REQUIRE(lr_fib_init(rules4, 2048) == 0);
	REQUIRE(lr_route_init(16384) == 0);
	REQUIRE(lr_neigh_init(256) == 0);
	lr_addr_init(2);
	lr_neigh_set_ports(2);
	mp = rte_pktmbuf_pool_create("lrt_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	REQUIRE(mp != NULL);
	lr_slow_init(mp);
	lr_icmp_init(mp, 1000);
	/* frames the slow path sends land in this worker's inject ring */
	fake_worker.inject = rte_ring_create("lrt_inject", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	REQUIRE(fake_worker.inject != NULL);
	lr_workers[0] = &fake_worker;
	lr_n_workers = 1;

	test_route_basics();
	test_route_atomic();
	test_route_batch_repeats();
	test_route_capacity(rules4);
	test_route_churn(rules4);
	test_ecmp();
	test_addresses();
	test_neighbors();
	test_icmp_errors(mp);
	test_neighbor_limits();
	test_hold(mp);
	test_dump_cursor();
	test_no_leaks();

	drain_sent();
	lr_n_workers = 0;
	lr_neigh_fini();
	lr_route_fini();
	lr_fib_fini();
	lr_nh_fini();
	lr_stats_destroy(false);
	return lrt_finish("test_tables");
}
