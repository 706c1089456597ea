/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server (see ctl.h and lr_ctl.h). Level-triggered epoll;
 * each connection has a receive buffer that grows to the message being
 * read (LR_CTL_MAX_MSG at most) and a send buffer of queued replies.
 * Requests are handled in order, synchronously, on the main lcore.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_debug.h>

#include "ctl.h"
#include "log.h"
#include "stats.h"
#include "status.h"

#define CTL_MAX_CONN  64
#define CTL_READ_CHUNK (64u << 10)

struct conn {
	int fd;
	bool hello;
	bool closing;      /* close once the queued replies are sent */
	bool want_out;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	uint8_t *tx;
	size_t tx_len, tx_off, tx_cap;
};

static struct {
	int lfd, ep;
	char path[LR_PATH_LEN];
	ino_t ino;
	struct lr_ctl_identity id;
	struct conn *conns[CTL_MAX_CONN];
} ctl = { .lfd = -1, .ep = -1 };

/* Indexed by message type (types are small integers, below LR_CTL_REPLY). */
#define CTL_MAX_TYPE 256
static const struct lr_ctl_handler *handlers[CTL_MAX_TYPE];

void
lr_ctl_register(const struct lr_ctl_handler *h)
{
	if (h->type == 0 || h->type >= CTL_MAX_TYPE || handlers[h->type] != NULL)
		rte_panic("ctl: message type %u registered twice or out of range\n", h->type);
	handlers[h->type] = h;
}

static int
unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

int
lr_ctl_probe_live(const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, rc;

	if (unix_addr(path, &sa) < 0)
		return -1;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		errno = EEXIST;
		return -1;  /* never remove something that is not a socket */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		return 1;
	if (errno == ECONNREFUSED) {
		unlink(path);  /* stale: its dataplane is gone */
		return 0;
	}
	return -1;
}

