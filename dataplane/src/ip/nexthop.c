/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Adjacency and ECMP group tables (see nexthop.h): two refcounted keyed
 * tables (table.h) whose positions are the adjacency and group indices.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "log.h"
#include "nexthop.h"
#include "table.h"

uint64_t *lr_adj_word;
struct lr_adj_info *lr_adj_info;
struct lr_nh_group *lr_nh_groups;

struct lr_group_key {
	uint32_t n;
	uint32_t adj[LR_MAX_ECMP];
	uint16_t weight[LR_MAX_ECMP];
};

static struct {
	struct lr_keyed adj;     /* struct lr_adj_info -> index into lr_adj_word/lr_adj_info */
	struct lr_keyed grp;     /* struct lr_group_key -> index into lr_nh_groups */
	lr_adj_created_fn on_created[LR_ADJ_KIND_MAX];
} nh;

int
lr_nh_init(uint32_t max_adj, uint32_t max_groups)
{
	/* indices must fit the 20 bits of a next-hop value */
	if (max_adj > LR_NH_MAX_IDX / 2)
		max_adj = LR_NH_MAX_IDX / 2;
	if (max_groups > LR_NH_MAX_IDX / 2)
		max_groups = LR_NH_MAX_IDX / 2;
	memset(&nh, 0, sizeof(nh));
	if (lr_keyed_create(&nh.adj, "lr_adj", max_adj, sizeof(struct lr_adj_info), 0, true) < 0 ||
	    lr_keyed_create(&nh.grp, "lr_grp", max_groups, sizeof(struct lr_group_key), 0, true) < 0)
		goto fail;
	lr_adj_word = rte_zmalloc("lr_adj_word", sizeof(uint64_t) * nh.adj.cap, RTE_CACHE_LINE_SIZE);
	lr_adj_info = rte_zmalloc("lr_adj_info", sizeof(struct lr_adj_info) * nh.adj.cap,
				  RTE_CACHE_LINE_SIZE);
	lr_nh_groups = rte_zmalloc("lr_nh_groups", sizeof(struct lr_nh_group) * nh.grp.cap,
				   RTE_CACHE_LINE_SIZE);
	if (lr_adj_word == NULL || lr_adj_info == NULL || lr_nh_groups == NULL)
		goto fail;
	return 0;
fail:
	LR_LOG(ERR, "nexthop: out of memory for %u adjacencies, %u groups", max_adj, max_groups);
	lr_nh_fini();
	return -ENOMEM;
}

void
lr_nh_fini(void)
{
	lr_keyed_free(&nh.adj);
	lr_keyed_free(&nh.grp);
	rte_free(lr_adj_word);
	rte_free(lr_adj_info);
	rte_free(lr_nh_groups);
	lr_adj_word = NULL;
	lr_adj_info = NULL;
	lr_nh_groups = NULL;
	memset(&nh, 0, sizeof(nh));
}

void
lr_adj_on_created(uint8_t kind, lr_adj_created_fn fn)
{
	if (kind < LR_ADJ_KIND_MAX)
		nh.on_created[kind] = fn;
}

static void
adj_key(struct lr_adj_info *k, uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16])
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->family = family;
	k->port = port;
	if (ip != NULL)
		memcpy(k->ip, ip, family == LR_AF_INET ? 4 : 16);
}

static uint64_t
adj_make_word(const struct lr_adj_info *k, const uint8_t *mac)
{
	uint64_t w = ((uint64_t)k->kind << LR_ADJW_KIND_SHIFT) |
		     ((uint64_t)(k->port & 0xff) << LR_ADJW_PORT_SHIFT);

	if (mac != NULL) {
		uint64_t m = 0;

		memcpy(&m, mac, 6);  /* byte order of the frame: copied back as is */
		w |= (m & LR_ADJW_MAC_MASK) | LR_ADJW_RESOLVED;
	}
	return w;
}

uint32_t
lr_adj_find(uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16])
{
	struct lr_adj_info k;
	int32_t pos;

	adj_key(&k, kind, family, port, ip);
	pos = lr_keyed_find(&nh.adj, &k);
	return pos < 0 ? LR_NH_NONE : (uint32_t)pos;
}

int
lr_adj_get(uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16],
	   uint32_t *idx, int *created)
{
	struct lr_adj_info k;
	int32_t pos;
	int made;

	adj_key(&k, kind, family, port, ip);
	pos = lr_keyed_get(&nh.adj, &k, &made);
	if (pos < 0)
		return -ENOSPC;
	*idx = (uint32_t)pos;
	if (created != NULL)
		*created = made;
	if (!made)
		return 0;
	lr_adj_info[pos] = k;
	__atomic_store_n(&lr_adj_word[pos], adj_make_word(&k, NULL), __ATOMIC_RELEASE);
	/* whoever resolves this kind hears of it (neighbors: start resolving) */
	if (kind < LR_ADJ_KIND_MAX && nh.on_created[kind] != NULL)
		nh.on_created[kind]((uint32_t)pos);
	return 0;
}

