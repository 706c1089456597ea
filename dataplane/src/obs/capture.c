/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture to pcapng (LR_CTL_CAPTURE_START/STOP/INFO, lr_ctl.h):
 * one capture at a time, of one port's received frames (before any stage),
 * sent frames (rewritten), or the frames one drop reason discarded (before
 * they are freed), optionally on one queue, filtered by a tcpdump
 * expression (libpcap's pcap_compile, run as eBPF: rte_bpf_convert +
 * rte_bpf_load).
 *
 * Workers (the tap callbacks, core/worker.h): filter, then within a
 * per-worker share of the rate cap copy the frame (rte_pcapng_copy, from a
 * pool of our own) into a bounded multi-producer ring. A full ring, an
 * empty copy pool or the cap cost only the capture (counted), never the
 * forwarded frame, which the workers never hold back. Off, the workers pay
 * one load and branch per burst (lr_tap == NULL).
 * Main lcore (module poll): drains the ring into the pcapng file
 * (rte_pcapng_write_packets), stops at `count`; CAPTURE_STOP clears the
 * tap, waits a grace period (lr_tset_synchronize) so that no worker still
 * runs the filter, writes what the ring holds and closes the file. The
 * control plane (serve) reads the file as it grows and streams it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "ctl.h"
#include "log.h"
#include "lr_ctl.h"
#include "module.h"
#include "port.h"
#include "status.h"
#include "tset.h"
#include "worker.h"

#define CAP_RING_SIZE   1024          /* frames between the workers and the file */
#define CAP_POOL_SIZE   2047          /* copies in flight (ring + bursts) */
#define CAP_DATA_ROOM   2048          /* bytes per copy segment: longer frames chain segments */
#define CAP_WRITE_BURST 64

/* Per worker: what it did with matching frames, its share of the cap. */
struct cap_worker {
	uint64_t window_end;          /* TSC end of the current 1 s window */
	uint32_t in_window;           /* frames copied in it */
	uint64_t matched, ring_full, rate_limited;
} __rte_cache_aligned;

static struct {
	struct lr_capture_start cfg;  /* of the capture running or last run */
	uint16_t dpdk_port;           /* pcapng interface = the DPDK port id */
	uint32_t state;               /* enum lr_capture_state */
	uint32_t id;
	uint32_t per_worker_rate;
	uint32_t snaplen;
	uint64_t hz;
	uint64_t written;
	uint32_t ctl_uid;
	struct rte_bpf *bpf;          /* NULL: every frame matches */
	struct rte_ring *ring;
	struct rte_mempool *pool;
	rte_pcapng_t *out;
	struct cap_worker w[LR_MAX_WORKERS];
} cap;

/* Copies the matching frames of m[0..n) in direction dir. */
static inline void
cap_take(unsigned worker, uint16_t queue, struct rte_mbuf *const *m, uint16_t n,
	 enum rte_pcapng_direction dir)
{
	struct cap_worker *cw = &cap.w[worker];
	uint64_t rc[LR_BURST_MAX];
	uint64_t now;
	uint16_t i;

	if (cap.cfg.queue != LR_CAPTURE_ANY_QUEUE && queue != cap.cfg.queue)
		return;
	if (cap.bpf != NULL)
		rte_bpf_exec_burst(cap.bpf, (void **)(uintptr_t)m, rc, n);
	now = rte_rdtsc();
	for (i = 0; i < n; i++) {
		struct rte_mbuf *c;

		if (cap.bpf != NULL && rc[i] == 0)
			continue;
		if (now >= cw->window_end) {
			cw->window_end = now + cap.hz;
			cw->in_window = 0;
		}
		if (cw->in_window >= cap.per_worker_rate) {
			cw->rate_limited++;
			continue;
		}
		c = rte_pcapng_copy(cap.dpdk_port, queue, m[i], cap.pool, cap.snaplen, rte_get_tsc_cycles(),
				    dir);
		if (c == NULL) {
			cw->ring_full++;
			continue;
		}
		if (rte_ring_mp_enqueue(cap.ring, c) != 0) {
			rte_pktmbuf_free(c);
			cw->ring_full++;
			continue;
		}
		cw->in_window++;
		cw->matched++;
	}
}

