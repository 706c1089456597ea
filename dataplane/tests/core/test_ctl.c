/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real linerate-dp on two ring vdevs, driven over its control socket:
 * argument errors, the single-instance guard, HELLO rules, every message
 * type with its error cases, dump paging, pipelined and concurrent
 * clients, the stats memory, and a clean SIGTERM (socket and stats file
 * removed). Prints the route install rate (10k-route batches).
 * Hostile local clients (issue 15, as root): socket and stats modes, peer
 * credentials, 70 idle clients of another uid and 64 that never say HELLO
 * (the control plane still attaches), a client that never reads its
 * replies (memory bounded, others answered at once), a half-sent message.
 *
 * usage: test_ctl <path to linerate-dp>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "ctlclient.h"
#include "lrtest.h"

static char sock_path[108], stats_path[108], log_path[128], log2_path[128], prefix[64];
static pid_t dp_pid = -1;

static void
cleanup(void)
{
	if (dp_pid > 0)
		lrc_stop(dp_pid, 10000);
	dp_pid = -1;
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

static struct lr_route
r4(uint8_t op, uint32_t prefix_host, uint8_t plen, uint16_t port, const char *gw)
{
	struct lr_route r;
	uint32_t be = htonl(prefix_host);

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.family = LR_AF_INET;
	r.plen = plen;
	memcpy(r.prefix, &be, 4);
	if (op != LR_OP_DEL) {
		r.n_next_hops = 1;
		r.next_hops[0].port_id = port;
		if (gw != NULL)
			inet_pton(AF_INET, gw, r.next_hops[0].via);
	}
	return r;
}

static int
route_batch(int fd, const struct lr_route *r, uint32_t n, struct lrc_reply *rep)
{
	return lrc_req(fd, LR_CTL_ROUTE_BATCH, r, sizeof(*r) * n, n, rep);
}

static bool
closed_by_peer(int fd)
{
	char c;
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(fd, &c, 1, 0) == 0;
}

/* The uid / gid a hostile local user gets in these tests (nobody / nogroup). */
#define NOBODY 65534
#define OTHER_GID 65533

/* Resident memory of pid in kB (hugepages are not in it: heap growth is). */
static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A connect that does not retry. @return fd, or -errno. */
static int
raw_connect(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* HELLO answered within ms on a fresh connection. */
static bool
hello_within(double ms)
{
	double t0 = now_s();
	int fd = lrc_open(sock_path, 0, NULL);
	bool ok = fd >= 0 && (now_s() - t0) * 1000 < ms;

	if (fd >= 0)
		close(fd);
	if (!ok)
		fprintf(stderr, "HELLO %s after %.0f ms\n", fd >= 0 ? "answered" : "failed",
			(now_s() - t0) * 1000);
	return ok;
}

/* Drops to uid NOBODY with primary gid gid and supplementary groups sup (n of them). */
static void
become(gid_t gid, const gid_t *sup, size_t n)
{
	if (setgroups(n, sup) < 0 || setgid(gid) < 0 || setuid(NOBODY) < 0)
		_exit(99);
}

static int
child_status(pid_t p)
{
	int st;

	if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
test_modes(void)
{
	struct stat sb;

	REQUIRE(stat(sock_path, &sb) == 0);
	CHECK_EQ(sb.st_mode & 0777, 0660);
	CHECK_EQ(sb.st_gid, NOBODY);
	CHECK_EQ(sb.st_uid, 0);
	REQUIRE(stat(stats_path, &sb) == 0);
	CHECK_EQ(sb.st_mode & 0777, 0640);
	CHECK_EQ(sb.st_gid, NOBODY);
}

/*
 * A user outside the socket's group cannot connect (mode 0660); one in it
 * by a supplementary group only gets past the file mode but not the
 * SO_PEERCRED check (primary gid): closed without an answer to HELLO.
 */
static void
test_peercred(void)
{
	pid_t p = fork();

	REQUIRE(p >= 0);
	if (p == 0) {
		become(OTHER_GID, NULL, 0);
		_exit(raw_connect() == -EACCES ? 0 : 1);
	}
	CHECK_EQ(child_status(p), 0);
	p = fork();
	REQUIRE(p >= 0);
	if (p == 0) {
		gid_t sup = NOBODY;
		struct lrc_reply rep;
		int fd;

		become(OTHER_GID, &sup, 1);
		fd = raw_connect();
		if (fd < 0)
			_exit(2);
		_exit(lrc_call(fd, LR_CTL_HELLO, LR_CTL_VERSION, NULL, 0, 0, &rep) < 0 ? 0 : 3);
	}
	CHECK_EQ(child_status(p), 0);
	/* the group's own members are let in */
	p = fork();
	REQUIRE(p >= 0);
	if (p == 0) {
		gid_t sup = NOBODY;
		int fd;

		become(NOBODY, &sup, 1);
		fd = lrc_open(sock_path, 0, NULL);
		_exit(fd >= 0 ? 0 : 4);
	}
	CHECK_EQ(child_status(p), 0);
}

/*
 * 70 connections of another allowed uid that say HELLO and then sit idle:
 * the control plane's uid (root here) still attaches in the reserved slots.
 * Then 64 connections of root that never say HELLO: closed after
 * --ctl-timeout-ms, and a new client attaches again.
 */
static void
test_lockout(void)
{
	enum { FLOOD = 70, RAW = 64 };
	int pfd[2], fds[RAW], i, open_ok = 0;
	char c;
	pid_t p;

	lrc_sleep_ms(200);  /* earlier clients' closes are seen */
	REQUIRE(pipe(pfd) == 0);
	p = fork();
	REQUIRE(p >= 0);
	if (p == 0) {
		gid_t sup = NOBODY;
		int n = 0;

		close(pfd[0]);
		become(NOBODY, &sup, 1);
		for (i = 0; i < FLOOD; i++)
			if (lrc_open(sock_path, 0, NULL) >= 0)
				n++;
		c = (char)n;
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		pause();  /* hold them until killed */
		_exit(0);
	}
	close(pfd[1]);
	REQUIRE(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	/* all but the reserved slots (and the one this test holds) went to the flood */
	CHECK_EQ((int)c, 64 - 4 - 1);
	CHECK(hello_within(500));
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);

	lrc_sleep_ms(200);
	for (i = 0; i < RAW; i++)
		fds[i] = raw_connect();
	lrc_sleep_ms(200);
	/* every slot is taken by a client that said nothing */
	CHECK(lrc_open(sock_path, 0, NULL) < 0);
	for (i = 0; i < RAW; i++) {
		if (fds[i] >= 0 && closed_by_peer(fds[i]))
			open_ok++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	CHECK_EQ(open_ok, RAW);
	CHECK(hello_within(500));
}

/*
 * A client that pipelines requests and never reads a reply: the dataplane
 * stops reading it (memory bounded), answers other clients at once, and
 * closes it after --ctl-timeout-ms.
 */
static void
test_unread_replies(void)
{
	struct lr_ctl_hdr h;
	long rss0 = rss_kb(dp_pid), rss1;
	size_t sent = 0;
	double t0;
	uint8_t buf[64 << 10];
	int fd = lrc_open(sock_path, 1000, NULL), fl, k;
	ssize_t n;

	REQUIRE(fd >= 0);
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	memset(&h, 0, sizeof(h));
	h.magic = LR_CTL_MAGIC;
	h.version = LR_CTL_VERSION;
	h.type = LR_CTL_PORT_LIST;
	h.len = sizeof(h);
	for (k = 0; k < (int)(sizeof(buf) / sizeof(h)); k++)
		memcpy(buf + k * sizeof(h), &h, sizeof(h));
	/* 4 MB of requests (about 175k of them), as much as the socket takes */
	t0 = now_s();
	while (sent < (4u << 20) && now_s() - t0 < 3) {
		n = send(fd, buf, sizeof(buf) / sizeof(h) * sizeof(h), MSG_NOSIGNAL);
		if (n > 0)
			sent += (size_t)n;
		else
			lrc_sleep_ms(5);
		if (now_s() - t0 > 0.3)
			break;
	}
	CHECK(hello_within(200));
	lrc_sleep_ms(300);
	CHECK(hello_within(200));
	rss1 = rss_kb(dp_pid);
	printf("unread replies: %zu bytes of requests taken, dataplane RSS %ld -> %ld kB\n", sent,
	       rss0, rss1);
	CHECK(rss1 - rss0 < 16 * 1024);
	/* closed once its replies sat unread for the timeout: drain to EOF */
	fcntl(fd, F_SETFL, fl);
	t0 = now_s();
	{
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	CHECK_EQ(n, 0);
	close(fd);
}

/* A message whose header arrived but whose body never does: closed. */
static void
test_half_message(void)
{
	struct lr_ctl_hdr h;
	int fd = lrc_open(sock_path, 1000, NULL);

	REQUIRE(fd >= 0);
	memset(&h, 0, sizeof(h));
	h.magic = LR_CTL_MAGIC;
	h.version = LR_CTL_VERSION;
	h.type = LR_CTL_ROUTE_BATCH;
	h.len = sizeof(h) + 1000;
	h.count = 1;
	REQUIRE(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == (ssize_t)sizeof(h));
	CHECK(closed_by_peer(fd));
	close(fd);
}

static void
test_hostile_clients(void)
{
	if (geteuid() != 0) {
		printf("not root: hostile-client tests skipped\n");
		return;
	}
	test_modes();
	test_peercred();
	test_lockout();
	test_unread_replies();
	test_half_message();
}

static void
test_bad_args(const char *bin)
{
	const char *eal[] = { "-l", "0,1", "--no-pci", "--in-memory", prefix, NULL };
	const char *bad[] = { "--ctl", sock_path, "--stats", stats_path, "--burst", "999", NULL };
	const char *none[] = { "--stats", stats_path, NULL };
	pid_t p;

	p = lrc_spawn(bin, eal, bad, log2_path);
	CHECK_EQ(lrc_wait_exit(p, 10000), 2);
	p = lrc_spawn(bin, eal, none, log2_path);
	CHECK_EQ(lrc_wait_exit(p, 10000), 2);
}

static void
test_hello_rules(void)
{
	struct lrc_reply rep;
	struct lr_ctl_hello_req hr;
	int fd;

	fd = lrc_connect(sock_path, 1000);
	REQUIRE(fd >= 0);
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_LIST, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_PRECONDITION);
	CHECK_STR_HAS(rep.st.msg, "HELLO");
	CHECK(closed_by_peer(fd));
	lrc_reply_free(&rep);
	close(fd);

	fd = lrc_connect(sock_path, 1000);
	REQUIRE(fd >= 0);
	memset(&hr, 0, sizeof(hr));
	CHECK_EQ(lrc_call(fd, LR_CTL_HELLO, LR_CTL_VERSION + 1, &hr, sizeof(hr), 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_PRECONDITION);
	CHECK_STR_HAS(rep.st.msg, "version");
	CHECK(closed_by_peer(fd));
	lrc_reply_free(&rep);
	close(fd);
}

static void
test_ports(int fd)
{
	struct lrc_reply rep;
	const struct lr_port_info *pi;
	struct lr_port_set ps[2];

	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_LIST, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	CHECK_EQ(rep.hdr.count, 2);
	REQUIRE(rep.payload_len == 2 * sizeof(*pi));
	pi = (const struct lr_port_info *)rep.payload;
	CHECK_EQ(pi[0].port_id, 0);
	CHECK_EQ(pi[1].port_id, 1);
	CHECK(strcmp(pi[0].name, "p0") == 0);
	CHECK(strcmp(pi[1].name, "p1") == 0);
	CHECK(strcmp(pi[0].driver, "net_ring") == 0);
	CHECK(strcmp(pi[1].device, "net_ring1") == 0);
	CHECK_EQ(pi[0].rx_queues, 1);
	CHECK_EQ(pi[0].tx_queues, 1);
	CHECK_EQ(pi[0].admin_up, 1);
	CHECK_EQ(pi[0].link_up, 1);
	CHECK(pi[0].mtu >= 1280);
	lrc_reply_free(&rep);

	memset(ps, 0, sizeof(ps));
	ps[0].port_id = 1;
	ps[0].mtu = 1400;
	ps[0].admin_up = 0;
	ps[1].port_id = 0;
	ps[1].admin_up = 0xff;
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_SET, ps, sizeof(ps), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_LIST, NULL, 0, 0, &rep), 0);
	pi = (const struct lr_port_info *)rep.payload;
	CHECK_EQ(pi[1].mtu, 1400);
	CHECK_EQ(pi[1].admin_up, 0);
	CHECK_EQ(pi[0].admin_up, 1);
	lrc_reply_free(&rep);

	ps[0].mtu = 20;  /* too small: nothing of the batch applies */
	ps[0].admin_up = 1;
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_SET, ps, sizeof(ps), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_INVALID);
	CHECK_STR_HAS(rep.st.msg, "ports[0].mtu");
	lrc_reply_free(&rep);
	ps[0].mtu = 1500;
	ps[1].port_id = 9;
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_SET, ps, sizeof(ps), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_NOT_FOUND);
	CHECK_EQ(rep.st.index, 1);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_LIST, NULL, 0, 0, &rep), 0);
	pi = (const struct lr_port_info *)rep.payload;
	CHECK_EQ(pi[1].mtu, 1400);
	CHECK_EQ(pi[1].admin_up, 0);
	lrc_reply_free(&rep);
	ps[0].port_id = 1;
	ps[0].mtu = 1500;
	ps[0].admin_up = 1;
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_SET, ps, sizeof(ps[0]), 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
}

