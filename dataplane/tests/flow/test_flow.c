/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow tables and the `flow` stage on a real EAL without hugepages: real
 * frames (built here) run through the stage as a worker runs it, against
 * the tables FLOW_BATCH built. Covers: priority order and the tie rule
 * (lower id wins among equal priorities, whatever the insert order), port
 * range edges (first and last port of a range and one beyond), /0, /32,
 * /128 and IPv6 prefixes, protocol, DSCP, TCP flags and input port, the
 * exact table looked up before the wildcard one, actions (continue, drop,
 * forward to a next hop, mirror with a byte-identical copy, set DSCP with a
 * valid checksum), exact counters, batch semantics (all-or-nothing, the
 * field named in the message, EXISTS / NOT_FOUND), both table copies
 * identical after every commit, and no leaked next hops.
 *
 * `test_flow --scale N` instead builds an N-rule wildcard table and prints
 * the build time and the classifier's memory; `test_flow --stage-cycles W E`
 * the stage's cycles per packet with W wildcard rules and E exact flows
 * (not tests: measurements).
 */
#include <arpa/inet.h>
#include <limits.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "flow.h"
#include "ipaddr.h"
#include "lrtest.h"
#include "nexthop.h"
#include "parse.h"
#include "port.h"
#include "stage.h"
#include "stats.h"
#include "tset.h"
#include "worker.h"

static struct rte_mempool *mp;
static struct lr_worker fake_worker;
static char rundir[PATH_MAX];

static void
eal_cleanup(void)
{
	rte_eal_cleanup();
	rmdir(rundir);
}

static void
ip(uint8_t family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	REQUIRE(inet_pton(family == LR_AF_INET ? AF_INET : AF_INET6, s, out) == 1);
}

/* A wildcard rule matching anything of family; the caller narrows it. */
static struct lr_flow
rule(uint8_t family, uint32_t id, uint32_t prio, uint8_t action)
{
	struct lr_flow f;

	memset(&f, 0, sizeof(f));
	f.op = LR_OP_ADD;
	f.table = LR_FLOW_WILDCARD;
	f.family = family;
	f.action = action;
	f.id = id;
	f.priority = prio;
	f.in_port = LR_FLOW_ANY_PORT;
	f.vlan = LR_FLOW_ANY_VLAN;
	f.mirror_port = LR_FLOW_ANY_PORT;
	f.sport_hi = f.dport_hi = 0xffff;
	return f;
}

/* "10.0.0.0/8" into a prefix field */
static void
pfx(uint8_t family, const char *s, uint8_t a[16], uint8_t *plen)
{
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	REQUIRE(slash != NULL);
	*slash = '\0';
	ip(family, buf, a);
	*plen = (uint8_t)atoi(slash + 1);
}

static void
udp_ports(struct lr_flow *f, uint16_t slo, uint16_t shi, uint16_t dlo, uint16_t dhi)
{
	f->proto = IPPROTO_UDP;
	f->proto_mask = 0xff;
	f->sport_lo = slo;
	f->sport_hi = shi;
	f->dport_lo = dlo;
	f->dport_hi = dhi;
}

static int
batch(struct lr_flow *f, uint32_t n, struct lr_ctl_status *st)
{
	memset(st, 0, sizeof(*st));
	return lr_flow_batch(f, n, st);
}

static int
batch1(struct lr_flow f, struct lr_ctl_status *st)
{
	return batch(&f, 1, st);
}

static void
del_all(void)
{
	static struct lr_flow out[LR_CTL_MAX_DUMP];
	struct lr_ctl_status st;
	uint32_t next, done, n, i;

	n = lr_flow_dump(0, 0, out, LR_CTL_MAX_DUMP, &next, &done);
	REQUIRE(done);
	for (i = 0; i < n; i++)
		out[i].op = LR_OP_DEL;
	if (n != 0)
		CHECK_EQ(batch(out, n, &st), LR_OK);
	n = lr_flow_dump(0, 0, out, LR_CTL_MAX_DUMP, &next, &done);
	CHECK_EQ(n, 0);
}

/* Both copies of the set must be the same tables after a commit. */
static void
check_copies(void)
{
	const struct lr_flow_copy *a = lr_tset_copy(lr_flow_id, 0), *b = lr_tset_copy(lr_flow_id, 1);

	CHECK(a->acl[0] == b->acl[0]);
	CHECK(a->acl[1] == b->acl[1]);
	CHECK_EQ(a->n_wild, b->n_wild);
	CHECK_EQ(a->n_exact, b->n_exact);
	CHECK_EQ(rte_hash_count(a->exact), rte_hash_count(b->exact));
}

/* ---- frames ---- */

struct pkt {
	uint8_t family;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t dscp;
	uint8_t tcp_flags;
	uint16_t payload;
};

