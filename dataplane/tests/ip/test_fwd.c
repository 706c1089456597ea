/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real linerate-dp forwarding real frames: two veth pairs, the "a"
 * ends driven by linerate-dp through af_packet, the "b" ends by this test
 * through raw sockets. Covers ARP and ND answers for port addresses, ICMP
 * and ICMPv6 echo, learning, gateway resolution (ARP request on the wire,
 * answer, then forwarding), on-link glean resolution over ND, static
 * neighbors, ECMP, the IPv4/IPv6 rewrite (MACs, TTL and checksum, hop
 * limit), drop reasons and counters in the stats memory, MTU and admin
 * state. Frames are built and checked here with an independent checksum.
 *
 * Needs root (veth, raw sockets): exits 77 (skipped) otherwise.
 * usage: test_fwd <path to linerate-dp> [2]   (2: two workers, two queues per port)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "ctlclient.h"
#include "lrtest.h"

#define ETH_LEN 14

static char ifa[2][16], ifb[2][16];
static char sock_path[108], stats_path[108], log_path[128], prefix[64];
static pid_t dp_pid = -1;
static int raw[2] = { -1, -1 };
static int ctl = -1;
static uint8_t mac_b[2][6], mac_p[2][6];
static const struct lr_stats_shm *st;

static int
sh(const char *fmt, const char *a)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, a, a);
	return system(cmd);
}

static void
cleanup(void)
{
	unsigned i;

	if (ctl >= 0)
		close(ctl);
	if (dp_pid > 0)
		lrc_stop(dp_pid, 10000);
	dp_pid = -1;
	for (i = 0; i < 2; i++) {
		if (raw[i] >= 0)
			close(raw[i]);
		if (ifa[i][0] != '\0')
			sh("ip link del %s 2>/dev/null", ifa[i]);
	}
	unlink(sock_path);
	unlink(stats_path);
	if (prefix[0] != '\0')
		lrc_remove_runtime_dir(prefix + strlen("--file-prefix="));
}

/* ---- frames ---- */

static uint16_t
csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 1) {
		sum += (uint32_t)(b[0] << 8 | b[1]);
		b += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(b[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
csum(const void *p, size_t len)
{
	return (uint16_t)~csum_add(0, p, len);
}

/* ICMPv6 / UDP over IPv6 checksum (pseudo-header + payload). */
static uint16_t
csum6(const uint8_t *ip6, const uint8_t *l4, uint16_t len, uint8_t nh)
{
	uint8_t ph[40];
	uint32_t s;

	memcpy(ph, ip6 + 8, 32);
	ph[32] = 0;
	ph[33] = 0;
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nh;
	s = csum_add(0, ph, 40);
	return (uint16_t)~csum_add(s, l4, len);
}

static size_t
eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return ETH_LEN;
}

static void
put_ip4(uint8_t *p, const char *s)
{
	inet_pton(AF_INET, s, p);
}

static void
put_ip6(uint8_t *p, const char *s)
{
	inet_pton(AF_INET6, s, p);
}

static size_t
arp_frame(uint8_t *f, const uint8_t *dst, const uint8_t *sha, uint16_t op, const char *sip,
	  const uint8_t *tha, const char *tip)
{
	size_t o = eth_hdr(f, dst, sha, 0x0806);
	uint8_t *a = f + o;

	memset(a, 0, 46);
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = (uint8_t)op;
	memcpy(a + 8, sha, 6);
	put_ip4(a + 14, sip);
	if (tha != NULL)
		memcpy(a + 18, tha, 6);
	put_ip4(a + 24, tip);
	return 60;
}

/* IPv4 + (UDP with payload | ICMP echo request). */
static size_t
ip4_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *sip, const char *dip,
	  uint8_t ttl, uint8_t proto, uint16_t sport, size_t payload)
{
	size_t o = eth_hdr(f, dst, src, 0x0800);
	uint8_t *ip = f + o, *l4 = ip + 20;
	size_t l4len = 8 + payload, i;

	memset(ip, 0, 20 + l4len);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[8] = ttl;
	ip[9] = proto;
	put_ip4(ip + 12, sip);
	put_ip4(ip + 16, dip);
	for (i = 0; i < payload; i++)
		l4[8 + i] = (uint8_t)(i * 7);
	if (proto == IPPROTO_UDP) {
		l4[0] = (uint8_t)(sport >> 8);
		l4[1] = (uint8_t)sport;
		l4[2] = 0x13;
		l4[3] = 0x89;
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	} else {
		uint16_t c;

		l4[0] = 8;  /* echo request */
		l4[4] = 0xbe;
		l4[5] = 0xef;
		l4[7] = 1;
		c = csum(l4, l4len);
		l4[2] = (uint8_t)(c >> 8);
		l4[3] = (uint8_t)c;
	}
	{
		uint16_t c = csum(ip, 20);

		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	}
	return o + 20 + l4len < 60 ? 60 : o + 20 + l4len;
}

/* Sets DF in the IPv4 header of frame f and fixes its checksum. */
static void
set_df(uint8_t *f)
{
	uint8_t *ip = f + 14;
	uint16_t c;

	ip[6] |= 0x40;
	ip[10] = ip[11] = 0;
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

static size_t
ip6_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *sip, const char *dip,
	  uint8_t hops, uint8_t nh, const uint8_t *l4, uint16_t l4len)
{
	size_t o = eth_hdr(f, dst, src, 0x86dd);
	uint8_t *ip = f + o;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(l4len >> 8);
	ip[5] = (uint8_t)l4len;
	ip[6] = nh;
	ip[7] = hops;
	put_ip6(ip + 8, sip);
	put_ip6(ip + 24, dip);
	memcpy(ip + 40, l4, l4len);
	if (nh == IPPROTO_ICMPV6 || nh == IPPROTO_UDP) {
		size_t at = nh == IPPROTO_UDP ? 6 : 2;
		uint16_t c;

		ip[40 + at] = ip[40 + at + 1] = 0;
		c = csum6(ip, ip + 40, l4len, nh);
		ip[40 + at] = (uint8_t)(c >> 8);
		ip[40 + at + 1] = (uint8_t)c;
	}
	return o + 40 + l4len;
}

static size_t
udp6_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *sip, const char *dip,
	   uint8_t hops)
{
	uint8_t u[24] = { 0x30, 0x39, 0x13, 0x89, 0, 24 };
	unsigned i;

	for (i = 8; i < sizeof(u); i++)
		u[i] = (uint8_t)i;
	return ip6_frame(f, dst, src, sip, dip, hops, IPPROTO_UDP, u, sizeof(u));
}