static void
tap_rx(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf *const *m, uint16_t n)
{
	if (port == cap.cfg.port_id && (cap.cfg.dirs & LR_CAPTURE_RX))
		cap_take(worker, queue, m, n, RTE_PCAPNG_DIRECTION_IN);
}

static void
tap_tx(unsigned worker, uint16_t port, struct rte_mbuf *const *m, uint16_t n)
{
	if (port == cap.cfg.port_id && (cap.cfg.dirs & LR_CAPTURE_TX))
		cap_take(worker, (uint16_t)worker, m, n, RTE_PCAPNG_DIRECTION_OUT);
}

static void
tap_drop(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf *const *m,
	 const uint8_t *reason, uint16_t n)
{
	struct rte_mbuf *sel[LR_BURST_MAX];
	uint16_t i, k = 0;

	if (port != cap.cfg.port_id || cap.cfg.drop_reason == LR_CAPTURE_NO_DROP)
		return;
	for (i = 0; i < n; i++)
		if (reason[i] == cap.cfg.drop_reason)
			sel[k++] = m[i];
	if (k != 0)
		cap_take(worker, queue, sel, k, RTE_PCAPNG_DIRECTION_IN);
}

static const struct lr_tap cap_tap = { .rx = tap_rx, .tx = tap_tx, .drop = tap_drop };

/* Writes up to max frames from the ring (all of them are taken off it). */
static unsigned
drain(unsigned max)
{
	struct rte_mbuf *m[CAP_WRITE_BURST];
	unsigned n, keep, done = 0;

	while (done < max &&
	       (n = rte_ring_sc_dequeue_burst(cap.ring, (void **)m, CAP_WRITE_BURST, NULL)) != 0) {
		keep = n;
		if (cap.cfg.count != 0 && cap.written + keep > cap.cfg.count)
			keep = (unsigned)(cap.cfg.count - cap.written);
		if (keep != 0 && rte_pcapng_write_packets(cap.out, m, (uint16_t)keep) < 0)
			LR_LOG(ERR, "capture %u: write to %s failed: %s", cap.id, cap.cfg.path, strerror(errno));
		cap.written += keep;
		rte_pktmbuf_free_bulk(m, n);
		done += n;
	}
	return done;
}

/* Ends the running capture: no new copies, the rest written, the file closed. */
static void
cap_finish(void)
{
	if (cap.state != LR_CAPTURE_RUNNING)
		return;
	__atomic_store_n(&lr_tap, NULL, __ATOMIC_RELEASE);
	lr_tset_synchronize();  /* no worker runs the filter or copies any more */
	drain(UINT32_MAX);
	rte_pcapng_close(cap.out);  /* closes the fd */
	cap.out = NULL;
	if (cap.bpf != NULL)
		rte_bpf_destroy(cap.bpf);
	cap.bpf = NULL;
	cap.state = LR_CAPTURE_DONE;
	LR_LOG(INFO, "capture %u done: %" PRIu64 " frame(s) in %s", cap.id, cap.written, cap.cfg.path);
}

static void
info_of(struct lr_capture_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->state = cap.state;
	ci->id = cap.id;
	ci->written = cap.written;
	for (unsigned i = 0; i < LR_MAX_WORKERS; i++) {
		ci->matched += cap.w[i].matched;
		ci->ring_full += cap.w[i].ring_full;
		ci->rate_limited += cap.w[i].rate_limited;
	}
}

