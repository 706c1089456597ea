/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame classification and validation (parse.h), the RFC 1624 TTL update
 * against a full checksum recomputation, and the ND helpers. No EAL.
 */
#include <arpa/inet.h>

#include "lrtest.h"
#include "parse.h"

static const struct rte_ether_addr our_mac = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

static uint8_t f[256];

static unsigned
eth(const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

/* IPv4/UDP of payload bytes; returns the frame length. */
static unsigned
ip4(const uint8_t *dmac, const char *src, const char *dst, uint8_t ttl, unsigned payload)
{
	unsigned o = eth(dmac, 0x0800);
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(f + o);
	unsigned tl = 20 + 8 + payload;

	memset(h, 0, 20 + 8 + payload);
	h->version_ihl = 0x45;
	h->total_length = htons((uint16_t)tl);
	h->time_to_live = ttl;
	h->next_proto_id = IPPROTO_UDP;
	inet_pton(AF_INET, src, &h->src_addr);
	inet_pton(AF_INET, dst, &h->dst_addr);
	h->hdr_checksum = rte_ipv4_cksum(h);
	return o + tl;
}

static unsigned
ip6(const uint8_t *dmac, const char *src, const char *dst, uint8_t proto, uint8_t hops,
    unsigned payload)
{
	unsigned o = eth(dmac, 0x86dd);
	struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)(f + o);

	memset(h, 0, 40 + payload);
	h->vtc_flow = htonl(6u << 28);
	h->payload_len = htons((uint16_t)payload);
	h->proto = proto;
	h->hop_limits = hops;
	inet_pton(AF_INET6, src, h->src_addr);
	inet_pton(AF_INET6, dst, h->dst_addr);
	return o + 40 + payload;
}

static unsigned
arp(const uint8_t *dmac)
{
	unsigned o = eth(dmac, 0x0806);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + o);

	memset(a, 0, sizeof(*a));
	a->arp_hardware = htons(1);
	a->arp_protocol = htons(0x0800);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = htons(1);
	return o + 28;
}

static uint32_t
classify(unsigned len)
{
	return lr_parse_frame(f, len, len, &our_mac, 0, 0);
}

#define EXPECT_DROP(len, reason) do {                                   \
		uint32_t v_ = classify(len);                            \
		CHECK_EQ(LR_PARSE_CLS(v_), LR_CLS_DROP);                \
		CHECK_EQ(LR_PARSE_REASON(v_), (reason));                \
	} while (0)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void
test_l2(void)
{
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	unsigned n;

	EXPECT_DROP(10, LR_DROP_TRUNCATED);
	n = ip4(other, "10.0.0.2", "10.1.0.1", 64, 10);
	EXPECT_DROP(n, LR_DROP_NOT_FOR_US);
	n = eth(our_mac.addr_bytes, 0x88cc);
	EXPECT_DROP(60, LR_DROP_NOT_IP);
	n = eth(our_mac.addr_bytes, 0x8100);  /* VLAN tags are not handled */
	EXPECT_DROP(60, LR_DROP_NOT_IP);
	(void)n;
}

