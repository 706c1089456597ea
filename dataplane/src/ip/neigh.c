/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbor table (see neigh.h): a keyed table (table.h) of (port, family,
 * IP) -> entry. Dynamic (LEARNED, INCOMPLETE) entries of a port sit on
 * its LRU list, least recently confirmed first, linked by table position;
 * held packets sit in one pool of slots, a FIFO per entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>

#include "addr.h"
#include "fib.h"
#include "icmp.h"
#include "ipaddr.h"
#include "log.h"
#include "neigh.h"
#include "nexthop.h"
#include "ctl.h"
#include "route.h"
#include "stats.h"
#include "status.h"
#include "table.h"
#include "parse.h"
#include "port.h"
#include "worker.h"

struct nkey {
	uint16_t port;
	uint8_t family;
	uint8_t pad;
	uint8_t ip[16];
};

#define NONE UINT32_MAX

struct nent {
	uint8_t live;
	uint8_t state;        /* enum lr_neigh_state */
	uint8_t host_route;   /* owns the NEIGH-source host route */
	uint8_t probing;      /* re-resolving an expiring LEARNED entry */
	uint8_t mac[6];
	uint8_t in_lru;       /* dynamic: on its port's LRU list */
	uint8_t pad;
	uint32_t adj;         /* referenced adjacency */
	uint32_t pos;         /* own table position */
	uint32_t prev, next;  /* LRU neighbors (positions) */
	uint32_t hq_head, hq_tail, hq_n;  /* held packets (slots) */
	uint64_t confirmed;   /* TSC: created, or last confirmation */
	uint64_t requested;   /* TSC of the last ARP request / NS sent */
	uint64_t wanted;      /* TSC of the last resolution request from traffic */
};

/* A held packet. */
struct hslot {
	struct rte_mbuf *m;
	uint64_t tsc;         /* when it was held */
	uint32_t next;        /* next slot of the entry's FIFO, or of the free list */
	uint16_t w;           /* worker it came from */
};

struct lru {
	uint32_t head, tail, n;
};

uint32_t lr_neigh_hold_per;

static struct {
	struct lr_keyed t;        /* struct nkey -> struct nent */
	uint32_t max;
	uint32_t port_max;        /* dynamic entries per port */
	uint16_t n_ports;
	bool quiet;               /* our own lr_adj_get(): not a new destination */
	bool replies_only;
	lr_neigh_solicit_fn solicit;
	struct lru lru[LR_MAX_PORTS];
	struct hslot *slot;       /* LR_NEIGH_HOLD_TOTAL */
	uint32_t slot_free;       /* free list head */
	uint64_t mac_log_tsc;     /* last MAC-change log line (one a second) */
} nb;

#define ENT(pos) ((struct nent *)lr_keyed_rec(&nb.t, (pos)))

static void adj_created(uint32_t idx);

int
lr_neigh_init(uint32_t max)
{
	uint32_t i;

	memset(&nb, 0, sizeof(nb));
	nb.slot = calloc(LR_NEIGH_HOLD_TOTAL, sizeof(*nb.slot));
	if (nb.slot == NULL ||
	    lr_keyed_create(&nb.t, "lr_neigh", max, sizeof(struct nkey), sizeof(struct nent),
			    false) < 0) {
		free(nb.slot);
		nb.slot = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < LR_NEIGH_HOLD_TOTAL; i++)
		nb.slot[i].next = i + 1 < LR_NEIGH_HOLD_TOTAL ? i + 1 : NONE;
	nb.slot_free = 0;
	for (i = 0; i < LR_MAX_PORTS; i++)
		nb.lru[i] = (struct lru){ NONE, NONE, 0 };
	nb.max = max;
	nb.port_max = RTE_MAX(max / 4, 64u);
	lr_adj_on_created(LR_ADJ_NEIGH, adj_created);
	return 0;
}

void
lr_neigh_fini(void)
{
	uint32_t i;

	lr_adj_on_created(LR_ADJ_NEIGH, NULL);
	if (nb.slot != NULL)
		for (i = 0; i < LR_NEIGH_HOLD_TOTAL; i++)
			if (nb.slot[i].m != NULL)
				rte_pktmbuf_free(nb.slot[i].m);
	free(nb.slot);
	lr_keyed_free(&nb.t);
	lr_neigh_hold_per = 0;
	memset(&nb, 0, sizeof(nb));
}