int
lr_ctl_open(const char *path, const struct lr_ctl_identity *id)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct sockaddr_un sa;
	struct stat sb;
	int rc;

	if (unix_addr(path, &sa) < 0)
		return -ENAMETOOLONG;
	ctl.id = *id;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl.lfd < 0)
		return -errno;
	rc = bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE && lr_ctl_probe_live(path) == 0)
		rc = bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 || listen(ctl.lfd, 16) < 0) {
		rc = -errno;
		close(ctl.lfd);
		ctl.lfd = -1;
		return rc;
	}
	if (stat(path, &sb) == 0)
		ctl.ino = sb.st_ino;
	ctl.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ctl.ep < 0 || epoll_ctl(ctl.ep, EPOLL_CTL_ADD, ctl.lfd, &ev) < 0) {
		rc = -errno;
		lr_ctl_close();
		return rc;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	unsigned i;

	epoll_ctl(ctl.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (i = 0; i < CTL_MAX_CONN; i++)
		if (ctl.conns[i] == c)
			ctl.conns[i] = NULL;
	free(c->rx);
	free(c->tx);
	free(c);
}

void
lr_ctl_close(void)
{
	struct stat sb;
	unsigned i;

	for (i = 0; i < CTL_MAX_CONN; i++)
		if (ctl.conns[i] != NULL)
			conn_close(ctl.conns[i]);
	if (ctl.lfd >= 0) {
		close(ctl.lfd);
		/* only our own socket: a successor may have replaced it */
		if (stat(ctl.path, &sb) == 0 && sb.st_ino == ctl.ino)
			unlink(ctl.path);
	}
	if (ctl.ep >= 0)
		close(ctl.ep);
	ctl.lfd = -1;
	ctl.ep = -1;
}

static int
reserve(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* Reply under construction: header and status at the end of c->tx. */
struct reply {
	struct conn *c;
	size_t at;          /* offset of its header in c->tx */
	struct lr_ctl_status st;
	uint32_t count;
	size_t payload;     /* bytes written after the status */
};

static void *
reply_begin(struct reply *r, struct conn *c, size_t payload_max)
{
	size_t head = sizeof(struct lr_ctl_hdr) + sizeof(struct lr_ctl_status);

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->at = c->tx_len;
	if (reserve(&c->tx, &c->tx_cap, c->tx_len + head + payload_max) < 0)
		return NULL;
	return c->tx + r->at + head;
}

static void
reply_end(struct reply *r, const struct lr_ctl_hdr *req)
{
	struct conn *c = r->c;
	struct lr_ctl_hdr h = {
		.magic = LR_CTL_MAGIC,
		.version = LR_CTL_VERSION,
		.type = (uint16_t)(req->type | LR_CTL_REPLY),
		.seq = req->seq,
		.count = r->st.code == LR_OK ? r->count : 0,
	};
	size_t payload = r->st.code == LR_OK ? r->payload : 0;

	h.len = (uint32_t)(sizeof(h) + sizeof(r->st) + payload);
	memcpy(c->tx + r->at, &h, sizeof(h));
	memcpy(c->tx + r->at + sizeof(h), &r->st, sizeof(r->st));
	c->tx_len = r->at + h.len;
	if (r->st.code != LR_OK && lr_shm != NULL)
		lr_shm->slow.ctl_errors++;
}

/* Checks that a batch request holds count entries of size sz. */
static bool
batch_ok(struct reply *r, const struct lr_ctl_hdr *h, size_t sz, const char *what)
{
	if (h->count > LR_CTL_MAX_BATCH) {
		lr_status_set(&r->st, LR_ERR_NO_SPACE, 0, "%s: %u entries, at most %u in one batch",
			      what, h->count, LR_CTL_MAX_BATCH);
		return false;
	}
	if ((uint64_t)h->len != sizeof(*h) + (uint64_t)h->count * sz) {
		lr_status_set(&r->st, LR_ERR_INVALID, 0,
			      "%s: message of %u bytes does not hold %u entries of %zu bytes",
			      what, h->len, h->count, sz);
		return false;
	}
	return true;
}

static bool
dump_req(struct reply *r, const struct lr_ctl_hdr *h, struct lr_ctl_dump_req *d)
{
	memset(d, 0, sizeof(*d));
	if (h->len >= sizeof(*h) + sizeof(*d))
		memcpy(d, h + 1, sizeof(*d));
	if (d->family != 0 && d->family != LR_AF_INET && d->family != LR_AF_INET6) {
		lr_status_set(&r->st, LR_ERR_INVALID, 0, "dump.family: must be 0, 4 or 6, got %u",
			      d->family);
		return false;
	}
	return true;
}

static size_t
reply_bound(const struct lr_ctl_handler *hd)
{
	if (hd == NULL)
		return 0;
	switch (hd->shape) {
	case LR_CTL_CALL:
		return hd->reply_max;
	case LR_CTL_DUMP:
		return sizeof(struct lr_ctl_dump_rep) + (size_t)hd->entry_size * LR_CTL_MAX_DUMP;
	default:
		return 0;
	}
}

static void
dispatch(struct conn *c, const struct lr_ctl_hdr *h)
{
	const struct lr_ctl_handler *hd = h->type < CTL_MAX_TYPE ? handlers[h->type] : NULL;
	struct reply r;
	uint8_t *out;

	if (lr_shm != NULL)
		lr_shm->slow.ctl_requests++;
	out = reply_begin(&r, c, reply_bound(hd));
	if (out == NULL) {
		LR_LOG(ERR, "ctl: out of memory for a reply: closing the connection");
		c->closing = true;
		return;
	}
	if (!c->hello && h->type != LR_CTL_HELLO) {
		lr_status_set(&r.st, LR_ERR_PRECONDITION, 0, "the first request must be HELLO");
		c->closing = true;
		goto done;
	}
	if (hd == NULL) {
		lr_status_set(&r.st, LR_ERR_UNSUPPORTED, 0, "unknown message type %u", h->type);
		goto done;
	}
	switch (hd->shape) {
	case LR_CTL_BATCH:
		if (batch_ok(&r, h, hd->entry_size, hd->what))
			hd->batch(h + 1, h->count, &r.st);
		break;
	case LR_CTL_DUMP: {
		struct lr_ctl_dump_req d;
		struct lr_ctl_dump_rep dr;

		if (!dump_req(&r, h, &d))
			break;
		r.count = hd->dump(d.family, d.cursor, out + sizeof(dr), LR_CTL_MAX_DUMP, &dr.next,
				   &dr.done);
		r.payload = sizeof(dr) + (size_t)hd->entry_size * r.count;
		memcpy(out, &dr, sizeof(dr));
		break;
	}
	default:
		hd->call(h, out, &r.count, &r.payload, &r.st);
		break;
	}
	if (h->type == LR_CTL_HELLO) {
		if (r.st.code == LR_OK)
			c->hello = true;
		else
			c->closing = true;
	}
done:
	reply_end(&r, h);
}

/* HELLO: the identity of this dataplane; the version must match ours. */
static int
hello(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
      struct lr_ctl_status *st)
{
	struct lr_ctl_hello_rep rep;

	if (h->version != LR_CTL_VERSION)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0,
				     "protocol version %u, this dataplane speaks %u", h->version,
				     LR_CTL_VERSION);
	memset(&rep, 0, sizeof(rep));
	rep.version = LR_CTL_VERSION;
	rep.pid = (uint32_t)getpid();
	rep.boot_id = ctl.id.boot_id;
	rep.start_time_ns = ctl.id.start_time_ns;
	rep.n_ports = ctl.id.n_ports;
	rep.n_workers = ctl.id.n_workers;
	memcpy(rep.stats_path, ctl.id.stats_path, sizeof(rep.stats_path));
	memcpy(rep.name, ctl.id.name, sizeof(rep.name));
	memcpy(out, &rep, sizeof(rep));
	*count = 1;
	*payload = sizeof(rep);
	return LR_OK;
}

static const struct lr_ctl_handler hello_handler = {
	.type = LR_CTL_HELLO, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_ctl_hello_rep), .call = hello,
};
LR_CTL_REGISTER(hello_handler)