static void
test_ip4(void)
{
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(f + 14);
	unsigned n;

	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 10);
	CHECK_EQ(classify(n), LR_CLS_FWD4);
	/* Ethernet padding after the IP packet is fine */
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 0);
	CHECK_EQ(classify(60), LR_CLS_FWD4);
	/* unicast IP in a broadcast frame is not forwarded */
	n = ip4(bcast, "10.0.0.2", "10.1.0.1", 64, 10);
	EXPECT_DROP(n, LR_DROP_LOCAL);

	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 10);
	EXPECT_DROP(14 + 19, LR_DROP_TRUNCATED);
	h->version_ihl = 0x55;
	EXPECT_DROP(n, LR_DROP_BAD_VERSION);
	h->version_ihl = 0x44;
	EXPECT_DROP(n, LR_DROP_BAD_IHL);
	h->version_ihl = 0x4f;  /* 60-byte header in a 38-byte packet */
	EXPECT_DROP(n, LR_DROP_BAD_IHL);

	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 10);
	h->total_length = htons(200);
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
	EXPECT_DROP(n, LR_DROP_BAD_LENGTH);
	h->total_length = htons(19);
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
	EXPECT_DROP(n, LR_DROP_BAD_LENGTH);

	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 10);
	h->hdr_checksum ^= htons(0x0100);
	EXPECT_DROP(n, LR_DROP_BAD_CHECKSUM);
	/* the device's verdict is used when it offers the offload */
	CHECK_EQ(lr_parse_frame(f, n, n, &our_mac, RTE_MBUF_F_RX_IP_CKSUM_GOOD, LR_PARSE_HW_IP_CKSUM),
		 LR_CLS_FWD4);
	CHECK_EQ(LR_PARSE_REASON(lr_parse_frame(f, n, n, &our_mac, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN,
						LR_PARSE_HW_IP_CKSUM)), LR_DROP_BAD_CHECKSUM);
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 64, 10);
	CHECK_EQ(LR_PARSE_REASON(lr_parse_frame(f, n, n, &our_mac, RTE_MBUF_F_RX_IP_CKSUM_BAD,
						LR_PARSE_HW_IP_CKSUM)), LR_DROP_BAD_CHECKSUM);

	n = ip4(our_mac.addr_bytes, "224.0.0.1", "10.1.0.1", 64, 10);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip4(our_mac.addr_bytes, "255.255.255.255", "10.1.0.1", 64, 10);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "0.0.0.0", 64, 10);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "127.0.0.1", 64, 10);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip4(bcast, "10.0.0.2", "255.255.255.255", 64, 10);
	EXPECT_DROP(n, LR_DROP_LOCAL);
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "224.0.0.5", 64, 10);
	EXPECT_DROP(n, LR_DROP_LOCAL);
	/* TTL is checked after the lookup (a packet to us may have TTL 1) */
	n = ip4(our_mac.addr_bytes, "10.0.0.2", "10.1.0.1", 1, 10);
	CHECK_EQ(classify(n), LR_CLS_FWD4);
}

static void
test_ip6(void)
{
	struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)(f + 14);
	const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	unsigned n;

	n = ip6(our_mac.addr_bytes, "2001:db8::2", "2001:db8:1::1", IPPROTO_UDP, 64, 16);
	CHECK_EQ(classify(n), LR_CLS_FWD6);
	EXPECT_DROP(14 + 39, LR_DROP_TRUNCATED);
	f[14] = 0x40;
	EXPECT_DROP(n, LR_DROP_BAD_VERSION);
	n = ip6(our_mac.addr_bytes, "2001:db8::2", "2001:db8:1::1", IPPROTO_UDP, 64, 16);
	h->payload_len = htons(17);
	EXPECT_DROP(n, LR_DROP_BAD_LENGTH);
	n = ip6(our_mac.addr_bytes, "ff02::1", "2001:db8:1::1", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip6(our_mac.addr_bytes, "2001:db8::2", "::", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip6(our_mac.addr_bytes, "2001:db8::2", "::1", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_BAD_ADDRESS);
	n = ip6(snm_mac, "2001:db8::2", "ff02::1", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_LOCAL);
	n = ip6(our_mac.addr_bytes, "2001:db8::2", "fe80::1", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_LOCAL);
	n = ip6(snm_mac, "2001:db8::2", "2001:db8:1::1", IPPROTO_UDP, 64, 16);
	EXPECT_DROP(n, LR_DROP_LOCAL);

	/* neighbor solicitation to the solicited-node group */
	n = ip6(snm_mac, "2001:db8::2", "ff02::1:ff00:1", IPPROTO_ICMPV6, 255, 32);
	f[54] = LR_ICMP6_NS;
	CHECK_EQ(classify(n), LR_CLS_PUNT);
	h->hop_limits = 64;  /* RFC 4861: must be 255 */
	EXPECT_DROP(n, LR_DROP_BAD_ND);
	h->hop_limits = 255;
	f[55] = 1;           /* code must be 0 */
	EXPECT_DROP(n, LR_DROP_BAD_ND);
	n = ip6(snm_mac, "2001:db8::2", "ff02::1:ff00:1", IPPROTO_ICMPV6, 255, 16);
	f[54] = LR_ICMP6_NS;  /* shorter than an NS */
	EXPECT_DROP(n, LR_DROP_BAD_ND);
	/* an echo request is routed (the FIB says whether it is ours) */
	n = ip6(our_mac.addr_bytes, "2001:db8::2", "2001:db8:1::1", IPPROTO_ICMPV6, 64, 16);
	f[54] = LR_ICMP6_ECHO_REQUEST;
	CHECK_EQ(classify(n), LR_CLS_FWD6);
}

static void
test_arp(void)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + 14);
	unsigned n;

	n = arp(bcast);
	CHECK_EQ(classify(n), LR_CLS_PUNT);
	n = arp(our_mac.addr_bytes);
	CHECK_EQ(classify(n), LR_CLS_PUNT);
	EXPECT_DROP(14 + 27, LR_DROP_TRUNCATED);
	a->arp_hlen = 8;
	EXPECT_DROP(n, LR_DROP_BAD_ARP);
	n = arp(bcast);
	a->arp_opcode = htons(3);
	EXPECT_DROP(n, LR_DROP_BAD_ARP);
	n = arp(bcast);
	a->arp_protocol = htons(0x86dd);
	EXPECT_DROP(n, LR_DROP_BAD_ARP);
}

