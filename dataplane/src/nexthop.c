/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Adjacency and ECMP group tables (see nexthop.h). Slots come from free
 * lists; rte_hash maps keys to slots for sharing.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "log.h"
#include "nexthop.h"

uint64_t *lr_adj_word;
struct lr_adj_info *lr_adj_info;
struct lr_nh_group *lr_nh_groups;

struct lr_group_key {
	uint32_t n;
	uint32_t adj[LR_MAX_ECMP];
	uint16_t weight[LR_MAX_ECMP];
};

static struct {
	uint32_t max_adj, max_groups;
	uint32_t *adj_ref, *grp_ref;
	uint32_t *adj_free, *grp_free;  /* stacks of free slots */
	uint32_t n_adj_free, n_grp_free;
	struct rte_hash *adj_hash, *grp_hash;
} nh;

static struct rte_hash *
make_hash(const char *name, uint32_t entries, uint32_t key_len)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	return rte_hash_create(&p);
}

int
lr_nh_init(uint32_t max_adj, uint32_t max_groups)
{
	uint32_t i;

	if (max_adj > LR_NH_MAX_IDX)
		max_adj = LR_NH_MAX_IDX;
	if (max_groups > LR_NH_MAX_IDX)
		max_groups = LR_NH_MAX_IDX;
	memset(&nh, 0, sizeof(nh));
	nh.max_adj = max_adj;
	nh.max_groups = max_groups;
	lr_adj_word = rte_zmalloc("lr_adj_word", sizeof(uint64_t) * max_adj, RTE_CACHE_LINE_SIZE);
	lr_adj_info = rte_zmalloc("lr_adj_info", sizeof(struct lr_adj_info) * max_adj, RTE_CACHE_LINE_SIZE);
	lr_nh_groups = rte_zmalloc("lr_nh_groups", sizeof(struct lr_nh_group) * max_groups, RTE_CACHE_LINE_SIZE);
	nh.adj_ref = rte_zmalloc("lr_adj_ref", sizeof(uint32_t) * max_adj, 0);
	nh.grp_ref = rte_zmalloc("lr_grp_ref", sizeof(uint32_t) * max_groups, 0);
	nh.adj_free = rte_malloc("lr_adj_free", sizeof(uint32_t) * max_adj, 0);
	nh.grp_free = rte_malloc("lr_grp_free", sizeof(uint32_t) * max_groups, 0);
	nh.adj_hash = make_hash("lr_adj", max_adj, sizeof(struct lr_adj_info));
	nh.grp_hash = make_hash("lr_grp", max_groups, sizeof(struct lr_group_key));
	if (!lr_adj_word || !lr_adj_info || !lr_nh_groups || !nh.adj_ref || !nh.grp_ref ||
	    !nh.adj_free || !nh.grp_free || !nh.adj_hash || !nh.grp_hash) {
		LR_LOG(ERR, "nexthop: out of memory for %u adjacencies, %u groups", max_adj, max_groups);
		lr_nh_fini();
		return -ENOMEM;
	}
	/* Pop order = ascending indices. */
	for (i = 0; i < max_adj; i++)
		nh.adj_free[i] = max_adj - 1 - i;
	for (i = 0; i < max_groups; i++)
		nh.grp_free[i] = max_groups - 1 - i;
	nh.n_adj_free = max_adj;
	nh.n_grp_free = max_groups;
	return 0;
}

void
lr_nh_fini(void)
{
	rte_hash_free(nh.adj_hash);
	rte_hash_free(nh.grp_hash);
	rte_free(lr_adj_word);
	rte_free(lr_adj_info);
	rte_free(lr_nh_groups);
	rte_free(nh.adj_ref);
	rte_free(nh.grp_ref);
	rte_free(nh.adj_free);
	rte_free(nh.grp_free);
	lr_adj_word = NULL;
	lr_adj_info = NULL;
	lr_nh_groups = NULL;
	memset(&nh, 0, sizeof(nh));
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
	void *data;

	adj_key(&k, kind, family, port, ip);
	if (rte_hash_lookup_data(nh.adj_hash, &k, &data) < 0)
		return LR_NH_NONE;
	return (uint32_t)(uintptr_t)data;
}