static struct rte_mbuf *
frame(const struct pkt *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t l4len = p->proto == IPPROTO_TCP ? 20 : p->proto == IPPROTO_UDP ? 8 : 8;
	uint16_t l3len = (p->family == LR_AF_INET ? 20 : 40) + l4len + p->payload;
	uint8_t *f, *l3, *l4, a[16];
	unsigned i;

	REQUIRE(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(LR_ETH_HLEN + l3len));
	REQUIRE(f != NULL);
	memset(f, 0, LR_ETH_HLEN + l3len);
	memcpy(f, "\x02\0\0\0\x10\0\x02\0\0\0\x99\x01", 12);
	l3 = f + LR_ETH_HLEN;
	if (p->family == LR_AF_INET) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)l3;

		f[12] = 0x08;
		h->version_ihl = 0x45;
		h->type_of_service = (uint8_t)(p->dscp << 2 | 1);  /* ECT(1): must survive */
		h->total_length = rte_cpu_to_be_16(l3len);
		h->time_to_live = 64;
		h->next_proto_id = p->proto;
		ip(LR_AF_INET, p->src, a);
		memcpy(&h->src_addr, a, 4);
		ip(LR_AF_INET, p->dst, a);
		memcpy(&h->dst_addr, a, 4);
		h->hdr_checksum = rte_ipv4_cksum(h);
		l4 = l3 + 20;
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)l3;

		f[12] = 0x86;
		f[13] = 0xdd;
		h->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)p->dscp << 22 | 1u << 20);
		h->payload_len = rte_cpu_to_be_16((uint16_t)(l4len + p->payload));
		h->proto = p->proto;
		h->hop_limits = 64;
		ip(LR_AF_INET6, p->src, h->src_addr);
		ip(LR_AF_INET6, p->dst, h->dst_addr);
		l4 = l3 + 40;
	}
	l4[0] = (uint8_t)(p->sport >> 8);
	l4[1] = (uint8_t)p->sport;
	l4[2] = (uint8_t)(p->dport >> 8);
	l4[3] = (uint8_t)p->dport;
	if (p->proto == IPPROTO_TCP)
		l4[13] = p->tcp_flags;
	for (i = 0; i < p->payload; i++)
		l4[l4len + i] = (uint8_t)i;
	return m;
}

/* What the stage did with one burst. */
struct outcome {
	struct lr_burst b;
	struct lr_vec v;                    /* continued */
	struct lr_stats_rxq rs;
	struct lr_vec jump[LR_STAGE_MAX];
	void *priv[LR_STAGE_MAX];
	int flow_id, fwd_id;
};

static struct lr_vec jump_store[LR_STAGE_MAX];
static uint8_t flow_priv[64];

/* Runs the flow stage alone on frames m[0..n) received on in_port. */
static void
run_stage(struct outcome *o, struct rte_mbuf **m, uint16_t n, uint16_t in_port)
{
	const struct lr_stage *s;
	uint16_t i;

	memset(o, 0, sizeof(*o));
	memset(jump_store, 0, sizeof(jump_store));
	o->flow_id = lr_stage_id("flow");
	o->fwd_id = lr_stage_id("ip-forward");
	REQUIRE(o->flow_id >= 0 && o->fwd_id > o->flow_id);
	s = lr_stage_get((unsigned)o->flow_id);
	o->priv[o->flow_id] = flow_priv;
	o->b.w = &fake_worker;
	o->b.ts = lr_tset_current();
	o->b.rs = &o->rs;
	o->b.in_port = in_port;
	o->b.jump = jump_store;
	o->b.priv = o->priv;
	o->v.n = n;
	for (i = 0; i < n; i++) {
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(m[i], const uint8_t *, LR_ETH_HLEN);
		uint32_t d;

		o->v.m[i] = m[i];
		memcpy(&d, l3 + 16, 4);
		o->v.meta[i] = (l3[0] >> 4) == 6 ? LR_IP_META_V6 : rte_be_to_cpu_32(d);
	}
	s->run(&o->b, &o->v, flow_priv);
}

static void
free_outcome(struct outcome *o)
{
	uint16_t i;

	for (i = 0; i < o->v.n; i++)
		rte_pktmbuf_free(o->v.m[i]);
	for (i = 0; i < o->b.n_drop; i++)
		rte_pktmbuf_free(o->b.drop[i]);
	for (i = 0; i < o->b.n_out; i++)
		rte_pktmbuf_free(o->b.out[i]);
	for (i = 0; i < jump_store[o->fwd_id].n; i++)
		rte_pktmbuf_free(jump_store[o->fwd_id].m[i]);
}

/* 'c' continued, 'd' dropped, 'f' forwarded (jumped to ip-forward). */
static char
fate1(const struct pkt *p, uint16_t in_port)
{
	struct rte_mbuf *m = frame(p);
	struct outcome o;
	char r = '?';

	run_stage(&o, &m, 1, in_port);
	if (o.v.n == 1)
		r = 'c';
	else if (o.b.n_drop == 1 && o.rs.drops[LR_DROP_FLOW_DROP] == 1)
		r = 'd';
	else if (jump_store[o.fwd_id].n == 1)
		r = 'f';
	free_outcome(&o);
	return r;
}

static char
fate(const struct pkt *p)
{
	return fate1(p, 0);
}

/* counters of rule id from a dump */
static bool
counters(uint32_t id, uint64_t *packets, uint64_t *bytes)
{
	static struct lr_flow out[LR_CTL_MAX_DUMP];
	uint32_t next, done, n, i;

	n = lr_flow_dump(0, 0, out, LR_CTL_MAX_DUMP, &next, &done);
	for (i = 0; i < n; i++)
		if (out[i].id == id) {
			*packets = out[i].packets;
			*bytes = out[i].bytes;
			return true;
		}
	return false;
}

/* ---- tests ---- */