void
lr_neigh_configure(const struct lr_neigh_conf *c)
{
	nb.port_max = c->port_max != 0 ? c->port_max : RTE_MAX(nb.max / 4, 64u);
	nb.replies_only = c->replies_only;
	lr_neigh_hold_per = c->hold;
}

void
lr_neigh_set_ports(uint16_t n_ports)
{
	nb.n_ports = n_ports;
}

void
lr_neigh_set_solicit(lr_neigh_solicit_fn fn)
{
	nb.solicit = fn;
}

uint32_t
lr_neigh_count(void)
{
	return lr_keyed_count(&nb.t);
}

static void
make_key(struct nkey *k, uint16_t port, uint8_t family, const uint8_t *ip)
{
	memset(k, 0, sizeof(*k));
	k->port = port;
	k->family = family;
	memcpy(k->ip, ip, lr_ip_len(family));
}

static struct nent *
find(const struct nkey *k)
{
	int32_t pos = lr_keyed_find(&nb.t, k);

	return pos < 0 ? NULL : ENT(pos);
}

/* ---- LRU of dynamic entries, per port ---- */

static void
lru_unlink(uint16_t port, struct nent *e)
{
	struct lru *l = &nb.lru[port];

	if (!e->in_lru)
		return;
	if (e->prev != NONE)
		ENT(e->prev)->next = e->next;
	else
		l->head = e->next;
	if (e->next != NONE)
		ENT(e->next)->prev = e->prev;
	else
		l->tail = e->prev;
	e->in_lru = 0;
	l->n--;
}

/* Most recently confirmed: to the tail. */
static void
lru_touch(uint16_t port, struct nent *e)
{
	struct lru *l = &nb.lru[port];

	lru_unlink(port, e);
	e->prev = l->tail;
	e->next = NONE;
	if (l->tail != NONE)
		ENT(l->tail)->next = e->pos;
	else
		l->head = e->pos;
	l->tail = e->pos;
	e->in_lru = 1;
	l->n++;
}

/* ---- held packets ---- */

static void
hold_push(struct nent *e, struct rte_mbuf *m, unsigned w, uint64_t now)
{
	uint32_t i = nb.slot_free;
	struct hslot *s = &nb.slot[i];

	nb.slot_free = s->next;
	s->m = m;
	s->tsc = now;
	s->w = (uint16_t)w;
	s->next = NONE;
	if (e->hq_n++ == 0)
		e->hq_head = i;
	else
		nb.slot[e->hq_tail].next = i;
	e->hq_tail = i;
}

static struct rte_mbuf *
hold_pop(struct nent *e, unsigned *w)
{
	uint32_t i = e->hq_head;
	struct hslot *s = &nb.slot[i];
	struct rte_mbuf *m = s->m;

	e->hq_head = s->next;
	e->hq_n--;
	if (w != NULL)
		*w = s->w;
	s->m = NULL;
	s->next = nb.slot_free;
	nb.slot_free = i;
	return m;
}

/* Counts a slow-path event (the table tests run without stats memory). */
#define COUNT(field) do { if (lr_shm != NULL) lr_shm->slow.field++; } while (0)

/*
 * The entry's neighbor is at mac: its held packets get the rewrite
 * ip-forward would have given them (the checks before it were made there)
 * and leave, in order, through worker w.
 */
static void
hold_release(const struct nkey *k, struct nent *e, const uint8_t *mac, unsigned w)
{
	const struct lr_port_rt *o = &lr_port_rt[k->port];

	while (e->hq_n != 0) {
		struct rte_mbuf *m = hold_pop(e, NULL);
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *l3 = f + LR_ETH_HLEN;
		bool v6 = (l3[0] >> 4) == 6;
		uint32_t l3len = v6 ? LR_IP6_HLEN + rte_be_to_cpu_16(((struct rte_ipv6_hdr *)l3)->payload_len)
				    : rte_be_to_cpu_16(((struct rte_ipv4_hdr *)l3)->total_length);

		if (!o->up || l3len > o->mtu) {
			rte_pktmbuf_free(m);
			COUNT(neigh_hold_dropped);
			continue;
		}
		memcpy(f, mac, 6);
		memcpy(f + 6, &o->mac, 6);
		if (v6)
			((struct rte_ipv6_hdr *)l3)->hop_limits--;
		else
			lr_ip4_ttl_dec((struct rte_ipv4_hdr *)l3);
		COUNT(neigh_hold_sent);
		lr_worker_inject(m, k->port, w);
	}
}