/* NS (135) or NA (136) with a link-layer option. */
static size_t
nd_frame(uint8_t *f, uint8_t type, const uint8_t *dst, const uint8_t *src, const char *sip,
	 const char *dip, const char *target, uint8_t flags)
{
	uint8_t m[32];

	memset(m, 0, sizeof(m));
	m[0] = type;
	m[4] = flags;
	put_ip6(m + 8, target);
	m[24] = type == 135 ? 1 : 2;
	m[25] = 1;
	memcpy(m + 26, src, 6);
	return ip6_frame(f, dst, src, sip, dip, 255, IPPROTO_ICMPV6, m, sizeof(m));
}

/* ---- wire ---- */

static int
raw_open(const char *ifname)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -1;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
raw_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	REQUIRE(fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static void
tx(int side, const uint8_t *f, size_t len)
{
	REQUIRE(send(raw[side], f, len, 0) == (ssize_t)len);
}

static void
drain(int side)
{
	uint8_t buf[2048];

	while (recv(raw[side], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

typedef bool (*match_fn)(const uint8_t *f, size_t len, const void *arg);

/* Waits for a frame on side that matches; copies it to out. */
static ssize_t
rx_match(int side, match_fn fn, const void *arg, uint8_t *out, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = raw[side], .events = POLLIN };
		int left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -1;
		if (poll(&p, 1, left) <= 0)
			continue;
		n = recv(raw[side], out, 2048, MSG_DONTWAIT);
		if (n > 0 && fn(out, (size_t)n, arg))
			return n;
	}
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
is_type(const uint8_t *f, size_t len, uint16_t type)
{
	return len >= ETH_LEN && be16(f + 12) == type;
}

static bool
m_arp_reply(const uint8_t *f, size_t len, const void *arg)
{
	(void)arg;
	return is_type(f, len, 0x0806) && len >= 42 && f[21] == 2;
}

static bool
m_arp_request_for(const uint8_t *f, size_t len, const void *tip)
{
	return is_type(f, len, 0x0806) && len >= 42 && f[21] == 1 && memcmp(f + 38, tip, 4) == 0;
}

static bool
m_ip4_dst(const uint8_t *f, size_t len, const void *dip)
{
	return is_type(f, len, 0x0800) && len >= 34 && memcmp(f + 30, dip, 4) == 0;
}

static bool
m_icmp6_type(const uint8_t *f, size_t len, const void *type)
{
	return is_type(f, len, 0x86dd) && len >= 58 && f[20] == IPPROTO_ICMPV6 &&
	       f[54] == *(const uint8_t *)type;
}

static bool
m_ns_for(const uint8_t *f, size_t len, const void *target)
{
	uint8_t t = 135;

	return m_icmp6_type(f, len, &t) && len >= 78 && memcmp(f + 62, target, 16) == 0;
}

static bool
m_ip6_dst(const uint8_t *f, size_t len, const void *dip)
{
	return is_type(f, len, 0x86dd) && len >= 54 && f[20] == IPPROTO_UDP &&
	       memcmp(f + 38, dip, 16) == 0;
}

/* ---- control ---- */

static int
call(uint16_t type, const void *body, size_t len, uint32_t count)
{
	struct lrc_reply rep;
	int code;

	REQUIRE(lrc_req(ctl, type, body, len, count, &rep) == 0);
	code = rep.st.code;
	if (code != 0)
		fprintf(stderr, "control request %u: %d %s\n", type, code, rep.st.msg);
	lrc_reply_free(&rep);
	return code;
}

static void
add_addr(uint16_t port, const char *a, uint8_t plen)
{
	struct lr_addr x;

	memset(&x, 0, sizeof(x));
	x.op = LR_OP_ADD;
	x.port_id = port;
	x.plen = plen;
	x.family = strchr(a, ':') ? LR_AF_INET6 : LR_AF_INET;
	inet_pton(x.family == LR_AF_INET ? AF_INET : AF_INET6, a, x.addr);
	CHECK_EQ(call(LR_CTL_ADDR_BATCH, &x, sizeof(x), 1), 0);
}

static int
add_route(uint8_t op, const char *pfx, uint8_t plen, unsigned n, const char *const *gw)
{
	struct lr_route r;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.family = strchr(pfx, ':') ? LR_AF_INET6 : LR_AF_INET;
	r.plen = plen;
	inet_pton(r.family == LR_AF_INET ? AF_INET : AF_INET6, pfx, r.prefix);
	r.n_next_hops = (uint8_t)n;
	for (i = 0; i < n; i++) {
		r.next_hops[i].port_id = 1;
		inet_pton(r.family == LR_AF_INET ? AF_INET : AF_INET6, gw[i], r.next_hops[i].via);
	}
	return call(LR_CTL_ROUTE_BATCH, &r, sizeof(r), 1);
}

static void
port_set(uint16_t port, uint16_t mtu, uint8_t admin)
{
	struct lr_port_set s = { .port_id = port, .mtu = mtu, .admin_up = admin };

	CHECK_EQ(call(LR_CTL_PORT_SET, &s, sizeof(s), 1), 0);
}

static int
neigh_state(uint16_t port, uint8_t family, const char *a, uint8_t *mac)
{
	struct lr_ctl_dump_req dq = { .family = family };
	struct lrc_reply rep;
	uint8_t want[16] = { 0 };
	int state = 0;
	uint32_t k;

	inet_pton(family == LR_AF_INET ? AF_INET : AF_INET6, a, want);
	REQUIRE(lrc_req(ctl, LR_CTL_NEIGH_DUMP, &dq, sizeof(dq), 1, &rep) == 0 && rep.st.code == 0);
	for (k = 0; k < rep.hdr.count; k++) {
		const struct lr_neigh *n = (const struct lr_neigh *)(rep.payload +
			sizeof(struct lr_ctl_dump_rep)) + k;

		if (n->port_id == port && memcmp(n->addr, want, 16) == 0) {
			state = n->state;
			if (mac != NULL)
				memcpy(mac, n->mac, 6);
		}
	}
	lrc_reply_free(&rep);
	return state;
}

static unsigned n_workers = 1;

/* Sum of one field over the RX queues of a port. */
#define RXQ_SUM(port, field) ({                                         \
		uint64_t s_ = 0;                                        \
		for (unsigned q_ = 0; q_ < LR_MAX_QUEUES; q_++)         \
			s_ += st->rxq[(port)][q_].field;                \
		s_;                                                     \
	})

static uint64_t
rxq_drops(uint16_t port, unsigned reason)
{
	return RXQ_SUM(port, drops[reason]);
}

/* ---- scenarios ---- */

static void
test_arp_and_ping(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[2048], r[2048], ip[4];
	uint8_t learned[6];
	ssize_t n;
	size_t len;

	drain(0);
	len = arp_frame(f, bcast, mac_b[0], 1, "10.1.0.2", NULL, "10.1.0.1");
	tx(0, f, len);
	n = rx_match(0, m_arp_reply, NULL, r, 2000);
	CHECK(n >= 42);
	if (n >= 42) {
		CHECK(memcmp(r, mac_b[0], 6) == 0);          /* to the asker */
		CHECK(memcmp(r + 6, mac_p[0], 6) == 0);
		CHECK(memcmp(r + 22, mac_p[0], 6) == 0);     /* sha: our MAC */
		put_ip4(ip, "10.1.0.1");
		CHECK(memcmp(r + 28, ip, 4) == 0);           /* sip */
		CHECK(memcmp(r + 32, mac_b[0], 6) == 0);     /* tha */
		put_ip4(ip, "10.1.0.2");
		CHECK(memcmp(r + 38, ip, 4) == 0);           /* tip */
	}
	/* the asker was learned (the request was for us) */
	CHECK_EQ(neigh_state(0, LR_AF_INET, "10.1.0.2", learned), LR_NEIGH_LEARNED);
	CHECK(memcmp(learned, mac_b[0], 6) == 0);
	/* a request for someone else is not answered */
	len = arp_frame(f, bcast, mac_b[0], 1, "10.1.0.2", NULL, "10.1.0.99");
	tx(0, f, len);
	CHECK(rx_match(0, m_arp_reply, NULL, r, 300) < 0);

	/* ping our address */
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "10.1.0.1", 64, IPPROTO_ICMP, 0, 24);
	tx(0, f, len);
	put_ip4(ip, "10.1.0.2");
	n = rx_match(0, m_ip4_dst, ip, r, 2000);
	CHECK(n >= 14 + 20 + 8 + 24);
	if (n > 0) {
		CHECK(memcmp(r, mac_b[0], 6) == 0);
		CHECK(memcmp(r + 6, mac_p[0], 6) == 0);
		CHECK_EQ(r[23], IPPROTO_ICMP);
		CHECK_EQ(r[34], 0);                          /* echo reply */
		CHECK_EQ(csum(r + 14, 20), 0);
		CHECK_EQ(csum(r + 34, 8 + 24), 0);
		CHECK(memcmp(r + 38, f + 38, 4 + 24) == 0);  /* id, seq, data */
	}
	CHECK(st->slow.arp_reply_tx >= 1);
	CHECK(st->slow.icmp_echo_tx >= 1);
}

