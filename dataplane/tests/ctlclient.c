/* SPDX-License-Identifier: BSD-3-Clause */
/* Test-side control client and process helpers (see ctlclient.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctlclient.h"

void
lrc_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
lrc_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int waited = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (waited >= timeout_ms)
			return -1;
		lrc_sleep_ms(50);
		waited += 50;
	}
}

static int
io_all(int fd, void *buf, size_t len, int wr)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
lrc_call(int fd, uint16_t type, uint16_t version, const void *body, size_t len,
	 uint32_t count, struct lrc_reply *rep)
{
	static uint32_t seq;
	struct lr_ctl_hdr h = {
		.magic = LR_CTL_MAGIC,
		.version = version,
		.type = type,
		.seq = ++seq,
		.len = (uint32_t)(sizeof(h) + len),
		.count = count,
	};
	size_t rest;

	memset(rep, 0, sizeof(*rep));
	if (io_all(fd, &h, sizeof(h), 1) < 0 || (len > 0 && io_all(fd, (void *)body, len, 1) < 0))
		return -1;
	if (io_all(fd, &rep->hdr, sizeof(rep->hdr), 0) < 0)
		return -1;
	if (rep->hdr.magic != LR_CTL_MAGIC || rep->hdr.seq != h.seq ||
	    rep->hdr.type != (type | LR_CTL_REPLY) ||
	    rep->hdr.len < sizeof(rep->hdr) + sizeof(rep->st))
		return -1;
	if (io_all(fd, &rep->st, sizeof(rep->st), 0) < 0)
		return -1;
	rest = rep->hdr.len - sizeof(rep->hdr) - sizeof(rep->st);
	if (rest > 0) {
		rep->payload = malloc(rest);
		if (rep->payload == NULL || io_all(fd, rep->payload, rest, 0) < 0)
			return -1;
		rep->payload_len = rest;
	}
	return 0;
}

int
lrc_req(int fd, uint16_t type, const void *body, size_t len, uint32_t count, struct lrc_reply *rep)
{
	return lrc_call(fd, type, LR_CTL_VERSION, body, len, count, rep);
}

void
lrc_reply_free(struct lrc_reply *rep)
{
	free(rep->payload);
	rep->payload = NULL;
	rep->payload_len = 0;
}

int
lrc_open(const char *path, int timeout_ms, struct lr_ctl_hello_rep *hello)
{
	struct lr_ctl_hello_req req;
	struct lrc_reply rep;
	int fd = lrc_connect(path, timeout_ms);

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	snprintf(req.client, sizeof(req.client), "dp-test");
	if (lrc_req(fd, LR_CTL_HELLO, &req, sizeof(req), 1, &rep) < 0 || rep.st.code != 0 ||
	    rep.payload_len != sizeof(*hello)) {
		lrc_reply_free(&rep);
		close(fd);
		return -1;
	}
	if (hello != NULL)
		memcpy(hello, rep.payload, sizeof(*hello));
	lrc_reply_free(&rep);
	return fd;
}

pid_t
lrc_spawn(const char *bin, const char *const *eal, const char *const *opts, const char *logfile)
{
	const char *argv[128];
	int n = 0;
	pid_t pid;

	argv[n++] = bin;
	while (*eal != NULL && n < 100)
		argv[n++] = *eal++;
	argv[n++] = "--";
	while (*opts != NULL && n < 126)
		argv[n++] = *opts++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int
lrc_wait_exit(pid_t pid, int timeout_ms)
{
	int st, waited = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 || waited >= timeout_ms)
			return -1;
		lrc_sleep_ms(20);
		waited += 20;
	}
}

int
lrc_stop(pid_t pid, int timeout_ms)
{
	int rc;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	rc = lrc_wait_exit(pid, timeout_ms);
	if (rc < 0) {
		kill(pid, SIGKILL);
		rc = lrc_wait_exit(pid, 5000);
		return -1;
	}
	return rc;
}

const struct lr_stats_shm *
lrc_stats_map(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(struct lr_stats_shm), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void
lrc_remove_runtime_dir(const char *file_prefix)
{
	char dir[256], path[512];
	struct dirent *e;
	DIR *d;

	if (file_prefix[0] == '\0' || file_prefix[0] == '.' || strchr(file_prefix, '/') != NULL)
		return;  /* only a prefix of ours, never /var/run/dpdk itself */
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", file_prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}