/* Compiles the tcpdump expression into an eBPF program; NULL with st set. */
static struct rte_bpf *
compile(const char *expr, uint32_t snaplen, struct lr_ctl_status *st)
{
	struct bpf_program prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf *bpf;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);

	if (p == NULL) {
		lr_status_set(st, LR_ERR_INTERNAL, 0, "capture.filter: pcap_open_dead failed");
		return NULL;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		lr_status_set(st, LR_ERR_INVALID, 0, "capture.filter: %s", pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	pcap_close(p);
	prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	if (prm == NULL) {
		lr_status_set(st, LR_ERR_INVALID, 0, "capture.filter: cannot convert to eBPF: %s",
			      rte_strerror(rte_errno));
		return NULL;
	}
	bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (bpf == NULL)
		lr_status_set(st, LR_ERR_INVALID, 0, "capture.filter: cannot load: %s", rte_strerror(rte_errno));
	return bpf;
}

static int
capture_start(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	      struct lr_ctl_status *st)
{
	struct lr_capture_start c;
	struct rte_bpf *bpf = NULL;
	int fd;

	if (req->len != sizeof(*req) + sizeof(c))
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture: body of %u bytes, expected %zu",
				     req->len - (uint32_t)sizeof(*req), sizeof(c));
	memcpy(&c, req + 1, sizeof(c));
	c.filter[sizeof(c.filter) - 1] = '\0';
	c.path[sizeof(c.path) - 1] = '\0';
	if (cap.state == LR_CAPTURE_RUNNING)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0,
				     "capture: capture %u is running (one at a time)", cap.id);
	if (c.port_id >= lr_n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "capture.port: no port %u", c.port_id);
	if (c.drop_reason != LR_CAPTURE_NO_DROP && c.drop_reason >= LR_DROP_MAX)
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.drop_reason: unknown reason %u",
				     c.drop_reason);
	if (c.drop_reason == LR_CAPTURE_NO_DROP && (c.dirs == 0 || (c.dirs & ~(LR_CAPTURE_RX | LR_CAPTURE_TX))))
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.direction: rx, tx or both");
	if (c.drop_reason != LR_CAPTURE_NO_DROP && c.dirs != 0)
		return lr_status_set(st, LR_ERR_INVALID, 0,
				     "capture.direction: a drop capture takes no direction");
	if (c.queue != LR_CAPTURE_ANY_QUEUE && c.queue >= lr_ports[c.port_id].rx_queues &&
	    c.queue >= lr_n_workers)
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.queue: port %s has no queue %u",
				     lr_ports[c.port_id].name, c.queue);
	if (c.snaplen > LR_CAPTURE_SNAPLEN_MAX)
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.snaplen: at most %u",
				     LR_CAPTURE_SNAPLEN_MAX);
	if (c.rate > LR_CAPTURE_RATE_MAX)
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.rate: at most %u frames/s",
				     LR_CAPTURE_RATE_MAX);
	if (c.path[0] != '/')
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.path: must be absolute");
	if (c.snaplen == 0)
		c.snaplen = LR_CAPTURE_SNAPLEN_MAX;
	if (c.rate == 0)
		c.rate = LR_CAPTURE_RATE_DEFAULT;
	if (c.filter[0] != '\0' && (bpf = compile(c.filter, c.snaplen, st)) == NULL)
		return st->code;
	if (cap.ring == NULL) {
		cap.ring = rte_ring_create("lr_capture", CAP_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
		cap.pool = rte_pktmbuf_pool_create("lr_capture", CAP_POOL_SIZE, 0, 0,
						   (uint16_t)rte_pcapng_mbuf_size(CAP_DATA_ROOM),
						   (int)rte_socket_id());
		if (cap.ring == NULL || cap.pool == NULL) {
			if (bpf != NULL)
				rte_bpf_destroy(bpf);
			return lr_status_set(st, LR_ERR_NO_SPACE, 0, "capture: no memory for the ring or pool: %s",
					     rte_strerror(rte_errno));
		}
	}
	fd = open(c.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (cap.ctl_uid != geteuid() && fchown(fd, cap.ctl_uid, (gid_t)-1) < 0)) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(c.path);
		}
		if (bpf != NULL)
			rte_bpf_destroy(bpf);
		return lr_status_set(st, LR_ERR_INVALID, 0, "capture.path: cannot create %s: %s", c.path,
				     strerror(e));
	}
	cap.out = rte_pcapng_fdopen(fd, NULL, NULL, "linerate-dp", NULL);
	if (cap.out == NULL) {
		close(fd);
		unlink(c.path);
		if (bpf != NULL)
			rte_bpf_destroy(bpf);
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "capture: pcapng header: %s", rte_strerror(rte_errno));
	}
	cap.cfg = c;
	cap.dpdk_port = lr_port_rt[c.port_id].dpdk_id;
	cap.snaplen = c.snaplen;
	cap.hz = rte_get_tsc_hz();
	cap.per_worker_rate = (c.rate + lr_n_workers - 1) / (lr_n_workers ? lr_n_workers : 1);
	cap.bpf = bpf;
	cap.written = 0;
	memset(cap.w, 0, sizeof(cap.w));
	cap.id++;
	cap.state = LR_CAPTURE_RUNNING;
	__atomic_store_n(&lr_tap, &cap_tap, __ATOMIC_RELEASE);
	LR_LOG(INFO, "capture %u: port %s%s%s filter \"%s\" to %s", cap.id, lr_ports[c.port_id].name,
	       c.dirs & LR_CAPTURE_RX ? " rx" : "", c.dirs & LR_CAPTURE_TX ? " tx" : "", c.filter, c.path);
	info_of(out);
	*count = 1;
	*payload = sizeof(struct lr_capture_info);
	return LR_OK;
}

