/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_opts: command line of linerate-pktgen (after EAL's "--"). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_config.h"
#include "pg_tmpl.h"

static const char usage_text[] =
"usage: linerate-pktgen [EAL options] -- [options]\n"
"ports (DPDK device strings: PCI address, vdev devargs, or a port number):\n"
"  --tx-port DEV         transmit on DEV (omit: receive only)\n"
"  --rx-port DEV         receive on DEV (omit: transmit only; may equal --tx-port)\n"
"packets:\n"
"  --size N              frame size with FCS, 64..1518 (default 64)\n"
"  --imix                simple IMIX 7:4:1 of 64/594/1518 (64 raised to the minimum)\n"
"  --ipv6                IPv6 UDP (inside GTP-U: inner IPv6)\n"
"  --gtpu TEID           GTP-U encapsulation: outer IPv4/UDP 2152, inner IP/UDP\n"
"  --qfi Q               add a PDU session container (UL, QFI Q) to GTP-U\n"
"  --flows N             N flows: flow i adds i to the --vary fields (default 1)\n"
"  --vary LIST           comma list of src,dst,sport,dport,teid\n"
"                        (default src,dst; with --gtpu teid,src)\n"
"  --src A --dst A       base (inner) addresses (10.0.0.1 / 10.1.0.1, 2001:db8::1 / 2001:db8:1::1)\n"
"  --sport N --dport N   base UDP ports (1024 / 5001)\n"
"  --outer-src A --outer-dst A  GTP-U tunnel endpoints (192.168.0.1 / 192.168.0.2)\n"
"  --src-mac M --dst-mac M  default: TX port MAC / RX port MAC (else broadcast)\n"
"rate and length:\n"
"  --rate-pps N          paced by the TSC (default: as fast as possible)\n"
"  --rate-pct P --link-gbps G  P %% of a G Gbit/s link (20 B preamble+IFG per frame)\n"
"  --duration S          steady window after warm-up, seconds (default 1 unless --count)\n"
"  --warmup S            excluded from rates and latency (default 0)\n"
"  --count N             stop after N packets sent (receive only: received)\n"
"  --burst N             packets per burst, 1..256 (default 64)\n"
"  --rx-queues N         RX queues of the RX port, polled round-robin, 1..16 (default 1;\n"
"                        a memif client then reads every TX queue of its server)\n"
"  --retry               closed loop: retry refused packets instead of dropping them\n"
"  --drain-ms N          wait for in-flight packets after TX stops (default 200)\n"
"  --start-delay-ms N    stay idle N ms after link up before sending (default 0;\n"
"                        lets a forwarder notice the link before the first packet)\n"
"output:\n"
"  --json                one JSON object on stdout at the end\n"
"  --progress MS         progress line every MS ms (JSON lines with --json)\n"
"tuning: --rxd N --txd N (1024) --pool-size N (16383) --link-wait-ms N (5000)\n";

enum {
	OPT_TX = 256, OPT_RX, OPT_SIZE, OPT_IMIX, OPT_IPV6, OPT_GTPU, OPT_QFI,
	OPT_FLOWS, OPT_VARY, OPT_SRC, OPT_DST, OPT_SPORT, OPT_DPORT, OPT_OSRC,
	OPT_ODST, OPT_SMAC, OPT_DMAC, OPT_PPS, OPT_PCT, OPT_GBPS, OPT_DURATION,
	OPT_WARMUP, OPT_COUNT, OPT_BURST, OPT_RXQ, OPT_RETRY, OPT_DRAIN, OPT_JSON,
	OPT_PROGRESS, OPT_RXD, OPT_TXD, OPT_POOL, OPT_LINKWAIT, OPT_HELP,
	OPT_STARTDELAY,
};

static const struct option long_opts[] = {
	{ "tx-port", required_argument, NULL, OPT_TX },
	{ "rx-port", required_argument, NULL, OPT_RX },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "imix", no_argument, NULL, OPT_IMIX },
	{ "ipv6", no_argument, NULL, OPT_IPV6 },
	{ "gtpu", required_argument, NULL, OPT_GTPU },
	{ "qfi", required_argument, NULL, OPT_QFI },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "vary", required_argument, NULL, OPT_VARY },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "outer-src", required_argument, NULL, OPT_OSRC },
	{ "outer-dst", required_argument, NULL, OPT_ODST },
	{ "src-mac", required_argument, NULL, OPT_SMAC },
	{ "dst-mac", required_argument, NULL, OPT_DMAC },
	{ "rate-pps", required_argument, NULL, OPT_PPS },
	{ "rate-pct", required_argument, NULL, OPT_PCT },
	{ "link-gbps", required_argument, NULL, OPT_GBPS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "rx-queues", required_argument, NULL, OPT_RXQ },
	{ "retry", no_argument, NULL, OPT_RETRY },
	{ "drain-ms", required_argument, NULL, OPT_DRAIN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "rxd", required_argument, NULL, OPT_RXD },
	{ "txd", required_argument, NULL, OPT_TXD },
	{ "pool-size", required_argument, NULL, OPT_POOL },
	{ "link-wait-ms", required_argument, NULL, OPT_LINKWAIT },
	{ "start-delay-ms", required_argument, NULL, OPT_STARTDELAY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "linerate-pktgen: --%s %s: %s\n", opt, val ? val : "", why);
	return -1;
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int
parse_addr(const char *s, bool ipv6, uint8_t *out)
{
	memset(out, 0, 16);
	return inet_pton(ipv6 ? AF_INET6 : AF_INET, s, out) == 1 ? 0 : -1;
}

