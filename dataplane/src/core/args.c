/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerate-dp options. Kept free of DPDK so that it can be tested without
 * an EAL and so that bad arguments are refused (exit 2) before the EAL
 * takes any hugepages.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "args.h"

enum {
	OPT_NAME = 256, OPT_CTL, OPT_STATS, OPT_PORT, OPT_RXQ, OPT_PORT_RXQ,
	OPT_RXD, OPT_TXD, OPT_MBUFS, OPT_BURST, OPT_IDLE_SLEEP, OPT_ROUTES4,
	OPT_ROUTES6, OPT_NEIGHBORS, OPT_NEIGH_PORT_MAX, OPT_NEIGH_HOLD, OPT_NEIGH_REPLIES_ONLY, OPT_PUNT_RATE, OPT_ALLOW_CLASS_E, OPT_DROP_OWN_SOURCE, OPT_PORT_RPF,
	OPT_ICMP_RATE, OPT_CTL_UID, OPT_CTL_GID, OPT_CTL_TIMEOUT, OPT_CTL_IDLE, OPT_PORT_MAC, OPT_FLOWS, OPT_FLOWS_EXACT, OPT_HELP,
};

static const struct option lr_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ctl", required_argument, NULL, OPT_CTL },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "rxq", required_argument, NULL, OPT_RXQ },
	{ "port-rxq", required_argument, NULL, OPT_PORT_RXQ },
	{ "rxd", required_argument, NULL, OPT_RXD },
	{ "txd", required_argument, NULL, OPT_TXD },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "idle-sleep-us", required_argument, NULL, OPT_IDLE_SLEEP },
	{ "routes4", required_argument, NULL, OPT_ROUTES4 },
	{ "routes6", required_argument, NULL, OPT_ROUTES6 },
	{ "neighbors", required_argument, NULL, OPT_NEIGHBORS },
	{ "neigh-port-max", required_argument, NULL, OPT_NEIGH_PORT_MAX },
	{ "neigh-hold", required_argument, NULL, OPT_NEIGH_HOLD },
	{ "neigh-replies-only", no_argument, NULL, OPT_NEIGH_REPLIES_ONLY },
	{ "punt-rate", required_argument, NULL, OPT_PUNT_RATE },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "flows-exact", required_argument, NULL, OPT_FLOWS_EXACT },
	{ "allow-class-e", no_argument, NULL, OPT_ALLOW_CLASS_E },
	{ "drop-own-source", no_argument, NULL, OPT_DROP_OWN_SOURCE },
	{ "port-rpf", required_argument, NULL, OPT_PORT_RPF },
	{ "icmp-rate", required_argument, NULL, OPT_ICMP_RATE },
	{ "ctl-uid", required_argument, NULL, OPT_CTL_UID },
	{ "ctl-gid", required_argument, NULL, OPT_CTL_GID },
	{ "ctl-timeout-ms", required_argument, NULL, OPT_CTL_TIMEOUT },
	{ "ctl-idle-timeout", required_argument, NULL, OPT_CTL_IDLE },
	{ "port-mac", required_argument, NULL, OPT_PORT_MAC },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void
