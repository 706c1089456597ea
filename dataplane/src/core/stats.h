/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Stats memory (lr_stats.h): owns the shared mapping every counter lives
 * in. Workers write their own rxq/txq/worker lines with plain stores; the
 * main lcore writes the header, ports[] and slow.
 */
#ifndef LR_STATS_MOD_H
#define LR_STATS_MOD_H

#include <stdbool.h>
#include "lr_stats.h"

/** The live mapping; NULL before lr_stats_create(). */
extern struct lr_stats_shm *lr_shm;

/**
 * Creates (replacing a stale file, mode 0600) and maps the stats file, or
 * anonymous memory when path is NULL (unit tests). Header filled except magic.
 */
int lr_stats_create(const char *path, uint64_t boot_id, uint64_t start_ns, uint64_t tsc_hz);

/**
 * Gives the stats file to its readers: owner uid (when not ours) and, with
 * gid >= 0, that group and mode 0640; otherwise it stays 0600.
 * @return 0, or -1 (logged).
 */
int lr_stats_set_owner(uint32_t uid, int64_t gid);

struct rte_mempool;

/** The packet pool whose use lr_stats_poll() publishes (mbufs_size, mbufs_in_use). */
void lr_stats_watch_pool(struct rte_mempool *mp);

/** Main lcore, periodically: refreshes the header's pool fields. */
void lr_stats_poll(void);

/** Makes the memory valid for readers: writes magic last. */
void lr_stats_publish(void);

/** Unmaps; unlinks the file when unlink_file. */
void lr_stats_destroy(bool unlink_file);

#endif /* LR_STATS_MOD_H */
