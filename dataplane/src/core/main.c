/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerate-dp: process lifecycle. Parses the options (before the EAL, so
 * bad ones cost nothing), initialises the EAL, the stats memory, ports,
 * tables and workers, then runs the main lcore loop (control socket, slow
 * path, device stats, neighbor timers) until SIGTERM/SIGINT, and cleans up
 * (socket and stats file unlinked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "args.h"
#include "ctl.h"
#include "log.h"
#include "module.h"
#include "port.h"
#include "stage.h"
#include "stats.h"
#include "tset.h"
#include "worker.h"

#define EXIT_USAGE 2
#define PORT_POLL_MS 100
#define TIMER_MS 1000

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
random_u64(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	if (v == 0)
		v = now_ns() ^ ((uint64_t)getpid() << 32);
	return v;
}

/* --in-memory still makes a runtime directory (telemetry socket): it is
 * ours alone (our --file-prefix), remove it rather than leave it behind. */
static void
remove_runtime_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
main_loop(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t next_port = 0, next_timer = rte_rdtsc() + hz;
	unsigned busy = 0;

	while (!quit) {
		uint64_t now;

		busy = lr_module_poll_all();
		/* sleep in epoll when there was nothing to do: never busy-poll here */
		busy += lr_ctl_poll(busy ? 0 : 1);
		now = rte_rdtsc();
		if (now >= next_port) {
			lr_port_poll();
			lr_stats_poll();
			next_port = now + hz / 1000 * PORT_POLL_MS;
		}
		if (now >= next_timer) {
			lr_module_timer_all();
			next_timer = now + hz / 1000 * TIMER_MS;
		}
		lr_shm->heartbeat_ns = now_ns();
	}
}

int
main(int argc, char **argv)
{
	char err[256];
	struct lr_args a;
	struct lr_ctl_identity id;
	struct lr_ctl_policy pol;
	struct rte_rcu_qsbr *rcu = NULL;
	struct rte_mempool *mp = NULL;
	int dd = -1, i, rc, code = 1;
	unsigned n_workers;
	size_t sz;
	bool eal = false, ctl_open = false, launched = false;
	uint64_t boot_id, start_ns;
	uint32_t mbufs;
	struct lr_module_env env;

	/* our options are after "--"; parse them before the EAL takes memory */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd < 0) {
		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				lr_args_usage(argv[0], stdout);
				return 0;
			}
		fprintf(stderr, "%s: missing \"--\" before the linerate options (--ctl, --stats, ...)\n",
			argv[0]);
		lr_args_usage(argv[0], stderr);
		return EXIT_USAGE;
	}
	{
		char *sub[argc];
		int n = 0;

		sub[n++] = argv[0];
		for (i = dd + 1; i < argc; i++)
			sub[n++] = argv[i];
		rc = lr_args_parse(n, sub, &a, err, sizeof(err));
	}
	if (rc == 1) {
		lr_args_usage(argv[0], stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return EXIT_USAGE;
	}
	rc = lr_ctl_probe_live(a.ctl_path);
	if (rc == 1) {
		fprintf(stderr, "%s: a dataplane is already running on %s\n", argv[0], a.ctl_path);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot use control socket %s: %s\n", argv[0], a.ctl_path,
			strerror(errno));
		return 1;
	}

	argv[dd] = argv[0];  /* EAL sees argv[0..dd) */
	if (rte_eal_init(dd, argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed: %s\n", argv[0], rte_strerror(rte_errno));
		return 1;
	}
	eal = true;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	boot_id = random_u64();
	start_ns = now_ns();
	if (lr_stats_create(a.stats_path, boot_id, start_ns, rte_get_tsc_hz()) < 0 ||
	    lr_stats_set_owner(a.ctl_uid, a.ctl_gid) < 0)
		goto out;
	n_workers = lr_worker_count_lcores();
	if (n_workers == 0) {
		LR_LOG(ERR, "no worker lcore: give the EAL at least two lcores (e.g. -l 0,1)");
		goto out;
	}
	if (n_workers > LR_MAX_WORKERS)
		n_workers = LR_MAX_WORKERS;
	if (lr_port_probe_all(&a) < 0)
		goto out;
	mbufs = a.mbufs ? a.mbufs
			: lr_port_pool_size(&a, n_workers, LR_WORKER_RING_MBUFS) + lr_module_held_mbufs();
	mp = rte_pktmbuf_pool_create("lr_mbufs", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL) {
		LR_LOG(ERR, "cannot create a pool of %u mbufs: %s", mbufs, rte_strerror(rte_errno));
		goto out;
	}
	lr_stats_watch_pool(mp);
	if (lr_port_configure_all(&a, mp, n_workers) < 0)
		goto out;

	sz = rte_rcu_qsbr_get_memsize(n_workers);
	rcu = rte_zmalloc("lr_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (rcu == NULL || rte_rcu_qsbr_init(rcu, n_workers) != 0) {
		LR_LOG(ERR, "cannot create the RCU state");
		goto out;
	}
	lr_tset_init(rcu);
	memset(&env, 0, sizeof(env));
	env.args = &a;
	env.pool = mp;
	env.n_ports = lr_n_ports;
	if (lr_module_init_all(&env) < 0)
		goto out;
	lr_stage_setup();
	if (lr_worker_init(&a, rcu) < 0)
		goto out;
	lr_shm->n_ports = lr_n_ports;
	if (lr_port_start_all() < 0)
		goto out;
	if (lr_worker_launch() < 0)
		goto out;
	launched = true;
	lr_shm->heartbeat_ns = now_ns();
	lr_stats_publish();

	memset(&id, 0, sizeof(id));
	id.boot_id = boot_id;
	id.start_time_ns = start_ns;
	id.n_ports = lr_n_ports;
	id.n_workers = lr_n_workers;
	snprintf(id.stats_path, sizeof(id.stats_path), "%s", a.stats_path);
	snprintf(id.name, sizeof(id.name), "%s", a.name);
	pol.uid = a.ctl_uid;
	pol.gid = a.ctl_gid;
	pol.timeout_ms = a.ctl_timeout_ms;
	pol.idle_s = a.ctl_idle_s;
	rc = lr_ctl_open(a.ctl_path, &id, &pol);
	if (rc < 0) {
		LR_LOG(ERR, "control socket %s: %s", a.ctl_path, strerror(-rc));
		goto out;
	}
	ctl_open = true;
	LR_LOG(NOTICE, "%s ready: %u port(s), %u worker(s), control %s, stats %s", a.name,
	       lr_n_ports, lr_n_workers, a.ctl_path, a.stats_path);
	main_loop();
	LR_LOG(NOTICE, "%s stopping", a.name);
	code = 0;
out:
	if (ctl_open)
		lr_ctl_close();
	if (launched || lr_n_workers > 0)
		lr_worker_stop();
	lr_port_stop_all();
	lr_worker_fini();
	lr_module_fini_all();
	lr_tset_fini();
	rte_free(rcu);
	lr_stats_watch_pool(NULL);
	rte_mempool_free(mp);
	lr_stats_destroy(true);
	if (eal) {
		char rundir[PATH_MAX];

		snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
		rte_eal_cleanup();
		remove_runtime_dir(rundir);
	}
	return code;
}
