/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_port: port probe, set-up and tear-down (see pg_port.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "pg_port.h"

#define PG_LOG(fmt, ...) fprintf(stderr, "linerate-pktgen: " fmt "\n", ##__VA_ARGS__)

static int
port_fill(uint16_t id, struct pg_port *port)
{
	struct rte_eth_dev_info info;
	int ret;

	port->id = id;
	if (rte_eth_dev_get_name_by_port(id, port->name) != 0)
		return -1;
	ret = rte_eth_dev_info_get(id, &info);
	if (ret != 0) {
		PG_LOG("port %s: no device info: %s", port->name, rte_strerror(-ret));
		return -1;
	}
	snprintf(port->driver, sizeof(port->driver), "%s", info.driver_name);
	return 0;
}

int
pg_port_open(const char *dev, struct pg_port *port)
{
	struct rte_dev_iterator it;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t id;
	size_t i;
	int ret;

	memset(port, 0, sizeof(*port));
	for (i = 0; dev[i] && isdigit((unsigned char)dev[i]); i++)
		;
	if (i > 0 && dev[i] == '\0') {
		unsigned long n = strtoul(dev, NULL, 10);
		if (n >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)n)) {
			PG_LOG("port %s: no such port", dev);
			return -1;
		}
		return port_fill((uint16_t)n, port);
	}
	/* the name is what comes before the first comma */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(dev, ","), dev);
	if (rte_eth_dev_get_port_by_name(name, &id) == 0)
		return port_fill(id, port);

	ret = rte_dev_probe(dev);
	if (ret != 0) {
		PG_LOG("port %s: probe failed: %s", dev, rte_strerror(-ret));
		return -1;
	}
	port->probed = true;
	RTE_ETH_FOREACH_MATCHING_DEV(id, dev, &it) {
		rte_eth_iterator_cleanup(&it);
		ret = port_fill(id, port);
		port->probed = true;
		return ret;
	}
	PG_LOG("port %s: probed, but no ethdev port matches", dev);
	return -1;
}

int
pg_port_setup(struct pg_port *port, struct rte_mempool *rx_pool,
	      uint16_t rxd, uint16_t txd, uint16_t want_rxq)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port->id, &info);
	if (ret != 0)
		return ret;
	/* request only what the device offers (memif offers no checksum offload) */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	uint16_t nb_rxq = RTE_MIN(want_rxq ? want_rxq : 1, info.max_rx_queues);
	uint16_t nb_txq = info.max_tx_queues > 0 ? 1 : 0;
	ret = rte_eth_dev_configure(port->id, nb_rxq, nb_txq, &conf);
	if (ret != 0) {
		PG_LOG("port %s: configure: %s", port->name, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port->id, &rxd, &txd);
	if (ret != 0)
		return ret;
	int socket = rte_eth_dev_socket_id(port->id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < nb_rxq; q++) {
		ret = rte_eth_rx_queue_setup(port->id, q, rxd, (unsigned)socket, NULL, rx_pool);
		if (ret != 0) {
			PG_LOG("port %s: RX queue %u: %s", port->name, q, rte_strerror(-ret));
			return ret;
		}
	}
	port->nb_rxq = nb_rxq;
	if (nb_txq) {
		txconf = info.default_txconf;
		txconf.offloads = conf.txmode.offloads;
		ret = rte_eth_tx_queue_setup(port->id, 0, txd, (unsigned)socket, &txconf);
		if (ret != 0) {
			PG_LOG("port %s: TX queue: %s", port->name, rte_strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int
pg_port_start(struct pg_port *port)
{
	int ret = rte_eth_dev_start(port->id);

	if (ret != 0) {
		PG_LOG("port %s: start: %s", port->name, rte_strerror(-ret));
		return ret;
	}
	port->started = true;
	/* not every vdev supports it (memif does not); best effort */
	(void)rte_eth_promiscuous_enable(port->id);
	ret = rte_eth_macaddr_get(port->id, &port->mac);
	if (ret != 0)
		memset(&port->mac, 0, sizeof(port->mac));
	return 0;
}

bool
pg_port_wait_link(struct pg_port *const *ports, unsigned n, uint32_t ms)
{
	uint64_t deadline = rte_get_timer_cycles() + (uint64_t)ms * rte_get_timer_hz() / 1000;

	for (;;) {
		bool all_up = true;
		for (unsigned i = 0; i < n; i++) {
			struct rte_eth_link link;
			if (rte_eth_link_get_nowait(ports[i]->id, &link) != 0 ||
			    link.link_status != RTE_ETH_LINK_UP)
				all_up = false;
		}
		if (all_up)
			return true;
		if (rte_get_timer_cycles() > deadline)
			return false;
		rte_delay_us_sleep(10000);
	}
}

void
pg_port_stop(struct pg_port *port)
{
	if (port->started)
		(void)rte_eth_dev_stop(port->id);
	port->started = false;
}

bool
pg_port_wait_down(const struct pg_port *port, uint32_t ms)
{
	uint64_t deadline = rte_get_timer_cycles() + (uint64_t)ms * rte_get_timer_hz() / 1000;

	for (;;) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(port->id, &link) != 0 ||
		    link.link_status == RTE_ETH_LINK_DOWN)
			return true;
		if (rte_get_timer_cycles() > deadline)
			return false;
		rte_delay_us_sleep(1000);
	}
}

void
pg_port_close(struct pg_port *port)
{
	struct rte_eth_dev_info info;

	pg_port_stop(port);
	if (port->probed && rte_eth_dev_info_get(port->id, &info) == 0 && info.device) {
		/* detaching the device also closes the port and, for memif,
		 * removes the socket it listens on */
		(void)rte_eth_dev_close(port->id);
		(void)rte_dev_remove(info.device);
	} else {
		(void)rte_eth_dev_close(port->id);
	}
	port->probed = false;
}