void
lr_adj_set_mac(uint32_t idx, const uint8_t *mac)
{
	__atomic_store_n(&lr_adj_word[idx], adj_make_word(&lr_adj_info[idx], mac), __ATOMIC_RELEASE);
}

static void
adj_put(uint32_t i)
{
	if (lr_keyed_put(&nh.adj, (int32_t)i) != 1)
		return;
	lr_keyed_del_pos(&nh.adj, (int32_t)i);
	__atomic_store_n(&lr_adj_word[i], 0, __ATOMIC_RELAXED);
	memset(&lr_adj_info[i], 0, sizeof(lr_adj_info[i]));
}

/* Spread members over buckets in proportion to their weights. */
static void
group_fill_buckets(struct lr_nh_group *g)
{
	uint64_t total = 0;
	unsigned i, c, b = 0;
	int equal = 1;

	for (i = 0; i < g->n; i++) {
		total += g->weight[i];
		if (g->weight[i] != g->weight[0])
			equal = 0;
	}
	if (equal) {
		for (i = 0; i < g->n; i++)
			g->bucket[i] = g->adj[i];
		g->n_buckets = g->n;
		return;
	}
	for (i = 0; i < g->n; i++) {
		c = (unsigned)((g->weight[i] * 64u + total / 2) / total);
		if (c == 0)
			c = 1;
		while (c-- > 0 && b < LR_NH_BUCKETS)
			g->bucket[b++] = g->adj[i];
	}
	g->n_buckets = (uint16_t)b;
}

int
lr_nh_group_get(unsigned n, const uint32_t *adj, const uint16_t *weight, uint32_t *value)
{
	struct lr_group_key k;
	struct lr_nh_group *g;
	uint32_t i, gi;
	int32_t pos;
	int made;

	if (n < 2 || n > LR_MAX_ECMP)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	k.n = n;
	for (i = 0; i < n; i++) {
		k.adj[i] = adj[i];
		k.weight[i] = weight[i] == 0 ? 1 : weight[i];
	}
	pos = lr_keyed_get(&nh.grp, &k, &made);
	if (pos < 0)
		return -ENOSPC;
	gi = (uint32_t)pos;
	*value = LR_NH_GROUP | gi;
	if (!made)
		return 0;
	g = &lr_nh_groups[gi];
	memset(g, 0, sizeof(*g));
	g->n = (uint16_t)n;
	for (i = 0; i < n; i++) {
		g->adj[i] = k.adj[i];
		g->weight[i] = k.weight[i];
		lr_keyed_ref(&nh.adj, (int32_t)k.adj[i]);
	}
	group_fill_buckets(g);
	return 0;
}

void
lr_nh_ref(uint32_t value)
{
	if (value == LR_NH_NONE)
		return;
	if (value & LR_NH_GROUP)
		lr_keyed_ref(&nh.grp, (int32_t)(value & LR_NH_IDX_MASK));
	else
		lr_keyed_ref(&nh.adj, (int32_t)value);
}

uint32_t
lr_nh_refcnt(uint32_t value)
{
	if (value == LR_NH_NONE)
		return 0;
	return (value & LR_NH_GROUP) ? nh.grp.ref[value & LR_NH_IDX_MASK] : nh.adj.ref[value];
}

void
lr_nh_put(uint32_t value)
{
	struct lr_nh_group *g;
	uint32_t gi, i;

	if (value == LR_NH_NONE)
		return;
	if (!(value & LR_NH_GROUP)) {
		adj_put(value);
		return;
	}
	gi = value & LR_NH_IDX_MASK;
	if (lr_keyed_put(&nh.grp, (int32_t)gi) != 1)
		return;
	g = &lr_nh_groups[gi];
	lr_keyed_del_pos(&nh.grp, (int32_t)gi);
	for (i = 0; i < g->n; i++)
		adj_put(g->adj[i]);
	memset(g, 0, sizeof(*g));
}

static void
describe_adj(uint32_t a, uint16_t weight, struct lr_next_hop *o)
{
	const struct lr_adj_info *k = &lr_adj_info[a];

	memset(o, 0, sizeof(*o));
	o->port_id = k->port;
	o->weight = weight;
	if (k->kind == LR_ADJ_NEIGH)
		memcpy(o->via, k->ip, 16);
}

unsigned
lr_nh_describe(uint32_t value, struct lr_next_hop *out)
{
	const struct lr_nh_group *g;
	unsigned i;

	if (value == LR_NH_NONE)
		return 0;
	if (!(value & LR_NH_GROUP)) {
		describe_adj(value, 1, &out[0]);
		return 1;
	}
	g = &lr_nh_groups[value & LR_NH_IDX_MASK];
	for (i = 0; i < g->n; i++)
		describe_adj(g->adj[i], g->weight[i], &out[i]);
	return g->n;
}

uint32_t
lr_nh_adj_count(void)
{
	return lr_keyed_count(&nh.adj);
}

uint32_t
lr_nh_group_count(void)
{
	return lr_keyed_count(&nh.grp);
}
