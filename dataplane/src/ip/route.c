/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route records, transactions and ROUTE_BATCH / ROUTE_DUMP (see route.h).
 * Records live in a keyed table (table.h) holding the per-source values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_prefetch.h>

#include "fib.h"
#include "ipaddr.h"
#include "log.h"
#include "ctl.h"
#include "nexthop.h"
#include "port.h"
#include "route.h"
#include "status.h"
#include "table.h"

/* 32 bytes: rte_hash compares 16/32/48..-byte keys with vector code, others with memcmp. */
struct rkey {
	uint8_t family;
	uint8_t plen;
	uint8_t pad[14];
	uint8_t prefix[16];
};

struct rrec {
	uint32_t val[LR_RSRC_MAX];
	uint32_t gen;   /* last ROUTE_BATCH that touched its OPERATOR source */
	uint32_t live;
};

struct rjr {
	int32_t pos;
	uint8_t src;
	uint8_t created;
	uint32_t old, new_;
};

static struct {
	struct lr_keyed t;        /* struct rkey -> struct rrec */
	struct rjr *jr;
	uint32_t n_jr, cap_jr;
	uint32_t gen;
} rt;

#define REC(pos) ((struct rrec *)lr_keyed_rec(&rt.t, (pos)))

int
lr_route_init(uint32_t max_records)
{
	memset(&rt, 0, sizeof(rt));
	return lr_keyed_create(&rt.t, "lr_routes", max_records, sizeof(struct rkey),
			       sizeof(struct rrec), false);
}

void
lr_route_fini(void)
{
	lr_keyed_free(&rt.t);
	free(rt.jr);
	memset(&rt, 0, sizeof(rt));
}

uint32_t
lr_route_count(void)
{
	return lr_keyed_count(&rt.t);
}

static void
make_key(struct rkey *k, uint8_t family, const uint8_t *prefix, uint8_t plen)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->plen = plen;
	lr_ip_mask(family, prefix, plen, k->prefix);
}

static uint32_t
effective(const struct rrec *r)
{
	int s;

	for (s = LR_RSRC_MAX - 1; s >= 0; s--)
		if (r->val[s] != LR_NH_NONE)
			return r->val[s];
	return LR_NH_NONE;
}

static bool
rec_empty(const struct rrec *r)
{
	return effective(r) == LR_NH_NONE;
}

/*
 * lr_route_txn_set() for a key whose hash signature is sig and whose
 * position is pos (-1: absent); returns the record position (or -1).
 */
static int
txn_set(const struct rkey *k, hash_sig_t sig, int32_t pos, enum lr_rsrc src, uint32_t value,
	int32_t *pos_out)
{
	struct rrec *r;
	struct rjr *j;
	uint32_t old_eff, old;
	int created = 0, rc;
	unsigned s;

	*pos_out = -1;
	if (pos < 0) {
		if (value == LR_NH_NONE)
			return 0;
		pos = lr_keyed_add_with_hash(&rt.t, k, sig);
		if (pos < 0)
			return -ENOSPC;
		r = REC(pos);
		for (s = 0; s < LR_RSRC_MAX; s++)
			r->val[s] = LR_NH_NONE;
		r->gen = 0;
		r->live = 1;
		created = 1;
	}
	r = REC(pos);
	if (lr_grow((void **)&rt.jr, &rt.cap_jr, rt.n_jr, sizeof(*rt.jr), 1024) < 0) {
		if (created) {
			r->live = 0;
			lr_keyed_del_pos(&rt.t, pos);
		}
		return -ENOMEM;
	}
	old_eff = effective(r);
	old = r->val[src];
	r->val[src] = value;
	rc = lr_fib_stage(k->family, k->prefix, k->plen, old_eff, effective(r));
	if (rc < 0) {
		r->val[src] = old;
		if (created) {
			r->live = 0;
			lr_keyed_del_pos(&rt.t, pos);
		}
		return rc;
	}
	j = &rt.jr[rt.n_jr++];
	j->pos = pos;
	j->src = (uint8_t)src;
	j->created = (uint8_t)created;
	j->old = old;
	j->new_ = value;
	*pos_out = pos;
	return 0;
}