static void
test_priority_and_ties(void)
{
	struct lr_ctl_status st;
	struct lr_flow f[4];
	struct pkt p = { LR_AF_INET, "10.1.2.3", "192.0.2.1", IPPROTO_UDP, 1000, 53, 0, 0, 10 };

	/* 10/8 drop at 10, 10.1/16 continue at 20: the higher priority wins */
	f[0] = rule(LR_AF_INET, 1, 10, LR_FLOW_DROP);
	pfx(LR_AF_INET, "10.0.0.0/8", f[0].src, &f[0].src_plen);
	f[1] = rule(LR_AF_INET, 2, 20, LR_FLOW_CONTINUE);
	pfx(LR_AF_INET, "10.1.0.0/16", f[1].src, &f[1].src_plen);
	REQUIRE(batch(f, 2, &st) == LR_OK);
	check_copies();
	CHECK_EQ(fate(&p), 'c');
	p.src = "10.2.0.1";
	CHECK_EQ(fate(&p), 'd');
	p.src = "11.0.0.1";
	CHECK_EQ(fate(&p), 'c');  /* no rule: on to routing */
	del_all();

	/* ties: equal priority, the lower id wins, whichever came first */
	f[0] = rule(LR_AF_INET, 7, 5, LR_FLOW_DROP);
	f[1] = rule(LR_AF_INET, 3, 5, LR_FLOW_CONTINUE);
	REQUIRE(batch1(f[0], &st) == LR_OK);
	REQUIRE(batch1(f[1], &st) == LR_OK);
	CHECK_EQ(fate(&p), 'c');  /* id 3 */
	del_all();
	f[0] = rule(LR_AF_INET, 3, 5, LR_FLOW_DROP);
	f[1] = rule(LR_AF_INET, 7, 5, LR_FLOW_CONTINUE);
	REQUIRE(batch1(f[1], &st) == LR_OK);
	REQUIRE(batch1(f[0], &st) == LR_OK);
	CHECK_EQ(fate(&p), 'd');  /* id 3 again, inserted last */
	/* a higher priority beats a lower id */
	f[2] = rule(LR_AF_INET, 9, 6, LR_FLOW_CONTINUE);
	REQUIRE(batch1(f[2], &st) == LR_OK);
	CHECK_EQ(fate(&p), 'c');
	/* MODIFY (REPLACE) lowers it back: id 3 wins again */
	f[2].op = LR_OP_REPLACE;
	f[2].priority = 4;
	REQUIRE(batch1(f[2], &st) == LR_OK);
	CHECK_EQ(fate(&p), 'd');
	check_copies();
	del_all();
}

static void
test_ranges_and_prefixes(void)
{
	struct lr_ctl_status st;
	struct lr_flow f;
	struct pkt p = { LR_AF_INET, "198.51.100.7", "203.0.113.9", IPPROTO_UDP, 4000, 1000, 0, 0, 0 };

	/* dport 1000-2000: first and last port match, one beyond does not */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	udp_ports(&f, 0, 0xffff, 1000, 2000);
	REQUIRE(batch1(f, &st) == LR_OK);
	p.dport = 999;
	CHECK_EQ(fate(&p), 'c');
	p.dport = 1000;
	CHECK_EQ(fate(&p), 'd');
	p.dport = 2000;
	CHECK_EQ(fate(&p), 'd');
	p.dport = 2001;
	CHECK_EQ(fate(&p), 'c');
	p.dport = 1500;
	p.proto = IPPROTO_TCP;  /* the rule says UDP */
	CHECK_EQ(fate(&p), 'c');
	p.proto = IPPROTO_UDP;
	del_all();

	/* sport range 0-0 and 65535-65535 edges */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	udp_ports(&f, 65535, 65535, 0, 0xffff);
	REQUIRE(batch1(f, &st) == LR_OK);
	p.sport = 65535;
	CHECK_EQ(fate(&p), 'd');
	p.sport = 65534;
	CHECK_EQ(fate(&p), 'c');
	del_all();

	/* /32 matches one address; /0 matches every one */
	f = rule(LR_AF_INET, 1, 2, LR_FLOW_DROP);
	pfx(LR_AF_INET, "203.0.113.9/32", f.dst, &f.dst_plen);
	REQUIRE(batch1(f, &st) == LR_OK);
	p.sport = 4000;
	CHECK_EQ(fate(&p), 'd');
	p.dst = "203.0.113.8";
	CHECK_EQ(fate(&p), 'c');
	p.dst = "203.0.113.10";
	CHECK_EQ(fate(&p), 'c');
	f = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	pfx(LR_AF_INET, "0.0.0.0/0", f.dst, &f.dst_plen);
	REQUIRE(batch1(f, &st) == LR_OK);
	p.dst = "1.2.3.4";
	CHECK_EQ(fate(&p), 'd');
	del_all();
}

static void
test_ipv6(void)
{
	struct lr_ctl_status st;
	struct lr_flow f[3];
	struct pkt p = { LR_AF_INET6, "2001:db8:1::5", "2001:db8:ff::1", IPPROTO_TCP, 5555, 443, 0, 0x02, 0 };
	struct pkt p4 = { LR_AF_INET, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 5555, 443, 0, 0x02, 0 };

	/* /128 on the source wins over a /48 (priority), the /0 catches the rest */
	f[0] = rule(LR_AF_INET6, 1, 30, LR_FLOW_CONTINUE);
	pfx(LR_AF_INET6, "2001:db8:1::5/128", f[0].src, &f[0].src_plen);
	f[1] = rule(LR_AF_INET6, 2, 20, LR_FLOW_DROP);
	pfx(LR_AF_INET6, "2001:db8:1::/48", f[1].src, &f[1].src_plen);
	f[1].proto = IPPROTO_TCP;
	f[1].proto_mask = 0xff;
	f[1].dport_lo = f[1].dport_hi = 443;
	f[2] = rule(LR_AF_INET6, 3, 1, LR_FLOW_CONTINUE);
	REQUIRE(batch(f, 3, &st) == LR_OK);
	check_copies();
	CHECK_EQ(fate(&p), 'c');
	p.src = "2001:db8:1::4";
	CHECK_EQ(fate(&p), 'd');
	p.src = "2001:db8:1:ffff:ffff:ffff:ffff:ffff";  /* last address of the /48 */
	CHECK_EQ(fate(&p), 'd');
	p.src = "2001:db8:2::";  /* first one beyond */
	CHECK_EQ(fate(&p), 'c');
	p.src = "2001:db8:1::4";
	p.dport = 444;
	CHECK_EQ(fate(&p), 'c');
	/* an IPv6 rule never matches IPv4 */
	CHECK_EQ(fate(&p4), 'c');
	del_all();
}

