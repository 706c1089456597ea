/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the control protocol as linerate-dp serves it, over
 * its real unix socket: framing (core/ctl.c), dispatch and every table's
 * batch and dump handlers (routes, neighbors, addresses, ports, flows,
 * UPF sessions and configuration, stats, RSS hash fields), with the modules initialised as
 * main.c does on two net_null ports (no worker lcore: tables publish with
 * no reader to wait for).
 *
 * The input is a list of messages, each [type selector][flags][count:2]
 * [payload length:2][payload]; the harness writes the header (magic,
 * version, len, count = payload / entry size) unless a flag asks it to
 * corrupt one field, sends them all on a fresh connection after a HELLO,
 * and serves until the dataplane has answered or closed. CAPTURE_START is
 * left out: its request names a file to create. State carries over from
 * one input to the next, as it does in a running dataplane. libFuzzer
 * exits without unwinding: scripts/fuzz.sh removes the socket
 * (/tmp/lr-fuzz-ctl-PID.sock) and the EAL runtime directory afterwards.
 * Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "addr.h"
#include "args.h"
#include "ctl.h"
#include "lr_ctl.h"
#include "lr_upf.h"
#include "module.h"
#include "port.h"
#include "stage.h"
#include "stats.h"
#include "tset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sock_path[108];
static uint32_t seq;

/* Request entry size of each type (0: no entries, the payload is free). */
static size_t
entry_size(uint16_t type)
{
	switch (type) {
	case LR_CTL_HELLO: return sizeof(struct lr_ctl_hello_req);
	case LR_CTL_ADDR_BATCH: return sizeof(struct lr_addr);
	case LR_CTL_ROUTE_BATCH: return sizeof(struct lr_route);
	case LR_CTL_NEIGH_BATCH: return sizeof(struct lr_neigh);
	case LR_CTL_PORT_SET: return sizeof(struct lr_port_set);
	case LR_CTL_FLOW_BATCH: return sizeof(struct lr_flow);
	case LR_CTL_ROUTE_DUMP:
	case LR_CTL_NEIGH_DUMP:
	case LR_CTL_FLOW_DUMP:
	case LR_CTL_UPF_SESSION_DUMP: return sizeof(struct lr_ctl_dump_req);
	case LR_CTL_UPF_SESSION_BATCH:
	case LR_CTL_UPF_SESSION_WRITE: return sizeof(struct lr_upf_session);
	case LR_CTL_UPF_SESSION_READ: return sizeof(uint64_t);
	case LR_CTL_UPF_CONFIG: return sizeof(struct lr_upf_config);
	case LR_CTL_RSS_CONF: return sizeof(struct lr_rss_conf);
	default: return 0;
	}
}