lr_args_usage(const char *prog, void *stream)
{
	fprintf(stream,
		"usage: %s <EAL args> -- [options]\n"
		"  --name NAME            instance name (default \"default\")\n"
		"  --ctl PATH             control socket to listen on (required)\n"
		"  --stats PATH           stats memory file (required), e.g. /dev/shm/linerate-NAME.stats\n"
		"  --port NAME=DEVSTR     port, repeatable, in port-id order; DEVSTR is a PCI\n"
		"                         address or vdev devargs (net_af_packet0,iface=veth0)\n"
		"  --rxq N                RX queues per port (default 1, clamped to the device)\n"
		"  --port-rxq NAME=N      RX queues of one port\n"
		"  --rxd N, --txd N       descriptors per RX / TX queue (default 1024)\n"
		"  --mbufs N              mbufs in the pool (default: sized from ports and queues)\n"
		"  --burst N              RX burst (default 32, max %d)\n"
		"  --idle-sleep-us N      workers sleep N us after a run of empty polls (default 0)\n"
		"  --routes4 N            IPv4 FIB capacity (default 1048576)\n"
		"  --routes6 N            IPv6 FIB capacity (default 65536)\n"
		"  --neighbors N          neighbor table capacity (default 16384)\n"
		"  --neigh-port-max N     learned + resolving entries per port; the oldest is evicted\n"
		"                         beyond it (default: a quarter of --neighbors, at least 64)\n"
		"  --neigh-hold N         packets held per resolving neighbor (default 32, 0 = drop)\n"
		"  --neigh-replies-only   learn only from answers to our own ARP requests / NS\n"
		"  --punt-rate CLASS=N    slow-path packets per second per port of a class (arp, nd,\n"
		"                         icmp, other; defaults 1000, 1000, 1000, 100; 0 = unpoliced)\n"
		"  --flows N              wildcard flow rules, rte_acl (default 65536)\n"
		"  --flows-exact N        exact-match flows, rte_hash (default 65536)\n"
		"  --allow-class-e        forward IPv4 sources in 240/4 (default: martian, dropped)\n"
		"  --drop-own-source      drop packets whose source is one of our addresses\n"
		"  --port-rpf NAME=MODE   unicast RPF on a port (RFC 3704): strict, loose or off\n"
		"  --icmp-rate N          ICMP errors per second per port (default 100, 0 = none)\n"
		"  --ctl-uid UID          the control plane's uid: owns the socket and stats file,\n"
		"                         may connect besides root, has reserved slots (default 0)\n"
		"  --ctl-gid GID          socket mode 0660 and stats file 0640 with this group, whose\n"
		"                         members may connect (default: none, modes 0600)\n"
		"  --ctl-timeout-ms N     close a client that sends no HELLO, leaves a message half\n"
		"                         sent or reads no reply for N ms (default 5000)\n"
		"  --ctl-idle-timeout S   close idle clients other than --ctl-uid after S s\n"
		"                         (default 300, 0 = never)\n"
		"  --port-mac NAME=MAC    set the port's MAC (aa:bb:cc:dd:ee:ff) before it starts\n"
		"  --help                 this text\n",
		prog, LR_BURST_MAX);
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Strict unsigned parse: digits only, within [min, max]. */
static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
valid_port_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= LR_NAME_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int
find_port(const struct lr_args *a, const char *name, size_t n)
{
	unsigned i;

	for (i = 0; i < a->n_ports; i++)
		if (strlen(a->ports[i].name) == n && memcmp(a->ports[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* NAME=VALUE → name length; -1 when there is no '=' */
static int
split_eq(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq == NULL ? -1 : (int)(eq - s);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* aa:bb:cc:dd:ee:ff, unicast (it becomes a port's own address) */
static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned i;

	for (i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return (mac[0] & 1) ? -1 : 0;
}

#define NUM_OPT(field, min, max, label) do {                                   \
		uint32_t v_;                                                   \
		if (parse_u32(optarg, (min), (max), &v_) < 0)                  \
			return fail(err, errlen, "%s: expected an integer in [%u, %u], got '%s'", \
				    (label), (unsigned)(min), (unsigned)(max), optarg); \
		a->field = v_;                                                 \
	} while (0)

int
lr_args_parse(int argc, char **argv, struct lr_args *a, char *err, size_t errlen)
{
	/* --port-rxq may name a port given later: resolve after the loop */
	struct { char name[LR_NAME_LEN]; uint16_t n; } prxq[LR_MAX_PORTS * 2], prpf[LR_MAX_PORTS * 2];
	struct { char name[LR_NAME_LEN]; uint8_t mac[6]; } pmac[LR_MAX_PORTS * 2];
	unsigned n_prxq = 0, n_prpf = 0, n_pmac = 0, i;
	int c, k;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "default");
	a->rx_queues = 1;
	a->rxd = 1024;
	a->txd = 1024;
	a->burst = 32;
	a->routes4 = 1u << 20;
	a->routes6 = 1u << 16;
	a->neighbors = 1u << 14;
	a->neigh_hold = 32;
	{
		static const uint32_t def[] = {
#define LR_PUNT_DEF_(sym, name, rate) rate,
			LR_PUNT_CLASSES(LR_PUNT_DEF_)
#undef LR_PUNT_DEF_
		};

		RTE_BUILD_BUG_ON(RTE_DIM(def) > RTE_DIM(a->punt_rate));
		memcpy(a->punt_rate, def, sizeof(def));
	}
	a->flows = 1u << 16;
	a->flows_exact = 1u << 16;
	a->icmp_rate = 100;
	a->ctl_gid = -1;
	a->ctl_timeout_ms = 5000;
	a->ctl_idle_s = 300;
	err[0] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lr_opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			if (!valid_port_name(optarg, strlen(optarg)))
				return fail(err, errlen, "--name: 1 to %d characters of [A-Za-z0-9_.-], got '%s'",
					    LR_NAME_LEN - 1, optarg);
			snprintf(a->name, sizeof(a->name), "%s", optarg);
			break;
		case OPT_CTL:
			if (optarg[0] == '\0' || strlen(optarg) >= LR_PATH_LEN)
				return fail(err, errlen, "--ctl: path must be 1 to %d bytes", LR_PATH_LEN - 1);
			snprintf(a->ctl_path, sizeof(a->ctl_path), "%s", optarg);
			break;
		case OPT_STATS:
			if (optarg[0] == '\0' || strlen(optarg) >= LR_PATH_LEN)
				return fail(err, errlen, "--stats: path must be 1 to %d bytes", LR_PATH_LEN - 1);
			snprintf(a->stats_path, sizeof(a->stats_path), "%s", optarg);
			break;
		case OPT_PORT: {
			struct lr_args_port *p;

			k = split_eq(optarg);
			if (k < 0)
				return fail(err, errlen, "--port: expected NAME=DEVSTR, got '%s'", optarg);
			if (!valid_port_name(optarg, (size_t)k))
				return fail(err, errlen, "--port: name must be 1 to %d characters of [A-Za-z0-9_.-] in '%s'",
					    LR_NAME_LEN - 1, optarg);
			if (find_port(a, optarg, (size_t)k) >= 0)
				return fail(err, errlen, "--port: duplicate port name in '%s'", optarg);
			if (a->n_ports >= LR_MAX_PORTS)
				return fail(err, errlen, "--port: at most %d ports", LR_MAX_PORTS);
			if (optarg[k + 1] == '\0' || optarg[k + 1] == ',' ||
			    strlen(optarg + k + 1) >= LR_DEVICE_LEN)
				return fail(err, errlen, "--port: device string must be 1 to %d bytes in '%s'",
					    LR_DEVICE_LEN - 1, optarg);
			p = &a->ports[a->n_ports++];
			memcpy(p->name, optarg, (size_t)k);
			p->name[k] = '\0';
			snprintf(p->device, sizeof(p->device), "%s", optarg + k + 1);
			break;
		}
		case OPT_RXQ:
			NUM_OPT(rx_queues, 1, LR_MAX_QUEUES, "--rxq");
			break;
		case OPT_PORT_RXQ: {
			uint32_t n;

			k = split_eq(optarg);
			if (k < 0 || !valid_port_name(optarg, (size_t)k))
				return fail(err, errlen, "--port-rxq: expected NAME=N, got '%s'", optarg);
			if (parse_u32(optarg + k + 1, 1, LR_MAX_QUEUES, &n) < 0)
				return fail(err, errlen, "--port-rxq: N must be in [1, %d] in '%s'",
					    LR_MAX_QUEUES, optarg);
			if (n_prxq >= sizeof(prxq) / sizeof(prxq[0]))
				return fail(err, errlen, "--port-rxq: given too many times");
			memcpy(prxq[n_prxq].name, optarg, (size_t)k);
			prxq[n_prxq].name[k] = '\0';
			prxq[n_prxq].n = (uint16_t)n;
			n_prxq++;
			break;
		}
		case OPT_RXD:
			NUM_OPT(rxd, 64, 16384, "--rxd");
			break;
		case OPT_TXD:
			NUM_OPT(txd, 64, 16384, "--txd");
			break;
		case OPT_MBUFS:
			NUM_OPT(mbufs, 1024, 1u << 26, "--mbufs");
			break;
		case OPT_BURST:
			NUM_OPT(burst, 1, LR_BURST_MAX, "--burst");
			break;
		case OPT_IDLE_SLEEP:
			NUM_OPT(idle_sleep_us, 0, 1000000, "--idle-sleep-us");
			break;
		case OPT_ROUTES4:
			NUM_OPT(routes4, 1024, 1u << 24, "--routes4");
			break;
		case OPT_ROUTES6:
			NUM_OPT(routes6, 1024, 1u << 22, "--routes6");
			break;
		case OPT_NEIGHBORS:
			NUM_OPT(neighbors, 64, 1u << 20, "--neighbors");
			break;
		case OPT_FLOWS:
			NUM_OPT(flows, 64, 1u << 20, "--flows");
			break;
		case OPT_FLOWS_EXACT:
			NUM_OPT(flows_exact, 64, 1u << 24, "--flows-exact");
			break;
		case OPT_ALLOW_CLASS_E:
			a->allow_class_e = 1;
			break;
		case OPT_DROP_OWN_SOURCE:
			a->drop_own_source = 1;
			break;
		case OPT_PORT_RPF: {
			const char *mode;
			uint16_t m;

			k = split_eq(optarg);
			if (k < 0 || !valid_port_name(optarg, (size_t)k))
				return fail(err, errlen, "--port-rpf: expected NAME=strict|loose|off, got '%s'", optarg);
			mode = optarg + k + 1;
			if (strcmp(mode, "strict") == 0)
				m = LR_RPF_STRICT;
			else if (strcmp(mode, "loose") == 0)
				m = LR_RPF_LOOSE;
			else if (strcmp(mode, "off") == 0)
				m = LR_RPF_OFF;
			else
				return fail(err, errlen, "--port-rpf: mode must be strict, loose or off in '%s'", optarg);
			if (n_prpf >= sizeof(prpf) / sizeof(prpf[0]))
				return fail(err, errlen, "--port-rpf: given too many times");
			memcpy(prpf[n_prpf].name, optarg, (size_t)k);
			prpf[n_prpf].name[k] = '\0';
			prpf[n_prpf].n = m;
			n_prpf++;
			break;
		}
		case OPT_NEIGH_PORT_MAX:
			NUM_OPT(neigh_port_max, 1, 1u << 20, "--neigh-port-max");
			break;
		case OPT_NEIGH_HOLD:
			NUM_OPT(neigh_hold, 0, LR_NEIGH_HOLD_MAX, "--neigh-hold");
			break;
		case OPT_NEIGH_REPLIES_ONLY:
			a->neigh_replies_only = 1;
			break;
		case OPT_PUNT_RATE: {
			static const char *const names[] = {
#define LR_PUNT_NAME_(sym, name, rate) name,
				LR_PUNT_CLASSES(LR_PUNT_NAME_)
#undef LR_PUNT_NAME_
			};
			const char *eq = strchr(optarg, '=');
			unsigned c;
			char *end;
			unsigned long v;

			for (c = 0; eq != NULL && c < RTE_DIM(names); c++)
				if (strlen(names[c]) == (size_t)(eq - optarg) &&
				    strncmp(names[c], optarg, (size_t)(eq - optarg)) == 0)
					break;
			if (eq == NULL || c == RTE_DIM(names))
				return fail(err, errlen, "--punt-rate: '%s' is not CLASS=N with CLASS arp, nd, icmp or other", optarg);
			errno = 0;
			v = strtoul(eq + 1, &end, 10);
			if (errno != 0 || end == eq + 1 || *end != '\0' || v > 10000000ul)
				return fail(err, errlen, "--punt-rate: rate in '%s' must be 0..10000000", optarg);
			a->punt_rate[c] = (uint32_t)v;
			break;
		}
		case OPT_ICMP_RATE:
			NUM_OPT(icmp_rate, 0, 100000, "--icmp-rate");
			break;
		case OPT_CTL_UID:
			NUM_OPT(ctl_uid, 0, 0xfffffffeu, "--ctl-uid");
			break;
		case OPT_CTL_GID: {
			uint32_t g;

			if (parse_u32(optarg, 0, 0xfffffffeu, &g) < 0)
				return fail(err, errlen, "--ctl-gid: expected a numeric gid, got '%s'", optarg);
			a->ctl_gid = g;
			break;
		}
		case OPT_CTL_TIMEOUT:
			NUM_OPT(ctl_timeout_ms, 100, 3600000, "--ctl-timeout-ms");
			break;
		case OPT_CTL_IDLE:
			NUM_OPT(ctl_idle_s, 0, 86400 * 7, "--ctl-idle-timeout");
			break;
		case OPT_PORT_MAC:
			k = split_eq(optarg);
			if (k < 0 || !valid_port_name(optarg, (size_t)k))
				return fail(err, errlen, "--port-mac: expected NAME=MAC, got '%s'", optarg);
			if (n_pmac >= sizeof(pmac) / sizeof(pmac[0]))
				return fail(err, errlen, "--port-mac: given too many times");
			if (parse_mac(optarg + k + 1, pmac[n_pmac].mac) < 0)
				return fail(err, errlen, "--port-mac: MAC must be a unicast aa:bb:cc:dd:ee:ff in '%s'",
					    optarg);
			memcpy(pmac[n_pmac].name, optarg, (size_t)k);
			pmac[n_pmac].name[k] = '\0';
			n_pmac++;
			break;
		case 'h':
		case OPT_HELP:
			return 1;
		case ':':
			return fail(err, errlen, "%s: missing value", argv[optind - 1]);
		default:
			return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (a->ctl_path[0] == '\0')
		return fail(err, errlen, "--ctl PATH is required");
	if (a->stats_path[0] == '\0')
		return fail(err, errlen, "--stats PATH is required");
	for (i = 0; i < n_prxq; i++) {
		k = find_port(a, prxq[i].name, strlen(prxq[i].name));
		if (k < 0)
			return fail(err, errlen, "--port-rxq: no port named '%s'", prxq[i].name);
		a->ports[k].rx_queues = prxq[i].n;
	}
	for (i = 0; i < n_prpf; i++) {
		k = find_port(a, prpf[i].name, strlen(prpf[i].name));
		if (k < 0)
			return fail(err, errlen, "--port-rpf: no port named '%s'", prpf[i].name);
		a->ports[k].rpf = (uint8_t)prpf[i].n;
	}
	for (i = 0; i < n_pmac; i++) {
		k = find_port(a, pmac[i].name, strlen(pmac[i].name));
		if (k < 0)
			return fail(err, errlen, "--port-mac: no port named '%s'", pmac[i].name);
		a->ports[k].has_mac = 1;
		memcpy(a->ports[k].mac, pmac[i].mac, 6);
	}
	return 0;
}