static uint32_t
rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)s;
}

/* RFC 1624 update == full recomputation, for every TTL and random headers
 * (options included). */
static void
test_ttl_checksum(void)
{
	uint8_t buf[60];
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)buf;
	unsigned ttl, k, i, mismatches = 0, invalid = 0;

	for (ttl = 2; ttl <= 255; ttl++)
		for (k = 0; k < 2000; k++) {
			unsigned ihl = 5 + rnd() % 11;
			uint16_t full;

			for (i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)rnd();
			if (k == 0)
				memset(buf, 0, sizeof(buf));  /* sums near 0 / 0xffff */
			else if (k == 1)
				memset(buf, 0xff, sizeof(buf));
			h->version_ihl = (uint8_t)(0x40 | ihl);
			h->time_to_live = (uint8_t)ttl;
			h->hdr_checksum = 0;
			h->hdr_checksum = rte_ipv4_cksum(h);
			lr_ip4_ttl_dec(h);
			if (h->time_to_live != ttl - 1)
				mismatches++;
			full = h->hdr_checksum;
			h->hdr_checksum = 0;
			if (rte_ipv4_cksum(h) != full)
				mismatches++;
			h->hdr_checksum = full;
			if (rte_raw_cksum(h, ihl * 4) != 0xffff || !lr_ip4_cksum_ok(h, ihl * 4))
				invalid++;
			/* the fast check agrees with the generic one on a damaged header */
			buf[rnd() % (ihl * 4)] ^= (uint8_t)(1u << (rnd() % 8));
			if (lr_ip4_cksum_ok(h, ihl * 4) != (rte_raw_cksum(h, ihl * 4) == 0xffff))
				mismatches++;
		}
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(invalid, 0);
}

static void
test_nd_helpers(void)
{
	uint8_t opts[32] = { 0 };
	const uint8_t *mac;
	int bad;

	opts[0] = 14;  /* nonce, 8 bytes */
	opts[1] = 1;
	opts[8] = 1;   /* source link-layer address */
	opts[9] = 1;
	memcpy(opts + 10, peer_mac, 6);
	mac = lr_nd_find_lladdr(opts, 16, 1, &bad);
	CHECK(mac != NULL && bad == 0 && memcmp(mac, peer_mac, 6) == 0);
	CHECK(lr_nd_find_lladdr(opts, 16, 2, &bad) == NULL && bad == 0);
	opts[9] = 0;   /* zero length: malformed */
	CHECK(lr_nd_find_lladdr(opts, 16, 1, &bad) == NULL && bad == -1);
	opts[9] = 2;   /* runs past the end */
	CHECK(lr_nd_find_lladdr(opts, 16, 1, &bad) == NULL && bad == -1);

	/* ICMPv6 checksum over the pseudo-header */
	{
		unsigned n = ip6(our_mac.addr_bytes, "2001:db8::2", "2001:db8::1", IPPROTO_ICMPV6, 255, 32);
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)(f + 14);
		uint8_t *ic = f + 54;
		uint16_t c;

		(void)n;
		ic[0] = LR_ICMP6_NS;
		ic[8] = 0x20;
		c = lr_icmp6_cksum(h, ic, 32);
		memcpy(ic + 2, &c, 2);
		CHECK(lr_icmp6_cksum_ok(h, ic, 32));
		ic[20] ^= 1;
		CHECK(!lr_icmp6_cksum_ok(h, ic, 32));
	}
}

int
main(void)
{
	test_l2();
	test_ip4();
	test_ip6();
	test_arp();
	test_ttl_checksum();
	test_nd_helpers();
	return lrt_finish("test_parse");
}
