/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UPF sessions and the `upf` stage on a real EAL without hugepages: the
 * GTP-U parser on crafted headers (flags, optional fields, extension chain,
 * PDU Session Container, every malformed case by its reason), session
 * batches (each bad session rejected whole with the rule and field named,
 * the good ones of the same batch applied; F-TEID and UE IP owned by one
 * session; modify and delete), and real frames run through the stage as a
 * worker runs it: uplink decapsulation, downlink encapsulation checked
 * byte by byte (lengths, IPv4 checksum, TEID, container QFI), QFI matching
 * and precedence, FAR drop, QER gate and MBR, URR counters exact to the
 * packet and byte, Echo Request answered, both table copies identical;
 * an IPv6 UE (downlink by its IPv6 address, IPv6 inner packets uplink).
 *
 * `test_upf --stage-cycles N` instead creates N sessions (one uplink and one
 * downlink PDR each) and prints the stage's TSC cycles per packet for
 * bursts of 32 uplink G-PDUs and of 32 downlink packets spread over the
 * sessions (a measurement, not a test).
 */
#include <arpa/inet.h>
#include <limits.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "gtpu.h"
#include "lrtest.h"
#include "parse.h"
#include "port.h"
#include "stage.h"
#include "stats.h"
#include "tset.h"
#include "upf.h"
#include "worker.h"

static struct rte_mempool *mp;
static struct lr_worker fake_worker;
static char rundir[PATH_MAX];

#define N3 "192.0.2.1"
#define GNB "192.0.2.10"
#define UE "10.45.0.2"
#define DN "198.51.100.5"

static void
eal_cleanup(void)
{
	rte_eal_cleanup();
	rmdir(rundir);
}

static void
ip4(const char *s, uint8_t out[4])
{
	REQUIRE(inet_pton(AF_INET, s, out) == 1);
}

/* ---- parser ---- */

static unsigned
parse(const uint8_t *p, uint32_t n, struct lr_gtpu *g)
{
	return lr_gtpu_parse(p, n, g);
}

static void
test_parser(void)
{
	struct lr_gtpu g;
	/* G-PDU, no optional fields, length 4 (payload) */
	uint8_t plain[12] = { 0x30, 0xff, 0, 4, 0, 0, 0x12, 0x34, 1, 2, 3, 4 };
	/* E set: options + PDU Session Container UL, QFI 9, then payload */
	uint8_t ext[24] = { 0x34, 0xff, 0, 16, 0, 0, 0, 7, 0, 0, 0, 0x85,
			    1, 0x10, 9, 0, 0x45, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t b[32];

	CHECK_EQ(parse(plain, sizeof(plain), &g), LR_DROP_MAX);
	CHECK_EQ(g.teid, 0x1234);
	CHECK_EQ(g.hlen, 8);
	CHECK_EQ(g.len, 12);
	CHECK_EQ(g.has_qfi, 0);
	CHECK_EQ(parse(ext, sizeof(ext), &g), LR_DROP_MAX);
	CHECK_EQ(g.hlen, 16);
	CHECK_EQ(g.has_qfi, 1);
	CHECK_EQ(g.pdu_type, 1);
	CHECK_EQ(g.qfi, 9);
	/* DL container with RQI */
	memcpy(b, ext, sizeof(ext));
	b[13] = 0x00;
	b[14] = 0x40 | 5;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_MAX);
	CHECK_EQ(g.pdu_type, 0);
	CHECK_EQ(g.rqi, 1);
	CHECK_EQ(g.qfi, 5);
	/* S only: the 4 optional octets are there all the same */
	memcpy(b, plain, sizeof(plain));
	b[0] = 0x32;
	b[3] = 4;
	b[8] = 0xab;
	b[9] = 0xcd;
	CHECK_EQ(parse(b, 12, &g), LR_DROP_MAX);
	CHECK_EQ(g.hlen, 12);
	CHECK_EQ(g.seq, 0xabcd);
	/* PN only, length too short for the options */
	b[0] = 0x31;
	b[3] = 2;
	CHECK_EQ(parse(b, 12, &g), LR_DROP_GTPU_BAD_LENGTH);
	/* version 2, PT 0 */
	memcpy(b, plain, sizeof(plain));
	b[0] = 0x50;
	CHECK_EQ(parse(b, 12, &g), LR_DROP_GTPU_BAD_VERSION);
	b[0] = 0x20;
	CHECK_EQ(parse(b, 12, &g), LR_DROP_GTPU_BAD_VERSION);
	/* length beyond the payload; header truncated */
	memcpy(b, plain, sizeof(plain));
	b[3] = 5;
	CHECK_EQ(parse(b, 12, &g), LR_DROP_GTPU_BAD_LENGTH);
	CHECK_EQ(parse(b, 7, &g), LR_DROP_GTPU_BAD_LENGTH);
	/* extension length 0 */
	memcpy(b, ext, sizeof(ext));
	b[12] = 0;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_GTPU_BAD_EXT);
	/* container beyond the message: truncated */
	memcpy(b, ext, sizeof(ext));
	b[3] = 6;  /* options + 2 octets of the container */
	CHECK_EQ(parse(b, 14, &g), LR_DROP_GTPU_BAD_CONTAINER);
	b[12] = 4;  /* claims 16 octets, 12 are left */
	b[3] = 16;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_GTPU_BAD_CONTAINER);
	/* container of PDU type 2 */
	memcpy(b, ext, sizeof(ext));
	b[13] = 0x20;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_GTPU_BAD_CONTAINER);
	/* unknown comprehension-required type (0xc5) vs. not required (0x05): skipped */
	memcpy(b, ext, sizeof(ext));
	b[11] = 0xc5;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_GTPU_UNKNOWN_EXT);
	b[11] = 0x81;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_GTPU_UNKNOWN_EXT);
	b[11] = 0x05;
	CHECK_EQ(parse(b, sizeof(ext), &g), LR_DROP_MAX);
	CHECK_EQ(g.has_qfi, 0);
	CHECK_EQ(g.hlen, 16);
	/* chain: a skipped 0x05 then the container */
	{
		uint8_t c[28] = { 0x34, 0xff, 0, 16, 0, 0, 0, 7, 0, 0, 0, 0x05,
				  1, 0xaa, 0xbb, 0x85, 1, 0x10, 3, 0, 0x45, 0, 0, 0 };

		CHECK_EQ(parse(c, 24, &g), LR_DROP_MAX);
		CHECK_EQ(g.has_qfi, 1);
		CHECK_EQ(g.qfi, 3);
		CHECK_EQ(g.hlen, 20);
	}
}

