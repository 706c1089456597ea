/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared table idiom (see table.h). */
#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "log.h"
#include "status.h"
#include "table.h"

int
lr_keyed_create(struct lr_keyed *t, const char *name, uint32_t entries, uint32_t key_len,
		size_t rec_size, bool refcounted)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,  /* rte_hash's minimum bucket layout */
		.key_len = key_len,
		.hash_func = rte_hash_crc,  /* SSE4.2 / ARMv8 CRC32: cheaper than jhash per key */
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(t, 0, sizeof(*t));
	t->h = rte_hash_create(&p);
	if (t->h == NULL)
		goto fail;
	t->cap = (uint32_t)rte_hash_max_key_id(t->h) + 1;
	t->rec_size = rec_size;
	if (rec_size != 0) {
		t->rec = rte_zmalloc(name, rec_size * t->cap, 0);
		if (t->rec == NULL)
			goto fail;
	}
	if (refcounted) {
		t->ref = rte_zmalloc(name, sizeof(*t->ref) * t->cap, 0);
		if (t->ref == NULL)
			goto fail;
	}
	return 0;
fail:
	LR_LOG(ERR, "table %s: cannot create %u entries", name, entries);
	lr_keyed_free(t);
	return -ENOMEM;
}

void
lr_keyed_free(struct lr_keyed *t)
{
	rte_hash_free(t->h);
	rte_free(t->rec);
	rte_free(t->ref);
	memset(t, 0, sizeof(*t));
}

static int32_t
added(struct lr_keyed *t, int32_t pos)
{
	if (pos < 0)
		return -ENOSPC;
	if (t->rec != NULL)
		memset(lr_keyed_rec(t, pos), 0, t->rec_size);
	if (t->ref != NULL)
		t->ref[pos] = 0;
	return pos;
}

int32_t
lr_keyed_add(struct lr_keyed *t, const void *key)
{
	return added(t, rte_hash_add_key(t->h, key));
}

int32_t
lr_keyed_add_with_hash(struct lr_keyed *t, const void *key, hash_sig_t sig)
{
	return added(t, rte_hash_add_key_with_hash(t->h, key, sig));
}

const void *
lr_keyed_key(const struct lr_keyed *t, int32_t pos)
{
	void *key;

	if (rte_hash_get_key_with_position(t->h, pos, &key) < 0)
		return NULL;
	return key;
}

void
lr_keyed_del_pos(struct lr_keyed *t, int32_t pos)
{
	const void *key = lr_keyed_key(t, pos);

	if (key != NULL)
		rte_hash_del_key(t->h, key);
}

uint32_t
lr_keyed_count(const struct lr_keyed *t)
{
	return t->h == NULL ? 0 : (uint32_t)rte_hash_count(t->h);
}

int32_t
lr_keyed_get(struct lr_keyed *t, const void *key, int *created)
{
	int32_t pos = rte_hash_lookup(t->h, key);

	if (created != NULL)
		*created = pos < 0;
	if (pos < 0) {
		pos = lr_keyed_add(t, key);
		if (pos < 0)
			return pos;
	}
	t->ref[pos]++;
	return pos;
}

int
lr_keyed_put(struct lr_keyed *t, int32_t pos)
{
	if (t->ref[pos] == 0) {
		LR_LOG(CRIT, "table: entry %d released too often", pos);
		return -1;
	}
	return --t->ref[pos] == 0;
}

uint32_t
lr_keyed_dump(const struct lr_keyed *t, uint32_t cursor, uint8_t family, lr_keyed_emit_fn emit,
	      void *out, size_t entry_size, uint32_t max, uint32_t *next, uint32_t *done)
{
	uint32_t n = 0, it = cursor, prev;
	const void *key;
	void *data;
	int32_t pos;

	*done = 0;
	for (;;) {
		unsigned need;

		prev = it;
		pos = rte_hash_iterate(t->h, &key, &data, &it);
		if (pos < 0) {
			*done = 1;
			break;
		}
		need = emit(key, pos, family, NULL);
		if (need == 0)
			continue;
		if (n + need > max) {
			it = prev;  /* this key goes into the next page */
			break;
		}
		n += emit(key, pos, family, (uint8_t *)out + (size_t)n * entry_size);
	}
	*next = it;
	return n;
}

int
lr_check_entry(struct lr_ctl_status *st, const char *what, uint32_t i, uint8_t op,
	       uint8_t family, const uint16_t *port, uint16_t n_ports)
{
	if (op != LR_OP_ADD && op != LR_OP_DEL && op != LR_OP_REPLACE)
		return lr_status_set(st, LR_ERR_INVALID, i, "%s[%u].op: unknown operation %u", what, i,
				     op);
	if (family != LR_AF_INET && family != LR_AF_INET6)
		return lr_status_set(st, LR_ERR_INVALID, i, "%s[%u].family: must be 4 or 6, got %u",
				     what, i, family);
	if (port != NULL && *port >= n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, i, "%s[%u].port_id: no port %u", what, i,
				     *port);
	return LR_OK;
}

int
lr_grow(void **buf, uint32_t *cap, uint32_t n, size_t elem, uint32_t first)
{
	uint32_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	p = realloc(*buf, elem * c);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}