static void
set_events(struct conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(ctl.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is queued. @return -1 when the connection is gone. */
static int
conn_flush(struct conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			conn_close(c);
			return -1;
		}
		c->tx_off += (size_t)n;
	}
	if (c->tx_off == c->tx_len) {
		c->tx_off = c->tx_len = 0;
		if (c->closing) {
			conn_close(c);
			return -1;
		}
		set_events(c, false);
	} else {
		set_events(c, true);
	}
	return 0;
}

/* Reads and handles complete requests. @return requests handled, -1 = closed. */
static int
conn_read(struct conn *c)
{
	int handled = 0;

	for (;;) {
		const struct lr_ctl_hdr *h;
		size_t want = CTL_READ_CHUNK;
		ssize_t n;

		if (c->rx_len >= sizeof(*h)) {
			h = (const struct lr_ctl_hdr *)(void *)c->rx;
			if (h->len > c->rx_len && h->len <= LR_CTL_MAX_MSG)
				want = h->len - c->rx_len;
		}
		if (reserve(&c->rx, &c->rx_cap, c->rx_len + want) < 0) {
			conn_close(c);
			return -1;
		}
		n = recv(c->fd, c->rx + c->rx_len, c->rx_cap - c->rx_len, 0);
		if (n == 0) {
			conn_close(c);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return -1;
		}
		c->rx_len += (size_t)n;
		/* complete messages */
		while (!c->closing && c->rx_len >= sizeof(*h)) {
			struct lr_ctl_hdr hh;

			memcpy(&hh, c->rx, sizeof(hh));
			if (hh.magic != LR_CTL_MAGIC) {
				LR_LOG(NOTICE, "ctl: bad magic 0x%08x: closing the connection", hh.magic);
				conn_close(c);
				return -1;
			}
			if (hh.len < sizeof(hh) || hh.len > LR_CTL_MAX_MSG) {
				struct reply r;

				if (reply_begin(&r, c, 0) != NULL) {
					lr_status_set(&r.st, LR_ERR_INVALID, 0,
						      "message length %u outside [%zu, %u]", hh.len,
						      sizeof(hh), LR_CTL_MAX_MSG);
					reply_end(&r, &hh);
				}
				c->closing = true;  /* cannot find the next message */
				break;
			}
			if (c->rx_len < hh.len)
				break;
			dispatch(c, (const struct lr_ctl_hdr *)(void *)c->rx);
			handled++;
			memmove(c->rx, c->rx + hh.len, c->rx_len - hh.len);
			c->rx_len -= hh.len;
		}
		if (c->closing)
			break;
	}
	/* a large buffer is not kept for an idle connection */
	if (c->rx_len == 0 && c->rx_cap > 4 * CTL_READ_CHUNK) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	return conn_flush(c) < 0 ? -1 : handled;
}

static void
accept_all(void)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;
		unsigned i;
		int fd = accept4(ctl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (i = 0; i < CTL_MAX_CONN && ctl.conns[i] != NULL; i++)
			;
		c = i < CTL_MAX_CONN ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			LR_LOG(WARNING, "ctl: too many clients, refusing one");
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(ctl.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		ctl.conns[i] = c;
	}
}

unsigned
lr_ctl_poll(int timeout_ms)
{
	struct epoll_event ev[16];
	unsigned handled = 0;
	int n, i;

	if (ctl.ep < 0)
		return 0;
	n = epoll_wait(ctl.ep, ev, RTE_DIM(ev), timeout_ms);
	for (i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;
		int k;

		if (c == NULL) {
			accept_all();
			continue;
		}
		/* a connection closed earlier in this loop no longer exists */
		for (k = 0; k < CTL_MAX_CONN && ctl.conns[k] != c; k++)
			;
		if (k == CTL_MAX_CONN)
			continue;
		if (ev[i].events & EPOLLOUT) {
			if (conn_flush(c) < 0)
				continue;
		}
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			int r = conn_read(c);

			if (r > 0)
				handled += (unsigned)r;
		}
	}
	return handled;
}