static const uint16_t types[] = {
	LR_CTL_HELLO, LR_CTL_PORT_LIST, LR_CTL_ADDR_BATCH, LR_CTL_ADDR_DUMP, LR_CTL_ROUTE_BATCH,
	LR_CTL_ROUTE_DUMP, LR_CTL_NEIGH_BATCH, LR_CTL_NEIGH_DUMP, LR_CTL_STATS_CLEAR,
	LR_CTL_PORT_SET, LR_CTL_FLOW_BATCH, LR_CTL_FLOW_DUMP, LR_CTL_FLOW_STATS,
	LR_CTL_CAPTURE_STOP, LR_CTL_CAPTURE_INFO, 0, 17, 0x7fff, LR_CTL_REPLY | LR_CTL_HELLO,
	LR_CTL_UPF_SESSION_BATCH, LR_CTL_UPF_SESSION_READ, LR_CTL_UPF_SESSION_DUMP, LR_CTL_UPF_CONFIG,
	LR_CTL_UPF_STATS, LR_CTL_UPF_SESSION_WRITE, LR_CTL_RSS_CONF,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char prefix[64], ctl_arg[108];
	char *eal[] = { (char *)"fuzz_ctl", (char *)"-l", (char *)"0", (char *)"--no-huge", (char *)"-m",
			(char *)"512", (char *)"--no-pci", prefix,
			(char *)"--vdev=net_null0", (char *)"--vdev=net_null1",
			(char *)"--log-level=lib.*:error", NULL };
	char err[256];
	static struct lr_args a;
	struct lr_ctl_identity id;
	struct lr_ctl_policy pol;
	struct lr_module_env env;
	struct rte_mempool *mp;
	struct rte_rcu_qsbr *rcu;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-fuzz-ctl-%d", getpid());
	snprintf(sock_path, sizeof(sock_path), "/tmp/lr-fuzz-ctl-%d.sock", getpid());
	snprintf(ctl_arg, sizeof(ctl_arg), "%s", sock_path);
	{
		char *args[] = { (char *)"fuzz_ctl", (char *)"--ctl", ctl_arg, (char *)"--stats",
				 (char *)"/dev/null", (char *)"--port", (char *)"p0=net_null0", (char *)"--port",
				 (char *)"p1=net_null1", (char *)"--routes4", (char *)"65536", (char *)"--routes6",
				 (char *)"4096", (char *)"--neighbors", (char *)"1024", (char *)"--flows",
				 (char *)"64", (char *)"--flows-exact", (char *)"1024", (char *)"--mbufs",
				 (char *)"8192", NULL };

		if (lr_args_parse((int)RTE_DIM(args) - 1, args, &a, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_ctl: %s\n", err);
			abort();
		}
	}
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0 ||
	    lr_stats_create(NULL, 1, 1, rte_get_tsc_hz()) < 0 || lr_port_probe_all(&a) < 0)
		abort();
	mp = rte_pktmbuf_pool_create("lr_mbufs", a.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	rcu = rte_zmalloc("lr_rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || rcu == NULL || rte_rcu_qsbr_init(rcu, 1) != 0 ||
	    lr_port_configure_all(&a, mp, 1) < 0)
		abort();
	lr_tset_init(rcu);
	memset(&env, 0, sizeof(env));
	env.args = &a;
	env.pool = mp;
	env.n_ports = lr_n_ports;
	if (lr_module_init_all(&env) < 0)
		abort();
	lr_stage_setup();
	memset(&id, 0, sizeof(id));
	id.n_ports = lr_n_ports;
	snprintf(id.name, sizeof(id.name), "fuzz");
	memset(&pol, 0, sizeof(pol));
	pol.uid = (uint32_t)getuid();
	pol.gid = -1;
	pol.timeout_ms = 1000;
	unlink(sock_path);
	if (lr_ctl_open(sock_path, &id, &pol) < 0)
		abort();
	return 0;
}

/* Appends one message to out (capacity cap); returns the new length. */
static size_t
put_msg(uint8_t *out, size_t len, size_t cap, uint16_t type, const uint8_t *p, size_t plen,
	uint8_t flags, uint16_t count)
{
	struct lr_ctl_hdr h;
	size_t es = entry_size(type);

	if (len + sizeof(h) + plen > cap)
		return len;
	h.magic = (flags & 1) ? LR_CTL_MAGIC ^ 0x10000u : LR_CTL_MAGIC;
	h.version = (flags & 2) ? LR_CTL_VERSION + 1 : LR_CTL_VERSION;
	h.type = type;
	h.seq = ++seq;
	h.len = (uint32_t)(sizeof(h) + plen);
	if (flags & 4)  /* a length that lies, longer or shorter */
		h.len = (flags & 0x80) ? h.len + count : (h.len > count ? h.len - count : 0);
	h.count = (flags & 8) || es == 0 ? count : (uint32_t)(plen / es);
	h.flags = (flags & 0x10) ? count : 0;
	memcpy(out + len, &h, sizeof(h));
	memcpy(out + len + sizeof(h), p, plen);
	return len + sizeof(h) + plen;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 20], rx[1 << 16];
	struct lr_ctl_hello_req hello;
	struct sockaddr_un sa;
	size_t len = 0, off = 0, sent = 0;
	int fd, turns;
	bool eof = false;

	/*
	 * Addresses accumulate across inputs up to LR_ADDR_MAX, and every
	 * address batch derives the connected routes of the whole list
	 * (quadratic): past a few dozen the harness would mostly measure
	 * that, so the list starts short again (the handlers keep the rest).
	 */
	if (lr_addr_count() > 32) {
		static struct lr_addr all[LR_ADDR_MAX];
		struct lr_ctl_status st;
		uint32_t i, n = lr_addr_dump(all, LR_ADDR_MAX);

		for (i = 0; i < n; i++)
			all[i].op = LR_OP_DEL;
		if (lr_addr_batch(all, n, &st) != LR_OK)
			abort();
	}
	memset(&hello, 0, sizeof(hello));
	snprintf(hello.client, sizeof(hello.client), "fuzz");
	len = put_msg(out, len, sizeof(out), LR_CTL_HELLO, (const uint8_t *)&hello, sizeof(hello), 0, 0);
	while (off + 6 <= size) {
		uint16_t type = types[data[off] % RTE_DIM(types)], count, plen;
		uint8_t flags = data[off + 1];

		memcpy(&count, data + off + 2, 2);
		memcpy(&plen, data + off + 4, 2);
		off += 6;
		if (plen > size - off)
			plen = (uint16_t)(size - off);
		len = put_msg(out, len, sizeof(out), type, data + off, plen, flags, count);
		off += plen;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	/* send, serve and read until the dataplane is done with us */
	for (turns = 0; turns < 2000 && !eof; turns++) {
		ssize_t n;

		if (sent < len) {
			n = send(fd, out + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				sent = len;  /* closed on us */
			if (sent == len)
				shutdown(fd, SHUT_WR);
		}
		lr_ctl_poll(0);
		while ((n = recv(fd, rx, sizeof(rx), 0)) > 0)
			;
		if (n == 0)
			eof = true;
	}
	close(fd);
	/* the dataplane must still answer a new client */
	for (turns = 0; turns < 10; turns++)
		lr_ctl_poll(0);
	return 0;
}
