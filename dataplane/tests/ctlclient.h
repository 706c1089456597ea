/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Test-side helpers for driving a real linerate-dp: a blocking client of
 * the control protocol (lr_ctl.h), starting/stopping the process, and
 * mapping its stats memory.
 */
#ifndef LR_CTLCLIENT_H
#define LR_CTLCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lr_ctl.h"
#include "lr_stats.h"

struct lrc_reply {
	struct lr_ctl_hdr hdr;
	struct lr_ctl_status st;
	uint8_t *payload;      /**< after the status; malloc'ed, NULL when empty */
	size_t payload_len;
};

/** Connects, retrying up to timeout_ms. @return fd or -1. */
int lrc_connect(const char *path, int timeout_ms);

/**
 * Sends one request (header + len bytes of body, count entries) and reads
 * its reply. @return 0, or -1 when the connection failed or closed.
 */
int lrc_call(int fd, uint16_t type, uint16_t version, const void *body, size_t len,
	     uint32_t count, struct lrc_reply *rep);

/** lrc_call with the current protocol version. */
int lrc_req(int fd, uint16_t type, const void *body, size_t len, uint32_t count,
	    struct lrc_reply *rep);

void lrc_reply_free(struct lrc_reply *rep);

/** Connects and says HELLO. @return fd or -1. */
int lrc_open(const char *path, int timeout_ms, struct lr_ctl_hello_rep *hello);

/**
 * Starts linerate-dp with EAL args and options (NULL-terminated arrays),
 * output to logfile. @return pid.
 */
pid_t lrc_spawn(const char *bin, const char *const *eal, const char *const *opts,
		const char *logfile);

/**
 * SIGTERM and wait up to timeout_ms (SIGKILL after).
 * @return exit status as from waitpid, or -1.
 */
int lrc_stop(pid_t pid, int timeout_ms);

/** Waits for pid to exit on its own. @return exit code, -1 on timeout. */
int lrc_wait_exit(pid_t pid, int timeout_ms);

/**
 * Removes /var/run/dpdk/<file_prefix> (what a dataplane that did not exit
 * cleanly leaves behind: its telemetry socket).
 */
void lrc_remove_runtime_dir(const char *file_prefix);

/** Maps a stats file read-only. @return NULL on failure. */
const struct lr_stats_shm *lrc_stats_map(const char *path);

void lrc_sleep_ms(unsigned ms);

#endif /* LR_CTLCLIENT_H */