/* Held packets that waited too long (all: every one): host unreachable. */
static void
hold_expire(struct nent *e, uint64_t now, bool all)
{
	uint64_t max = LR_NEIGH_HOLD_S * rte_get_tsc_hz();

	while (e->hq_n != 0 && (all || now - nb.slot[e->hq_head].tsc > max)) {
		unsigned w;
		struct rte_mbuf *m = hold_pop(e, &w);

		COUNT(neigh_hold_expired);
		m->hash.usr = LR_ICMP_TAG(LR_ICMP_HOST_UNREACH, 0);
		lr_icmp_error(m, w);
	}
}

static uint64_t
ms_to_tsc(uint64_t ms)
{
	return rte_get_tsc_hz() / 1000 * ms;
}

/* The FIB says ip is on-link on port: its route is a glean one. */
static bool
on_link(const struct nkey *k)
{
	uint32_t v;

	if (lr_fib_lookup(k->family, k->ip, 0, &v) < 0 || (v & LR_NH_GROUP))
		return false;
	return lr_adj_info[v].kind == LR_ADJ_GLEAN && lr_adj_info[v].port == k->port;
}

/*
 * Host route of a resolved entry; skipped when another port's entry for
 * the same address already has it. A learned entry gets one only where
 * routing already says its address is on-link there, so that a frame from
 * the wire can never redirect traffic for other destinations.
 */
static int
host_route_add(const struct nkey *k, struct nent *e)
{
	uint8_t plen = (uint8_t)lr_ip_maxplen(k->family);
	int rc;

	if (e->host_route || lr_route_get(k->family, k->ip, plen, LR_RSRC_NEIGH) != LR_NH_NONE)
		return 0;
	if (e->state != LR_NEIGH_STATIC && !on_link(k))
		return 0;
	lr_nh_ref(e->adj);
	rc = lr_route_txn_set(k->family, k->ip, plen, LR_RSRC_NEIGH, e->adj);
	if (rc < 0) {
		lr_nh_put(e->adj);
		lr_route_txn_abort();
		return rc;
	}
	lr_route_txn_commit();
	e->host_route = 1;
	return 0;
}

static void
entry_delete(const struct nkey *k, struct nent *e)
{
	if (e->host_route) {
		if (lr_route_txn_set(k->family, k->ip, (uint8_t)lr_ip_maxplen(k->family),
				     LR_RSRC_NEIGH, LR_NH_NONE) == 0)
			lr_route_txn_commit();
		else
			lr_route_txn_abort();
		e->host_route = 0;
	}
	hold_expire(e, 0, true);
	lru_unlink(k->port, e);
	/* Gateway routes may still use the adjacency: it becomes unresolved. */
	lr_adj_set_mac(e->adj, NULL);
	lr_nh_put(e->adj);
	e->live = 0;
	lr_keyed_del(&nb.t, k);
}

/* Evicts the least recently confirmed dynamic entry of port. */
static bool
evict_oldest(uint16_t port)
{
	int32_t pos = (int32_t)nb.lru[port].head;
	struct nkey k;
	void *key;

	if (nb.lru[port].head == NONE || rte_hash_get_key_with_position(nb.t.h, pos, &key) < 0)
		return false;
	memcpy(&k, key, sizeof(k));
	entry_delete(&k, ENT(pos));
	COUNT(neigh_evicted);
	return true;
}

/*
 * New dynamic entry, on its port's LRU list; the caller fills state/mac.
 * Over the port's cap, or with the table full, the port's oldest dynamic
 * entry makes room. NULL when there is none to evict.
 */
static struct nent *
entry_create(const struct nkey *k)
{
	struct nent *e;
	uint32_t adj;
	int32_t pos;

	if ((nb.lru[k->port].n >= nb.port_max || lr_keyed_count(&nb.t) >= nb.max) &&
	    !evict_oldest(k->port))
		return NULL;
	if (lr_keyed_count(&nb.t) >= nb.max)
		return NULL;
	nb.quiet = true;
	pos = lr_adj_get(LR_ADJ_NEIGH, k->family, k->port, k->ip, &adj, NULL);
	nb.quiet = false;
	if (pos < 0)
		return NULL;
	pos = lr_keyed_add(&nb.t, k);
	if (pos < 0) {
		lr_nh_put(adj);
		return NULL;
	}
	e = ENT(pos);
	memset(e, 0, sizeof(*e));
	e->live = 1;
	e->adj = adj;
	e->pos = (uint32_t)pos;
	e->confirmed = rte_rdtsc();
	lru_touch(k->port, e);
	return e;
}

