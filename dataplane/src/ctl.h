/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control socket server (lr_ctl.h) on the main lcore: a unix stream
 * listener and its clients, non-blocking, polled with epoll from the main
 * loop; frames requests, dispatches them to the table modules, queues the
 * replies.
 */
#ifndef LR_CTL_MOD_H
#define LR_CTL_MOD_H

#include <stdint.h>
#include "lr_ctl.h"

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
 * Checks path before starting: 1 when a live dataplane answers there (do
 * not start), 0 when free (a stale socket file was removed), -1 on error.
 */
int lr_ctl_probe_live(const char *path);

/** Binds and listens. @return 0 or -errno. */
int lr_ctl_open(const char *path, const struct lr_ctl_identity *id);

/** Serves clients for up to timeout_ms. @return requests handled. */
unsigned lr_ctl_poll(int timeout_ms);

/** Closes every connection and unlinks the socket. */
void lr_ctl_close(void);

#endif /* LR_CTL_MOD_H */
