/* SPDX-License-Identifier: BSD-3-Clause */
/* rte_fib / rte_lpm6 as one table of the table set (see fib.h, tset.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_rib.h>

#include "fib.h"
#include "log.h"
#include "lr_common.h"
#include "nexthop.h"
#include "stats.h"

int lr_fib_id = -1;

/* A change record of the table-set journal. */
struct fib_change {
	uint8_t family;
	uint8_t plen;
	uint8_t prefix[16];
	uint32_t old, new_;
};

static struct lr_fib_tables copies[2];

static uint32_t
clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/*
 * Next hop of the closest route strictly covering ip/plen, or def_nh.
 * ip has its host bits cleared.
 */
static uint64_t
cover_nh4(struct rte_fib *f, uint32_t ip, uint8_t plen)
{
	struct rte_rib_node *n = rte_rib_lookup(rte_fib_get_rib(f), ip);
	uint64_t nh = LR_FIB_MISS;
	uint8_t d;

	while (n != NULL && rte_rib_get_depth(n, &d) == 0 && d >= plen)
		n = rte_rib_lookup_parent(n);
	if (n != NULL)
		rte_rib_get_nh(n, &nh);
	return nh;
}

/*
 * rte_fib_add() for IPv4. DIR-24-8 reserves one tbl8 group per /24 that
 * holds a prefix longer than /24 when the first such prefix is added, and
 * releases it when the last one is deleted; but an add whose next hop is
 * its covering route's returns before reserving, while its delete still
 * releases. The counter then wraps and every later long prefix in a new
 * /24 fails with -ENOSPC. So a new long prefix that resolves like its
 * cover is added with another value first (which reserves; the shadow
 * copy is not visible yet), then set to its real value.
 */
static int
add4(struct rte_fib *f, uint32_t ip, uint8_t plen, uint32_t value)
{
	int rc;

	if (plen > 24 && rte_rib_lookup_exact(rte_fib_get_rib(f), ip, plen) == NULL &&
	    cover_nh4(f, ip, plen) == value) {
		rc = rte_fib_add(f, ip, plen, value ^ 1);
		if (rc < 0)
			return rc;
	}
	return rte_fib_add(f, ip, plen, value);
}

static int
set(struct lr_fib_tables *t, uint8_t family, const uint8_t *prefix, uint8_t plen,
      uint32_t value)
{
	if (family == LR_AF_INET) {
		uint32_t ip = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
			      (uint32_t)prefix[2] << 8 | prefix[3];

		if (value == LR_NH_NONE)
			return rte_fib_delete(t->v4, ip, plen);
		return add4(t->v4, ip, plen, value);
	}
	if (plen == 0) {
		t->v6_default = value;
		return 0;
	}
	if (value == LR_NH_NONE)
		return rte_lpm6_delete(t->v6, prefix, plen);
	return rte_lpm6_add(t->v6, prefix, plen, value);
}

static int
fib_apply(void *copy, const void *change)
{
	const struct fib_change *c = change;

	return set(copy, c->family, c->prefix, c->plen, c->new_);
}

static void
fib_undo(void *copy, const void *change)
{
	const struct fib_change *c = change;

	if (set(copy, c->family, c->prefix, c->plen, c->old) < 0)
		LR_LOG(CRIT, "fib: undo failed: the two table copies differ");
}

int
lr_fib_init(uint32_t rules4, uint32_t rules6)
{
	/* /24 and shorter need no tbl8; longer prefixes one group per /24. */
	struct rte_fib_conf c4 = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = LR_FIB_MISS,
		.max_routes = (int)rules4,  /* rte_fib sizes its RIB trie for 2 nodes per route */
		.dir24_8 = {
			.nh_sz = RTE_FIB_DIR24_8_4B,
			.num_tbl8 = clamp_u32(rules4 / 64, 256, 65536),
		},
	};
	/* An IPv6 prefix may need a group per byte past the first three. */
	struct rte_lpm6_config c6 = {
		.max_rules = rules6,
		.number_tbl8s = clamp_u32(rules6 / 2, 1024, 1u << 20),
	};
	struct lr_tset_table t = {
		.name = "fib",
		.copy = { &copies[0], &copies[1] },
		.apply = fib_apply,
		.undo = fib_undo,
	};
	char name[32];
	unsigned i;
	int id;

	memset(copies, 0, sizeof(copies));
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "lr_fib4_%u", i);
		copies[i].v4 = rte_fib_create(name, SOCKET_ID_ANY, &c4);
		snprintf(name, sizeof(name), "lr_fib6_%u", i);
		copies[i].v6 = rte_lpm6_create(name, SOCKET_ID_ANY, &c6);
		copies[i].v6_default = LR_NH_NONE;
		if (copies[i].v4 == NULL || copies[i].v6 == NULL) {
			LR_LOG(ERR, "fib: cannot create tables (%u IPv4 / %u IPv6 rules): %s",
			       rules4, rules6, rte_strerror(rte_errno));
			lr_fib_fini();
			return -ENOMEM;
		}
	}
	id = lr_tset_register(&t);
	if (id < 0) {
		lr_fib_fini();
		return id;
	}
	lr_fib_id = id;
	return 0;
}

void
lr_fib_fini(void)
{
	unsigned i;

	lr_tset_unregister(lr_fib_id);
	lr_fib_id = -1;
	for (i = 0; i < 2; i++) {
		rte_fib_free(copies[i].v4);
		rte_lpm6_free(copies[i].v6);
	}
	memset(copies, 0, sizeof(copies));
}

int
lr_fib_stage(uint8_t family, const uint8_t *prefix, uint8_t plen, uint32_t old, uint32_t new_)
{
	struct fib_change c;

	if (old == new_)
		return 0;
	memset(&c, 0, sizeof(c));
	c.family = family;
	c.plen = plen;
	memcpy(c.prefix, prefix, family == LR_AF_INET ? 4 : 16);
	c.old = old;
	c.new_ = new_;
	return lr_tset_stage(lr_fib_id, &c, sizeof(c));
}

int
lr_fib_lookup(uint8_t family, const uint8_t *addr, int copy, uint32_t *value)
{
	const struct lr_fib_tables *t = lr_tset_copy(lr_fib_id, copy);

	if (family == LR_AF_INET) {
		uint32_t ip = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			      (uint32_t)addr[2] << 8 | addr[3];

		uint64_t nh = LR_FIB_MISS;

		rte_fib_lookup_bulk(t->v4, &ip, &nh, 1);
		if (nh == LR_FIB_MISS)
			return -ENOENT;
		*value = (uint32_t)nh;
		return 0;
	}
	if (rte_lpm6_lookup(t->v6, addr, value) == 0)
		return 0;
	*value = t->v6_default;
	return t->v6_default == LR_NH_NONE ? -ENOENT : 0;
}