static void
test_nd_and_ping6(void)
{
	uint8_t f[2048], r[2048], tgt[16];
	const uint8_t snm[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 };
	uint8_t na = 136, er = 129;
	ssize_t n;
	size_t len;

	drain(0);
	len = nd_frame(f, 135, snm, mac_b[0], "2001:db8:1::2", "ff02::1:ff00:1", "2001:db8:1::1", 0);
	tx(0, f, len);
	n = rx_match(0, m_icmp6_type, &na, r, 2000);
	CHECK(n >= 14 + 40 + 32);
	if (n >= 14 + 40 + 32) {
		put_ip6(tgt, "2001:db8:1::1");
		CHECK(memcmp(r, mac_b[0], 6) == 0);
		CHECK(memcmp(r + 6, mac_p[0], 6) == 0);
		CHECK_EQ(r[21], 255);                        /* hop limit */
		CHECK(memcmp(r + 22, tgt, 16) == 0);         /* from the target */
		CHECK(memcmp(r + 62, tgt, 16) == 0);
		CHECK_EQ(r[58] & 0xe0, 0xe0);                /* router, solicited, override */
		CHECK_EQ(r[78], 2);                          /* target link-layer option */
		CHECK(memcmp(r + 80, mac_p[0], 6) == 0);
		CHECK_EQ(csum6(r + 14, r + 54, be16(r + 18), IPPROTO_ICMPV6), 0);
	}
	CHECK_EQ(neigh_state(0, LR_AF_INET6, "2001:db8:1::2", NULL), LR_NEIGH_LEARNED);

	{
		uint8_t e[16] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1, 'l', 'i', 'n', 'e', 'r', 'a', 't', 'e' };

		len = ip6_frame(f, mac_p[0], mac_b[0], "2001:db8:1::2", "2001:db8:1::1", 64,
				IPPROTO_ICMPV6, e, sizeof(e));
		tx(0, f, len);
		n = rx_match(0, m_icmp6_type, &er, r, 2000);
		CHECK(n >= 14 + 40 + 16);
		if (n > 0) {
			CHECK(memcmp(r + 58, e + 4, 12) == 0);
			CHECK_EQ(csum6(r + 14, r + 54, be16(r + 18), IPPROTO_ICMPV6), 0);
		}
	}
}

