/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: probe, configure, start/stop, PORT_LIST/PORT_SET, device stats. */
#include <errno.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "log.h"
#include "parse.h"
#include "port.h"
#include "worker.h"
#include "stats.h"
#include "status.h"
#include "ctl.h"

struct lr_port_rt lr_port_rt[LR_MAX_PORTS];
struct lr_port lr_ports[LR_MAX_PORTS];
uint16_t lr_n_ports;

#define LR_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)
/* Frames must fit one mbuf (no RX scatter). */
#define LR_MTU_LIMIT (RTE_MBUF_DEFAULT_DATAROOM - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN)

static int
find_ethdev(const char *devargs, uint16_t *pid)
{
	char name[LR_DEVICE_LEN];
	struct rte_dev_iterator it;
	uint16_t id;
	size_t n = strcspn(devargs, ",");

	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, pid) == 0)
		return 0;
	RTE_ETH_FOREACH_MATCHING_DEV(id, name, &it) {
		*pid = id;
		rte_eth_iterator_cleanup(&it);
		return 0;
	}
	return -ENODEV;
}

int
lr_port_probe_all(const struct lr_args *a)
{
	unsigned i, j;

	lr_n_ports = 0;
	for (i = 0; i < a->n_ports; i++) {
		struct lr_port *p = &lr_ports[i];
		struct rte_eth_dev_info info;
		uint16_t pid, mtu = RTE_ETHER_MTU;
		int rc;

		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", a->ports[i].name);
		snprintf(p->device, sizeof(p->device), "%s", a->ports[i].device);
		if (find_ethdev(p->device, &pid) < 0) {
			rc = rte_dev_probe(p->device);
			if (rc < 0 && rc != -EEXIST) {
				LR_LOG(ERR, "port %s: cannot probe '%s': %s", p->name, p->device,
				       rte_strerror(-rc));
				return -1;
			}
			if (find_ethdev(p->device, &pid) < 0) {
				LR_LOG(ERR, "port %s: '%s' probed but no ethdev port found", p->name,
				       p->device);
				return -1;
			}
		}
		for (j = 0; j < i; j++)
			if (lr_port_rt[j].dpdk_id == pid) {
				LR_LOG(ERR, "port %s: same device as port %s", p->name, lr_ports[j].name);
				return -1;
			}
		rc = rte_eth_dev_info_get(pid, &info);
		if (rc != 0) {
			LR_LOG(ERR, "port %s: no device info: %s", p->name, rte_strerror(-rc));
			return -1;
		}
		snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
		p->min_mtu = info.min_mtu;
		p->max_mtu = info.max_mtu;
		rte_eth_dev_get_mtu(pid, &mtu);
		memset(&lr_port_rt[i], 0, sizeof(lr_port_rt[i]));
		lr_port_rt[i].dpdk_id = pid;
		lr_port_rt[i].mtu = mtu;
		lr_port_rt[i].admin_up = 1;
		lr_n_ports = (uint16_t)(i + 1);
	}
	return 0;
}

uint32_t
lr_port_pool_size(const struct lr_args *a, unsigned n_workers, uint32_t held_per_worker)
{
	uint64_t n = 4096;
	unsigned i;

	for (i = 0; i < a->n_ports; i++) {
		unsigned q = a->ports[i].rx_queues ? a->ports[i].rx_queues : a->rx_queues;

		n += (uint64_t)q * a->rxd + (uint64_t)n_workers * a->txd;
	}
	n += (uint64_t)n_workers * (LR_MAX_PORTS * LR_BURST_MAX + held_per_worker);
	n += 512ull * (n_workers + 1);  /* per-lcore mempool caches */
	return n > (1u << 26) ? 1u << 26 : (uint32_t)n;
}

uint64_t
lr_port_rss_default(const struct rte_eth_dev_info *info)
{
	return info->flow_type_rss_offloads & LR_RSS_HF;
}

uint64_t
lr_port_rss_hf(uint16_t i, const struct rte_eth_dev_info *info)
{
	uint64_t hf = lr_ports[i].rss_hf ? lr_ports[i].rss_hf : LR_RSS_HF;

	return info->flow_type_rss_offloads & hf;
}

/* What configure() needs again when one port's RX queues change at run time. */
static const struct lr_args *port_args;
static struct rte_mempool *port_pool;
static unsigned port_workers;