int
lr_adj_get(uint8_t kind, uint8_t family, uint16_t port, const uint8_t ip[16],
	   uint32_t *idx, int *created)
{
	struct lr_adj_info k;
	uint32_t i;
	void *data;

	adj_key(&k, kind, family, port, ip);
	if (created != NULL)
		*created = 0;
	if (rte_hash_lookup_data(nh.adj_hash, &k, &data) >= 0) {
		i = (uint32_t)(uintptr_t)data;
		nh.adj_ref[i]++;
		*idx = i;
		return 0;
	}
	if (nh.n_adj_free == 0)
		return -ENOSPC;
	i = nh.adj_free[nh.n_adj_free - 1];
	if (rte_hash_add_key_data(nh.adj_hash, &k, (void *)(uintptr_t)i) < 0)
		return -ENOSPC;
	nh.n_adj_free--;
	lr_adj_info[i] = k;
	__atomic_store_n(&lr_adj_word[i], adj_make_word(&k, NULL), __ATOMIC_RELEASE);
	nh.adj_ref[i] = 1;
	*idx = i;
	if (created != NULL)
		*created = 1;
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
	if (nh.adj_ref[i] == 0) {
		LR_LOG(CRIT, "nexthop: adjacency %u released too often", i);
		return;
	}
	if (--nh.adj_ref[i] > 0)
		return;
	rte_hash_del_key(nh.adj_hash, &lr_adj_info[i]);
	__atomic_store_n(&lr_adj_word[i], 0, __ATOMIC_RELAXED);
	memset(&lr_adj_info[i], 0, sizeof(lr_adj_info[i]));
	nh.adj_free[nh.n_adj_free++] = i;
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
	void *data;

	if (n < 2 || n > LR_MAX_ECMP)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	k.n = n;
	for (i = 0; i < n; i++) {
		k.adj[i] = adj[i];
		k.weight[i] = weight[i] == 0 ? 1 : weight[i];
	}
	if (rte_hash_lookup_data(nh.grp_hash, &k, &data) >= 0) {
		gi = (uint32_t)(uintptr_t)data;
		nh.grp_ref[gi]++;
		*value = LR_NH_GROUP | gi;
		return 0;
	}
	if (nh.n_grp_free == 0)
		return -ENOSPC;
	gi = nh.grp_free[nh.n_grp_free - 1];
	if (rte_hash_add_key_data(nh.grp_hash, &k, (void *)(uintptr_t)gi) < 0)
		return -ENOSPC;
	nh.n_grp_free--;
	g = &lr_nh_groups[gi];
	memset(g, 0, sizeof(*g));
	g->n = (uint16_t)n;
	for (i = 0; i < n; i++) {
		g->adj[i] = k.adj[i];
		g->weight[i] = k.weight[i];
		nh.adj_ref[k.adj[i]]++;
	}
	group_fill_buckets(g);
	nh.grp_ref[gi] = 1;
	*value = LR_NH_GROUP | gi;
	return 0;
}

void
lr_nh_ref(uint32_t value)
{
	if (value == LR_NH_NONE)
		return;
	if (value & LR_NH_GROUP)
		nh.grp_ref[value & LR_NH_IDX_MASK]++;
	else
		nh.adj_ref[value]++;
}

uint32_t
lr_nh_refcnt(uint32_t value)
{
	if (value == LR_NH_NONE)
		return 0;
	return (value & LR_NH_GROUP) ? nh.grp_ref[value & LR_NH_IDX_MASK] : nh.adj_ref[value];
}

void
lr_nh_put(uint32_t value)
{
	struct lr_group_key k;
	struct lr_nh_group *g;
	uint32_t gi, i;

	if (value == LR_NH_NONE)
		return;
	if (!(value & LR_NH_GROUP)) {
		adj_put(value);
		return;
	}
	gi = value & LR_NH_IDX_MASK;
	if (nh.grp_ref[gi] == 0) {
		LR_LOG(CRIT, "nexthop: group %u released too often", gi);
		return;
	}
	if (--nh.grp_ref[gi] > 0)
		return;
	g = &lr_nh_groups[gi];
	memset(&k, 0, sizeof(k));
	k.n = g->n;
	for (i = 0; i < g->n; i++) {
		k.adj[i] = g->adj[i];
		k.weight[i] = g->weight[i];
	}
	rte_hash_del_key(nh.grp_hash, &k);
	for (i = 0; i < g->n; i++)
		adj_put(g->adj[i]);
	memset(g, 0, sizeof(*g));
	nh.grp_free[nh.n_grp_free++] = gi;
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
	return nh.max_adj - nh.n_adj_free;
}

uint32_t
lr_nh_group_count(void)
{
	return nh.max_groups - nh.n_grp_free;
}
