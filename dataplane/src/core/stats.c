/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stats memory: a tmpfs file mapped shared, read-only for the addon.
 * Readable by its owner (root or the control plane's uid) and, when one is
 * configured, a group: counters and port names are not for every local user.
 * The main lcore also publishes the packet pool's use here (lr_stats_poll).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "log.h"
#include "stats.h"

struct lr_stats_shm *lr_shm;
static char lr_stats_file[LR_PATH_LEN];
static struct rte_mempool *lr_stats_pool;

int
lr_stats_create(const char *path, uint64_t boot_id, uint64_t start_ns, uint64_t tsc_hz)
{
	size_t sz = sizeof(struct lr_stats_shm);
	void *p;
	int fd = -1;

	if (path != NULL) {
		/* A new inode: readers of a previous instance keep their mapping. */
		if (unlink(path) < 0 && errno != ENOENT) {
			LR_LOG(ERR, "stats: cannot remove stale %s: %s", path, strerror(errno));
			return -1;
		}
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)sz) < 0) {
			LR_LOG(ERR, "stats: cannot create %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		snprintf(lr_stats_file, sizeof(lr_stats_file), "%s", path);
	} else {
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		lr_stats_file[0] = '\0';
	}
	if (p == MAP_FAILED) {
		LR_LOG(ERR, "stats: mmap: %s", strerror(errno));
		if (path != NULL)
			unlink(path);
		return -1;
	}
	lr_shm = p;
	memset(lr_shm, 0, sz);
	lr_shm->version = LR_STATS_VERSION;
	lr_shm->size = sz;
	lr_shm->tsc_hz = tsc_hz;
	lr_shm->boot_id = boot_id;
	lr_shm->start_time_ns = start_ns;
	lr_shm->pid = (uint32_t)getpid();
	for (unsigned p_ = 0; p_ < LR_MAX_PORTS; p_++)
		for (unsigned q = 0; q < LR_MAX_QUEUES; q++)
			lr_shm->rxq[p_][q].worker = -1;
	return 0;
}

int
lr_stats_set_owner(uint32_t uid, int64_t gid)
{
	uid_t u = uid != geteuid() ? (uid_t)uid : (uid_t)-1;

	if (lr_stats_file[0] == '\0' || (u == (uid_t)-1 && gid < 0))
		return 0;
	if (chown(lr_stats_file, u, gid >= 0 ? (gid_t)gid : (gid_t)-1) < 0 ||
	    chmod(lr_stats_file, gid >= 0 ? 0640 : 0600) < 0) {
		LR_LOG(ERR, "stats: cannot give %s to uid %u gid %lld: %s", lr_stats_file, uid,
		       (long long)gid, strerror(errno));
		return -1;
	}
	return 0;
}

void
lr_stats_watch_pool(struct rte_mempool *mp)
{
	lr_stats_pool = mp;
	lr_stats_poll();
}

void
lr_stats_poll(void)
{
	if (lr_shm == NULL || lr_stats_pool == NULL)
		return;
	lr_shm->mbufs_size = lr_stats_pool->size;
	/* mbufs in per-lcore caches count as available; in RX rings, TX rings,
	 * our own rings and the slow path as in use (a leak grows this) */
	lr_shm->mbufs_in_use = rte_mempool_in_use_count(lr_stats_pool);
}

void
lr_stats_publish(void)
{
	__atomic_store_n(&lr_shm->magic, LR_STATS_MAGIC, __ATOMIC_RELEASE);
}

void
lr_stats_destroy(bool unlink_file)
{
	if (lr_shm == NULL)
		return;
	munmap(lr_shm, sizeof(*lr_shm));
	lr_shm = NULL;
	if (unlink_file && lr_stats_file[0] != '\0')
		unlink(lr_stats_file);
	lr_stats_file[0] = '\0';
}