static int
parse_vary(const char *s, uint32_t *out)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{ "src", PG_VARY_SRC }, { "dst", PG_VARY_DST },
		{ "sport", PG_VARY_SPORT }, { "dport", PG_VARY_DPORT },
		{ "teid", PG_VARY_TEID },
	};
	char buf[128];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;
		for (i = 0; i < RTE_DIM(names); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == RTE_DIM(names))
			return -1;
		*out |= names[i].bit;
	}
	return 0;
}

double
pg_cfg_mean_frame(const struct pg_pkt_cfg *pkt)
{
	double sum = 0;

	for (unsigned i = 0; i < pkt->pattern_len; i++)
		sum += pkt->sizes[pkt->pattern[i]];
	return sum / pkt->pattern_len;
}

int
pg_opts_parse(struct pg_config *cfg, int argc, char **argv)
{
	/* addresses are parsed after the family is known */
	const char *src = NULL, *dst = NULL, *osrc = "192.168.0.1", *odst = "192.168.0.2";
	uint64_t u;
	bool vary_set = false, duration_set = false;
	uint16_t size = PG_MIN_FRAME;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->pkt.qfi = -1;
	cfg->pkt.flows = 1;
	cfg->pkt.sport = 1024;
	cfg->pkt.dport = 5001;
	cfg->duration_s = 1.0;
	cfg->burst = 64;
	cfg->rx_queues = 1;
	cfg->drain_ms = 200;
	cfg->link_wait_ms = 5000;
	cfg->rxd = 1024;
	cfg->txd = 1024;
	cfg->pool_size = 16383;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		const char *name = opt_name(opt);
		switch (opt) {
		case OPT_TX:
		case OPT_RX:
			if (strlen(optarg) >= PG_DEV_LEN || optarg[0] == '\0')
				return bad(name, optarg, "empty or too long");
			strcpy(opt == OPT_TX ? cfg->tx_dev : cfg->rx_dev, optarg);
			break;
		case OPT_SIZE:
			if (parse_u64(optarg, PG_MIN_FRAME, PG_MAX_FRAME, &u))
				return bad(name, optarg, "expected 64..1518");
			size = (uint16_t)u;
			break;
		case OPT_IMIX: cfg->pkt.imix = true; break;
		case OPT_IPV6: cfg->pkt.ipv6 = true; break;
		case OPT_GTPU:
			if (parse_u64(optarg, 0, UINT32_MAX, &u))
				return bad(name, optarg, "expected a 32-bit TEID");
			cfg->pkt.gtpu = true;
			cfg->pkt.teid = (uint32_t)u;
			break;
		case OPT_QFI:
			if (parse_u64(optarg, 0, 63, &u))
				return bad(name, optarg, "expected 0..63");
			cfg->pkt.qfi = (int)u;
			break;
		case OPT_FLOWS:
			if (parse_u64(optarg, 1, PG_MAX_FLOWS, &u))
				return bad(name, optarg, "expected 1..1048576");
			cfg->pkt.flows = (uint32_t)u;
			break;
		case OPT_VARY:
			if (parse_vary(optarg, &cfg->pkt.vary))
				return bad(name, optarg, "expected a list of src,dst,sport,dport,teid");
			vary_set = true;
			break;
		case OPT_SRC: src = optarg; break;
		case OPT_DST: dst = optarg; break;
		case OPT_SPORT:
		case OPT_DPORT:
			if (parse_u64(optarg, 0, UINT16_MAX, &u))
				return bad(name, optarg, "expected 0..65535");
			*(opt == OPT_SPORT ? &cfg->pkt.sport : &cfg->pkt.dport) = (uint16_t)u;
			break;
		case OPT_OSRC: osrc = optarg; break;
		case OPT_ODST: odst = optarg; break;
		case OPT_SMAC:
		case OPT_DMAC:
			if (rte_ether_unformat_addr(optarg, opt == OPT_SMAC ?
						    &cfg->pkt.src_mac : &cfg->pkt.dst_mac))
				return bad(name, optarg, "expected a MAC address");
			*(opt == OPT_SMAC ? &cfg->pkt.src_mac_set : &cfg->pkt.dst_mac_set) = true;
			break;
		case OPT_PPS:
			if (parse_double(optarg, 1, 1e10, &cfg->rate_pps))
				return bad(name, optarg, "expected a packet rate >= 1");
			break;
		case OPT_PCT:
			if (parse_double(optarg, 1e-6, 100, &cfg->rate_pct))
				return bad(name, optarg, "expected a percentage in (0, 100]");
			break;
		case OPT_GBPS:
			if (parse_double(optarg, 1e-3, 1e4, &cfg->link_gbps))
				return bad(name, optarg, "expected a link speed in Gbit/s");
			break;
		case OPT_DURATION:
			if (parse_double(optarg, 0, 1e6, &cfg->duration_s))
				return bad(name, optarg, "expected seconds");
			duration_set = true;
			break;
		case OPT_WARMUP:
			if (parse_double(optarg, 0, 1e6, &cfg->warmup_s))
				return bad(name, optarg, "expected seconds");
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, 1, UINT64_MAX, &cfg->count))
				return bad(name, optarg, "expected a packet count >= 1");
			break;
		case OPT_BURST:
			if (parse_u64(optarg, 1, PG_MAX_BURST, &u))
				return bad(name, optarg, "expected 1..256");
			cfg->burst = (uint16_t)u;
			break;
		case OPT_RXQ:
			if (parse_u64(optarg, 1, 16, &u))
				return bad(name, optarg, "expected 1..16");
			cfg->rx_queues = (uint16_t)u;
			break;
		case OPT_RETRY: cfg->retry = true; break;
		case OPT_DRAIN:
		case OPT_PROGRESS:
		case OPT_LINKWAIT:
			if (parse_u64(optarg, 0, 3600000, &u))
				return bad(name, optarg, "expected milliseconds");
			*(opt == OPT_DRAIN ? &cfg->drain_ms :
			  opt == OPT_PROGRESS ? &cfg->progress_ms : &cfg->link_wait_ms) = (uint32_t)u;
			break;
		case OPT_STARTDELAY:
			if (parse_u64(optarg, 0, 60000, &u))
				return bad(name, optarg, "expected 0..60000 milliseconds");
			cfg->start_delay_ms = (uint32_t)u;
			break;
		case OPT_JSON: cfg->json = true; break;
		case OPT_RXD:
		case OPT_TXD:
			if (parse_u64(optarg, 32, 32768, &u))
				return bad(name, optarg, "expected 32..32768 descriptors");
			*(opt == OPT_RXD ? &cfg->rxd : &cfg->txd) = (uint16_t)u;
			break;
		case OPT_POOL:
			if (parse_u64(optarg, 1023, 1u << 24, &u))
				return bad(name, optarg, "expected 1023..16777216 mbufs");
			cfg->pool_size = (uint32_t)u;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return 1;
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (optind < argc)
		return bad("", argv[optind], "unexpected argument");
	if (cfg->tx_dev[0] == '\0' && cfg->rx_dev[0] == '\0')
		return bad("tx-port", NULL, "give --tx-port, --rx-port or both");
	if (cfg->count && !duration_set)
		cfg->duration_s = 0; /* --count alone: run until the count is reached */
	if (cfg->duration_s == 0 && cfg->count == 0)
		return bad("duration", "0", "needs --count");
	if (cfg->pkt.qfi >= 0 && !cfg->pkt.gtpu)
		return bad("qfi", NULL, "needs --gtpu");

	struct pg_pkt_cfg *p = &cfg->pkt;
	if (!vary_set)
		p->vary = p->gtpu ? PG_VARY_TEID | PG_VARY_SRC : PG_VARY_SRC | PG_VARY_DST;
	if (parse_addr(src ? src : p->ipv6 ? "2001:db8::1" : "10.0.0.1", p->ipv6, p->src))
		return bad("src", src, "not an address of the packet family");
	if (parse_addr(dst ? dst : p->ipv6 ? "2001:db8:1::1" : "10.1.0.1", p->ipv6, p->dst))
		return bad("dst", dst, "not an address of the packet family");
	uint8_t a[16];
	if (parse_addr(osrc, false, a))
		return bad("outer-src", osrc, "expected an IPv4 address");
	memcpy(p->outer_src, a, 4);
	if (parse_addr(odst, false, a))
		return bad("outer-dst", odst, "expected an IPv4 address");
	memcpy(p->outer_dst, a, 4);

	uint16_t min = pg_tmpl_min_frame(p);
	if (p->imix) {
		static const uint8_t imix_pattern[PG_PATTERN_LEN] = {
			0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 0, 1 };
		p->sizes[0] = min;
		p->sizes[1] = 594;
		p->sizes[2] = 1518;
		p->nb_sizes = 3;
		memcpy(p->pattern, imix_pattern, sizeof(imix_pattern));
		p->pattern_len = PG_PATTERN_LEN;
	} else {
		if (size < min) {
			char m[64];
			snprintf(m, sizeof(m), "below the minimum of %u for these headers", min);
			char v[8];
			snprintf(v, sizeof(v), "%u", size);
			return bad("size", v, m);
		}
		p->sizes[0] = size;
		p->nb_sizes = 1;
		p->pattern[0] = 0;
		p->pattern_len = 1;
	}

	if ((cfg->rate_pct > 0) != (cfg->link_gbps > 0))
		return bad("rate-pct", NULL, "--rate-pct and --link-gbps go together");
	if (cfg->rate_pct > 0) {
		if (cfg->rate_pps > 0)
			return bad("rate-pct", NULL, "give --rate-pps or --rate-pct, not both");
		/* on the wire a frame also takes 8 B preamble + 12 B inter-frame gap */
		cfg->rate_pps = cfg->rate_pct / 100.0 * cfg->link_gbps * 1e9 /
			((pg_cfg_mean_frame(p) + 20.0) * 8.0);
	}
	return 0;
}