static int
capture_stop(const struct lr_ctl_hdr *req __rte_unused, void *out, uint32_t *count, size_t *payload,
	     struct lr_ctl_status *st __rte_unused)
{
	cap_finish();
	info_of(out);
	*count = 1;
	*payload = sizeof(struct lr_capture_info);
	return LR_OK;
}

static int
capture_info(const struct lr_ctl_hdr *req __rte_unused, void *out, uint32_t *count, size_t *payload,
	     struct lr_ctl_status *st __rte_unused)
{
	info_of(out);
	*count = 1;
	*payload = sizeof(struct lr_capture_info);
	return LR_OK;
}

static const struct lr_ctl_handler capture_start_handler = {
	.type = LR_CTL_CAPTURE_START, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_capture_info), .call = capture_start,
};
static const struct lr_ctl_handler capture_stop_handler = {
	.type = LR_CTL_CAPTURE_STOP, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_capture_info), .call = capture_stop,
};
static const struct lr_ctl_handler capture_info_handler = {
	.type = LR_CTL_CAPTURE_INFO, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_capture_info), .call = capture_info,
};
LR_CTL_REGISTER(capture_start_handler)
LR_CTL_REGISTER(capture_stop_handler)
LR_CTL_REGISTER(capture_info_handler)

static int
capture_init(const struct lr_module_env *env)
{
	cap.ctl_uid = env->args->ctl_uid;
	return 0;
}

static unsigned
capture_poll(void)
{
	unsigned n;

	if (cap.state != LR_CAPTURE_RUNNING)
		return 0;
	n = drain(CAP_WRITE_BURST * 4);
	if (cap.cfg.count != 0 && cap.written >= cap.cfg.count)
		cap_finish();
	return n;
}

static void
capture_fini(void)
{
	cap_finish();
	rte_ring_free(cap.ring);
	rte_mempool_free(cap.pool);
	cap.ring = NULL;
	cap.pool = NULL;
}

static const struct lr_module capture_module = {
	.name = "capture",
	.order = 910,
	.init = capture_init,
	.fini = capture_fini,
	.poll = capture_poll,
};

LR_MODULE_REGISTER(capture_module)
