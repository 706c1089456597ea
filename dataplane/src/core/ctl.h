/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control socket server (lr_ctl.h) on the main lcore: a unix stream
 * listener and its clients, non-blocking, polled with epoll from the main
 * loop; frames requests, dispatches them to the handlers the modules
 * registered, queues the replies.
 *
 * A module registers each message type it serves once, with its shape
 * (LR_CTL_REGISTER, at load time): the server checks the framing, the
 * batch size and the dump request for every type alike and sizes the reply
 * from the declaration, so adding a table adds no case here.
 */
#ifndef LR_CTL_MOD_H
#define LR_CTL_MOD_H

#include <stddef.h>
#include <stdint.h>
#include <rte_common.h>
#include "lr_ctl.h"

/** How a message type's request and reply are shaped. */
enum lr_ctl_shape {
	LR_CTL_CALL = 1,  /**< any body; the handler fills up to reply_max bytes */
	LR_CTL_BATCH,     /**< count x entry_size entries; the reply is a status */
	LR_CTL_DUMP,      /**< lr_ctl_dump_req; reply lr_ctl_dump_rep + count x entry_size */
};

/** One message type served by a module. */
struct lr_ctl_handler {
	uint16_t type;            /**< enum lr_ctl_type */
	uint8_t shape;            /**< enum lr_ctl_shape */
	const char *what;         /**< names the entries in errors, e.g. "routes" */
	uint32_t entry_size;      /**< BATCH: request entry; DUMP: reply entry */
	size_t reply_max;         /**< CALL: reply payload bound in bytes */
	/** BATCH: applies n entries all-or-nothing; returns enum lr_status. */
	int (*batch)(const void *entries, uint32_t n, struct lr_ctl_status *st);
	/** DUMP: up to max entries from cursor on (see lr_ctl_dump_rep). */
	uint32_t (*dump)(uint8_t family, uint32_t cursor, void *out, uint32_t max,
			 uint32_t *next, uint32_t *done);
	/** CALL: fills out, *count entries and *payload bytes; returns enum lr_status. */
	int (*call)(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
		    struct lr_ctl_status *st);
};

/** Adds a handler (load time; one per type). */
void lr_ctl_register(const struct lr_ctl_handler *h);

/** Registers handler h (a static const struct lr_ctl_handler) when the program loads. */
#define LR_CTL_REGISTER(h) \
	RTE_INIT(lr_ctl_register_##h) { lr_ctl_register(&(h)); }

/**
 * Registers the two messages of a table in one line: BATCH type bt served
 * by int batch_fn_(const T *, uint32_t n, struct lr_ctl_status *), and DUMP
 * type dt served by uint32_t dump_fn_(uint8_t family, uint32_t cursor, T *out,
 * uint32_t max, uint32_t *next, uint32_t *done). what names the entries.
 */
#define LR_CTL_TABLE(tag, what_, T, bt, batch_fn_, dt, dump_fn_) \
	static int tag##_batch_msg(const void *e, uint32_t n, struct lr_ctl_status *st) \
	{ return batch_fn_((const T *)e, n, st); } \
	static uint32_t tag##_dump_msg(uint8_t f, uint32_t c, void *o, uint32_t max, \
				       uint32_t *next, uint32_t *done) \
	{ return dump_fn_(f, c, (T *)o, max, next, done); } \
	static const struct lr_ctl_handler tag##_batch_handler = { \
		.type = (bt), .shape = LR_CTL_BATCH, .what = (what_), \
		.entry_size = sizeof(T), .batch = tag##_batch_msg, \
	}; \
	static const struct lr_ctl_handler tag##_dump_handler = { \
		.type = (dt), .shape = LR_CTL_DUMP, .what = (what_), \
		.entry_size = sizeof(T), .dump = tag##_dump_msg, \
	}; \
	LR_CTL_REGISTER(tag##_batch_handler) \
	LR_CTL_REGISTER(tag##_dump_handler)

/** What HELLO answers. */
struct lr_ctl_identity {
	uint64_t boot_id;
	uint64_t start_time_ns;
	uint32_t n_ports;
	uint32_t n_workers;
	char stats_path[LR_PATH_LEN];
	char name[LR_NAME_LEN];
};

/**
 * Who may use the socket and for how long (linerate-dp --ctl-* options).
 * Allowed peers (SO_PEERCRED): root, the dataplane's own uid, uid, and
 * peers whose primary group is gid.
 */
struct lr_ctl_policy {
	uint32_t uid;         /**< the control plane's uid: owns the socket and the reserved slots */
	int64_t gid;          /**< group of the socket (mode 0660), -1 = none (mode 0600) */
	uint32_t timeout_ms;  /**< no HELLO, half-sent message or unread replies: closed after */
	uint32_t idle_s;      /**< other uids' connections closed after this idle time, 0 = never */
};

/**
 * Checks path before starting: 1 when a live dataplane answers there (do
 * not start), 0 when free (a stale socket file was removed), -1 on error.
 */
int lr_ctl_probe_live(const char *path);

/**
 * Binds (mode 0600, or 0660 owned by pol->gid; owned by pol->uid) and
 * listens. @return 0 or -errno.
 */
int lr_ctl_open(const char *path, const struct lr_ctl_identity *id, const struct lr_ctl_policy *pol);

/** Serves clients for up to timeout_ms. @return requests handled. */
unsigned lr_ctl_poll(int timeout_ms);

/** Closes every connection and unlinks the socket. */
void lr_ctl_close(void);

#endif /* LR_CTL_MOD_H */
