/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port addresses (see addr.h). A small array: a batch builds the new list,
 * derives the LOCAL and CONNECTED route sources from the old and the new
 * list, stages the difference in one route transaction and swaps lists
 * only once that transaction committed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ipaddr.h"
#include "log.h"
#include "nexthop.h"
#include "route.h"
#include "status.h"
#include "table.h"
#include "ctl.h"

struct aent {
	uint8_t family;
	uint8_t plen;
	uint16_t port;
	uint8_t addr[16];
};

static struct {
	struct aent list[LR_ADDR_MAX];
	uint32_t n;
	uint16_t n_ports;
} ad;

/* A route source derived from an address list. */
struct derived {
	uint8_t family, plen, src;
	uint8_t kind;               /* adjacency: LOCAL, GLEAN (CONNECTED) or BCAST */
	uint16_t port;              /* GLEAN adjacency port (CONNECTED) */
	uint8_t prefix[16];
	uint32_t seq;               /* order of derivation: the first of equal keys wins */
};

void
lr_addr_init(uint16_t n_ports)
{
	memset(&ad, 0, sizeof(ad));
	ad.n_ports = n_ports;
}

uint32_t
lr_addr_count(void)
{
	return ad.n;
}

static int
find(const struct aent *list, uint32_t n, uint16_t port, uint8_t family, const uint8_t *ip)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (list[i].port == port && list[i].family == family &&
		    memcmp(list[i].addr, ip, lr_ip_len(family)) == 0)
			return (int)i;
	return -1;
}

static int
find_any_port(const struct aent *list, uint32_t n, uint8_t family, const uint8_t *ip)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (list[i].family == family && memcmp(list[i].addr, ip, lr_ip_len(family)) == 0)
			return (int)i;
	return -1;
}

bool
lr_addr_is_ours(uint16_t port, uint8_t family, const uint8_t *ip)
{
	return find(ad.list, ad.n, port, family, ip) >= 0;
}

bool
lr_addr_on_subnet(uint16_t port, uint8_t family, const uint8_t *ip)
{
	uint32_t i;

	if (family == LR_AF_INET6 && ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return true;
	for (i = 0; i < ad.n; i++) {
		const struct aent *a = &ad.list[i];

		if (a->port == port && a->family == family &&
		    lr_ip_in_prefix(family, ip, a->addr, a->plen))
			return true;
	}
	return false;
}

bool
lr_addr_pick_src(uint16_t port, uint8_t family, const uint8_t *dst, uint8_t out[16])
{
	int first = -1;
	uint32_t i;

	for (i = 0; i < ad.n; i++) {
		const struct aent *a = &ad.list[i];

		if (a->port != port || a->family != family)
			continue;
		if (first < 0)
			first = (int)i;
		if (dst != NULL && lr_ip_in_prefix(family, dst, a->addr, a->plen)) {
			first = (int)i;
			break;
		}
	}
	if (first < 0)
		return false;
	memset(out, 0, 16);
	memcpy(out, ad.list[first].addr, lr_ip_len(family));
	return true;
}

uint32_t
lr_addr_dump(struct lr_addr *out, uint32_t max)
{
	uint32_t i;

	for (i = 0; i < ad.n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].op = LR_OP_ADD;
		out[i].family = ad.list[i].family;
		out[i].plen = ad.list[i].plen;
		out[i].port_id = ad.list[i].port;
		memcpy(out[i].addr, ad.list[i].addr, 16);
	}
	return i;
}

/* Order of the route key (source, family, prefix length, prefix). */
static int
key_cmp(const struct derived *a, const struct derived *b)
{
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->prefix, b->prefix, 16);
}