/* Sends f on side 0 until a frame matching fn shows on side 1. */
static ssize_t
forward_until(const uint8_t *f, size_t len, match_fn fn, const void *arg, uint8_t *r)
{
	int tries;
	ssize_t n = -1;

	for (tries = 0; tries < 20 && n < 0; tries++) {
		tx(0, f, len);
		n = rx_match(1, fn, arg, r, 150);
	}
	return n;
}

static void
test_forward_v4_gateway(void)
{
	uint8_t f[2048], r[2048], gw[4], dst[4];
	const char *via[] = { "10.2.0.2" };
	uint64_t fwd0;
	ssize_t n;
	size_t len;

	drain(1);
	put_ip4(gw, "10.2.0.2");
	CHECK_EQ(add_route(LR_OP_ADD, "198.51.100.0", 24, 1, via), 0);
	/* the gateway is resolved on the wire */
	n = rx_match(1, m_arp_request_for, gw, r, 3000);
	CHECK(n >= 42);
	if (n >= 42) {
		uint8_t sip[4];

		CHECK(memcmp(r, "\xff\xff\xff\xff\xff\xff", 6) == 0);
		CHECK(memcmp(r + 6, mac_p[1], 6) == 0);
		put_ip4(sip, "10.2.0.1");
		CHECK(memcmp(r + 28, sip, 4) == 0);
	}
	len = arp_frame(f, mac_p[1], mac_b[1], 2, "10.2.0.2", mac_p[1], "10.2.0.1");
	tx(1, f, len);

	fwd0 = RXQ_SUM(0, fwd_packets) + st->slow.neigh_hold_sent;
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 4000, 100);
	put_ip4(dst, "198.51.100.7");
	n = forward_until(f, len, m_ip4_dst, dst, r);
	CHECK(n >= 14 + 20 + 8 + 100);
	if (n > 0) {
		CHECK(memcmp(r, mac_b[1], 6) == 0);       /* the gateway's MAC */
		CHECK(memcmp(r + 6, mac_p[1], 6) == 0);   /* out of p1 */
		CHECK_EQ(r[22], 63);                      /* TTL decremented */
		CHECK_EQ(csum(r + 14, 20), 0);            /* checksum still valid */
		CHECK(memcmp(r + 26, f + 26, 8) == 0);    /* addresses */
		CHECK(memcmp(r + 34, f + 34, 8 + 100) == 0);
	}
	/* forwarded by the worker, or held and sent by the main lcore (a punt) */
	CHECK(RXQ_SUM(0, fwd_packets) + st->slow.neigh_hold_sent > fwd0);
	CHECK_EQ(neigh_state(1, LR_AF_INET, "10.2.0.2", NULL), LR_NEIGH_LEARNED);
}