int
lr_route_txn_set(uint8_t family, const uint8_t *prefix, uint8_t plen, enum lr_rsrc src,
		 uint32_t value)
{
	struct rkey k;
	hash_sig_t sig;
	int32_t pos;

	make_key(&k, family, prefix, plen);
	sig = rte_hash_hash(rt.t.h, &k);
	return txn_set(&k, sig, rte_hash_lookup_with_hash(rt.t.h, &k, sig), src, value, &pos);
}

uint32_t
lr_route_get(uint8_t family, const uint8_t *prefix, uint8_t plen, enum lr_rsrc src)
{
	struct rkey k;
	int32_t pos;

	make_key(&k, family, prefix, plen);
	pos = lr_keyed_find(&rt.t, &k);
	return pos < 0 ? LR_NH_NONE : REC(pos)->val[src];
}

void
lr_route_txn_commit(void)
{
	uint32_t i;

	lr_tset_commit();
	/* Workers cannot reach the replaced values any more. */
	for (i = 0; i < rt.n_jr; i++)
		lr_nh_put(rt.jr[i].old);
	for (i = 0; i < rt.n_jr; i++) {
		struct rrec *r = REC(rt.jr[i].pos);

		if (r->live && rec_empty(r)) {
			r->live = 0;
			lr_keyed_del_pos(&rt.t, rt.jr[i].pos);
		}
	}
	rt.n_jr = 0;
}

void
lr_route_txn_abort(void)
{
	uint32_t i;

	lr_tset_abort();
	for (i = rt.n_jr; i-- > 0;) {
		const struct rjr *j = &rt.jr[i];
		struct rrec *r = REC(j->pos);

		r->val[j->src] = j->old;
		lr_nh_put(j->new_);
		if (j->created) {
			r->live = 0;
			lr_keyed_del_pos(&rt.t, j->pos);
		}
	}
	rt.n_jr = 0;
}

/* ---- ROUTE_BATCH ---- */

/* Syntax of one entry; the table is not consulted. */
static int
validate(const struct lr_route *e, uint32_t i, uint16_t n_ports, struct lr_ctl_status *st)
{
	char b[LR_IP_STRLEN];
	unsigned j, k;

	int code = lr_check_entry(st, "routes", i, e->op, e->family, NULL, 0);

	if (code != LR_OK)
		return code;
	if (e->plen > lr_ip_maxplen(e->family))
		return lr_status_set(st, LR_ERR_INVALID, i, "routes[%u].plen: %u is longer than %u",
			      i, e->plen, lr_ip_maxplen(e->family));
	if (lr_ip_host_bits_set(e->family, e->prefix, e->plen))
		return lr_status_set(st, LR_ERR_INVALID, i, "routes[%u].prefix: host bits set in %s", i,
			      lr_ip_fmt(e->family, e->prefix, e->plen, b, sizeof(b)));
	if (e->op == LR_OP_DEL)
		return LR_OK;
	if (e->n_next_hops < 1 || e->n_next_hops > LR_MAX_ECMP)
		return lr_status_set(st, LR_ERR_INVALID, i, "routes[%u].n_next_hops: must be 1 to %d, got %u",
			      i, LR_MAX_ECMP, e->n_next_hops);
	for (j = 0; j < e->n_next_hops; j++) {
		const struct lr_next_hop *nh = &e->next_hops[j];

		if (nh->port_id >= n_ports)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "routes[%u].next_hops[%u].port_id: no port %u",
				      i, j, nh->port_id);
		if (!lr_ip_is_zero(e->family, nh->via) && !lr_ip_is_unicast_host(e->family, nh->via))
			return lr_status_set(st, LR_ERR_INVALID, i,
				      "routes[%u].next_hops[%u].via: %s is not a unicast address", i, j,
				      lr_ip_fmt(e->family, nh->via, -1, b, sizeof(b)));
		for (k = 0; k < j; k++)
			if (e->next_hops[k].port_id == nh->port_id &&
			    memcmp(e->next_hops[k].via, nh->via, lr_ip_len(e->family)) == 0)
				return lr_status_set(st, LR_ERR_INVALID, i,
					      "routes[%u].next_hops[%u]: duplicate of next_hops[%u]", i, j, k);
	}
	return LR_OK;
}