static void
set_resolved(const struct nkey *k, struct nent *e, uint8_t state, const uint8_t *mac)
{
	if (state != LR_NEIGH_STATIC)
		lru_touch(k->port, e);
	e->state = state;
	memcpy(e->mac, mac, 6);
	e->confirmed = rte_rdtsc();
	e->probing = 0;
	lr_adj_set_mac(e->adj, mac);
	if (host_route_add(k, e) < 0)
		LR_LOG(WARNING, "neigh: no FIB space for a host route: forwarding through the gateway only");
}

static void
request(const struct nkey *k, struct nent *e, bool unicast)
{
	e->requested = rte_rdtsc();
	if (nb.solicit != NULL)
		nb.solicit(k->port, k->family, k->ip, unicast ? e->mac : NULL);
}

/*
 * A route made a new gateway adjacency (nexthop.h): no entry exists for it
 * yet, so resolve it now rather than drop the first packets of the route.
 */
static void
adj_created(uint32_t idx)
{
	const struct lr_adj_info *a = &lr_adj_info[idx];
	struct nkey k;
	struct nent *e;

	if (nb.quiet || a->port >= nb.n_ports)
		return;
	make_key(&k, a->port, a->family, a->ip);
	if (find(&k) != NULL)
		return;
	e = entry_create(&k);
	if (e != NULL) {
		e->state = LR_NEIGH_INCOMPLETE;
		e->wanted = rte_rdtsc();
		request(&k, e, false);
	}
}

static void
mac_changed(const struct nkey *k, const struct nent *e, const uint8_t *mac)
{
	uint64_t now = rte_rdtsc();
	char b[LR_IP_STRLEN];

	COUNT(neigh_mac_changed);
	if (nb.mac_log_tsc != 0 && now - nb.mac_log_tsc < rte_get_tsc_hz())
		return;  /* one line a second: the counter has the rest */
	nb.mac_log_tsc = now;
	LR_LOG(NOTICE, "neigh: %s on port %u moved from " RTE_ETHER_ADDR_PRT_FMT " to "
	       RTE_ETHER_ADDR_PRT_FMT, lr_ip_fmt(k->family, k->ip, -1, b, sizeof(b)), k->port,
	       RTE_ETHER_ADDR_BYTES((const struct rte_ether_addr *)e->mac),
	       RTE_ETHER_ADDR_BYTES((const struct rte_ether_addr *)mac));
}

int
lr_neigh_learn(uint16_t port, uint8_t family, const uint8_t *ip, const uint8_t *mac,
	       unsigned flags, unsigned w)
{
	struct nkey k;
	struct nent *e;

	if (port >= nb.n_ports || !lr_ip_is_unicast_host(family, ip) ||
	    rte_is_multicast_ether_addr((const struct rte_ether_addr *)mac) ||
	    rte_is_zero_ether_addr((const struct rte_ether_addr *)mac))
		return 0;
	make_key(&k, port, family, ip);
	e = find(&k);
	if (e != NULL) {
		if (e->state == LR_NEIGH_STATIC)
			return 0;
		if (nb.replies_only && !((flags & LR_NEIGH_LEARN_ANSWER) &&
					 (e->state == LR_NEIGH_INCOMPLETE || e->probing))) {
			COUNT(neigh_refused);
			return 0;
		}
		if (e->state == LR_NEIGH_INCOMPLETE)
			COUNT(neigh_learned);
		else if (memcmp(e->mac, mac, 6) != 0)
			mac_changed(&k, e, mac);
		hold_release(&k, e, mac, w);  /* before the workers see the MAC: order kept */
		set_resolved(&k, e, LR_NEIGH_LEARNED, mac);
		return 1;
	}
	if (!(flags & LR_NEIGH_LEARN_CREATE))
		return 0;
	if (nb.replies_only || !lr_addr_on_subnet(port, family, ip)) {
		COUNT(neigh_refused);
		return 0;
	}
	e = entry_create(&k);
	if (e == NULL)
		return 0;
	COUNT(neigh_learned);
	set_resolved(&k, e, LR_NEIGH_LEARNED, mac);
	return 1;
}