static void
test_forward_v6_glean(void)
{
	uint8_t f[2048], r[2048], tgt[16];
	const uint8_t *b;
	uint64_t nn0 = rxq_drops(0, LR_DROP_NO_NEIGHBOR), held0 = st->slow.neigh_held;
	uint64_t sent0 = st->slow.neigh_hold_sent;
	ssize_t n;
	size_t len;
	int k;

	drain(1);
	put_ip6(tgt, "2001:db8:2::5");
	len = udp6_frame(f, mac_p[0], mac_b[0], "2001:db8:1::2", "2001:db8:2::5", 64);
	tx(0, f, len);
	/* on-link and unknown: held, and solicited */
	n = rx_match(1, m_ns_for, tgt, r, 3000);
	CHECK(n >= 14 + 40 + 32);
	if (n >= 14 + 40 + 32) {
		CHECK(memcmp(r, "\x33\x33\xff\x00\x00\x05", 6) == 0);
		CHECK_EQ(r[21], 255);
		CHECK_EQ(r[38], 0xff);                    /* to the solicited-node group */
		CHECK_EQ(csum6(r + 14, r + 54, be16(r + 18), IPPROTO_ICMPV6), 0);
	}
	for (k = 0; k < 100 && st->slow.neigh_held == held0; k++)
		usleep(10000);
	CHECK_EQ(st->slow.neigh_held, held0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_NO_NEIGHBOR), nn0);
	len = nd_frame(f, 136, mac_p[1], mac_b[1], "2001:db8:2::5", "2001:db8:2::1",
		       "2001:db8:2::5", 0x60);
	tx(1, f, len);
	/* the answer releases the held packet: the first one is not lost */
	len = udp6_frame(f, mac_p[0], mac_b[0], "2001:db8:1::2", "2001:db8:2::5", 64);
	n = rx_match(1, m_ip6_dst, tgt, r, 3000);
	CHECK(n >= 14 + 40 + 24);
	CHECK_EQ(st->slow.neigh_hold_sent, sent0 + 1);
	if (n > 0) {
		b = r;
		CHECK(memcmp(b, mac_b[1], 6) == 0);
		CHECK(memcmp(b + 6, mac_p[1], 6) == 0);
		CHECK_EQ(b[21], 63);                      /* hop limit */
		CHECK(memcmp(b + 22, f + 22, 32 + 24) == 0);
		CHECK_EQ(csum6(b + 14, b + 54, 24, IPPROTO_UDP), 0);
	}
	/* and the next ones go straight through */
	n = forward_until(f, len, m_ip6_dst, tgt, r);
	CHECK(n >= 14 + 40 + 24);
	CHECK_EQ(rxq_drops(0, LR_DROP_NO_NEIGHBOR), nn0);
}

