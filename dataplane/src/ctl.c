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

#include "addr.h"
#include "ctl.h"
#include "log.h"
#include "neigh.h"
#include "port.h"
#include "route.h"
#include "stats.h"
#include "status.h"
#include "worker.h"

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

static void
dispatch(struct conn *c, const struct lr_ctl_hdr *h)
{
	const void *body = h + 1;
	struct reply r;
	uint8_t *out;
	uint32_t i;

	if (lr_shm != NULL)
		lr_shm->slow.ctl_requests++;
	switch (h->type) {
	case LR_CTL_HELLO:
		out = reply_begin(&r, c, sizeof(struct lr_ctl_hello_rep));
		break;
	case LR_CTL_PORT_LIST:
		out = reply_begin(&r, c, sizeof(struct lr_port_info) * lr_n_ports);
		break;
	case LR_CTL_ADDR_DUMP:
		out = reply_begin(&r, c, sizeof(struct lr_addr) * LR_ADDR_MAX);
		break;
	case LR_CTL_ROUTE_DUMP:
		out = reply_begin(&r, c, sizeof(struct lr_ctl_dump_rep) +
				  sizeof(struct lr_route) * LR_CTL_MAX_DUMP);
		break;
	case LR_CTL_NEIGH_DUMP:
		out = reply_begin(&r, c, sizeof(struct lr_ctl_dump_rep) +
				  sizeof(struct lr_neigh) * LR_CTL_MAX_DUMP);
		break;
	default:
		out = reply_begin(&r, c, 0);
		break;
	}
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
	switch (h->type) {
	case LR_CTL_HELLO: {
		struct lr_ctl_hello_rep rep;

		if (h->version != LR_CTL_VERSION) {
			lr_status_set(&r.st, LR_ERR_PRECONDITION, 0,
				      "protocol version %u, this dataplane speaks %u", h->version,
				      LR_CTL_VERSION);
			c->closing = true;
			break;
		}
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
		r.count = 1;
		r.payload = sizeof(rep);
		c->hello = true;
		break;
	}
	case LR_CTL_PORT_LIST:
		for (i = 0; i < lr_n_ports; i++)
			lr_port_info((uint16_t)i, (struct lr_port_info *)(void *)out + i);
		r.count = lr_n_ports;
		r.payload = sizeof(struct lr_port_info) * lr_n_ports;
		break;
	case LR_CTL_PORT_SET:
		if (batch_ok(&r, h, sizeof(struct lr_port_set), "ports"))
			lr_port_set_batch(body, h->count, &r.st);
		break;
	case LR_CTL_ADDR_BATCH:
		if (batch_ok(&r, h, sizeof(struct lr_addr), "addresses"))
			lr_addr_batch(body, h->count, &r.st);
		break;
	case LR_CTL_ADDR_DUMP:
		r.count = lr_addr_dump((struct lr_addr *)(void *)out, LR_ADDR_MAX);
		r.payload = sizeof(struct lr_addr) * r.count;
		break;
	case LR_CTL_ROUTE_BATCH:
		if (batch_ok(&r, h, sizeof(struct lr_route), "routes"))
			lr_route_batch(body, h->count, lr_n_ports, &r.st);
		break;
	case LR_CTL_NEIGH_BATCH:
		if (batch_ok(&r, h, sizeof(struct lr_neigh), "neighbors"))
			lr_neigh_batch(body, h->count, &r.st);
		break;
	case LR_CTL_ROUTE_DUMP:
	case LR_CTL_NEIGH_DUMP: {
		struct lr_ctl_dump_req d;
		struct lr_ctl_dump_rep dr;
		void *entries = out + sizeof(dr);

		if (!dump_req(&r, h, &d))
			break;
		if (h->type == LR_CTL_ROUTE_DUMP) {
			r.count = lr_route_dump(d.family, d.cursor, entries, LR_CTL_MAX_DUMP,
						&dr.next, &dr.done);
			r.payload = sizeof(dr) + sizeof(struct lr_route) * r.count;
		} else {
			r.count = lr_neigh_dump(d.family, d.cursor, entries, LR_CTL_MAX_DUMP,
						&dr.next, &dr.done);
			r.payload = sizeof(dr) + sizeof(struct lr_neigh) * r.count;
		}
		memcpy(out, &dr, sizeof(dr));
		break;
	}
	case LR_CTL_STATS_CLEAR:
		if (lr_worker_clear_stats(1000) < 0) {
			lr_status_set(&r.st, LR_ERR_INTERNAL, 0, "a worker did not clear its counters in time");
			break;
		}
		lr_port_stats_reset();
		memset(&lr_shm->slow, 0, sizeof(lr_shm->slow));
		break;
	default:
		lr_status_set(&r.st, LR_ERR_UNSUPPORTED, 0, "unknown message type %u", h->type);
		break;
	}
done:
	reply_end(&r, h);
}

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