/* Traffic wants k: its entry, created INCOMPLETE and asked for if new. */
static struct nent *
want(const struct nkey *k)
{
	uint64_t now = rte_rdtsc();
	struct nent *e = find(k);

	if (e == NULL) {
		e = entry_create(k);
		if (e == NULL)
			return NULL;
		e->state = LR_NEIGH_INCOMPLETE;
		e->wanted = now;
		request(k, e, false);
		return e;
	}
	e->wanted = now;
	if (e->state == LR_NEIGH_INCOMPLETE) {
		if (now - e->requested >= ms_to_tsc(LR_NEIGH_RETRY_MS))
			request(k, e, false);
	} else if (!e->host_route) {
		/* resolved, and routing made it on-link since it was learned */
		host_route_add(k, e);
	}
	return e;
}

void
lr_neigh_want(uint16_t port, uint8_t family, const uint8_t *ip)
{
	struct nkey k;

	if (port >= nb.n_ports || (family != LR_AF_INET && family != LR_AF_INET6) ||
	    !lr_ip_is_unicast_host(family, ip))
		return;
	make_key(&k, port, family, ip);
	want(&k);
}

void
lr_neigh_hold(struct rte_mbuf *m, unsigned w)
{
	uint32_t adj = m->hash.usr & LR_NH_IDX_MASK;
	const struct lr_adj_info *a = &lr_adj_info[adj];
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, LR_ETH_HLEN);
	struct nkey k;
	struct nent *e;

	m->hash.usr = 0;
	if (a->port >= nb.n_ports)
		goto drop;
	if (a->kind == LR_ADJ_GLEAN) {  /* on-link: the packet's own destination */
		if ((l3[0] >> 4) == 6)
			make_key(&k, a->port, LR_AF_INET6, ((const struct rte_ipv6_hdr *)l3)->dst_addr);
		else
			make_key(&k, a->port, LR_AF_INET,
				 (const uint8_t *)&((const struct rte_ipv4_hdr *)l3)->dst_addr);
	} else if (a->kind == LR_ADJ_NEIGH) {
		make_key(&k, a->port, a->family, a->ip);
	} else {
		goto drop;  /* the adjacency went away meanwhile */
	}
	if (!lr_ip_is_unicast_host(k.family, k.ip) || (e = want(&k)) == NULL)
		goto drop;
	if (e->hq_n >= lr_neigh_hold_per || nb.slot_free == NONE)
		goto drop;
	hold_push(e, m, w, rte_rdtsc());
	COUNT(neigh_held);
	if (e->state != LR_NEIGH_INCOMPLETE)  /* resolved since the worker looked */
		hold_release(&k, e, e->mac, w);
	return;
drop:
	COUNT(neigh_hold_dropped);
	rte_pktmbuf_free(m);
}

void
lr_neigh_timer(void)
{
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	const void *key;
	void *data;
	uint32_t it = 0;
	int32_t pos;

	while ((pos = rte_hash_iterate(nb.t.h, &key, &data, &it)) >= 0) {
		const struct nkey *k = key;
		struct nent *e = ENT(pos);

		switch (e->state) {
		case LR_NEIGH_INCOMPLETE:
			hold_expire(e, now, false);
			if (now - e->wanted > LR_NEIGH_INCOMPLETE_S * hz)
				entry_delete(k, e);
			else if (now - e->requested >= ms_to_tsc(LR_NEIGH_RETRY_MS))
				request(k, e, false);
			break;
		case LR_NEIGH_LEARNED:
			if (now - e->confirmed < LR_NEIGH_REACHABLE_S * hz)
				break;
			if (!e->probing) {
				/* Still used by routes (beyond our own and the host
				 * route's references): confirm before dropping it. */
				if (lr_nh_refcnt(e->adj) > 1u + e->host_route) {
					e->probing = 1;
					request(k, e, true);
				} else {
					entry_delete(k, e);
				}
			} else if (now - e->requested > LR_NEIGH_PROBE_WAIT_S * hz) {
				entry_delete(k, e);
			}
			break;
		default:
			break;
		}
	}
}

int
lr_neigh_lookup(uint16_t port, uint8_t family, const uint8_t *ip, uint8_t mac[6])
{
	struct nkey k;
	struct nent *e;

	make_key(&k, port, family, ip);
	e = find(&k);
	if (e == NULL)
		return 0;
	if (mac != NULL)
		memcpy(mac, e->mac, 6);
	return e->state;
}

