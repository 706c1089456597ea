/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server (see ctl.h and lr_ctl.h). Level-triggered epoll;
 * each connection has a receive buffer that grows to the message being
 * read (LR_CTL_MAX_MSG at most) and a send buffer of queued replies.
 * Requests are handled in order, synchronously, on the main lcore.
 *
 * Defences against a hostile or broken local client (issue 15): the socket
 * is created 0600 (0660 with a group) and every peer's SO_PEERCRED is
 * checked; a connection whose replies are not read stops being read; at
 * most CTL_TURN_BUDGET messages per connection per poll turn; clients that
 * send no HELLO, leave a message half sent or stop reading are closed after
 * a timeout; the last CTL_RESERVED slots take only the control plane's uid,
 * so idle clients cannot lock `serve` out.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_debug.h>

#include "ctl.h"
#include "log.h"
#include "stats.h"
#include "status.h"

#define CTL_MAX_CONN  64
#define CTL_RESERVED  4            /* last slots: the control plane's uid only */
#define CTL_READ_CHUNK (64u << 10)
/* Stop handling requests while this much output waits to be read (one
 * dump reply, about 1.6 MB of routes, may come on top of it). */
#define CTL_TX_HIGH   (1u << 20)
#define CTL_TURN_BUDGET 8          /* messages per connection per poll turn */
#define CTL_SCAN_MS   100          /* how often timeouts are checked */