static void
test_framing_errors(int fd)
{
	struct lrc_reply rep;
	struct lr_route r[2];

	r[0] = r4(LR_OP_ADD, 0x0a000000, 24, 0, NULL);
	/* count says 2, body holds 1 */
	CHECK_EQ(lrc_req(fd, LR_CTL_ROUTE_BATCH, r, sizeof(r[0]), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_INVALID);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, LR_CTL_ROUTE_BATCH, r, sizeof(r[0]), LR_CTL_MAX_BATCH + 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_NO_SPACE);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, 77, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_UNSUPPORTED);
	lrc_reply_free(&rep);
	/* the connection is still usable */
	CHECK_EQ(lrc_req(fd, LR_CTL_PORT_LIST, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	/* a wrong entry names itself */
	r[1] = r4(LR_OP_ADD, 0x0a000001, 24, 0, NULL);
	CHECK_EQ(route_batch(fd, r, 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_INVALID);
	CHECK_EQ(rep.st.index, 1);
	CHECK_STR_HAS(rep.st.msg, "routes[1].prefix: host bits set in 10.0.0.1/24");
	CHECK_EQ(rep.hdr.count, 0);
	lrc_reply_free(&rep);
}

/* Installs a table in 10k batches, pages through the dump, removes it. */
static void
test_routes(int fd)
{
	enum { N = 50000, BATCH = 10000 };
	struct lr_route *r = calloc(N, sizeof(*r));
	struct lr_ctl_dump_req dq;
	struct lrc_reply rep;
	uint8_t *seen = calloc(N, 1);
	uint32_t i, total = 0, pages = 0;
	double t0, t1;

	REQUIRE(r != NULL && seen != NULL);
	for (i = 0; i < N; i++)
		r[i] = r4(LR_OP_ADD, 0x64000000u + (i << 8), 24, i & 1, (i & 1) ? "10.2.0.2" : "10.1.0.2");
	t0 = now_s();
	for (i = 0; i < N; i += BATCH) {
		CHECK_EQ(route_batch(fd, r + i, BATCH, &rep), 0);
		CHECK_EQ(rep.st.code, LR_OK);
		lrc_reply_free(&rep);
	}
	t1 = now_s();
	printf("installed %u IPv4 routes in batches of %u: %.0f routes/s\n", N, BATCH, N / (t1 - t0));
	/* same batch again: the first entry already exists */
	CHECK_EQ(route_batch(fd, r, 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_EXISTS);
	CHECK_EQ(rep.st.index, 0);
	lrc_reply_free(&rep);

	memset(&dq, 0, sizeof(dq));
	dq.family = LR_AF_INET;
	for (;;) {
		const struct lr_ctl_dump_rep *dr;
		const struct lr_route *e;
		uint32_t k;

		CHECK_EQ(lrc_req(fd, LR_CTL_ROUTE_DUMP, &dq, sizeof(dq), 1, &rep), 0);
		REQUIRE(rep.st.code == LR_OK);
		REQUIRE(rep.payload_len == sizeof(*dr) + rep.hdr.count * sizeof(*e));
		CHECK(rep.hdr.count <= LR_CTL_MAX_DUMP);
		dr = (const struct lr_ctl_dump_rep *)rep.payload;
		e = (const struct lr_route *)(dr + 1);
		for (k = 0; k < rep.hdr.count; k++) {
			uint32_t p;

			memcpy(&p, e[k].prefix, 4);
			p = (ntohl(p) - 0x64000000u) >> 8;
			if (e[k].flags & LR_ROUTE_F_CONNECTED)
				continue;
			CHECK(e[k].family == LR_AF_INET && e[k].plen == 24 && p < N);
			if (p < N) {
				seen[p]++;
				CHECK_EQ(e[k].n_next_hops, 1);
				CHECK_EQ(e[k].next_hops[0].port_id, p & 1);
				CHECK_EQ(e[k].next_hops[0].via[0], 10);
			}
			total++;
		}
		pages++;
		dq.cursor = dr->next;
		if (dr->done) {
			lrc_reply_free(&rep);
			break;
		}
		lrc_reply_free(&rep);
		REQUIRE(pages < 100);
	}
	CHECK_EQ(total, N);
	CHECK(pages >= N / LR_CTL_MAX_DUMP);
	for (i = 0; i < N; i++)
		if (seen[i] != 1) {
			CHECK_EQ(seen[i], 1);
			break;
		}
	for (i = 0; i < N; i++)
		r[i].op = LR_OP_DEL;
	t0 = now_s();
	for (i = 0; i < N; i += BATCH) {
		CHECK_EQ(route_batch(fd, r + i, BATCH, &rep), 0);
		CHECK_EQ(rep.st.code, LR_OK);
		lrc_reply_free(&rep);
	}
	t1 = now_s();
	printf("deleted %u IPv4 routes: %.0f routes/s\n", N, N / (t1 - t0));
	CHECK_EQ(route_batch(fd, r, 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_NOT_FOUND);
	lrc_reply_free(&rep);
	free(r);
	free(seen);
}

static void
test_addr_neigh(int fd)
{
	struct lr_addr a[2];
	struct lr_neigh n[2];
	struct lr_ctl_dump_req dq;
	struct lrc_reply rep;
	const struct lr_route *e;
	const struct lr_neigh *ne;
	uint32_t k, conn = 0, stat = 0;

	memset(a, 0, sizeof(a));
	a[0].op = LR_OP_ADD;
	a[0].family = LR_AF_INET;
	a[0].plen = 24;
	a[0].port_id = 0;
	inet_pton(AF_INET, "10.1.0.1", a[0].addr);
	a[1].op = LR_OP_ADD;
	a[1].family = LR_AF_INET6;
	a[1].plen = 64;
	a[1].port_id = 1;
	inet_pton(AF_INET6, "2001:db8:2::1", a[1].addr);
	CHECK_EQ(lrc_req(fd, LR_CTL_ADDR_BATCH, a, sizeof(a), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, LR_CTL_ADDR_BATCH, a, sizeof(a), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_EXISTS);
	lrc_reply_free(&rep);
	CHECK_EQ(lrc_req(fd, LR_CTL_ADDR_DUMP, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.hdr.count, 2);
	CHECK(rep.payload_len == 2 * sizeof(struct lr_addr));
	lrc_reply_free(&rep);

	memset(&dq, 0, sizeof(dq));
	CHECK_EQ(lrc_req(fd, LR_CTL_ROUTE_DUMP, &dq, sizeof(dq), 1, &rep), 0);
	e = (const struct lr_route *)(rep.payload + sizeof(struct lr_ctl_dump_rep));
	for (k = 0; k < rep.hdr.count; k++)
		if (e[k].flags & LR_ROUTE_F_CONNECTED)
			conn++;
	CHECK_EQ(conn, 2);
	lrc_reply_free(&rep);

	memset(n, 0, sizeof(n));
	n[0].op = LR_OP_ADD;
	n[0].family = LR_AF_INET;
	n[0].port_id = 0;
	inet_pton(AF_INET, "10.1.0.5", n[0].addr);
	memcpy(n[0].mac, "\x02\x00\x00\x00\x00\x05", 6);
	n[1] = n[0];
	n[1].family = LR_AF_INET6;
	n[1].port_id = 1;
	memset(n[1].addr, 0, 16);
	inet_pton(AF_INET6, "2001:db8:2::5", n[1].addr);
	CHECK_EQ(lrc_req(fd, LR_CTL_NEIGH_BATCH, n, sizeof(n), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	dq.family = LR_AF_INET6;
	CHECK_EQ(lrc_req(fd, LR_CTL_NEIGH_DUMP, &dq, sizeof(dq), 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	ne = (const struct lr_neigh *)(rep.payload + sizeof(struct lr_ctl_dump_rep));
	for (k = 0; k < rep.hdr.count; k++) {
		CHECK_EQ(ne[k].family, LR_AF_INET6);
		if (ne[k].state == LR_NEIGH_STATIC) {
			stat++;
			CHECK_EQ(ne[k].port_id, 1);
			CHECK_EQ(ne[k].mac[5], 5);
		}
	}
	CHECK_EQ(stat, 1);
	CHECK_EQ(((const struct lr_ctl_dump_rep *)rep.payload)->done, 1);
	lrc_reply_free(&rep);
	dq.family = 9;
	CHECK_EQ(lrc_req(fd, LR_CTL_NEIGH_DUMP, &dq, sizeof(dq), 1, &rep), 0);
	CHECK_EQ(rep.st.code, LR_ERR_INVALID);
	lrc_reply_free(&rep);

	n[0].op = LR_OP_DEL;
	n[1].op = LR_OP_DEL;
	CHECK_EQ(lrc_req(fd, LR_CTL_NEIGH_BATCH, n, sizeof(n), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	a[0].op = LR_OP_DEL;
	a[1].op = LR_OP_DEL;
	CHECK_EQ(lrc_req(fd, LR_CTL_ADDR_BATCH, a, sizeof(a), 2, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
}

/* Two requests written back to back, then two replies in order. */
static void
test_pipelined(int fd)
{
	struct lr_ctl_hdr h[2];
	struct lrc_reply rep;
	uint8_t buf[4096];
	size_t got = 0, want = 2 * (sizeof(struct lr_ctl_hdr) + sizeof(struct lr_ctl_status));

	memset(h, 0, sizeof(h));
	h[0].magic = h[1].magic = LR_CTL_MAGIC;
	h[0].version = h[1].version = LR_CTL_VERSION;
	h[0].type = LR_CTL_ADDR_DUMP;
	h[0].seq = 1001;
	h[1].type = LR_CTL_STATS_CLEAR;
	h[1].seq = 1002;
	h[0].len = h[1].len = sizeof(h[0]);
	REQUIRE(send(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h));
	while (got < want) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);

		REQUIRE(n > 0);
		got += (size_t)n;
	}
	memcpy(&rep.hdr, buf, sizeof(rep.hdr));
	CHECK_EQ(rep.hdr.seq, 1001);
	CHECK_EQ(rep.hdr.type, LR_CTL_ADDR_DUMP | LR_CTL_REPLY);
	memcpy(&rep.hdr, buf + rep.hdr.len, sizeof(rep.hdr));
	CHECK_EQ(rep.hdr.seq, 1002);
	CHECK_EQ(rep.hdr.type, LR_CTL_STATS_CLEAR | LR_CTL_REPLY);
}

static void
test_stats(pid_t pid)
{
	const struct lr_stats_shm *s = lrc_stats_map(stats_path);
	uint64_t hb, polls;

	REQUIRE(s != NULL);
	CHECK_EQ(s->magic, LR_STATS_MAGIC);
	CHECK_EQ(s->version, LR_STATS_VERSION);
	CHECK_EQ(s->size, sizeof(*s));
	CHECK_EQ(s->pid, pid);
	CHECK_EQ(s->n_ports, 2);
	CHECK_EQ(s->n_workers, 1);
	CHECK(s->tsc_hz > 0);
	CHECK(strcmp(s->ports[0].name, "p0") == 0);
	CHECK_EQ(s->ports[1].link_up, 1);
	CHECK_EQ(s->rxq[0][0].worker, 0);
	CHECK_EQ(s->rxq[1][0].worker, 0);
	CHECK_EQ(s->rxq[0][1].worker, -1);
	CHECK_EQ(s->workers[0].rx_queues, 2);
	CHECK_EQ(s->workers[0].lcore_id, 1);
	CHECK(s->slow.table_swaps > 0);
	hb = s->heartbeat_ns;
	polls = s->workers[0].polls;
	lrc_sleep_ms(300);
	CHECK(s->heartbeat_ns > hb);
	CHECK(s->workers[0].polls > polls);
	CHECK(s->workers[0].rcu_quiescent > 0);
	CHECK(s->workers[0].idle_cycles > 0);
	munmap((void *)s, sizeof(*s));
}

int
main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/dp/dataplane/linerate-dp";
	const char *eal[] = { "-l", "0,1", "--no-pci", "--in-memory", prefix,
			      "--log-level=lib.eal:error", NULL };
	const char *opts[] = { "--name", "ctltest", "--ctl", sock_path, "--stats", stats_path,
			       "--port", "p0=net_ring0", "--port", "p1=net_ring1",
			       "--idle-sleep-us", "200", "--routes4", "131072", "--routes6", "4096",
			       "--neighbors", "1024", "--ctl-gid", "65534", "--ctl-timeout-ms", "1000",
			       NULL };
	struct lr_ctl_hello_rep hello;
	struct lrc_reply rep;
	struct stat sb;
	int fd, fd2;
	pid_t other;

	lrt_watchdog(110);
	snprintf(sock_path, sizeof(sock_path), "/tmp/lrd-ctl-%d.sock", getpid());
	snprintf(stats_path, sizeof(stats_path), "/dev/shm/lrd-ctl-%d.stats", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/lrd-ctl-%d.log", getpid());
	snprintf(log2_path, sizeof(log2_path), "/tmp/lrd-ctl-%d-2.log", getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-ctl-%d", getpid());
	lrt_on_cleanup(cleanup);

	test_bad_args(bin);

	dp_pid = lrc_spawn(bin, eal, opts, log_path);
	fd = lrc_open(sock_path, 30000, &hello);
	if (fd < 0)
		fprintf(stderr, "linerate-dp did not come up; see %s\n", log_path);
	REQUIRE(fd >= 0);
	CHECK_EQ(hello.version, LR_CTL_VERSION);
	CHECK_EQ(hello.pid, dp_pid);
	CHECK_EQ(hello.n_ports, 2);
	CHECK_EQ(hello.n_workers, 1);
	CHECK(hello.boot_id != 0);
	CHECK(hello.start_time_ns > 0);
	CHECK(strcmp(hello.stats_path, stats_path) == 0);
	CHECK(strcmp(hello.name, "ctltest") == 0);

	/* a second dataplane on the same socket refuses to start */
	other = lrc_spawn(bin, eal, opts, log2_path);
	CHECK_EQ(lrc_wait_exit(other, 10000), 1);
	CHECK(stat(sock_path, &sb) == 0);

	test_hello_rules();
	test_ports(fd);
	test_framing_errors(fd);
	test_routes(fd);
	test_addr_neigh(fd);
	test_stats(dp_pid);
	test_hostile_clients();

	/* a second client at the same time */
	fd2 = lrc_open(sock_path, 1000, NULL);
	CHECK(fd2 >= 0);
	test_pipelined(fd2);
	CHECK_EQ(lrc_req(fd, LR_CTL_STATS_CLEAR, NULL, 0, 0, &rep), 0);
	CHECK_EQ(rep.st.code, LR_OK);
	lrc_reply_free(&rep);
	close(fd2);
	close(fd);

	CHECK_EQ(lrc_stop(dp_pid, 10000), 0);
	dp_pid = -1;
	CHECK(stat(sock_path, &sb) < 0);
	CHECK(stat(stats_path, &sb) < 0);
	unlink(log2_path);
	if (lrt_failures == 0)
		unlink(log_path);
	else
		fprintf(stderr, "dataplane log: %s\n", log_path);
	return lrt_finish("test_ctl");
}