/* ---- NEIGH_BATCH ---- */

struct keyidx {
	struct nkey k;
	uint32_t i;
};

static int
keyidx_cmp(const void *a, const void *b)
{
	const struct keyidx *x = a, *y = b;
	int c = memcmp(&x->k, &y->k, sizeof(x->k));

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

static int
validate(const struct lr_neigh *e, uint32_t i, struct lr_ctl_status *st)
{
	const struct rte_ether_addr *mac = (const struct rte_ether_addr *)e->mac;
	char b[LR_IP_STRLEN];

	int code = lr_check_entry(st, "neighbors", i, e->op, e->family, &e->port_id, nb.n_ports);

	if (code != LR_OK)
		return code;
	if (!lr_ip_is_unicast_host(e->family, e->addr))
		return lr_status_set(st, LR_ERR_INVALID, i,
				     "neighbors[%u].addr: %s is not a unicast address", i,
				     lr_ip_fmt(e->family, e->addr, -1, b, sizeof(b)));
	if (e->op != LR_OP_DEL &&
	    (rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac)))
		return lr_status_set(st, LR_ERR_INVALID, i,
				     "neighbors[%u].mac: " RTE_ETHER_ADDR_PRT_FMT " is not a unicast MAC",
				     i, RTE_ETHER_ADDR_BYTES(mac));
	return LR_OK;
}