/* Next-hop value of an entry, with a reference. */
static int
nh_get(const struct lr_route *e, uint32_t *value)
{
	uint32_t adj[LR_MAX_ECMP];
	uint16_t w[LR_MAX_ECMP];
	unsigned j, got = 0;
	int rc = 0;

	for (j = 0; j < e->n_next_hops; j++) {
		const struct lr_next_hop *nh = &e->next_hops[j];

		if (lr_ip_is_zero(e->family, nh->via))
			rc = lr_adj_get(LR_ADJ_GLEAN, e->family, nh->port_id, NULL, &adj[j], NULL);
		else
			rc = lr_adj_get(LR_ADJ_NEIGH, e->family, nh->port_id, nh->via, &adj[j], NULL);
		if (rc < 0)
			goto out;
		w[j] = nh->weight;
		got++;
	}
	if (got == 1) {
		*value = adj[0];
		return 0;
	}
	rc = lr_nh_group_get(got, adj, w, value);
out:
	for (j = 0; j < got; j++)
		lr_nh_put(adj[j]);
	return rc;
}

static bool
same_nexthops(const struct lr_route *a, const struct lr_route *b)
{
	return a->family == b->family && a->n_next_hops == b->n_next_hops &&
	       memcmp(a->next_hops, b->next_hops, sizeof(a->next_hops[0]) * a->n_next_hops) == 0;
}

/*
 * A batch looks its keys up RT_CHUNK at a time with rte_hash's bulk lookup,
 * which overlaps the cache misses of a million-entry table that one lookup
 * per key takes in turn (and the records of found keys are prefetched).
 * A position found stays valid for the whole batch (keys are only deleted
 * at commit, and cuckoo moves never change a key's position); a key the
 * lookup did not find may have been created by an earlier entry of the
 * same chunk, so it is looked up again when one of those has its hash
 * signature (a repeat, or a rare collision).
 */
#define RT_CHUNK 32

struct rt_chunk {
	struct rkey k[RT_CHUNK];
	const void *kp[RT_CHUNK];
	hash_sig_t sig[RT_CHUNK];
	int32_t pos[RT_CHUNK];
	hash_sig_t made[RT_CHUNK]; /* signatures of the keys created since the lookup */
	uint32_t n_made;
};

static bool
chunk_made(const struct rt_chunk *c, hash_sig_t sig)
{
	uint32_t i;

	for (i = 0; i < c->n_made; i++)
		if (c->made[i] == sig)
			return true;
	return false;
}

static void
chunk_lookup(struct rt_chunk *c, const struct lr_route *r, uint32_t n)
{
	uint32_t i;

	c->n_made = 0;
	for (i = 0; i < n; i++) {
		make_key(&c->k[i], r[i].family, r[i].prefix, r[i].plen);
		c->kp[i] = &c->k[i];
		c->sig[i] = rte_hash_hash(rt.t.h, &c->k[i]);
	}
	if (rte_hash_lookup_with_hash_bulk(rt.t.h, c->kp, c->sig, n, c->pos) != 0)
		for (i = 0; i < n; i++)
			c->pos[i] = rte_hash_lookup_with_hash(rt.t.h, &c->k[i], c->sig[i]);
	for (i = 0; i < n; i++)
		if (c->pos[i] >= 0)
			rte_prefetch0(REC(c->pos[i]));
}

