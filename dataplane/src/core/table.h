/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The table idiom every control-plane table of the dataplane shares (main
 * lcore only):
 *  - lr_keyed: an rte_hash whose key positions index side arrays (records
 *    the table owns here, or arrays of the module's own, such as the
 *    adjacency words the workers read), with an optional reference count
 *    per entry for find-or-create sharing (lr_keyed_get / lr_keyed_put);
 *  - a cursor dump over it that never splits one key's output between two
 *    replies (lr_keyed_dump);
 *  - the validation preamble of a batch entry (op, family, port), whose
 *    messages name the field: "routes[3].family: must be 4 or 6, got 5".
 */
#ifndef LR_TABLE_H
#define LR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_hash.h>

#include "lr_ctl.h"

struct lr_keyed {
	struct rte_hash *h;
	void *rec;            /**< cap records of rec_size bytes, or NULL */
	size_t rec_size;
	uint32_t *ref;        /**< cap reference counts, or NULL */
	uint32_t cap;         /**< positions are 0 .. cap - 1 */
};

/**
 * Creates a table of at least `entries` keys. rec_size 0: no records;
 * refcounted: keep a reference count per entry.
 * @return 0 or -ENOMEM.
 */
int lr_keyed_create(struct lr_keyed *t, const char *name, uint32_t entries, uint32_t key_len,
		    size_t rec_size, bool refcounted);

/** Frees the table (t may be zeroed or never created). */
void lr_keyed_free(struct lr_keyed *t);

/** Record at pos (rec_size > 0). */
static inline void *
lr_keyed_rec(const struct lr_keyed *t, int32_t pos)
{
	return (uint8_t *)t->rec + (size_t)pos * t->rec_size;
}

/** Position of key, or a negative errno (-ENOENT). */
static inline int32_t
lr_keyed_find(const struct lr_keyed *t, const void *key)
{
	return rte_hash_lookup(t->h, key);
}

/**
 * Adds key (absent) and zeroes its record.
 * @return its position, or -ENOSPC.
 */
int32_t lr_keyed_add(struct lr_keyed *t, const void *key);

/** Same, with the key's hash signature already computed. */
int32_t lr_keyed_add_with_hash(struct lr_keyed *t, const void *key, hash_sig_t sig);

/** Removes key (present or not). */
static inline void
lr_keyed_del(struct lr_keyed *t, const void *key)
{
	rte_hash_del_key(t->h, key);
}

/** Removes the key at pos. */
void lr_keyed_del_pos(struct lr_keyed *t, int32_t pos);

/** Key stored at pos (NULL when the position is empty). */
const void *lr_keyed_key(const struct lr_keyed *t, int32_t pos);

/** Keys in the table. */
uint32_t lr_keyed_count(const struct lr_keyed *t);

/**
 * Find-or-create with a reference (refcounted tables): takes a reference
 * on key, adding it when absent (*created = 1, record zeroed).
 * @return its position, or -ENOSPC.
 */
int32_t lr_keyed_get(struct lr_keyed *t, const void *key, int *created);

/** Takes one more reference on pos. */
static inline void
lr_keyed_ref(struct lr_keyed *t, int32_t pos)
{
	t->ref[pos]++;
}

/**
 * Drops a reference on pos. The last one does not remove the key: the
 * caller clears what it keeps for pos, then calls lr_keyed_del_pos().
 * @return 1 when that was the last reference, 0 otherwise, -1 when pos had
 * none (a bug: logged).
 */
int lr_keyed_put(struct lr_keyed *t, int32_t pos);

/**
 * Writes the output entries of one key into out (or only counts them when
 * out is NULL); entries of another family are skipped when family != 0.
 * @return entries written (0 = nothing to show for this key).
 */
typedef unsigned (*lr_keyed_emit_fn)(const void *key, int32_t pos, uint8_t family, void *out);

/**
 * Dumps from cursor on, `entry_size` bytes per output entry, at most max;
 * a key whose entries do not all fit is left for the next page.
 * @return entries written; *next = cursor to continue, *done = 1 at the end.
 */
uint32_t lr_keyed_dump(const struct lr_keyed *t, uint32_t cursor, uint8_t family,
		       lr_keyed_emit_fn emit, void *out, size_t entry_size, uint32_t max,
		       uint32_t *next, uint32_t *done);

/**
 * The preamble of every batch entry: op is ADD, DEL or REPLACE; family is
 * 4 or 6; and, when port is not NULL, *port < n_ports. what names the
 * batch ("routes"), i the entry.
 * @return LR_OK, or the status set in st.
 */
int lr_check_entry(struct lr_ctl_status *st, const char *what, uint32_t i, uint8_t op,
		   uint8_t family, const uint16_t *port, uint16_t n_ports);

/**
 * Room for one more element of size elem in the growable array *buf of
 * *cap elements holding n: doubles it (first first elements) when full,
 * the way a batch's undo journal grows. Nothing changes on failure.
 * @return 0, or -ENOMEM.
 */
int lr_grow(void **buf, uint32_t *cap, uint32_t n, size_t elem, uint32_t first);

#endif /* LR_TABLE_H */