static void
test_other_fields(void)
{
	struct lr_ctl_status st;
	struct lr_flow f;
	struct pkt p = { LR_AF_INET, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 5555, 80, 46, 0x02, 0 };

	/* TCP SYN without ACK */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	f.proto = IPPROTO_TCP;
	f.proto_mask = 0xff;
	f.tcp_flags = 0x02;
	f.tcp_flags_mask = 0x12;
	REQUIRE(batch1(f, &st) == LR_OK);
	CHECK_EQ(fate(&p), 'd');
	p.tcp_flags = 0x12;
	CHECK_EQ(fate(&p), 'c');
	del_all();

	/* DSCP EF (46), IPv4 and IPv6 */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	f.dscp = 46;
	f.dscp_mask = 0x3f;
	REQUIRE(batch1(f, &st) == LR_OK);
	CHECK_EQ(fate(&p), 'd');
	p.dscp = 0;
	CHECK_EQ(fate(&p), 'c');
	del_all();

	/* input port */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	f.in_port = 1;
	REQUIRE(batch1(f, &st) == LR_OK);
	CHECK_EQ(fate1(&p, 0), 'c');
	CHECK_EQ(fate1(&p, 1), 'd');
	CHECK_EQ(fate1(&p, 2), 'c');
	del_all();
}

static void
test_exact_and_actions(void)
{
	struct lr_ctl_status st;
	struct lr_flow f, e;
	struct pkt p = { LR_AF_INET, "10.9.0.1", "10.9.0.2", IPPROTO_UDP, 1234, 5678, 0, 0, 100 };
	struct rte_mbuf *m;
	struct outcome o;
	uint64_t pk = 0, by = 0;
	uint32_t nh;

	/* wildcard drops all UDP; the exact flow forwards its 5-tuple */
	f = rule(LR_AF_INET, 1, LR_FLOW_PRIO_MAX, LR_FLOW_DROP);
	f.proto = IPPROTO_UDP;
	f.proto_mask = 0xff;
	memset(&e, 0, sizeof(e));
	e.op = LR_OP_ADD;
	e.table = LR_FLOW_EXACT;
	e.family = LR_AF_INET;
	e.action = LR_FLOW_FORWARD;
	e.id = 100;
	e.in_port = LR_FLOW_ANY_PORT;
	e.vlan = LR_FLOW_ANY_VLAN;
	e.proto = IPPROTO_UDP;
	e.proto_mask = 0xff;
	e.src_plen = e.dst_plen = 32;
	ip(LR_AF_INET, "10.9.0.1", e.src);
	ip(LR_AF_INET, "10.9.0.2", e.dst);
	e.sport_lo = e.sport_hi = 1234;
	e.dport_lo = e.dport_hi = 5678;
	e.out_port = 2;
	ip(LR_AF_INET, "192.0.2.254", e.via);
	REQUIRE(batch1(f, &st) == LR_OK);
	REQUIRE(batch1(e, &st) == LR_OK);
	check_copies();
	nh = lr_adj_find(LR_ADJ_NEIGH, LR_AF_INET, 2, e.via);
	CHECK(nh != LR_NH_NONE);
	m = frame(&p);
	run_stage(&o, &m, 1, 0);
	CHECK_EQ(jump_store[o.fwd_id].n, 1);
	CHECK_EQ(jump_store[o.fwd_id].meta[0], nh);
	free_outcome(&o);
	p.dport = 5679;
	CHECK_EQ(fate(&p), 'd');  /* not the pinned flow: the wildcard rule */
	/* a second exact flow with the same 5-tuple is refused */
	e.id = 101;
	CHECK_EQ(batch1(e, &st), LR_ERR_EXISTS);
	CHECK_STR_HAS(st.msg, "flows[0]");

	/* counters: exact to the packet and the byte */
	CHECK(counters(100, &pk, &by));
	CHECK_EQ(pk, 1);
	CHECK_EQ(by, LR_ETH_HLEN + 20 + 8 + 100);
	CHECK(counters(1, &pk, &by));
	CHECK_EQ(pk, 1);
	CHECK_EQ(by, LR_ETH_HLEN + 20 + 8 + 100);
	del_all();
	CHECK_EQ(lr_adj_find(LR_ADJ_NEIGH, LR_AF_INET, 2, e.via), LR_NH_NONE);  /* released */

	/* mirror + set DSCP + continue: the copy is the frame as received */
	f = rule(LR_AF_INET, 5, 1, LR_FLOW_CONTINUE);
	f.flags = LR_FLOW_F_MIRROR | LR_FLOW_F_SET_DSCP;
	f.mirror_port = 1;
	f.set_dscp = 10;
	REQUIRE(batch1(f, &st) == LR_OK);
	{
		struct rte_mbuf *batchm[3];
		uint8_t orig[256];
		uint16_t len, i;

		p.dport = 5678;
		p.dscp = 46;
		for (i = 0; i < 3; i++)
			batchm[i] = frame(&p);
		len = (uint16_t)rte_pktmbuf_pkt_len(batchm[0]);
		memcpy(orig, rte_pktmbuf_mtod(batchm[0], void *), len);
		run_stage(&o, batchm, 3, 0);
		CHECK_EQ(o.v.n, 3);
		CHECK_EQ(o.b.n_out, 3);
		for (i = 0; i < o.b.n_out; i++) {
			CHECK_EQ(o.b.out_port[i], 1);
			CHECK_EQ(rte_pktmbuf_pkt_len(o.b.out[i]), len);
			CHECK(memcmp(rte_pktmbuf_mtod(o.b.out[i], void *), orig, len) == 0);
		}
		for (i = 0; i < o.v.n; i++) {
			struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(o.v.m[i], struct rte_ipv4_hdr *,
									 LR_ETH_HLEN);

			CHECK_EQ(h->type_of_service, 10 << 2 | 1);
			{
				uint16_t c = h->hdr_checksum;

				h->hdr_checksum = 0;
				CHECK_EQ(rte_ipv4_cksum(h), c);
				h->hdr_checksum = c;
			}
		}
		free_outcome(&o);
		CHECK(counters(5, &pk, &by));
		CHECK_EQ(pk, 3);
		CHECK_EQ(by, 3ull * len);
	}
	/* IPv6 set DSCP keeps the ECN bits and the flow label */
	f.op = LR_OP_DEL;
	REQUIRE(batch1(f, &st) == LR_OK);
	f = rule(LR_AF_INET6, 6, 1, LR_FLOW_CONTINUE);
	f.flags = LR_FLOW_F_SET_DSCP;
	f.set_dscp = 34;
	REQUIRE(batch1(f, &st) == LR_OK);
	{
		struct pkt p6 = { LR_AF_INET6, "2001:db8::1", "2001:db8::2", IPPROTO_UDP, 1, 2, 0, 0, 0 };

		m = frame(&p6);
		run_stage(&o, &m, 1, 0);
		CHECK_EQ(o.v.n, 1);
		if (o.v.n == 1) {
			struct rte_ipv6_hdr *h = rte_pktmbuf_mtod_offset(o.v.m[0], struct rte_ipv6_hdr *,
									 LR_ETH_HLEN);

			CHECK_EQ(rte_be_to_cpu_32(h->vtc_flow), 6u << 28 | 34u << 22 | 1u << 20);
		}
		free_outcome(&o);
	}
	del_all();
}