/*
 * Configures port i with `want` RX queues (at most what the device has) and
 * one TX queue per worker; mtu 0 = the device's default, else the MTU to
 * keep (a reconfiguration must not reset it).
 */
static int
configure(uint16_t i, const struct lr_args *a, struct rte_mempool *mp, unsigned n_workers, unsigned want,
	  uint16_t mtu)
{
	struct lr_port *p = &lr_ports[i];
	struct lr_port_rt *rt = &lr_port_rt[i];
	uint16_t pid = rt->dpdk_id, rxd = a->rxd, txd = a->txd, q;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	int rc;

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return rc;
	p->rx_queues = (uint16_t)RTE_MIN(want, (unsigned)info.max_rx_queues);
	if (p->rx_queues == 0) {
		LR_LOG(ERR, "port %s: device has no RX queue", p->name);
		return -EINVAL;
	}
	if (p->rx_queues < want)
		LR_LOG(WARNING, "port %s: %u RX queues requested, device has %u", p->name, want,
		       p->rx_queues);
	if (info.max_tx_queues < n_workers) {
		LR_LOG(ERR, "port %s: device has %u TX queues, one per worker needs %u "
		       "(af_packet: add qpairs=N to its devargs)", p->name, info.max_tx_queues, n_workers);
		return -EINVAL;
	}
	p->tx_queues = (uint16_t)n_workers;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	if (p->rx_queues > 1 && lr_port_rss_hf(i, &info) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = lr_port_rss_hf(i, &info);
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	}
	/* Only what the device reports (memif reports nothing): the rest is
	 * done in software. */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		rt->parse_flags |= LR_PARSE_HW_IP_CKSUM;
	}
	if (a->allow_class_e)
		rt->parse_flags |= LR_PARSE_ALLOW_CLASS_E;
	rt->src_check = (uint8_t)((a->drop_own_source ? LR_SRC_CHECK_OWN : 0) |
				  (a->ports[i].rpf == LR_RPF_LOOSE ? LR_SRC_CHECK_LOOSE : 0) |
				  (a->ports[i].rpf == LR_RPF_STRICT ? LR_SRC_CHECK_STRICT : 0));
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	p->rx_offloads = conf.rxmode.offloads;
	p->tx_offloads = conf.txmode.offloads;

	rc = rte_eth_dev_configure(pid, p->rx_queues, p->tx_queues, &conf);
	if (rc != 0) {
		LR_LOG(ERR, "port %s: configure (%u rxq, %u txq): %s", p->name, p->rx_queues, p->tx_queues,
		       rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
	if (rc != 0)
		return rc;
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	for (q = 0; q < p->rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, rxd, rte_eth_dev_socket_id(pid), &rxc, mp);
		if (rc != 0) {
			LR_LOG(ERR, "port %s: rx queue %u: %s", p->name, q, rte_strerror(-rc));
			return rc;
		}
	}
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (q = 0; q < p->tx_queues; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, txd, rte_eth_dev_socket_id(pid), &txc);
		if (rc != 0) {
			LR_LOG(ERR, "port %s: tx queue %u: %s", p->name, q, rte_strerror(-rc));
			return rc;
		}
	}
	if (a->ports[i].has_mac) {
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, a->ports[i].mac, RTE_ETHER_ADDR_LEN);
		rc = rte_eth_dev_default_mac_addr_set(pid, &mac);
		if (rc != 0) {
			LR_LOG(ERR, "port %s: --port-mac " RTE_ETHER_ADDR_PRT_FMT ": %s cannot set its MAC: %s%s",
			       p->name, RTE_ETHER_ADDR_BYTES(&mac), p->driver, rte_strerror(-rc),
			       rc == -ENOTSUP ? " (for memif, give mac= in the device's devargs instead)" : "");
			return rc;
		}
	}
	rc = rte_eth_macaddr_get(pid, &rt->mac);
	if (rc != 0)
		return rc;
	/* ND needs solicited-node multicast; ignored where unsupported. */
	rte_eth_allmulticast_enable(pid);
	p->configured = true;
	LR_LOG(INFO, "port %u %s: %s (%s) mac " RTE_ETHER_ADDR_PRT_FMT " rxq %u txq %u mtu %u%s",
	       i, p->name, p->device, p->driver, RTE_ETHER_ADDR_BYTES(&rt->mac), p->rx_queues,
	       p->tx_queues, rt->mtu, conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? " rss" : "");
	return 0;
}