/* ---- sessions ---- */

static struct lr_upf_session
session(uint64_t seid, uint32_t teid, const char *ue)
{
	struct lr_upf_session s;

	memset(&s, 0, sizeof(s));
	s.op = LR_UPF_CREATE;
	s.seid = seid;
	s.n_pdrs = 2;
	s.n_fars = 2;
	s.n_qers = 1;
	s.n_urrs = 1;
	s.pdrs[0].id = 1;
	s.pdrs[0].source_interface = LR_UPF_ACCESS;
	s.pdrs[0].qfi = LR_UPF_ANY_QFI;
	s.pdrs[0].precedence = 100;
	s.pdrs[0].teid = teid;
	ip4(N3, s.pdrs[0].n3_addr);
	s.pdrs[0].outer_header_removal = 1;
	s.pdrs[0].far_id = 1;
	s.pdrs[0].n_qers = 1;
	s.pdrs[0].qer_ids[0] = 1;
	s.pdrs[0].n_urrs = 1;
	s.pdrs[0].urr_ids[0] = 1;
	s.pdrs[1].id = 2;
	s.pdrs[1].source_interface = LR_UPF_CORE;
	s.pdrs[1].qfi = LR_UPF_ANY_QFI;
	s.pdrs[1].precedence = 100;
	s.pdrs[1].ue_family = LR_AF_INET;
	ip4(ue, s.pdrs[1].ue_addr);
	s.pdrs[1].far_id = 2;
	s.pdrs[1].n_qers = 1;
	s.pdrs[1].qer_ids[0] = 1;
	s.pdrs[1].n_urrs = 1;
	s.pdrs[1].urr_ids[0] = 1;
	s.fars[0].id = 1;
	s.fars[0].action = LR_UPF_FORWARD;
	s.fars[0].destination_interface = LR_UPF_CORE;
	s.fars[1].id = 2;
	s.fars[1].action = LR_UPF_FORWARD;
	s.fars[1].destination_interface = LR_UPF_ACCESS;
	s.fars[1].outer_header_creation = 1;
	s.fars[1].peer_teid = 0x0a0b0c0d;
	ip4(GNB, s.fars[1].peer_addr);
	s.fars[1].qfi = 9;
	s.qers[0].id = 1;
	s.urrs[0].id = 1;
	return s;
}

static struct lr_upf_result res[8];

static uint32_t
apply(struct lr_upf_session *s, uint32_t n)
{
	return lr_upf_batch(s, n, res);
}

static void
check_copies(void)
{
	const struct lr_upf_copy *a = lr_tset_copy(lr_upf_id, 0), *b = lr_tset_copy(lr_upf_id, 1);

	CHECK_EQ(a->n_sess, b->n_sess);
	CHECK_EQ(rte_hash_count(a->ul), rte_hash_count(b->ul));
	CHECK_EQ(rte_hash_count(a->dl), rte_hash_count(b->dl));
	CHECK_EQ(a->n3, b->n3);
}

static void
del(uint64_t seid)
{
	struct lr_upf_session s;

	memset(&s, 0, sizeof(s));
	s.op = LR_UPF_DELETE;
	s.seid = seid;
	CHECK_EQ(apply(&s, 1), 0);
}