static void
test_static_neighbor_and_ecmp(void)
{
	struct lr_neigh nb;
	uint8_t f[2048], r[2048], dst[4];
	const char *two[] = { "10.2.0.2", "10.2.0.3" };
	unsigned k, to_b = 0, to_s = 0;
	ssize_t n;
	size_t len;

	memset(&nb, 0, sizeof(nb));
	nb.op = LR_OP_ADD;
	nb.family = LR_AF_INET;
	nb.port_id = 1;
	put_ip4(nb.addr, "10.2.0.3");
	memcpy(nb.mac, "\x02\x00\x00\x00\x00\x33", 6);
	CHECK_EQ(call(LR_CTL_NEIGH_BATCH, &nb, sizeof(nb), 1), 0);
	drain(1);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "10.2.0.3", 64, IPPROTO_UDP, 5000, 10);
	tx(0, f, len);
	put_ip4(dst, "10.2.0.3");
	n = rx_match(1, m_ip4_dst, dst, r, 2000);
	CHECK(n > 0);
	if (n > 0)
		CHECK(memcmp(r, nb.mac, 6) == 0);

	CHECK_EQ(add_route(LR_OP_ADD, "192.0.2.0", 24, 2, two), 0);
	drain(1);
	put_ip4(dst, "192.0.2.9");
	for (k = 0; k < 64; k++) {
		len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "192.0.2.9", 64, IPPROTO_UDP,
				(uint16_t)(1000 + k * 37), 10);
		tx(0, f, len);
		n = rx_match(1, m_ip4_dst, dst, r, 1000);
		if (n <= 0)
			continue;
		if (memcmp(r, mac_b[1], 6) == 0)
			to_b++;
		else if (memcmp(r, nb.mac, 6) == 0)
			to_s++;
	}
	CHECK_EQ(to_b + to_s, 64);
	CHECK(to_b > 8 && to_s > 8);  /* both next hops carry flows */
}

/* Default routes: ::/0 is kept beside rte_lpm6, which takes depths 1-128. */
static void
test_default_routes(void)
{
	const char *v4[] = { "10.2.0.3" }, *v6[] = { "2001:db8:2::5" };
	uint8_t f[2048], r[2048], dst[16];
	ssize_t n;
	size_t len;

	CHECK_EQ(add_route(LR_OP_ADD, "0.0.0.0", 0, 1, v4), 0);
	CHECK_EQ(add_route(LR_OP_ADD, "::", 0, 1, v6), 0);
	drain(1);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "203.0.113.50", 64, IPPROTO_UDP, 7, 10);
	tx(0, f, len);
	put_ip4(dst, "203.0.113.50");
	n = rx_match(1, m_ip4_dst, dst, r, 2000);
	CHECK(n > 0);
	if (n > 0)
		CHECK(memcmp(r, "\x02\x00\x00\x00\x00\x33", 6) == 0);
	len = udp6_frame(f, mac_p[0], mac_b[0], "2001:db8:1::2", "2001:db8:99::1", 64);
	tx(0, f, len);
	put_ip6(dst, "2001:db8:99::1");
	n = rx_match(1, m_ip6_dst, dst, r, 2000);
	CHECK(n > 0);
	if (n > 0) {
		CHECK(memcmp(r, mac_b[1], 6) == 0);
		CHECK_EQ(r[21], 63);
	}
	CHECK_EQ(add_route(LR_OP_DEL, "0.0.0.0", 0, 0, NULL), 0);
	CHECK_EQ(add_route(LR_OP_DEL, "::", 0, 0, NULL), 0);
}

static void
test_drops(void)
{
	uint8_t f[2048], r[2048], dst[4];
	uint64_t ttl0 = rxq_drops(0, LR_DROP_TTL_EXPIRED), ck0 = rxq_drops(0, LR_DROP_BAD_CHECKSUM);
	uint64_t nr0 = rxq_drops(0, LR_DROP_NO_ROUTE), mtu0 = rxq_drops(0, LR_DROP_MTU_EXCEEDED);
	uint64_t pd0 = rxq_drops(0, LR_DROP_PORT_DOWN), nfu0 = rxq_drops(0, LR_DROP_NOT_FOR_US);
	uint64_t ni0 = rxq_drops(0, LR_DROP_NOT_IP), ba0 = rxq_drops(0, LR_DROP_BAD_ADDRESS);
	const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
	size_t len;
	int i;

	put_ip4(dst, "198.51.100.7");
	drain(1);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 1, IPPROTO_UDP, 1, 10);
	tx(0, f, len);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 1, 10);
	f[24] ^= 0x55;  /* header checksum */
	tx(0, f, len);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "203.0.113.1", 64, IPPROTO_UDP, 1, 10);
	tx(0, f, len);
	len = ip4_frame(f, other, mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 1, 10);
	tx(0, f, len);
	/* a link-local source is not routed off its link */
	len = udp6_frame(f, mac_p[0], mac_b[0], "fe80::2", "2001:db8:2::5", 64);
	tx(0, f, len);
	len = eth_hdr(f, mac_p[0], mac_b[0], 0x88b5);
	memset(f + len, 0, 46);
	tx(0, f, 60);
	port_set(1, 1280, 0xff);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 1, 1300);
	set_df(f);  /* without DF it would be fragmented (test_fragment) */
	tx(0, f, len);
	/* the port changes only once the worker has seen that frame */
	for (i = 0; i < 100 && rxq_drops(0, LR_DROP_MTU_EXCEEDED) == mtu0; i++)
		lrc_sleep_ms(10);
	port_set(1, 1500, 0);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 1, 10);
	tx(0, f, len);
	for (i = 0; i < 100 && rxq_drops(0, LR_DROP_PORT_DOWN) == pd0; i++)
		lrc_sleep_ms(10);
	port_set(1, 0, 1);
	CHECK(rx_match(1, m_ip4_dst, dst, r, 300) < 0);  /* none of these left */
	CHECK_EQ(rxq_drops(0, LR_DROP_TTL_EXPIRED), ttl0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_BAD_CHECKSUM), ck0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_NO_ROUTE), nr0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_NOT_FOR_US), nfu0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_NOT_IP), ni0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_BAD_ADDRESS), ba0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_MTU_EXCEEDED), mtu0 + 1);
	CHECK_EQ(rxq_drops(0, LR_DROP_PORT_DOWN), pd0 + 1);
}

