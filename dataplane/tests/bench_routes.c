/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route install rate of a real linerate-dp over its control socket: N IPv4
 * /24 routes (default 1M) in batches (default 10k) via one gateway, then
 * the same deleted; optionally 64k IPv6 /48. Not a ctest (it takes the
 * default 1M-route tables: ~1.4 GB of hugepages).
 *
 * usage: bench_routes <linerate-dp> [routes] [batch]
 */
#include <arpa/inet.h>
#include <time.h>

#include "ctlclient.h"
#include "lrtest.h"

static char sock_path[108], stats_path[108], log_path[128], prefix[64];
static pid_t dp_pid = -1;

static void
cleanup(void)
{
	if (dp_pid > 0)
		lrc_stop(dp_pid, 20000);
	unlink(sock_path);
	unlink(stats_path);
	if (prefix[0] != '\0')
		lrc_remove_runtime_dir(prefix + strlen("--file-prefix="));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
run(int fd, struct lr_route *r, uint32_t n, uint32_t batch, uint8_t op)
{
	struct lrc_reply rep;
	uint32_t i;
	double t0 = now_s();

	for (i = 0; i < n; i++)
		r[i].op = op;
	for (i = 0; i < n; i += batch) {
		uint32_t k = n - i < batch ? n - i : batch;

		REQUIRE(lrc_req(fd, LR_CTL_ROUTE_BATCH, r + i, sizeof(*r) * k, k, &rep) == 0);
		if (rep.st.code != 0)
			fprintf(stderr, "batch at %u: %d %s\n", i, rep.st.code, rep.st.msg);
		REQUIRE(rep.st.code == 0);
		lrc_reply_free(&rep);
	}
	return n / (now_s() - t0);
}

int
main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/dp/dataplane/linerate-dp";
	uint32_t n = argc > 2 ? (uint32_t)atoi(argv[2]) : 1u << 20;
	uint32_t batch = argc > 3 ? (uint32_t)atoi(argv[3]) : 10000;
	const char *eal[] = { "-l", "0,1", "--no-pci", "--in-memory", prefix,
			      "--log-level=lib.eal:error", NULL };
	const char *opts[] = { "--ctl", sock_path, "--stats", stats_path, "--port", "p0=net_ring0",
			       "--port", "p1=net_ring1", "--idle-sleep-us", "100", NULL };
	struct lr_route *r = calloc(n, sizeof(*r)), *r6 = calloc(65536, sizeof(*r6));
	uint32_t i;
	int fd;

	REQUIRE(r != NULL && r6 != NULL && n <= (1u << 24));
	snprintf(sock_path, sizeof(sock_path), "/tmp/lrd-bench-%d.sock", getpid());
	snprintf(stats_path, sizeof(stats_path), "/dev/shm/lrd-bench-%d.stats", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/lrd-bench-%d.log", getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-bench-%d", getpid());
	lrt_on_cleanup(cleanup);
	for (i = 0; i < n; i++) {
		uint32_t p = htonl(0x01000000u + (i << 8));

		r[i].family = LR_AF_INET;
		r[i].plen = 24;
		memcpy(r[i].prefix, &p, 4);
		r[i].n_next_hops = 1;
		r[i].next_hops[0].port_id = 1;
		inet_pton(AF_INET, "10.2.0.2", r[i].next_hops[0].via);
	}
	for (i = 0; i < 65536; i++) {
		r6[i].family = LR_AF_INET6;
		r6[i].plen = 48;
		r6[i].prefix[0] = 0x20;
		r6[i].prefix[1] = 0x01;
		r6[i].prefix[2] = 0x0d;
		r6[i].prefix[3] = 0xb8;
		r6[i].prefix[4] = (uint8_t)(i >> 8);
		r6[i].prefix[5] = (uint8_t)i;
		r6[i].n_next_hops = 1;
		r6[i].next_hops[0].port_id = 1;
		inet_pton(AF_INET6, "fe80::2", r6[i].next_hops[0].via);
	}
	dp_pid = lrc_spawn(bin, eal, opts, log_path);
	fd = lrc_open(sock_path, 60000, NULL);
	if (fd < 0)
		fprintf(stderr, "linerate-dp did not come up; see %s\n", log_path);
	REQUIRE(fd >= 0);
	printf("IPv4 /24 x %u, batches of %u: add %.0f routes/s", n, batch, run(fd, r, n, batch, LR_OP_ADD));
	printf(", replace %.0f routes/s", run(fd, r, n, batch, LR_OP_REPLACE));
	printf(", delete %.0f routes/s\n", run(fd, r, n, batch, LR_OP_DEL));
	printf("IPv6 /48 x 65536, batches of %u: add %.0f routes/s", batch, run(fd, r6, 65536, batch, LR_OP_ADD));
	printf(", delete %.0f routes/s\n", run(fd, r6, 65536, batch, LR_OP_DEL));
	close(fd);
	REQUIRE(lrc_stop(dp_pid, 20000) == 0);
	dp_pid = -1;
	unlink(log_path);
	free(r);
	free(r6);
	return 0;
}