static void
test_sessions(void)
{
	struct lr_upf_session s[6], out;
	struct lr_upf_stats st;

	s[0] = session(1, 100, UE);
	CHECK_EQ(apply(s, 1), 0);
	CHECK_EQ(res[0].code, LR_OK);
	check_copies();
	CHECK_EQ(lr_upf_read(1, &out), 0);
	CHECK_EQ(out.n_pdrs, 2);
	/* a batch of six: four bad, each named, the two good ones applied */
	s[0] = session(2, 200, "10.45.0.3");
	s[0].pdrs[0].far_id = 7;                      /* dangling FAR */
	s[1] = session(3, 300, "10.45.0.4");
	s[1].pdrs[1].id = 1;                          /* duplicate PDR id */
	s[2] = session(4, 0, "10.45.0.5");            /* TEID 0 */
	s[3] = session(5, 500, UE);                   /* UE IP of session 1 */
	s[4] = session(6, 600, "10.45.0.6");          /* good */
	s[5] = session(7, 100, "10.45.0.7");          /* F-TEID of session 1 */
	CHECK_EQ(apply(s, 6), 5);
	CHECK_EQ(res[0].code, LR_ERR_INVALID);
	CHECK_STR_HAS(res[0].msg, "sessions[0].pdrs[0].far_id");
	CHECK_EQ(res[1].code, LR_ERR_INVALID);
	CHECK_STR_HAS(res[1].msg, "sessions[1].pdrs[1].id");
	CHECK_EQ(res[2].code, LR_ERR_INVALID);
	CHECK_STR_HAS(res[2].msg, "sessions[2].pdrs[0].teid");
	CHECK_EQ(res[3].code, LR_ERR_EXISTS);
	CHECK_STR_HAS(res[3].msg, "sessions[3].pdrs[1].ue_addr");
	CHECK_STR_HAS(res[3].msg, "session 1");
	CHECK_EQ(res[4].code, LR_OK);
	CHECK_EQ(res[5].code, LR_ERR_EXISTS);
	CHECK_STR_HAS(res[5].msg, "sessions[5].pdrs[0].teid");
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(lr_upf_read(s[i].seid, &out), i == 4 ? 0 : -ENOENT);
	/* dangling QER and URR */
	s[0] = session(8, 800, "10.45.0.8");
	s[0].pdrs[1].qer_ids[0] = 3;
	s[1] = session(9, 900, "10.45.0.9");
	s[1].pdrs[0].urr_ids[0] = 4;
	CHECK_EQ(apply(s, 2), 2);
	CHECK_STR_HAS(res[0].msg, "sessions[0].pdrs[1].qer_ids[0]");
	CHECK_STR_HAS(res[1].msg, "sessions[1].pdrs[0].urr_ids[0]");
	/* create twice; the same SEID twice in one batch */
	s[0] = session(6, 601, "10.45.0.10");
	CHECK_EQ(apply(s, 1), 1);
	CHECK_EQ(res[0].code, LR_ERR_EXISTS);
	s[0] = session(10, 1000, "10.45.0.11");
	s[1] = session(10, 1001, "10.45.0.12");
	CHECK_EQ(apply(s, 2), 1);
	CHECK_EQ(res[0].code, LR_OK);
	CHECK_STR_HAS(res[1].msg, "sessions[1].seid");
	/* modify keeps its own keys and takes new ones; the old UE IP is free again */
	s[0] = session(10, 1000, "10.45.0.13");
	s[0].op = LR_UPF_MODIFY;
	CHECK_EQ(apply(s, 1), 0);
	s[0] = session(11, 1100, "10.45.0.11");
	CHECK_EQ(apply(s, 1), 0);
	check_copies();
	lr_upf_get_stats(&st);
	CHECK_EQ(st.sessions, 4);
	CHECK_EQ(st.ul_keys, 4);
	CHECK_EQ(st.dl_keys, 4);
	del(6);
	del(10);
	del(11);
	s[0].op = LR_UPF_DELETE;
	s[0].seid = 42;
	CHECK_EQ(apply(s, 1), 1);
	CHECK_EQ(res[0].code, LR_ERR_NOT_FOUND);
	check_copies();
	lr_upf_get_stats(&st);
	CHECK_EQ(st.sessions, 1);
	CHECK_EQ(st.ul_keys, 1);

	/* SESSION_WRITE: all or nothing, the failing session named */
	{
		struct lr_ctl_status cs;

		memset(&cs, 0, sizeof(cs));
		s[0] = session(20, 2000, "10.45.1.1");
		s[1] = session(21, 2100, "10.45.1.2");
		s[2] = session(22, 2200, "10.45.1.3");
		s[2].fars[1].peer_teid = 0;
		CHECK_EQ(lr_upf_write(s, 3, &cs), LR_ERR_INVALID);
		CHECK_EQ(cs.index, 2);
		CHECK_STR_HAS(cs.msg, "sessions[2].fars[1].peer_teid");
		CHECK_EQ(lr_upf_read(20, &out), -ENOENT);
		CHECK_EQ(lr_upf_read(21, &out), -ENOENT);
		lr_upf_get_stats(&st);
		CHECK_EQ(st.sessions, 1);
		CHECK_EQ(st.ul_keys, 1);
		check_copies();
		CHECK_EQ(lr_upf_write(s, 2, &cs), LR_OK);
		CHECK_EQ(lr_upf_read(21, &out), 0);
		del(20);
		del(21);
	}
}

/* ---- frames ---- */

/* An IPv4/UDP packet of plen payload octets, from src to dst, at p; returns its length. */
static uint16_t
inner4(uint8_t *p, const char *src, const char *dst, uint16_t plen)
{
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)p;
	uint16_t len = (uint16_t)(20 + 8 + plen), i;

	memset(p, 0, len);
	h->version_ihl = 0x45;
	h->total_length = rte_cpu_to_be_16(len);
	h->time_to_live = 64;
	h->next_proto_id = IPPROTO_UDP;
	ip4(src, (uint8_t *)&h->src_addr);
	ip4(dst, (uint8_t *)&h->dst_addr);
	h->hdr_checksum = rte_ipv4_cksum(h);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = 0;
	p[23] = 53;
	p[24] = (uint8_t)((8 + plen) >> 8);
	p[25] = (uint8_t)(8 + plen);
	for (i = 0; i < plen; i++)
		p[28 + i] = (uint8_t)i;
	return len;
}