/*
 * RFC 1812 5.2.6: an IPv4 packet without DF over the output MTU leaves in
 * fragments (offsets in 8-byte units, MF on all but the last, valid
 * checksums, TTL decremented) that rebuild the original payload.
 */
static void
test_fragment(void)
{
	uint8_t f[2048], r[2048], dst[4], got[2048];
	size_t len, l4len = 8 + 1200, have = 0;
	unsigned k, n_frag = 0;
	bool last = false;

	put_ip4(dst, "198.51.100.7");
	drain(1);
	port_set(1, 576, 0xff);
	len = ip4_frame(f, mac_p[0], mac_b[0], "10.1.0.2", "198.51.100.7", 64, IPPROTO_UDP, 1, 1200);
	tx(0, f, len);
	for (k = 0; k < 4 && !last; k++) {
		ssize_t n = rx_match(1, m_ip4_dst, dst, r, 2000);
		uint16_t tl, off;

		if (n < 0)
			break;
		n_frag++;
		tl = be16(r + 16);
		off = be16(r + 20);
		CHECK(tl <= 576);
		CHECK_EQ(r[14 + 8], 63);                   /* TTL */
		CHECK_EQ(be16(r + 18), 0x1234);            /* identification kept */
		CHECK_EQ(csum(r + 14, 20), 0);
		CHECK_EQ((size_t)(off & 0x1fff) * 8, have); /* in order, no gap */
		last = (off & 0x2000) == 0;
		if (!last)
			CHECK_EQ((tl - 20) % 8, 0);
		memcpy(got + have, r + 34, tl - 20u);
		have += tl - 20u;
	}
	CHECK_EQ(n_frag, 3);  /* 552 + 552 + 104 bytes of the 1208 */
	CHECK(last);
	CHECK_EQ(have, l4len);
	CHECK(memcmp(got, f + 34, l4len) == 0);
	port_set(1, 1500, 0xff);
}

static void
test_counters(void)
{
	uint64_t rx = 0, fwd = 0, punt = 0, drops = 0, tx = 0, wrx = 0, wtx = 0, busy = 0;
	unsigned i, p, k;

	lrc_sleep_ms(200);  /* port counters refresh every 100 ms */
	for (p = 0; p < 2; p++) {
		rx += RXQ_SUM(p, rx_packets);
		fwd += RXQ_SUM(p, fwd_packets);
		punt += RXQ_SUM(p, punt_packets);
		for (i = 0; i < LR_DROP_MAX; i++)
			drops += rxq_drops((uint16_t)p, i);
		for (k = 0; k < n_workers; k++)
			tx += st->txq[p][k].tx_packets;
	}
	for (k = 0; k < n_workers; k++) {
		wrx += st->workers[k].rx_packets;
		wtx += st->workers[k].tx_packets;
		busy += st->workers[k].busy_cycles;
		CHECK(st->workers[k].polls > 0);
		CHECK_EQ(st->workers[k].rx_queues, 2);  /* (2 ports x n_workers queues) / n_workers */
	}
	/* every received frame is forwarded, punted or dropped for a reason */
	CHECK_EQ(rx, fwd + punt + drops);
	CHECK_EQ(wrx, rx);
	CHECK_EQ(wtx, tx);
	CHECK(RXQ_SUM(0, rx_bytes) >= 60 * RXQ_SUM(0, rx_packets));
	CHECK(busy > 0);
	CHECK(st->ports[0].ipackets >= RXQ_SUM(0, rx_packets));
	CHECK(st->ports[1].opackets > 0);
	CHECK_EQ(st->slow.punt_rx, punt);
	if (n_workers == 2) {  /* each port's queues are spread over both workers */
		CHECK_EQ(st->rxq[0][0].worker, 0);
		CHECK_EQ(st->rxq[0][1].worker, 1);
		CHECK_EQ(st->rxq[1][0].worker, 0);
		CHECK_EQ(st->rxq[1][1].worker, 1);
	}
	printf("%u worker(s): rx %lu fwd %lu punt %lu drop %lu; busy %lu cycles\n", n_workers,
	       (unsigned long)rx, (unsigned long)fwd, (unsigned long)punt, (unsigned long)drops,
	       (unsigned long)busy);
}