static int
derived_sort_cmp(const void *x, const void *y)
{
	const struct derived *a = x, *b = y;
	int c = key_cmp(a, b);

	return c != 0 ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
derived_key_cmp(const void *k, const void *e)
{
	return key_cmp(k, e);
}

/*
 * LOCAL host routes, CONNECTED subnets and (IPv4 subnets up to /30) the
 * subnet broadcast address of a list; the first address claiming a subnet
 * gives it its port.
 */
static uint32_t
derive(const struct aent *list, uint32_t n, struct derived *out)
{
	uint32_t i, k, m = 0;

	for (i = 0; i < n; i++) {
		const struct aent *a = &list[i];
		struct derived d;
		unsigned b;

		memset(&d, 0, sizeof(d));
		d.family = a->family;
		d.plen = (uint8_t)lr_ip_maxplen(a->family);
		d.src = LR_RSRC_LOCAL;
		d.kind = LR_ADJ_LOCAL;
		memcpy(d.prefix, a->addr, 16);
		d.seq = m;
		out[m++] = d;
		if (a->plen >= lr_ip_maxplen(a->family))
			continue;
		d.plen = a->plen;
		d.src = LR_RSRC_CONNECTED;
		d.kind = LR_ADJ_GLEAN;
		d.port = a->port;
		lr_ip_mask(a->family, a->addr, a->plen, d.prefix);
		d.seq = m;
		out[m++] = d;
		if (a->family != LR_AF_INET || a->plen > 30)
			continue;
		/* RFC 2644: a directed broadcast is dropped, never resolved */
		for (b = a->plen; b < 32; b++)
			d.prefix[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		d.plen = 32;
		d.src = LR_RSRC_LOCAL;
		d.kind = LR_ADJ_BCAST;
		d.port = 0;
		d.seq = m;
		out[m++] = d;
	}
	/* sorted by key, the first derived of equal keys kept: O(n log n) for a
	 * list of LR_ADDR_MAX addresses (a scan per entry made every address
	 * batch cost tens of milliseconds of the main lcore at 1024) */
	qsort(out, m, sizeof(out[0]), derived_sort_cmp);
	for (i = 0, k = 0; i < m; i++)
		if (k == 0 || key_cmp(&out[k - 1], &out[i]) != 0)
			out[k++] = out[i];
	return k;
}

/* The entry of a derive()d (sorted) array with k's key, or NULL. */
static const struct derived *
derived_find(const struct derived *d, uint32_t n, const struct derived *k)
{
	return bsearch(k, d, n, sizeof(d[0]), derived_key_cmp);
}

static int
derived_value(const struct derived *d, uint32_t *v)
{
	static const uint8_t zero[16];

	return lr_adj_get(d->kind, d->family, d->port, zero, v, NULL);
}

/* Stages old → new route sources. */
static int
stage(const struct derived *od, uint32_t on, const struct derived *nd, uint32_t nn)
{
	uint32_t i, v;
	int rc;

	for (i = 0; i < on; i++)
		if (derived_find(nd, nn, &od[i]) == NULL) {
			rc = lr_route_txn_set(od[i].family, od[i].prefix, od[i].plen, od[i].src, LR_NH_NONE);
			if (rc < 0)
				return rc;
		}
	for (i = 0; i < nn; i++) {
		const struct derived *o = derived_find(od, on, &nd[i]);

		if (o != NULL && o->port == nd[i].port && o->kind == nd[i].kind)
			continue;
		rc = derived_value(&nd[i], &v);
		if (rc < 0)
			return rc;
		rc = lr_route_txn_set(nd[i].family, nd[i].prefix, nd[i].plen, nd[i].src, v);
		if (rc < 0) {
			lr_nh_put(v);
			return rc;
		}
	}
	return 0;
}

static int
validate(const struct lr_addr *a, uint32_t i, struct lr_ctl_status *st)
{
	char b[LR_IP_STRLEN];

	int code = lr_check_entry(st, "addresses", i, a->op, a->family, &a->port_id, ad.n_ports);

	if (code != LR_OK)
		return code;
	if (!lr_ip_is_unicast_host(a->family, a->addr))
		return lr_status_set(st, LR_ERR_INVALID, i,
				     "addresses[%u].addr: %s is not a unicast address", i,
				     lr_ip_fmt(a->family, a->addr, -1, b, sizeof(b)));
	if (a->op != LR_OP_DEL && (a->plen == 0 || a->plen > lr_ip_maxplen(a->family)))
		return lr_status_set(st, LR_ERR_INVALID, i, "addresses[%u].plen: must be 1 to %u, got %u",
				     i, lr_ip_maxplen(a->family), a->plen);
	return LR_OK;
}

int
lr_addr_batch(const struct lr_addr *a, uint32_t n, struct lr_ctl_status *st)
{
	static struct aent nl[LR_ADDR_MAX];
	static struct derived od[3 * LR_ADDR_MAX], nd[3 * LR_ADDR_MAX];
	uint32_t nn = ad.n, i, on_d, nn_d;
	char b[LR_IP_STRLEN];
	int code, rc, k;

	memcpy(nl, ad.list, sizeof(nl[0]) * ad.n);
	for (i = 0; i < n; i++) {
		code = validate(&a[i], i, st);
		if (code != LR_OK)
			return code;
		lr_ip_fmt(a[i].family, a[i].addr, -1, b, sizeof(b));
		/* a key seen earlier in this batch is in nl already (or was removed) */
		for (k = 0; k < (int)i; k++)
			if (a[k].port_id == a[i].port_id && a[k].family == a[i].family &&
			    memcmp(a[k].addr, a[i].addr, lr_ip_len(a[i].family)) == 0)
				return lr_status_set(st, LR_ERR_INVALID, i,
						     "addresses[%u]: %s appears earlier in the same batch", i, b);
		k = find(nl, nn, a[i].port_id, a[i].family, a[i].addr);
		if (a[i].op == LR_OP_DEL) {
			if (k < 0)
				return lr_status_set(st, LR_ERR_NOT_FOUND, i,
						     "addresses[%u]: %s is not on port %u", i, b, a[i].port_id);
			nl[k] = nl[--nn];
			continue;
		}
		if (k < 0) {
			int other = find_any_port(nl, nn, a[i].family, a[i].addr);

			if (other >= 0)
				return lr_status_set(st, LR_ERR_EXISTS, i,
						     "addresses[%u]: %s is already on port %u", i, b,
						     nl[other].port);
			if (nn == LR_ADDR_MAX)
				return lr_status_set(st, LR_ERR_NO_SPACE, i,
						     "addresses[%u]: at most %d addresses", i, LR_ADDR_MAX);
			k = (int)nn++;
		} else if (a[i].op == LR_OP_ADD) {
			return lr_status_set(st, LR_ERR_EXISTS, i,
					     "addresses[%u]: %s is already on port %u", i, b, a[i].port_id);
		}
		memset(&nl[k], 0, sizeof(nl[k]));
		nl[k].family = a[i].family;
		nl[k].plen = a[i].plen;
		nl[k].port = a[i].port_id;
		memcpy(nl[k].addr, a[i].addr, lr_ip_len(a[i].family));
	}
	on_d = derive(ad.list, ad.n, od);
	nn_d = derive(nl, nn, nd);
	rc = stage(od, on_d, nd, nn_d);
	if (rc < 0) {
		lr_route_txn_abort();
		return lr_status_set(st, LR_ERR_NO_SPACE, 0, "addresses: FIB or next-hop table full");
	}
	lr_route_txn_commit();
	memcpy(ad.list, nl, sizeof(nl[0]) * nn);
	ad.n = nn;
	return LR_OK;
}

/* ---- control messages ---- */

static int
addr_batch_msg(const void *entries, uint32_t n, struct lr_ctl_status *st)
{
	return lr_addr_batch(entries, n, st);
}

static int
addr_dump_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	      struct lr_ctl_status *st)
{
	(void)h;
	(void)st;
	*count = lr_addr_dump(out, LR_ADDR_MAX);
	*payload = sizeof(struct lr_addr) * *count;
	return LR_OK;
}

static const struct lr_ctl_handler addr_batch_handler = {
	.type = LR_CTL_ADDR_BATCH, .shape = LR_CTL_BATCH, .what = "addresses",
	.entry_size = sizeof(struct lr_addr), .batch = addr_batch_msg,
};
LR_CTL_REGISTER(addr_batch_handler)

static const struct lr_ctl_handler addr_dump_handler = {
	.type = LR_CTL_ADDR_DUMP, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_addr) * LR_ADDR_MAX, .call = addr_dump_msg,
};
LR_CTL_REGISTER(addr_dump_handler)
