/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_port: opening, configuring and reading the counters of the ports
 * pktgen drives (one RX and one TX queue each).
 */
#ifndef PG_PORT_H
#define PG_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

struct pg_port {
	uint16_t id;
	bool probed;  /**< we probed it (rte_dev_probe) and remove it at exit */
	bool started;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[32];
	struct rte_ether_addr mac;
	uint16_t nb_rxq;  /**< RX queues set up (polled round-robin) */
};

/**
 * Finds or probes the port named by @p dev: a port number, the name of an
 * already probed port (e.g. given to EAL with --vdev) or device arguments
 * for rte_dev_probe() (PCI address or vdev string). 0 or -1 (logged).
 */
int pg_port_open(const char *dev, struct pg_port *port);

/**
 * @p nb_rxq RX queues (at most what the device has; a memif client creates
 * as many server-to-client rings, so that each of a forwarder's TX queues
 * reaches it) fed from @p rx_pool and one TX queue; promiscuous when the
 * device allows it (so that a NIC receives whatever MAC the forwarder
 * writes). TX fast-free is used where offered: pktgen's TX mbufs come from
 * one pool and are never shared.
 */
int pg_port_setup(struct pg_port *port, struct rte_mempool *rx_pool,
		  uint16_t rxd, uint16_t txd, uint16_t nb_rxq);

int pg_port_start(struct pg_port *port);

/** Waits up to @p ms for link up on every port; false on timeout. */
bool pg_port_wait_link(struct pg_port *const *ports, unsigned n, uint32_t ms);

/** Stops the port (no more traffic; a memif peer sees the link go down). */
void pg_port_stop(struct pg_port *port);

/** Waits up to @p ms for the link of @p port to go down; false on timeout. */
bool pg_port_wait_down(const struct pg_port *port, uint32_t ms);

/** Stops (if needed), closes and, if we probed it, detaches the device. */
void pg_port_close(struct pg_port *port);

#endif /* PG_PORT_H */