int
lr_neigh_batch(const struct lr_neigh *e, uint32_t n, struct lr_ctl_status *st)
{
	struct keyidx *ki = NULL;
	uint32_t i, n_new = 0, *adj = NULL;
	char b[LR_IP_STRLEN];
	int code = LR_OK, rc;

	if (n == 0)
		return LR_OK;
	ki = malloc(sizeof(*ki) * n);
	adj = malloc(sizeof(*adj) * n);
	if (ki == NULL || adj == NULL) {
		code = lr_status_set(st, LR_ERR_NO_SPACE, 0, "neighbors: out of memory");
		goto out;
	}
	/* 1. syntax, existence, capacity: nothing changes on failure */
	for (i = 0; i < n; i++) {
		struct nent *x;

		code = validate(&e[i], i, st);
		if (code != LR_OK)
			goto out;
		make_key(&ki[i].k, e[i].port_id, e[i].family, e[i].addr);
		ki[i].i = i;
		x = find(&ki[i].k);
		if (e[i].op == LR_OP_ADD && x != NULL && x->state == LR_NEIGH_STATIC) {
			code = lr_status_set(st, LR_ERR_EXISTS, i,
					     "neighbors[%u]: %s on port %u already exists", i,
					     lr_ip_fmt(e[i].family, e[i].addr, -1, b, sizeof(b)), e[i].port_id);
			goto out;
		}
		if (e[i].op == LR_OP_DEL && x == NULL) {
			code = lr_status_set(st, LR_ERR_NOT_FOUND, i,
					     "neighbors[%u]: %s on port %u does not exist", i,
					     lr_ip_fmt(e[i].family, e[i].addr, -1, b, sizeof(b)), e[i].port_id);
			goto out;
		}
		if (e[i].op != LR_OP_DEL && x == NULL &&
		    lr_keyed_count(&nb.t) + ++n_new > nb.max) {
			code = lr_status_set(st, LR_ERR_NO_SPACE, i,
					     "neighbors[%u]: neighbor table full (%u entries)", i, nb.max);
			goto out;
		}
	}
	qsort(ki, n, sizeof(*ki), keyidx_cmp);
	for (i = 1; i < n; i++)
		if (memcmp(&ki[i].k, &ki[i - 1].k, sizeof(ki[i].k)) == 0) {
			uint32_t j = ki[i].i;

			code = lr_status_set(st, LR_ERR_INVALID, j,
					     "neighbors[%u]: %s on port %u appears earlier in the same batch", j,
					     lr_ip_fmt(e[j].family, e[j].addr, -1, b, sizeof(b)), e[j].port_id);
			goto out;
		}
	/* 2. adjacencies of the entries that will be static */
	for (i = 0; i < n; i++) {
		adj[i] = LR_NH_NONE;
		if (e[i].op == LR_OP_DEL)
			continue;
		nb.quiet = true;
		rc = lr_adj_get(LR_ADJ_NEIGH, e[i].family, e[i].port_id, e[i].addr, &adj[i], NULL);
		nb.quiet = false;
		if (rc < 0) {
			code = lr_status_set(st, LR_ERR_NO_SPACE, i, "neighbors[%u]: adjacency table full", i);
			goto release;
		}
	}
	/* 3. host routes, in one FIB version */
	for (i = 0; i < n; i++) {
		uint8_t plen = (uint8_t)lr_ip_maxplen(e[i].family);
		struct nent *x;
		struct nkey k;
		int rc = 0;

		make_key(&k, e[i].port_id, e[i].family, e[i].addr);
		x = find(&k);
		if (e[i].op == LR_OP_DEL) {
			if (x->host_route)
				rc = lr_route_txn_set(e[i].family, e[i].addr, plen, LR_RSRC_NEIGH, LR_NH_NONE);
		} else if ((x == NULL || !x->host_route) &&
			   lr_route_get(e[i].family, e[i].addr, plen, LR_RSRC_NEIGH) == LR_NH_NONE) {
			lr_nh_ref(adj[i]);
			rc = lr_route_txn_set(e[i].family, e[i].addr, plen, LR_RSRC_NEIGH, adj[i]);
			if (rc < 0)
				lr_nh_put(adj[i]);
		}
		if (rc < 0) {
			lr_route_txn_abort();
			code = lr_status_set(st, LR_ERR_NO_SPACE, i, "neighbors[%u]: FIB full for the host route", i);
			goto release;
		}
	}
	/* 4. cannot fail from here: publish MACs, then the FIB */
	for (i = 0; i < n; i++)
		if (e[i].op != LR_OP_DEL)
			lr_adj_set_mac(adj[i], e[i].mac);
	lr_route_txn_commit();
	for (i = 0; i < n; i++) {
		uint8_t plen = (uint8_t)lr_ip_maxplen(e[i].family);
		struct nkey k;
		struct nent *x;

		make_key(&k, e[i].port_id, e[i].family, e[i].addr);
		x = find(&k);
		if (e[i].op == LR_OP_DEL) {
			x->host_route = 0;  /* already removed above */
			entry_delete(&k, x);
			continue;
		}
		if (x == NULL) {
			int32_t pos = lr_keyed_add(&nb.t, &k);

			x = ENT(pos);  /* capacity checked in step 1 */
			memset(x, 0, sizeof(*x));
			x->live = 1;
			x->adj = adj[i];
			x->pos = (uint32_t)pos;
			adj[i] = LR_NH_NONE;  /* the entry keeps this reference */
		}
		lru_unlink(k.port, x);
		hold_release(&k, x, e[i].mac, 0);
		x->state = LR_NEIGH_STATIC;
		memcpy(x->mac, e[i].mac, 6);
		x->confirmed = rte_rdtsc();
		x->probing = 0;
		if (!x->host_route &&
		    lr_route_get(e[i].family, e[i].addr, plen, LR_RSRC_NEIGH) == x->adj)
			x->host_route = 1;
	}
	code = LR_OK;
release:
	for (i = 0; i < n; i++)
		if (e[i].op != LR_OP_DEL)
			lr_nh_put(adj[i]);
out:
	free(ki);
	free(adj);
	return code;
}

static unsigned
dump_entry(const void *key, int32_t pos, uint8_t family, void *out)
{
	const struct nkey *k = key;
	const struct nent *e = ENT(pos);
	struct lr_neigh *o = out;

	if (family != 0 && k->family != family)
		return 0;
	if (o != NULL) {
		memset(o, 0, sizeof(*o));
		o->op = LR_OP_ADD;
		o->family = k->family;
		o->state = e->state;
		o->port_id = k->port;
		memcpy(o->mac, e->mac, 6);
		memcpy(o->addr, k->ip, 16);
		o->age_s = (uint32_t)((rte_rdtsc() - e->confirmed) / rte_get_tsc_hz());
	}
	return 1;
}

uint32_t
lr_neigh_dump(uint8_t family, uint32_t cursor, struct lr_neigh *out, uint32_t max,
	      uint32_t *next, uint32_t *done)
{
	return lr_keyed_dump(&nb.t, cursor, family, dump_entry, out, sizeof(*out), max, next, done);
}

/* ---- control messages ---- */

LR_CTL_TABLE(neigh, "neighbors", struct lr_neigh, LR_CTL_NEIGH_BATCH, lr_neigh_batch, LR_CTL_NEIGH_DUMP, lr_neigh_dump)