int
main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/dp/dataplane/linerate-dp";
	char dev0[96], dev1[96], rxq[8];
	/* "2": two workers (two lcores on the second cpu), two queue pairs per port */
	const char *eal[] = { "--lcores", "0@0,1@1", "--no-pci", "--in-memory", prefix,
			      "--log-level=lib.eal:error", NULL };
	const char *opts[] = { "--name", "fwdtest", "--ctl", sock_path, "--stats", stats_path,
			       "--port", dev0, "--port", dev1, "--idle-sleep-us", "50", "--rxq", rxq,
			       "--routes4", "65536", "--routes6", "4096", "--neighbors", "1024", NULL };
	struct lr_ctl_hello_rep hello;
	struct lrc_reply rep;
	unsigned i;

	if (geteuid() != 0 || system("ip link show >/dev/null 2>&1") != 0) {
		printf("test_fwd: needs root and iproute2: skipped\n");
		return 77;
	}
	if (argc > 2 && strcmp(argv[2], "2") == 0) {
		n_workers = 2;
		eal[1] = "0@0,1@1,2@1";
	}
	snprintf(rxq, sizeof(rxq), "%u", n_workers);
	lrt_watchdog(110);
	lrt_on_cleanup(cleanup);
	for (i = 0; i < 2; i++) {
		snprintf(ifa[i], sizeof(ifa[i]), "lrd%da%u", getpid() % 100000, i);
		snprintf(ifb[i], sizeof(ifb[i]), "lrd%db%u", getpid() % 100000, i);
	}
	snprintf(sock_path, sizeof(sock_path), "/tmp/lrd-fwd-%d.sock", getpid());
	snprintf(stats_path, sizeof(stats_path), "/dev/shm/lrd-fwd-%d.stats", getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/lrd-fwd-%d.log", getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-fwd-%d", getpid());
	for (i = 0; i < 2; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd),
			 "ip link add %s type veth peer name %s && "
			 "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 net.ipv6.conf.%s.disable_ipv6=1 && "
			 "ip link set %s up && ip link set %s up",
			 ifa[i], ifb[i], ifa[i], ifb[i], ifa[i], ifb[i]);
		REQUIRE(system(cmd) == 0);
		raw_mac(ifb[i], mac_b[i]);
		raw[i] = raw_open(ifb[i]);
		REQUIRE(raw[i] >= 0);
	}
	snprintf(dev0, sizeof(dev0), "p0=net_af_packet0,iface=%s,qpairs=%u", ifa[0], n_workers);
	snprintf(dev1, sizeof(dev1), "p1=net_af_packet1,iface=%s,qpairs=%u", ifa[1], n_workers);
	dp_pid = lrc_spawn(bin, eal, opts, log_path);
	ctl = lrc_open(sock_path, 30000, &hello);
	if (ctl < 0)
		fprintf(stderr, "linerate-dp did not come up; see %s\n", log_path);
	REQUIRE(ctl >= 0);
	st = lrc_stats_map(stats_path);
	REQUIRE(st != NULL);
	REQUIRE(lrc_req(ctl, LR_CTL_PORT_LIST, NULL, 0, 0, &rep) == 0 && rep.hdr.count == 2);
	for (i = 0; i < 2; i++) {
		const struct lr_port_info *pi = (const struct lr_port_info *)rep.payload + i;

		memcpy(mac_p[i], pi->mac, 6);
		CHECK(strcmp(pi->driver, "net_af_packet") == 0);
		CHECK_EQ(pi->rx_queues, n_workers);
		CHECK_EQ(pi->tx_queues, n_workers);
	}
	lrc_reply_free(&rep);
	add_addr(0, "10.1.0.1", 24);
	add_addr(1, "10.2.0.1", 24);
	add_addr(0, "2001:db8:1::1", 64);
	add_addr(1, "2001:db8:2::1", 64);

	test_arp_and_ping();
	test_nd_and_ping6();
	test_forward_v4_gateway();
	test_forward_v6_glean();
	test_static_neighbor_and_ecmp();
	test_default_routes();
	test_drops();
	test_fragment();
	test_counters();

	close(ctl);
	ctl = -1;
	munmap((void *)st, sizeof(*st));
	CHECK_EQ(lrc_stop(dp_pid, 10000), 0);
	dp_pid = -1;
	if (lrt_failures == 0)
		unlink(log_path);
	else
		fprintf(stderr, "dataplane log: %s\n", log_path);
	return lrt_finish("test_fwd");
}