int
lr_port_configure_all(const struct lr_args *a, struct rte_mempool *mp, unsigned n_workers)
{
	uint16_t i;

	port_args = a;
	port_pool = mp;
	port_workers = n_workers;
	for (i = 0; i < lr_n_ports; i++)
		if (configure(i, a, mp, n_workers, a->ports[i].rx_queues ? a->ports[i].rx_queues : a->rx_queues, 0) != 0)
			return -1;
	return 0;
}

/* Stops port i, configures it with n RX queues, starts it; -errno on failure (the port is stopped then). */
static int
reconfigure(uint16_t i, unsigned n, uint16_t mtu)
{
	uint16_t pid = lr_port_rt[i].dpdk_id;
	int rc;

	if (lr_ports[i].started) {
		rc = rte_eth_dev_stop(pid);
		if (rc != 0)
			return rc;
		lr_ports[i].started = false;
	}
	rc = configure(i, port_args, port_pool, port_workers, n, mtu);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_start(pid);
	if (rc != 0)
		return rc;
	lr_ports[i].started = true;
	return 0;
}

int
lr_port_set_queues(uint16_t i, unsigned n, unsigned tx, struct lr_ctl_status *st)
{
	struct lr_port *p = &lr_ports[i];
	struct lr_port_rt *rt = &lr_port_rt[i];
	unsigned cur = p->rx_queues, avail, need;
	struct rte_eth_dev_info info;
	uint8_t admin;
	uint16_t mtu = 0;
	int rc, rc2;

	rc = rte_eth_dev_info_get(rt->dpdk_id, &info);
	if (rc != 0)
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "port %s: dev_info: %s", p->name, rte_strerror(-rc));
	/* TX queue i is worker i's alone (no lock on transmit; the main lcore
	 * sends through the workers' inject rings): another count would leave
	 * queues without a sender or make workers share one. */
	if (tx != 0 && tx != port_workers)
		return lr_status_set(st, LR_ERR_INVALID, 0,
				     "tx_queues: port %s has one TX queue per worker, %u (the device takes up to %u); %u is not settable",
				     p->name, port_workers, info.max_tx_queues, tx);
	if (n == 0)
		n = cur;
	if (n > LR_MAX_QUEUES || n > info.max_rx_queues)
		return lr_status_set(st, LR_ERR_INVALID, 0, "rx_queues: port %s (%s) takes 1 to %u RX queues, got %u",
				     p->name, p->driver, RTE_MIN((unsigned)info.max_rx_queues, (unsigned)LR_MAX_QUEUES), n);
	if (n == cur)
		return LR_OK;
	avail = rte_mempool_avail_count(port_pool);
	need = n > cur ? (n - cur) * port_args->rxd + 1024 : 0;
	if (avail < need)
		return lr_status_set(st, LR_ERR_NO_SPACE, 0,
				     "rx_queues: %u more RX queue(s) of %u descriptors need %u mbufs, the pool has %u free (--mbufs)",
				     n - cur, port_args->rxd, need, avail);
	rte_eth_dev_get_mtu(rt->dpdk_id, &mtu);
	/* Quiesce: nobody sends on it (up, admin_up) nor polls it; one grace period. */
	admin = rt->admin_up;
	__atomic_store_n(&rt->admin_up, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&rt->up, 0, __ATOMIC_RELAXED);
	if (lr_rxq_port_detach(i) != 0) {
		__atomic_store_n(&rt->admin_up, admin, __ATOMIC_RELAXED);
		lr_port_poll();
		return lr_status_set(st, LR_ERR_NO_SPACE, 0, "rx_queues: no memory for the workers' queue lists");
	}
	rc = reconfigure(i, n, mtu);
	if (rc != 0) {
		LR_LOG(ERR, "port %s: %u RX queues: %s; back to %u", p->name, n, rte_strerror(-rc), cur);
		rc2 = reconfigure(i, cur, mtu);
		if (rc2 != 0)
			LR_LOG(CRIT, "port %s: cannot restore %u RX queues: %s", p->name, cur, rte_strerror(-rc2));
	}
	if (lr_rxq_port_attach(i) != 0)
		LR_LOG(CRIT, "port %s: no memory to poll its queues again: it receives nothing", p->name);
	__atomic_store_n(&rt->admin_up, admin, __ATOMIC_RELAXED);
	lr_port_poll();
	if (rc != 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0, "rx_queues: port %s refused %u RX queues (%s); it has %u again",
				     p->name, n, rte_strerror(-rc), p->rx_queues);
	LR_LOG(NOTICE, "port %s: %u -> %u RX queues", p->name, cur, n);
	return LR_OK;
}