static struct rte_mbuf *
eth_frame(uint16_t len, uint8_t **l3)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *f;

	REQUIRE(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(LR_ETH_HLEN + len));
	REQUIRE(f != NULL);
	memcpy(f, "\x02\0\0\0\x10\0\x02\0\0\0\x99\x01\x08\x00", 14);
	*l3 = f + LR_ETH_HLEN;
	return m;
}

/*
 * A G-PDU (or another type) from the gNB to the N3 address: gtp (glen
 * octets: header, options, extensions) then an inner packet of plen
 * payload octets (none when plen < 0).
 */
static struct rte_mbuf *
gtpu_frame(const uint8_t *gtp, uint16_t glen, int plen)
{
	uint8_t buf[2048], *l3;
	uint16_t in = plen >= 0 ? inner4(buf, UE, DN, (uint16_t)plen) : 0;
	uint16_t len = (uint16_t)(20 + 8 + glen + in);
	struct rte_mbuf *m = eth_frame(len, &l3);
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)l3;
	uint8_t *u = l3 + 20;

	memset(l3, 0, 28);
	h->version_ihl = 0x45;
	h->total_length = rte_cpu_to_be_16(len);
	h->time_to_live = 64;
	h->next_proto_id = IPPROTO_UDP;
	ip4(GNB, (uint8_t *)&h->src_addr);
	ip4(N3, (uint8_t *)&h->dst_addr);
	h->hdr_checksum = rte_ipv4_cksum(h);
	u[0] = 0x08;  /* 2152 */
	u[1] = 0x68;
	u[2] = 0x08;
	u[3] = 0x68;
	u[4] = (uint8_t)((len - 20) >> 8);
	u[5] = (uint8_t)(len - 20);
	memcpy(u + 8, gtp, glen);
	memcpy(u + 8 + glen, buf, in);
	/* the GTP-U length field: all after the 8 mandatory octets */
	u[8 + 2] = (uint8_t)((glen - 8 + in) >> 8);
	u[8 + 3] = (uint8_t)(glen - 8 + in);
	return m;
}

/* A G-PDU to TEID teid with a UL container of QFI qfi (qfi < 0: no extension). */
static struct rte_mbuf *
gpdu(uint32_t teid, int qfi, uint16_t plen)
{
	uint8_t g[16] = { 0x30, 0xff, 0, 0, (uint8_t)(teid >> 24), (uint8_t)(teid >> 16),
			  (uint8_t)(teid >> 8), (uint8_t)teid, 0, 0, 0, 0x85, 1, 0x10, 0, 0 };

	if (qfi < 0)
		return gtpu_frame(g, 8, plen);
	g[0] = 0x34;
	g[14] = (uint8_t)qfi;
	return gtpu_frame(g, 16, plen);
}

/* A plain packet from the DN to ue. */
static struct rte_mbuf *
dl_frame(const char *ue, uint16_t plen)
{
	uint8_t *l3;
	struct rte_mbuf *m = eth_frame((uint16_t)(28 + plen), &l3);

	inner4(l3, DN, ue, plen);
	return m;
}

struct outcome {
	struct lr_burst b;
	struct lr_vec v;
	struct lr_stats_rxq rs;
	void *priv[LR_STAGE_MAX];
};

static struct lr_vec jump_store[LR_STAGE_MAX];
static struct outcome o;

/* Runs the upf stage alone on m, received on in_port; 'c' continued, 'd' dropped. */
static char
run1(struct rte_mbuf *m, uint16_t in_port)
{
	const struct lr_stage *s;
	int id = lr_stage_id("upf");
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, LR_ETH_HLEN);
	uint32_t d;

	REQUIRE(id >= 0);
	s = lr_stage_get((unsigned)id);
	memset(&o, 0, sizeof(o));
	o.b.w = &fake_worker;
	o.b.ts = lr_tset_current();
	o.b.rs = &o.rs;
	o.b.in_port = in_port;
	o.b.jump = jump_store;
	o.b.priv = o.priv;
	o.v.n = 1;
	o.v.m[0] = m;
	memcpy(&d, l3 + 16, 4);
	o.v.meta[0] = (l3[0] >> 4) == 6 ? LR_IP_META_V6 : rte_be_to_cpu_32(d);
	s->run(&o.b, &o.v, NULL);
	return o.v.n == 1 ? 'c' : o.b.n_drop == 1 ? 'd' : '?';
}

static void
done(void)
{
	uint16_t i;

	for (i = 0; i < o.v.n; i++)
		rte_pktmbuf_free(o.v.m[i]);
	for (i = 0; i < o.b.n_drop; i++)
		rte_pktmbuf_free(o.b.drop[i]);
}

/* Fate of m, and for a drop its reason; frees it. */
static int
fate(struct rte_mbuf *m, uint16_t port)
{
	char c = run1(m, port);
	int r = c == 'c' ? -1 : c == 'd' ? o.b.drop_reason[0] : -2;

	done();
	return r;
}

#define CONT (-1)

static uint32_t
meta_of(const char *a)
{
	uint8_t b[4];
	uint32_t x;

	ip4(a, b);
	memcpy(&x, b, 4);
	return rte_be_to_cpu_32(x);
}