int
lr_route_batch(const struct lr_route *r, uint32_t n, struct lr_ctl_status *st)
{
	uint16_t n_ports = lr_n_ports;
	const struct lr_route *memo = NULL;
	uint32_t memo_value = LR_NH_NONE, i;
	struct rt_chunk c;
	char b[LR_IP_STRLEN];
	int code;

	if (++rt.gen == 0)
		rt.gen = 1;
	for (i = 0; i < n; i++) {
		const struct lr_route *e = &r[i];
		uint32_t value = LR_NH_NONE, cur, ci = i % RT_CHUNK;
		const struct rkey *kp;
		hash_sig_t sig;
		int32_t pos;
		int rc;

		code = validate(e, i, n_ports, st);
		if (code != LR_OK)
			goto fail;
		if (ci == 0)
			chunk_lookup(&c, e, RTE_MIN(n - i, (uint32_t)RT_CHUNK));
		kp = &c.k[ci];
		sig = c.sig[ci];
		pos = c.pos[ci];
		if (pos < 0 && chunk_made(&c, sig))
			pos = rte_hash_lookup_with_hash(rt.t.h, kp, sig);
		cur = pos < 0 ? LR_NH_NONE : REC(pos)->val[LR_RSRC_OPERATOR];
		if (pos >= 0 && REC(pos)->gen == rt.gen) {
			code = lr_status_set(st, LR_ERR_INVALID, i,
				      "routes[%u]: %s appears earlier in the same batch", i,
				      lr_ip_fmt(e->family, kp->prefix, e->plen, b, sizeof(b)));
			goto fail;
		}
		if (e->op == LR_OP_ADD && cur != LR_NH_NONE) {
			code = lr_status_set(st, LR_ERR_EXISTS, i, "routes[%u]: %s already exists", i,
				      lr_ip_fmt(e->family, kp->prefix, e->plen, b, sizeof(b)));
			goto fail;
		}
		if (e->op == LR_OP_DEL && cur == LR_NH_NONE) {
			code = lr_status_set(st, LR_ERR_NOT_FOUND, i, "routes[%u]: %s does not exist", i,
				      lr_ip_fmt(e->family, kp->prefix, e->plen, b, sizeof(b)));
			goto fail;
		}
		if (e->op != LR_OP_DEL) {
			if (memo != NULL && same_nexthops(memo, e)) {
				value = memo_value;
				lr_nh_ref(value);
				rc = 0;
			} else {
				rc = nh_get(e, &value);
			}
			if (rc < 0) {
				code = lr_status_set(st, LR_ERR_NO_SPACE, i,
					      "routes[%u].next_hops: next-hop table full", i);
				goto fail;
			}
			memo = e;
			memo_value = value;
		}
		rc = txn_set(kp, sig, pos, LR_RSRC_OPERATOR, value, &pos);
		if (rc < 0) {
			lr_nh_put(value);
			if (memo == e)
				memo = NULL;
			if (rc == -ENOSPC || rc == -ENOMEM)
				code = lr_status_set(st, LR_ERR_NO_SPACE, i, "routes[%u]: %s table full", i,
						     e->family == LR_AF_INET ? "IPv4 route" : "IPv6 route");
			else
				code = lr_status_set(st, LR_ERR_INTERNAL, i, "routes[%u]: the FIB refused %s: %s",
						     i, lr_ip_fmt(e->family, kp->prefix, e->plen, b, sizeof(b)),
						     strerror(-rc));
			goto fail;
		}
		if (pos >= 0) {
			if (c.pos[ci] < 0)
				c.made[c.n_made++] = sig;
			REC(pos)->gen = rt.gen;
		}
	}
	lr_route_txn_commit();
	return LR_OK;
fail:
	lr_route_txn_abort();
	return code;
}

/* ---- ROUTE_DUMP ---- */

static unsigned
dump_entries(const void *key, int32_t pos, uint8_t family, void *out)
{
	static const enum lr_rsrc shown[] = { LR_RSRC_OPERATOR, LR_RSRC_CONNECTED };
	const struct rkey *k = key;
	const struct rrec *r = REC(pos);
	struct lr_route *o = out;
	unsigned n = 0, s;

	if (family != 0 && k->family != family)
		return 0;
	for (s = 0; s < RTE_DIM(shown); s++) {
		uint32_t v = r->val[shown[s]];

		if (v == LR_NH_NONE)
			continue;
		if (o != NULL) {
			memset(&o[n], 0, sizeof(o[n]));
			o[n].op = LR_OP_ADD;
			o[n].family = k->family;
			o[n].plen = k->plen;
			memcpy(o[n].prefix, k->prefix, 16);
			o[n].flags = shown[s] == LR_RSRC_CONNECTED ? LR_ROUTE_F_CONNECTED : 0;
			o[n].n_next_hops = (uint8_t)lr_nh_describe(v, o[n].next_hops);
		}
		n++;
	}
	return n;
}

uint32_t
lr_route_dump(uint8_t family, uint32_t cursor, struct lr_route *out, uint32_t max,
	      uint32_t *next, uint32_t *done)
{
	return lr_keyed_dump(&rt.t, cursor, family, dump_entries, out, sizeof(*out), max, next, done);
}

/* ---- control messages ---- */

LR_CTL_TABLE(route, "routes", struct lr_route, LR_CTL_ROUTE_BATCH, lr_route_batch, LR_CTL_ROUTE_DUMP, lr_route_dump)