int
lr_port_start_all(void)
{
	uint16_t i;
	int rc;

	for (i = 0; i < lr_n_ports; i++) {
		rc = rte_eth_dev_start(lr_port_rt[i].dpdk_id);
		if (rc != 0) {
			LR_LOG(ERR, "port %s: start: %s", lr_ports[i].name, rte_strerror(-rc));
			return -1;
		}
		lr_ports[i].started = true;
	}
	lr_port_poll();
	return 0;
}

void
lr_port_stop_all(void)
{
	uint16_t i;

	for (i = 0; i < lr_n_ports; i++) {
		uint16_t pid = lr_port_rt[i].dpdk_id;

		if (lr_ports[i].started)
			rte_eth_dev_stop(pid);
		lr_ports[i].started = false;
		/* close releases what the PMD made: sockets, interfaces */
		rte_eth_dev_close(pid);
		lr_ports[i].configured = false;
	}
}

void
lr_port_poll(void)
{
	uint16_t i;

	for (i = 0; i < lr_n_ports; i++) {
		struct lr_port *p = &lr_ports[i];
		struct lr_port_rt *rt = &lr_port_rt[i];
		struct rte_eth_link link;
		struct rte_eth_stats s;
		struct lr_stats_port *o = lr_shm ? &lr_shm->ports[i] : NULL;

		memset(&link, 0, sizeof(link));
		if (p->started && rte_eth_link_get_nowait(rt->dpdk_id, &link) == 0) {
			p->link_up = link.link_status == RTE_ETH_LINK_UP;
			p->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
		} else {
			p->link_up = 0;
		}
		__atomic_store_n(&rt->up, (uint8_t)(p->link_up && rt->admin_up), __ATOMIC_RELAXED);
		if (o == NULL)
			continue;
		if (o->name[0] == '\0')
			snprintf(o->name, sizeof(o->name), "%s", p->name);
		if (p->started && rte_eth_stats_get(rt->dpdk_id, &s) == 0) {
			o->ipackets = s.ipackets;
			o->opackets = s.opackets;
			o->ibytes = s.ibytes;
			o->obytes = s.obytes;
			o->imissed = s.imissed;
			o->ierrors = s.ierrors;
			o->oerrors = s.oerrors;
			o->rx_nombuf = s.rx_nombuf;
		}
		o->link_up = p->link_up;
		o->speed_mbps = p->speed_mbps;
		o->rx_queues = p->rx_queues;
		o->tx_queues = p->tx_queues;
	}
	if (lr_shm != NULL)
		lr_shm->port_update_tsc = rte_rdtsc();
}

void
lr_port_stats_reset(void)
{
	uint16_t i;

	for (i = 0; i < lr_n_ports; i++)
		if (lr_ports[i].started)
			rte_eth_stats_reset(lr_port_rt[i].dpdk_id);
	lr_port_poll();
}

void
lr_port_info(uint16_t i, struct lr_port_info *o)
{
	const struct lr_port *p = &lr_ports[i];
	const struct lr_port_rt *rt = &lr_port_rt[i];

	memset(o, 0, sizeof(*o));
	o->port_id = i;
	o->rx_queues = p->rx_queues;
	o->tx_queues = p->tx_queues;
	o->mtu = rt->mtu;
	memcpy(o->mac, rt->mac.addr_bytes, 6);
	o->link_up = p->link_up;
	o->admin_up = rt->admin_up;
	o->speed_mbps = p->speed_mbps;
	o->dpdk_port_id = rt->dpdk_id;
	o->rx_offloads = p->rx_offloads;
	o->tx_offloads = p->tx_offloads;
	snprintf(o->name, sizeof(o->name), "%s", p->name);
	snprintf(o->driver, sizeof(o->driver), "%s", p->driver);
	snprintf(o->device, sizeof(o->device), "%s", p->device);
}