static void
urr(uint64_t seid, unsigned u, uint64_t *ulp, uint64_t *ulb, uint64_t *dlp, uint64_t *dlb)
{
	struct lr_upf_session s;

	REQUIRE(lr_upf_read(seid, &s) == 0);
	*ulp = s.urrs[u].ul_packets;
	*ulb = s.urrs[u].ul_bytes;
	*dlp = s.urrs[u].dl_packets;
	*dlb = s.urrs[u].dl_bytes;
}

static void
test_stage(void)
{
	struct lr_upf_config cfg;
	struct lr_ctl_status st;
	struct lr_upf_session s;
	struct rte_mbuf *m;
	const uint8_t *f;
	uint64_t a, b, c, d;

	memset(&cfg, 0, sizeof(cfg));
	ip4(N3, cfg.n3_addr);
	cfg.port_iface[0] = LR_UPF_ACCESS;
	cfg.port_iface[1] = LR_UPF_CORE;
	cfg.flags = 1;
	REQUIRE(lr_upf_configure(&cfg, NULL, &st) == LR_OK);
	check_copies();

	/* uplink: decapsulated, the inner packet continues to its destination */
	m = gpdu(100, 9, 100);
	REQUIRE(run1(m, 0) == 'c');
	f = rte_pktmbuf_mtod(o.v.m[0], const uint8_t *);
	CHECK_EQ(o.v.m[0]->pkt_len, 14 + 128);
	CHECK_EQ(f[12], 0x08);
	CHECK_EQ(f[14], 0x45);
	CHECK_EQ(o.v.meta[0], meta_of(DN));
	CHECK(lr_ip4_cksum_ok(f + 14, 20));
	CHECK_EQ(f[14 + 28 + 99], 99);
	done();
	/* without a container too (the PDR wants any QFI) */
	CHECK_EQ(fate(gpdu(100, -1, 10), 0), CONT);
	urr(1, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 2);
	CHECK_EQ(b, 128 + 38);
	/* unknown TEID; not GTP-U (other port) continues; on a non-UPF port nothing happens */
	CHECK_EQ(fate(gpdu(101, 9, 10), 0), LR_DROP_GTPU_UNKNOWN_TEID);
	CHECK_EQ(fate(gpdu(101, 9, 10), 2), CONT);
	/* malformed: each by its reason */
	{
		uint8_t g0[16] = { 0x34, 0xff, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0x85, 0, 0x10, 9, 0 };
		uint8_t g1[16] = { 0x34, 0xff, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0xc1, 1, 0, 0, 0 };
		uint8_t g2[8] = { 0x30, 26, 0, 0, 0, 0, 0, 100 };   /* error indication */
		uint8_t g3[8] = { 0x30, 0xff, 0, 0, 0, 0, 0, 100 };

		CHECK_EQ(fate(gtpu_frame(g0, 16, 10), 0), LR_DROP_GTPU_BAD_EXT);
		CHECK_EQ(fate(gtpu_frame(g1, 16, 10), 0), LR_DROP_GTPU_UNKNOWN_EXT);
		CHECK_EQ(fate(gtpu_frame(g2, 8, 10), 0), LR_DROP_GTPU_UNSUPPORTED_TYPE);
		m = gtpu_frame(g3, 8, 10);
		rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 28 + 3)[0] += 1;  /* length beyond */
		CHECK_EQ(fate(m, 0), LR_DROP_GTPU_BAD_LENGTH);
		m = gtpu_frame(g3, 8, 10);
		rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 28 + 8 + 10)[0] ^= 0xff;  /* inner checksum */
		CHECK_EQ(fate(m, 0), LR_DROP_UPF_BAD_INNER);
	}
	/* echo: answered in place, back to the gNB */
	{
		uint8_t e[12] = { 0x32, 1, 0, 4, 0, 0, 0, 0, 0x12, 0x34, 0, 0 };

		m = gtpu_frame(e, 12, -1);
		REQUIRE(run1(m, 0) == 'c');
		f = rte_pktmbuf_mtod(o.v.m[0], const uint8_t *);
		CHECK_EQ(o.v.meta[0], meta_of(GNB));
		CHECK_EQ(o.v.m[0]->pkt_len, 14 + 20 + 8 + 14);
		CHECK(lr_ip4_cksum_ok(f + 14, 20));
		CHECK_EQ(memcmp(f + 14 + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x0a", 8), 0);
		CHECK_EQ(f[42], 0x32);
		CHECK_EQ(f[43], 2);
		CHECK_EQ(f[45], 6);
		CHECK_EQ(f[50], 0x12);
		CHECK_EQ(f[51], 0x34);
		CHECK_EQ(f[54], 14);
		CHECK_EQ(f[55], 0);
		done();
	}
	/* downlink: encapsulated towards the gNB */
	m = dl_frame(UE, 50);
	REQUIRE(run1(m, 1) == 'c');
	f = rte_pktmbuf_mtod(o.v.m[0], const uint8_t *);
	CHECK_EQ(o.v.meta[0], meta_of(GNB));
	CHECK_EQ(o.v.m[0]->pkt_len, 14 + 44 + 78);
	CHECK_EQ(f[14], 0x45);
	CHECK_EQ(f[14 + 2] << 8 | f[14 + 3], 44 + 78);
	CHECK(lr_ip4_cksum_ok(f + 14, 20));
	CHECK_EQ(memcmp(f + 14 + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x0a", 8), 0);
	CHECK_EQ(f[14 + 9], IPPROTO_UDP);
	CHECK_EQ(f[36] << 8 | f[37], 2152);
	CHECK_EQ(f[38] << 8 | f[39], 8 + 16 + 78);
	CHECK_EQ(f[42], 0x34);
	CHECK_EQ(f[43], 0xff);
	CHECK_EQ(f[44] << 8 | f[45], 8 + 78);
	CHECK_EQ(memcmp(f + 46, "\x0a\x0b\x0c\x0d", 4), 0);
	CHECK_EQ(f[53], 0x85);
	CHECK_EQ(f[54], 1);
	CHECK_EQ(f[55], 0x00);
	CHECK_EQ(f[56], 9);
	CHECK_EQ(f[57], 0);
	CHECK_EQ(f[58], 0x45);
	done();
	/* another destination on the CORE port: plain routing */
	CHECK_EQ(fate(dl_frame("10.45.9.9", 10), 1), CONT);
	urr(1, 0, &a, &b, &c, &d);
	CHECK_EQ(c, 1);
	CHECK_EQ(d, 78);

	/* QFI and precedence: PDR 3 (QFI 5, precedence 10) -> FAR 3 drop */
	s = session(1, 100, UE);
	s.op = LR_UPF_MODIFY;
	s.n_pdrs = 3;
	s.pdrs[2] = s.pdrs[0];
	s.pdrs[2].id = 3;
	s.pdrs[2].qfi = 5;
	s.pdrs[2].precedence = 10;
	s.pdrs[2].far_id = 3;
	s.n_fars = 3;
	s.fars[2].id = 3;
	s.fars[2].action = LR_UPF_DROP;
	CHECK_EQ(apply(&s, 1), 0);
	CHECK_EQ(fate(gpdu(100, 5, 10), 0), LR_DROP_UPF_FAR_DROP);
	CHECK_EQ(fate(gpdu(100, 6, 10), 0), CONT);
	CHECK_EQ(fate(gpdu(100, -1, 10), 0), CONT);
	/* precedence 200: now the any-QFI PDR (100) comes first */
	s.pdrs[2].precedence = 200;
	CHECK_EQ(apply(&s, 1), 0);
	CHECK_EQ(fate(gpdu(100, 5, 10), 0), CONT);
	/* only the QFI PDR: another QFI matches nothing */
	s.n_pdrs = 3;
	s.pdrs[0].qfi = 7;
	CHECK_EQ(apply(&s, 1), 0);
	CHECK_EQ(fate(gpdu(100, 6, 10), 0), LR_DROP_UPF_NO_PDR);
	CHECK_EQ(fate(gpdu(100, -1, 10), 0), LR_DROP_UPF_NO_PDR);
	/* counters survived the modifies (URR 1 kept its position) */
	urr(1, 0, &a, &b, &c, &d);
	CHECK_EQ(a, 5);
	CHECK_EQ(c, 1);

	/* gate closed downlink, open uplink */
	s = session(1, 100, UE);
	s.op = LR_UPF_MODIFY;
	s.qers[0].gate_dl = LR_UPF_GATE_CLOSED;
	CHECK_EQ(apply(&s, 1), 0);
	CHECK_EQ(fate(dl_frame(UE, 10), 1), LR_DROP_UPF_QER_GATE);
	CHECK_EQ(fate(gpdu(100, 1, 10), 0), CONT);
	/* MBR: 80 kbit/s uplink = 10000 B/s, burst 4554 B: of 100 back-to-back
	 * 1028-byte packets, 4 pass (the burst), the rest are red */
	s.qers[0].gate_dl = LR_UPF_GATE_OPEN;
	s.qers[0].mbr_ul = 80000;
	CHECK_EQ(apply(&s, 1), 0);
	{
		unsigned i, pass = 0, red = 0;

		for (i = 0; i < 100; i++) {
			int r = fate(gpdu(100, 1, 1000), 0);

			pass += r == CONT;
			red += r == LR_DROP_UPF_QER_MBR;
		}
		CHECK(pass >= 4 && pass <= 6);
		CHECK_EQ(pass + red, 100);
	}
	CHECK_EQ(fate(dl_frame(UE, 1000), 1), CONT);  /* downlink has no MBR */
	/* FAR drop downlink; URR counts only what is forwarded */
	urr(1, 0, &a, &b, &c, &d);
	s.qers[0].mbr_ul = 0;
	s.fars[1].action = LR_UPF_DROP;
	CHECK_EQ(apply(&s, 1), 0);
	CHECK_EQ(fate(dl_frame(UE, 10), 1), LR_DROP_UPF_FAR_DROP);
	{
		uint64_t a2, b2, c2, d2;

		urr(1, 0, &a2, &b2, &c2, &d2);
		CHECK_EQ(c2, c);
		CHECK_EQ(d2, d);
	}
	check_copies();
}

/* An IPv6/UDP packet from src to dst with plen payload octets at p; returns its length. */
static uint16_t
inner6(uint8_t *p, const char *src, const char *dst, uint16_t plen)
{
	struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)p;
	uint16_t len = (uint16_t)(40 + 8 + plen);

	memset(p, 0, len);
	h->vtc_flow = rte_cpu_to_be_32(6u << 28);
	h->payload_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
	h->proto = IPPROTO_UDP;
	h->hop_limits = 64;
	REQUIRE(inet_pton(AF_INET6, src, h->src_addr) == 1);
	REQUIRE(inet_pton(AF_INET6, dst, h->dst_addr) == 1);
	p[40] = 0x30;
	p[42] = 0x35;
	p[44] = (uint8_t)((8 + plen) >> 8);
	p[45] = (uint8_t)(8 + plen);
	return len;
}

/* IPv6 UE: downlink by the UE's IPv6 address (IPv6 inside IPv4/UDP/GTP-U), uplink IPv6 inner packets. */
static void
test_ipv6(void)
{
	struct lr_upf_session s = session(30, 3000, "10.45.3.1");
	struct rte_mbuf *m;
	uint8_t *l3, buf[256];
	const uint8_t *f;
	uint16_t n;

	s.pdrs[1].ue_family = LR_AF_INET6;
	memset(s.pdrs[1].ue_addr, 0, 16);
	REQUIRE(inet_pton(AF_INET6, "2001:db8:45::2", s.pdrs[1].ue_addr) == 1);
	CHECK_EQ(apply(&s, 1), 0);
	/* downlink */
	m = eth_frame(48 + 20, &l3);
	rte_pktmbuf_mtod(m, uint8_t *)[12] = 0x86;
	rte_pktmbuf_mtod(m, uint8_t *)[13] = 0xdd;
	inner6(l3, "2001:db8:99::5", "2001:db8:45::2", 20);
	REQUIRE(run1(m, 1) == 'c');
	f = rte_pktmbuf_mtod(o.v.m[0], const uint8_t *);
	CHECK_EQ(o.v.meta[0], meta_of(GNB));
	CHECK_EQ(f[12], 0x08);
	CHECK_EQ(f[13], 0x00);
	CHECK_EQ(o.v.m[0]->pkt_len, 14 + 44 + 68);
	CHECK(lr_ip4_cksum_ok(f + 14, 20));
	CHECK_EQ(f[58] >> 4, 6);
	done();
	/* another IPv6 destination: routed as usual */
	m = eth_frame(48, &l3);
	rte_pktmbuf_mtod(m, uint8_t *)[12] = 0x86;
	rte_pktmbuf_mtod(m, uint8_t *)[13] = 0xdd;
	inner6(l3, "2001:db8:99::5", "2001:db8:45::3", 0);
	CHECK_EQ(fate(m, 1), CONT);
	/* uplink, inner IPv6: decapsulated, the meta says IPv6 */
	{
		uint8_t g[8] = { 0x30, 0xff, 0, 0, 0, 0, 0x0b, 0xb8 };  /* TEID 3000 */
		struct rte_ipv4_hdr *h;
		uint8_t *u;

		n = inner6(buf, "2001:db8:45::2", "2001:db8:99::5", 30);
		m = eth_frame((uint16_t)(28 + 8 + n), &l3);
		h = (struct rte_ipv4_hdr *)l3;
		memset(l3, 0, 28);
		h->version_ihl = 0x45;
		h->total_length = rte_cpu_to_be_16((uint16_t)(28 + 8 + n));
		h->time_to_live = 64;
		h->next_proto_id = IPPROTO_UDP;
		ip4(GNB, (uint8_t *)&h->src_addr);
		ip4(N3, (uint8_t *)&h->dst_addr);
		h->hdr_checksum = rte_ipv4_cksum(h);
		u = l3 + 20;
		u[0] = u[2] = 0x08;
		u[1] = u[3] = 0x68;
		u[4] = (uint8_t)((8 + 8 + n) >> 8);
		u[5] = (uint8_t)(8 + 8 + n);
		g[2] = (uint8_t)(n >> 8);
		g[3] = (uint8_t)n;
		memcpy(u + 8, g, 8);
		memcpy(u + 16, buf, n);
		REQUIRE(run1(m, 0) == 'c');
		f = rte_pktmbuf_mtod(o.v.m[0], const uint8_t *);
		CHECK_EQ(o.v.meta[0], LR_IP_META_V6);
		CHECK_EQ(f[12], 0x86);
		CHECK_EQ(f[13], 0xdd);
		CHECK_EQ(o.v.m[0]->pkt_len, 14 + n);
		CHECK_EQ(memcmp(f + 14, buf, n), 0);
		done();
	}
	del(30);
}

/* Cycles per packet of the stage on bursts made from templates (restored outside the timed part). */
static double
cycles(struct rte_mbuf **tmpl, uint16_t n, uint16_t port, unsigned rounds)
{
	const struct lr_stage *st = lr_stage_get((unsigned)lr_stage_id("upf"));
	struct rte_mbuf *m[64];
	uint64_t total = 0;
	unsigned r;
	uint16_t i;

	for (i = 0; i < n; i++)
		REQUIRE((m[i] = rte_pktmbuf_alloc(mp)) != NULL);
	for (r = 0; r < rounds; r++) {
		uint64_t t0;

		memset(&o, 0, sizeof(o));
		for (i = 0; i < n; i++) {
			const uint8_t *l3;
			uint32_t d;

			rte_pktmbuf_reset(m[i]);
			memcpy(rte_pktmbuf_append(m[i], (uint16_t)tmpl[i]->pkt_len),
			       rte_pktmbuf_mtod(tmpl[i], void *), tmpl[i]->pkt_len);
			l3 = rte_pktmbuf_mtod_offset(m[i], const uint8_t *, LR_ETH_HLEN);
			memcpy(&d, l3 + 16, 4);
			o.v.m[i] = m[i];
			o.v.meta[i] = rte_be_to_cpu_32(d);
		}
		o.v.n = n;
		o.b.w = &fake_worker;
		o.b.ts = lr_tset_current();
		o.b.rs = &o.rs;
		o.b.in_port = port;
		o.b.jump = jump_store;
		o.b.priv = o.priv;
		t0 = rte_rdtsc_precise();
		st->run(&o.b, &o.v, NULL);
		total += rte_rdtsc_precise() - t0;
		REQUIRE(o.v.n == n);
	}
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	return (double)total / ((double)rounds * n);
}

static int
stage_cycles(uint32_t n)
{
	struct lr_upf_config cfg;
	struct lr_ctl_status cs;
	struct rte_mbuf *ulf[32], *dlf[32];
	static struct lr_upf_session s[256];
	static struct lr_upf_result rs[256];
	uint32_t i, done_ = 0;
	uint16_t k;

	memset(&cfg, 0, sizeof(cfg));
	ip4(N3, cfg.n3_addr);
	cfg.port_iface[0] = LR_UPF_ACCESS;
	cfg.port_iface[1] = LR_UPF_CORE;
	cfg.flags = 1;
	REQUIRE(lr_upf_configure(&cfg, NULL, &cs) == LR_OK);
	while (done_ < n) {
		uint32_t b = n - done_ < 256 ? n - done_ : 256;

		for (i = 0; i < b; i++) {
			char ue[32];
			uint32_t x = done_ + i + 1;

			snprintf(ue, sizeof(ue), "10.%u.%u.%u", 64 + (x >> 16), (x >> 8) & 255, x & 255);
			s[i] = session(x, x, ue);
		}
		REQUIRE(lr_upf_batch(s, b, rs) == 0);
		done_ += b;
	}
	for (k = 0; k < 32; k++) {
		uint32_t x = 1 + (uint32_t)k * (n / 32 ? n / 32 : 1) % n;
		char ue[32];

		snprintf(ue, sizeof(ue), "10.%u.%u.%u", 64 + (x >> 16), (x >> 8) & 255, x & 255);
		ulf[k] = gpdu(x, 9, 64);
		dlf[k] = dl_frame(ue, 64);
	}
	printf("upf stage, %u sessions: uplink %.1f cycles/packet, downlink %.1f cycles/packet "
	       "(bursts of 32, TSC %.2f GHz)\n", n, cycles(ulf, 32, 0, 20000), cycles(dlf, 32, 1, 20000),
	       (double)rte_get_tsc_hz() / 1e9);
	{
		struct lr_upf_stats us;

		lr_upf_get_stats(&us);
		printf("memory of the session tables: %.1f MB for %u session slots (%.0f bytes per session)\n",
		       (double)us.bytes / 1e6, us.sessions_max, (double)us.bytes / us.sessions_max);
	}
	for (k = 0; k < 32; k++) {
		rte_pktmbuf_free(ulf[k]);
		rte_pktmbuf_free(dlf[k]);
	}
	return 0;
}

static uint64_t heap0, heap1;

static uint64_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;
	int sock;

	for (sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

int
main(int argc, char **argv)
{
	char prefix[64];
	const char *mem = argc > 2 ? "3072" : "256";
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)mem, (char *)"--no-pci",
			(char *)"--no-shconf", (char *)"--no-telemetry", (char *)"-l", (char *)"0", prefix,
			(char *)"--log-level=lib.eal:error", NULL };

	lrt_watchdog(argc > 2 ? 600 : 120);
	snprintf(prefix, sizeof(prefix), "--file-prefix=lr-dp-upf-%d", getpid());
	REQUIRE(rte_eal_init(RTE_DIM(eal) - 1, eal) >= 0);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	lrt_on_cleanup(eal_cleanup);

	REQUIRE(lr_stats_create(NULL, 1, 1, rte_get_tsc_hz()) == 0);
	lr_n_ports = 3;
	REQUIRE(lr_tset_init(NULL) == 0);
	lr_stage_setup();
	mp = rte_pktmbuf_pool_create("lrt_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	REQUIRE(mp != NULL);
	heap0 = heap_used();
	REQUIRE(lr_upf_init(argc > 2 ? (uint32_t)atoi(argv[2]) : 256, 1) == 0);
	heap1 = heap_used();
	lr_workers[0] = &fake_worker;
	if (argc > 2 && strcmp(argv[1], "--stage-cycles") == 0) {
		int rc = stage_cycles((uint32_t)atoi(argv[2]));

		printf("DPDK heap taken by lr_upf_init(%s): %.1f MB (%.0f bytes per session slot, key hashes included)\n",
		       argv[2], (double)(heap1 - heap0) / 1e6, (double)(heap1 - heap0) / atoi(argv[2]));

		lr_upf_fini();
		lr_stats_destroy(false);
		return rc;
	}

	test_parser();
	test_sessions();
	test_stage();
	test_ipv6();
	CHECK_EQ(rte_mempool_in_use_count(mp), 0);

	lr_upf_fini();
	lr_stats_destroy(false);
	return lrt_finish("test_upf");
}