struct conn {
	int fd;
	bool hello;
	bool closing;      /* close once the queued replies are sent */
	bool pending;      /* complete requests are buffered: serve them next turn */
	bool control;      /* the control plane's uid: reserved slots, no idle timeout */
	uint64_t turn;     /* the poll turn that last served it */
	uint32_t events;   /* what epoll watches */
	uid_t uid;
	gid_t gid;
	uint64_t accepted_ms, last_msg_ms;
	uint64_t partial_ms;  /* since when a message is half received; 0 = none */
	uint64_t stall_ms;    /* since when output waits unsent; 0 = none */
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
	struct lr_ctl_policy pol;
	uint64_t next_scan_ms, refused_log_ms;
	uint64_t refused, turn;
	struct conn *conns[CTL_MAX_CONN];
	uint8_t *scratch;     /* where handlers write a reply's payload: aligned */
	size_t scratch_cap;
} ctl = { .lfd = -1, .ep = -1 };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
lr_ctl_open(const char *path, const struct lr_ctl_identity *id, const struct lr_ctl_policy *pol)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct sockaddr_un sa;
	struct stat sb;
	bool bound;
	mode_t old;
	int rc;

	if (unix_addr(path, &sa) < 0)
		return -ENAMETOOLONG;
	ctl.id = *id;
	ctl.pol = *pol;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl.lfd < 0)
		return -errno;
	/* created 0600 whatever the umask: no window in which others may connect */
	old = umask(0177);
	rc = bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE && lr_ctl_probe_live(path) == 0)
		rc = bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	bound = rc == 0;
	if (rc == 0 && (pol->gid >= 0 || pol->uid != geteuid())) {
		if (chown(path, pol->uid != geteuid() ? (uid_t)pol->uid : (uid_t)-1,
			  pol->gid >= 0 ? (gid_t)pol->gid : (gid_t)-1) < 0 ||
		    chmod(path, pol->gid >= 0 ? 0660 : 0600) < 0)
			rc = -1;
	}
	if (rc < 0 || listen(ctl.lfd, 16) < 0) {
		rc = -errno;
		close(ctl.lfd);
		ctl.lfd = -1;
		if (bound)
			unlink(path);
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
	free(ctl.scratch);
	ctl.scratch = NULL;
	ctl.scratch_cap = 0;
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

/*
 * Reply under construction: header and status at the end of c->tx. The
 * handler writes the payload into ctl.scratch (malloc-aligned), copied
 * after the status at the end: replies follow each other in c->tx at any
 * byte offset, and the payload's structs want their natural alignment.
 */
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
	if (reserve(&c->tx, &c->tx_cap, c->tx_len + head + payload_max) < 0 ||
	    reserve(&ctl.scratch, &ctl.scratch_cap, payload_max ? payload_max : 1) < 0)
		return NULL;
	return ctl.scratch;
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
	if (payload != 0)
		memcpy(c->tx + r->at + sizeof(h) + sizeof(r->st), ctl.scratch, payload);
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

static size_t
tx_backlog(const struct conn *c)
{
	return c->tx_len - c->tx_off;
}

/* Whether the head of rx is a whole message (or a header too bad to wait on). */
static bool
has_message(const struct conn *c)
{
	struct lr_ctl_hdr h;

	if (c->rx_len < sizeof(h))
		return false;
	memcpy(&h, c->rx, sizeof(h));
	if (h.magic != LR_CTL_MAGIC || h.len < sizeof(h) || h.len > LR_CTL_MAX_MSG)
		return true;
	return c->rx_len >= h.len;
}

/* Watches input unless the replies are not being read, output while some wait. */
static void
set_events(struct conn *c)
{
	uint32_t want = (c->closing || tx_backlog(c) >= CTL_TX_HIGH ? 0 : EPOLLIN) |
			(tx_backlog(c) > 0 ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (c->events == want)
		return;
	c->events = want;
	epoll_ctl(ctl.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is queued. @return -1 when the connection is gone. */
static int
conn_flush(struct conn *c)
{
	size_t before = tx_backlog(c);

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
		c->stall_ms = 0;
		if (c->closing) {
			conn_close(c);
			return -1;
		}
		/* a large buffer is not kept for an idle connection */
		if (c->tx_cap > 4 * CTL_READ_CHUNK) {
			free(c->tx);
			c->tx = NULL;
			c->tx_cap = 0;
		}
	} else if (c->stall_ms == 0 || tx_backlog(c) < before) {
		c->stall_ms = now_ms();  /* the stall clock runs from the last progress */
	}
	/* reading resumes once the replies were read: serve what is buffered */
	c->pending = !c->closing && tx_backlog(c) < CTL_TX_HIGH && has_message(c);
	set_events(c);
	return 0;
}

/* Handles the request at the head of rx. @return 1 handled, 0 none whole, -1 closed. */
static int
next_message(struct conn *c)
{
	struct lr_ctl_hdr hh;

	if (c->rx_len < sizeof(hh))
		return 0;
	memcpy(&hh, c->rx, sizeof(hh));
	if (hh.magic != LR_CTL_MAGIC) {
		LR_LOG(NOTICE, "ctl: bad magic 0x%08x: closing the connection", hh.magic);
		conn_close(c);
		return -1;
	}
	if (hh.len < sizeof(hh) || hh.len > LR_CTL_MAX_MSG) {
		struct reply r;

		if (reply_begin(&r, c, 0) != NULL) {
			lr_status_set(&r.st, LR_ERR_INVALID, 0, "message length %u outside [%zu, %u]",
				      hh.len, sizeof(hh), LR_CTL_MAX_MSG);
			reply_end(&r, &hh);
		}
		c->closing = true;  /* cannot find the next message */
		return 1;
	}
	if (c->rx_len < hh.len)
		return 0;
	dispatch(c, (const struct lr_ctl_hdr *)(void *)c->rx);
	memmove(c->rx, c->rx + hh.len, c->rx_len - hh.len);
	c->rx_len -= hh.len;
	c->last_msg_ms = now_ms();
	c->partial_ms = 0;
	return 1;
}

/*
 * Reads and handles complete requests, at most CTL_TURN_BUDGET, and none
 * while CTL_TX_HIGH bytes of replies wait. @return requests handled, -1 = closed.
 */
static int
conn_serve(struct conn *c, bool readable)
{
	int handled = 0;

	for (;;) {
		const struct lr_ctl_hdr *h;
		size_t want = CTL_READ_CHUNK;
		ssize_t n;
		int r;

		while (!c->closing && handled < CTL_TURN_BUDGET && tx_backlog(c) < CTL_TX_HIGH &&
		       (r = next_message(c)) != 0) {
			if (r < 0)
				return -1;
			handled++;
		}
		if (!readable || c->closing || handled >= CTL_TURN_BUDGET ||
		    tx_backlog(c) >= CTL_TX_HIGH)
			break;
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
	}
	if (c->rx_len > 0 && !has_message(c)) {
		if (c->partial_ms == 0)
			c->partial_ms = now_ms();
	} else {
		c->partial_ms = 0;
	}
	/* a large buffer is not kept for an idle connection */
	if (c->rx_len == 0 && c->rx_cap > 4 * CTL_READ_CHUNK) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	return conn_flush(c) < 0 ? -1 : handled;
}

/* Whether a peer may use the socket: root, our own uid, the control plane's uid or group. */
static bool
peer_allowed(uid_t uid, gid_t gid)
{
	return uid == 0 || uid == geteuid() || uid == (uid_t)ctl.pol.uid ||
	       (ctl.pol.gid >= 0 && gid == (gid_t)ctl.pol.gid);
}

/* Refusals are logged at most once a second (a flood must not flood the log). */
static void
log_refused(const char *why, uid_t uid)
{
	uint64_t now = now_ms();

	ctl.refused++;
	if (now < ctl.refused_log_ms)
		return;
	ctl.refused_log_ms = now + 1000;
	LR_LOG(WARNING, "ctl: refused a client (uid %u): %s (%" PRIu64 " refused so far)",
	       (unsigned)uid, why, ctl.refused);
}

static void
accept_all(void)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		struct conn *c;
		unsigned i, end;
		bool control;
		int fd = accept4(ctl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0) {
			close(fd);
			continue;
		}
		if (!peer_allowed(cr.uid, cr.gid)) {
			log_refused("not root, the control plane's uid or group", cr.uid);
			close(fd);
			continue;
		}
		control = cr.uid == (uid_t)ctl.pol.uid;
		end = control ? CTL_MAX_CONN : CTL_MAX_CONN - CTL_RESERVED;
		for (i = 0; i < end && ctl.conns[i] != NULL; i++)
			;
		c = i < end ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			log_refused("too many clients", cr.uid);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->control = control;
		c->events = EPOLLIN;
		c->accepted_ms = c->last_msg_ms = now_ms();
		ev.data.ptr = c;
		if (epoll_ctl(ctl.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		ctl.conns[i] = c;
	}
}

/* Closes clients past their timeouts (see struct lr_ctl_policy). */
static void
expire(uint64_t now)
{
	uint64_t t = ctl.pol.timeout_ms, idle = (uint64_t)ctl.pol.idle_s * 1000;
	unsigned i;

	for (i = 0; i < CTL_MAX_CONN; i++) {
		struct conn *c = ctl.conns[i];
		const char *why = NULL;

		if (c == NULL)
			continue;
		if (!c->hello && now - c->accepted_ms > t)
			why = "no HELLO";
		else if (c->partial_ms != 0 && now - c->partial_ms > t)
			why = "a message left half sent";
		else if (c->stall_ms != 0 && now - c->stall_ms > t)
			why = "replies not read";
		else if (idle != 0 && !c->control && now - c->last_msg_ms > idle)
			why = "idle";
		if (why == NULL)
			continue;
		LR_LOG(NOTICE, "ctl: closing a client (uid %u): %s for %" PRIu64 " ms",
		       (unsigned)c->uid, why,
		       now - (why[0] == 'n' ? c->accepted_ms : why[0] == 'a' ? c->partial_ms :
			      why[0] == 'r' ? c->stall_ms : c->last_msg_ms));
		conn_close(c);
	}
}

static bool
alive(const struct conn *c)
{
	unsigned k;

	for (k = 0; k < CTL_MAX_CONN; k++)
		if (ctl.conns[k] == c)
			return true;
	return false;
}

unsigned
lr_ctl_poll(int timeout_ms)
{
	struct epoll_event ev[16];
	unsigned handled = 0, i;
	uint64_t now;
	int n, e;

	if (ctl.ep < 0)
		return 0;
	/* buffered requests left by the per-turn budget: do not sleep */
	for (i = 0; i < CTL_MAX_CONN; i++)
		if (ctl.conns[i] != NULL && ctl.conns[i]->pending)
			timeout_ms = 0;
	n = epoll_wait(ctl.ep, ev, RTE_DIM(ev), timeout_ms);
	for (e = 0; e < n; e++) {
		struct conn *c = ev[e].data.ptr;

		if (c == NULL) {
			accept_all();
			continue;
		}
		/* a connection closed earlier in this loop no longer exists */
		if (!alive(c))
			continue;
		if (ev[e].events & EPOLLOUT) {
			if (conn_flush(c) < 0)
				continue;
		}
		if (ev[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			int r;

			c->pending = false;
			c->turn = ctl.turn;
			r = conn_serve(c, true);
			if (r > 0)
				handled += (unsigned)r;
		}
	}
	for (i = 0; i < CTL_MAX_CONN; i++) {
		struct conn *c = ctl.conns[i];

		/* one budget per turn: a connection served above waits for the next */
		if (c != NULL && c->pending && c->turn != ctl.turn) {
			int r;

			c->pending = false;
			c->turn = ctl.turn;
			r = conn_serve(c, false);
			if (r > 0)
				handled += (unsigned)r;
		}
	}
	ctl.turn++;
	now = now_ms();
	if (now >= ctl.next_scan_ms) {
		expire(now);
		ctl.next_scan_ms = now + CTL_SCAN_MS;
	}
	return handled;
}