static uint16_t
mtu_max(const struct lr_port *p)
{
	uint16_t m = LR_MTU_LIMIT;

	if (p->max_mtu != 0 && p->max_mtu < m)
		m = p->max_mtu;
	return m;
}

static uint16_t
mtu_min(const struct lr_port *p)
{
	return p->min_mtu > RTE_ETHER_MIN_MTU ? p->min_mtu : RTE_ETHER_MIN_MTU;
}

int
lr_port_set_batch(const struct lr_port_set *s, uint32_t n, struct lr_ctl_status *st)
{
	uint16_t old_mtu[LR_MAX_PORTS];
	uint32_t i, j;
	int rc;

	for (i = 0; i < n; i++) {
		const struct lr_port *p;

		if (s[i].port_id >= lr_n_ports)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "ports[%u].port_id: no port %u",
					     i, s[i].port_id);
		p = &lr_ports[s[i].port_id];
		if (s[i].admin_up != 0 && s[i].admin_up != 1 && s[i].admin_up != 0xff)
			return lr_status_set(st, LR_ERR_INVALID, i,
					     "ports[%u].admin_up: must be 0, 1 or 255, got %u", i, s[i].admin_up);
		if (s[i].mtu != 0 && (s[i].mtu < mtu_min(p) || s[i].mtu > mtu_max(p)))
			return lr_status_set(st, LR_ERR_INVALID, i,
					     "ports[%u].mtu: port %s takes %u to %u, got %u", i, p->name,
					     mtu_min(p), mtu_max(p), s[i].mtu);
		for (j = 0; j < i; j++)
			if (s[j].port_id == s[i].port_id)
				return lr_status_set(st, LR_ERR_INVALID, i,
						     "ports[%u]: port %u appears earlier in the same batch",
						     i, s[i].port_id);
	}
	for (i = 0; i < lr_n_ports; i++)
		old_mtu[i] = lr_port_rt[i].mtu;
	/* The device MTU where the PMD supports it; the software check on
	 * output applies in any case. */
	for (i = 0; i < n; i++) {
		if (s[i].mtu == 0 || s[i].mtu == old_mtu[s[i].port_id])
			continue;
		rc = rte_eth_dev_set_mtu(lr_port_rt[s[i].port_id].dpdk_id, s[i].mtu);
		if (rc != 0 && rc != -ENOTSUP) {
			for (j = 0; j < i; j++)
				if (s[j].mtu != 0)
					rte_eth_dev_set_mtu(lr_port_rt[s[j].port_id].dpdk_id,
							    old_mtu[s[j].port_id]);
			return lr_status_set(st, LR_ERR_INVALID, i, "ports[%u].mtu: device refused %u: %s",
					     i, s[i].mtu, rte_strerror(-rc));
		}
	}
	for (i = 0; i < n; i++) {
		struct lr_port_rt *rt = &lr_port_rt[s[i].port_id];

		if (s[i].mtu != 0)
			__atomic_store_n(&rt->mtu, s[i].mtu, __ATOMIC_RELAXED);
		if (s[i].admin_up != 0xff)
			__atomic_store_n(&rt->admin_up, s[i].admin_up, __ATOMIC_RELAXED);
	}
	lr_port_poll();
	return LR_OK;
}

/* ---- control messages ---- */

static int
port_list_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	      struct lr_ctl_status *st)
{
	uint16_t i;

	(void)h;
	(void)st;
	for (i = 0; i < lr_n_ports; i++)
		lr_port_info(i, (struct lr_port_info *)out + i);
	*count = lr_n_ports;
	*payload = sizeof(struct lr_port_info) * lr_n_ports;
	return LR_OK;
}

static int
port_set_msg(const void *entries, uint32_t n, struct lr_ctl_status *st)
{
	return lr_port_set_batch(entries, n, st);
}

static const struct lr_ctl_handler port_list_handler = {
	.type = LR_CTL_PORT_LIST, .shape = LR_CTL_CALL,
	.reply_max = sizeof(struct lr_port_info) * LR_MAX_PORTS, .call = port_list_msg,
};
LR_CTL_REGISTER(port_list_handler)

static const struct lr_ctl_handler port_set_handler = {
	.type = LR_CTL_PORT_SET, .shape = LR_CTL_BATCH, .what = "ports",
	.entry_size = sizeof(struct lr_port_set), .batch = port_set_msg,
};
LR_CTL_REGISTER(port_set_handler)