static void
test_exact_ipv6_bulk(void)
{
	struct lr_ctl_status st;
	static struct lr_flow e[64];
	struct rte_mbuf *m[64];
	struct outcome o;
	char a[64];
	unsigned i;

	/* 64 pinned IPv6 flows, every other one dropped; one burst of 64 */
	for (i = 0; i < 64; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].op = LR_OP_ADD;
		e[i].table = LR_FLOW_EXACT;
		e[i].family = LR_AF_INET6;
		e[i].action = LR_FLOW_DROP;
		e[i].id = 1000 + i;
		e[i].in_port = LR_FLOW_ANY_PORT;
		e[i].vlan = LR_FLOW_ANY_VLAN;
		e[i].proto = IPPROTO_UDP;
		e[i].proto_mask = 0xff;
		e[i].src_plen = e[i].dst_plen = 128;
		snprintf(a, sizeof(a), "2001:db8::%x", i * 2);
		ip(LR_AF_INET6, a, e[i].src);
		ip(LR_AF_INET6, "2001:db8::ffff", e[i].dst);
		e[i].sport_lo = e[i].sport_hi = 7;
		e[i].dport_lo = e[i].dport_hi = 9;
	}
	REQUIRE(batch(e, 64, &st) == LR_OK);
	check_copies();
	for (i = 0; i < 64; i++) {
		char s[64];
		struct pkt p = { LR_AF_INET6, s, "2001:db8::ffff", IPPROTO_UDP, 7, 9, 0, 0, 0 };

		snprintf(s, sizeof(s), "2001:db8::%x", i);  /* even i: pinned */
		m[i] = frame(&p);
	}
	run_stage(&o, m, 64, 0);
	CHECK_EQ(o.b.n_drop, 32);
	CHECK_EQ(o.v.n, 32);
	free_outcome(&o);
	del_all();
}

static void
test_batch_semantics(void)
{
	struct lr_ctl_status st;
	struct lr_flow f[3], g;
	uint64_t pk, by;

	/* a bad rule in a batch leaves nothing behind, and is named */
	f[0] = rule(LR_AF_INET, 1, 1, LR_FLOW_DROP);
	f[1] = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	udp_ports(&f[1], 0, 0xffff, 90, 80);
	CHECK_EQ(batch(f, 2, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 1);
	CHECK_STR_HAS(st.msg, "flows[1].dport: range 90-80 is reversed");
	CHECK(!counters(1, &pk, &by));

	g = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	ip(LR_AF_INET, "10.0.0.1", g.src);
	g.src_plen = 8;
	CHECK_EQ(batch1(g, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].src: host bits set in 10.0.0.1/8");

	g = rule(LR_AF_INET, 2, LR_FLOW_PRIO_MAX + 1, LR_FLOW_DROP);
	CHECK_EQ(batch1(g, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].priority: 65536 is out of range");

	g = rule(LR_AF_INET, 2, 1, LR_FLOW_FORWARD);
	g.out_port = 9;
	CHECK_EQ(batch1(g, &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "flows[0].out_port: no port 9");
	g = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	g.in_port = 7;
	CHECK_EQ(batch1(g, &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "flows[0].in_port: no port 7");
	g = rule(LR_AF_INET, 2, 1, LR_FLOW_CONTINUE);
	g.flags = LR_FLOW_F_MIRROR;
	g.mirror_port = 3;
	CHECK_EQ(batch1(g, &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "flows[0].mirror_port: no port 3");
	g = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	g.dport_lo = 80;
	g.dport_hi = 80;
	CHECK_EQ(batch1(g, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].dport: ports need proto tcp, udp or sctp");
	g = rule(LR_AF_INET, 2, 1, LR_FLOW_DROP);
	g.vlan = 10;
	CHECK_EQ(batch1(g, &st), LR_ERR_UNSUPPORTED);
	CHECK_STR_HAS(st.msg, "flows[0].vlan");

	/* duplicate id in one batch: the later entry is named */
	f[0] = rule(LR_AF_INET, 4, 1, LR_FLOW_DROP);
	f[1] = rule(LR_AF_INET, 5, 1, LR_FLOW_DROP);
	f[2] = rule(LR_AF_INET, 4, 2, LR_FLOW_DROP);
	CHECK_EQ(batch(f, 3, &st), LR_ERR_INVALID);
	CHECK_EQ(st.index, 2);
	CHECK_STR_HAS(st.msg, "flows[2].id: 4 is also flows[0]");

	/* EXISTS / NOT_FOUND against the table; the good entries are undone */
	REQUIRE(batch1(f[0], &st) == LR_OK);
	f[1] = rule(LR_AF_INET, 6, 1, LR_FLOW_DROP);
	CHECK_EQ(batch(f, 2, &st), LR_ERR_EXISTS);
	CHECK_EQ(st.index, 0);
	CHECK(!counters(6, &pk, &by));
	g = rule(LR_AF_INET, 77, 1, LR_FLOW_DROP);
	g.op = LR_OP_DEL;
	CHECK_EQ(batch1(g, &st), LR_ERR_NOT_FOUND);
	CHECK_STR_HAS(st.msg, "flows[0].id: no rule 77");
	/* REPLACE of an absent rule adds it (lr_ctl_op); of a rule in the other table is refused */
	g.op = LR_OP_REPLACE;
	CHECK_EQ(batch1(g, &st), LR_OK);
	CHECK(counters(77, &pk, &by));
	g.table = LR_FLOW_EXACT;
	g.op = LR_OP_DEL;
	CHECK_EQ(batch1(g, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].table: rule 77 is in the wildcard table");
	g.table = LR_FLOW_WILDCARD;
	CHECK_EQ(batch1(g, &st), LR_OK);

	/* a full table refuses the batch whole (the capacity is 64) */
	{
		static struct lr_flow many[65];
		unsigned i;

		for (i = 0; i < 65; i++)
			many[i] = rule(LR_AF_INET, 200 + i, 1, LR_FLOW_DROP);
		CHECK_EQ(batch(many, 65, &st), LR_ERR_NO_SPACE);
		CHECK_EQ(st.index, 63);  /* rule 4 is in already */
		CHECK(!counters(200, &pk, &by));
		check_copies();
	}
	del_all();
	check_copies();
}

/* trTCM: a burst far above tiny rates: cbs worth green, pbs worth yellow, the rest red. */
static void
test_meter(void)
{
	struct lr_ctl_status st;
	struct lr_flow f;
	struct pkt p = { LR_AF_INET, "10.5.0.1", "10.5.0.2", IPPROTO_UDP, 1, 2, 0, 0, 58 };
	const uint32_t len = LR_ETH_HLEN + 20 + 8 + 58;  /* 100 bytes */
	struct rte_mbuf *m[10];
	struct outcome o;
	unsigned i, yellow = 0, red = 0, green = 0;

	/* drop red: 2 packets of committed burst, 4 of peak burst */
	f = rule(LR_AF_INET, 1, 1, LR_FLOW_CONTINUE);
	f.flags = LR_FLOW_F_METER;
	f.meter_mode = LR_FLOW_METER_DROP_RED;
	f.cir = 10;
	f.pir = 20;
	f.cbs = 2 * len;
	f.pbs = 4 * len;
	REQUIRE(batch1(f, &st) == LR_OK);
	{
		struct lr_flow_stats s;

		lr_flow_get_stats(&s);
		CHECK_EQ(s.meters, 1);
	}
	for (i = 0; i < 10; i++)
		m[i] = frame(&p);
	run_stage(&o, m, 10, 0);
	CHECK_EQ(o.v.n, 4);           /* within the peak burst */
	CHECK_EQ(o.b.n_drop, 6);
	CHECK_EQ(o.rs.drops[LR_DROP_FLOW_METER], 6);
	free_outcome(&o);

	/* mark: MODIFY gets a fresh meter (full buckets); green untouched, yellow AF11, red AF13 */
	f.op = LR_OP_REPLACE;
	f.meter_mode = LR_FLOW_METER_MARK;
	f.yellow_dscp = 10;
	f.red_dscp = 14;
	REQUIRE(batch1(f, &st) == LR_OK);
	for (i = 0; i < 10; i++)
		m[i] = frame(&p);
	run_stage(&o, m, 10, 0);
	CHECK_EQ(o.v.n, 10);
	for (i = 0; i < o.v.n; i++) {
		struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(o.v.m[i], struct rte_ipv4_hdr *, LR_ETH_HLEN);
		uint16_t c = h->hdr_checksum;

		switch (h->type_of_service >> 2) {
		case 0: green++; break;
		case 10: yellow++; break;
		case 14: red++; break;
		default: CHECK(false);
		}
		h->hdr_checksum = 0;
		CHECK_EQ(rte_ipv4_cksum(h), c);
	}
	CHECK_EQ(green, 2);
	CHECK_EQ(yellow, 2);
	CHECK_EQ(red, 6);
	free_outcome(&o);

	/* bad meters are named */
	f.op = LR_OP_ADD;
	f.id = 2;
	f.pir = 5;
	CHECK_EQ(batch1(f, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].pir: 5 is below cir 10");
	f.pir = 20;
	f.cbs = 0;
	CHECK_EQ(batch1(f, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].cbs: must be above 0");
	f.cbs = 100;
	f.meter_mode = 3;
	CHECK_EQ(batch1(f, &st), LR_ERR_INVALID);
	CHECK_STR_HAS(st.msg, "flows[0].meter_mode");
	del_all();
}

static void
test_no_leaks(void)
{
	const struct lr_flow_copy *c = lr_tset_copy(lr_flow_id, 0);
	struct lr_flow_stats s;

	lr_flow_get_stats(&s);
	CHECK_EQ(s.wildcard_rules, 0);
	CHECK_EQ(s.exact_rules, 0);
	CHECK_EQ(s.meters, 0);
	CHECK(s.builds > 0);
	CHECK(c->acl[0] == NULL && c->acl[1] == NULL);
	CHECK_EQ(c->n_wild, 0);
	CHECK_EQ(c->n_exact, 0);
	CHECK_EQ(lr_nh_adj_count(), 0);
}

/* --scale N: an N-rule table in one batch, the build time and memory. */
static int
scale(uint32_t n)
{
	struct lr_flow *f = calloc(n, sizeof(*f));
	struct lr_ctl_status st;
	struct lr_flow_stats s;
	uint64_t t0, t1;
	uint32_t i, done = 0;
	int rc;

	REQUIRE(f != NULL);
	REQUIRE(lr_flow_init(n, 64, 1) == 0);
	for (i = 0; i < n; i++) {
		uint32_t a = rte_cpu_to_be_32(0x0a000000u | (i << 8));

		f[i] = rule(LR_AF_INET, i + 1, i % 1000, LR_FLOW_DROP);
		memcpy(f[i].dst, &a, 4);
		f[i].dst_plen = 24;
		udp_ports(&f[i], 0, 0xffff, (uint16_t)(1024 + i % 1000), (uint16_t)(2048 + i % 1000));
	}
	t0 = rte_get_tsc_cycles();
	for (i = 0; i < n; i += LR_CTL_MAX_BATCH) {
		uint32_t k = n - i < LR_CTL_MAX_BATCH ? n - i : LR_CTL_MAX_BATCH;

		rc = lr_flow_batch(f + i, k, &st);
		if (rc != LR_OK) {
			printf("batch at %u: %d %s\n", i, rc, st.msg);
			return 1;
		}
		done += k;
	}
	t1 = rte_get_tsc_cycles();
	lr_flow_get_stats(&s);
	printf("flow scale: %u wildcard rules (IPv4 dst /24 + UDP dport range), %u batches\n"
	       "  batches applied in %.3f s; last classifier build %.3f s (%u rules)\n"
	       "  classifier memory %.1f MB (%.0f bytes per rule)\n",
	       done, (n + LR_CTL_MAX_BATCH - 1) / LR_CTL_MAX_BATCH,
	       (double)(t1 - t0) / (double)rte_get_tsc_hz(), (double)s.last_build_ns / 1e9,
	       s.wildcard_rules, (double)s.acl_bytes / 1e6, (double)s.acl_bytes / done);
	lr_flow_fini();
	free(f);
	return 0;
}

/*
 * --stage-cycles W E: TSC cycles per packet of the flow stage alone, with W
 * wildcard rules and E exact flows, bursts of 64 packets drawn from 4096
 * frames that all hit (half exact hits when E > 0); also the insert rate of
 * the rules through FLOW_BATCH's handler. Not a test: a measurement.
 */
static int
stage_cycles(uint32_t nw, uint32_t ne)
{
	const uint32_t n_frames = 4096, rounds = 4000, batch_max = LR_CTL_MAX_BATCH;
	struct lr_flow *f = calloc(batch_max, sizeof(*f));
	struct rte_mbuf **m = calloc(n_frames, sizeof(*m));
	struct lr_ctl_status st;
	struct outcome o;
	uint64_t t0, t_ins_w = 0, t_ins_e = 0, cyc = 0;
	uint32_t i, k, r;

	REQUIRE(f != NULL && m != NULL);
	mp = rte_pktmbuf_pool_create("lrt_pool", n_frames * 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	REQUIRE(mp != NULL);
	REQUIRE(lr_flow_init(nw ? nw : 64, ne ? ne : 64, 1) == 0);
	lr_workers[0] = &fake_worker;
	/* wildcard: 10.(i>>8).(i&255).0/24, UDP dport 1000-1999, continue */
	for (i = 0; i < nw; i += k) {
		k = nw - i < batch_max ? nw - i : batch_max;
		for (r = 0; r < k; r++) {
			uint32_t a = rte_cpu_to_be_32(0x0a000000u | ((i + r) << 8));

			f[r] = rule(LR_AF_INET, i + r + 1, (i + r) % 1000, LR_FLOW_CONTINUE);
			memcpy(f[r].dst, &a, 4);
			f[r].dst_plen = 24;
			udp_ports(&f[r], 0, 0xffff, 1000, 1999);
		}
		t0 = rte_rdtsc();
		REQUIRE(lr_flow_batch(f, k, &st) == LR_OK);
		t_ins_w += rte_rdtsc() - t0;
	}
	/* exact: 172.16.x.y:7 -> 192.168.0.1:(i & 0xffff) UDP, continue */
	for (i = 0; i < ne; i += k) {
		k = ne - i < batch_max ? ne - i : batch_max;
		for (r = 0; r < k; r++) {
			uint32_t s = rte_cpu_to_be_32(0xac100000u | ((i + r) >> 4)), d = rte_cpu_to_be_32(0xc0a80001u);

			memset(&f[r], 0, sizeof(f[r]));
			f[r].op = LR_OP_ADD;
			f[r].table = LR_FLOW_EXACT;
			f[r].family = LR_AF_INET;
			f[r].action = LR_FLOW_CONTINUE;
			f[r].id = 0x80000000u + i + r;
			f[r].in_port = LR_FLOW_ANY_PORT;
			f[r].vlan = LR_FLOW_ANY_VLAN;
			f[r].proto = IPPROTO_UDP;
			f[r].proto_mask = 0xff;
			f[r].src_plen = f[r].dst_plen = 32;
			memcpy(f[r].src, &s, 4);
			memcpy(f[r].dst, &d, 4);
			f[r].sport_lo = f[r].sport_hi = 7;
			f[r].dport_lo = f[r].dport_hi = (uint16_t)((i + r) & 0xf);
		}
		t0 = rte_rdtsc();
		REQUIRE(lr_flow_batch(f, k, &st) == LR_OK);
		t_ins_e += rte_rdtsc() - t0;
	}
	for (i = 0; i < n_frames; i++) {
		char src[32], dst[32];
		uint32_t x = (uint32_t)rte_rand();
		struct pkt p = { LR_AF_INET, src, dst, IPPROTO_UDP, 7, 0, 0, 0, 18 };

		if (ne != 0 && (nw == 0 || (i & 1))) {
			uint32_t id = x % ne;

			snprintf(src, sizeof(src), "172.%u.%u.%u", 16 + ((id >> 4) >> 16), ((id >> 4) >> 8) & 255, (id >> 4) & 255);
			snprintf(dst, sizeof(dst), "192.168.0.1");
			p.dport = (uint16_t)(id & 0xf);
		} else {
			uint32_t rl = nw ? x % nw : 0;

			snprintf(src, sizeof(src), "192.0.2.1");
			snprintf(dst, sizeof(dst), "10.%u.%u.9", rl >> 8, rl & 255);
			p.dport = (uint16_t)(1000 + x % 1000);
		}
		m[i] = frame(&p);
	}
	for (r = 0; r < rounds; r++) {
		uint32_t base = (r * 64) % n_frames;

		run_stage(&o, &m[base], 64, 0);  /* builds the vector, then times the stage below */
		REQUIRE(o.v.n == 64);
		t0 = rte_rdtsc();
		lr_stage_get((unsigned)o.flow_id)->run(&o.b, &o.v, flow_priv);
		cyc += rte_rdtsc() - t0;
	}
	{
		struct lr_flow_stats s;
		double hz = (double)rte_get_tsc_hz();

		lr_flow_get_stats(&s);
		printf("flow stage: %u wildcard rules, %u exact flows: %.1f cycles/packet (TSC %.2f GHz, bursts of 64 from 4096 frames, every packet a hit)\n",
		       s.wildcard_rules, s.exact_rules, (double)cyc / ((double)rounds * 64), hz / 1e9);
		if (nw)
			printf("  wildcard inserts: %.3f s for %u (%.0f rules/s, classifier builds included: last %.3f s, %.1f MB)\n",
			       (double)t_ins_w / hz, nw, nw / ((double)t_ins_w / hz), (double)s.last_build_ns / 1e9,
			       (double)s.acl_bytes / 1e6);
		if (ne)
			printf("  exact inserts: %.3f s for %u (%.0f flows/s through the FLOW_BATCH handler), tables %.1f MB\n",
			       (double)t_ins_e / hz, ne, ne / ((double)t_ins_e / hz), (double)s.exact_bytes / 1e6);
	}
	for (i = 0; i < n_frames; i++)
		rte_pktmbuf_free(m[i]);
	lr_flow_fini();
	free(f);
	free(m);
	return 0;
}

int
main(int argc, char **argv)
{
	char prefix[64];
	const char *mem = argc > 2 ? "4096" : "256";
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)mem, (char *)"--no-pci",
			(char *)"--no-shconf", (char *)"--no-telemetry", (char *)"-l", (char *)"0", prefix,
			(char *)"--log-level=lib.eal:error", NULL };

	lrt_watchdog(argc > 2 ? 600 : 120);
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-flow-%d", getpid());
	REQUIRE(rte_eal_init(RTE_DIM(eal) - 1, eal) >= 0);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	lrt_on_cleanup(eal_cleanup);

	REQUIRE(lr_stats_create(NULL, 1, 1, rte_get_tsc_hz()) == 0);
	lr_n_ports = 3;
	lr_port_rt[0].up = lr_port_rt[1].up = lr_port_rt[2].up = 1;
	REQUIRE(lr_nh_init(4096, 256) == 0);
	REQUIRE(lr_tset_init(NULL) == 0);
	lr_stage_setup();
	if (argc > 2) {
		int rc = strcmp(argv[1], "--scale") == 0 ? scale((uint32_t)atoi(argv[2]))
			 : stage_cycles((uint32_t)atoi(argv[2]), argc > 3 ? (uint32_t)atoi(argv[3]) : 0);

		lr_nh_fini();
		lr_stats_destroy(false);
		return rc;
	}
	mp = rte_pktmbuf_pool_create("lrt_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	REQUIRE(mp != NULL);
	REQUIRE(lr_flow_init(64, 128, 1) == 0);
	lr_workers[0] = &fake_worker;

	test_priority_and_ties();
	test_ranges_and_prefixes();
	test_ipv6();
	test_other_fields();
	test_exact_and_actions();
	test_exact_ipv6_bulk();
	test_batch_semantics();
	test_meter();
	test_no_leaks();
	CHECK_EQ(rte_mempool_in_use_count(mp), 0);

	lr_flow_fini();
	lr_nh_fini();
	lr_stats_destroy(false);
	return lrt_finish("test_flow");
}
