/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Ports: probing (rte_dev_probe), configuration (queues, RSS, only the
 * offloads the device reports), start/stop, PORT_LIST / PORT_SET, and the
 * periodic device stats / link refresh into the stats memory.
 *
 * lr_port_rt[] is the per-port state the workers read (MAC, MTU, up);
 * the main lcore updates its fields with single stores.
 */
#ifndef LR_PORT_H
#define LR_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#include "args.h"
#include "lr_ctl.h"

#define LR_SRC_CHECK_OWN    0x1  /**< drop sources that are our own addresses */
#define LR_SRC_CHECK_LOOSE  0x2  /**< RFC 3704 loose RPF */
#define LR_SRC_CHECK_STRICT 0x4  /**< RFC 3704 strict RPF */

/** Read by workers. */
struct lr_port_rt {
	struct rte_ether_addr mac;
	uint16_t dpdk_id;
	uint16_t mtu;        /**< L3 MTU enforced on output */
	uint8_t up;          /**< admin up and link up: may transmit */
	uint8_t admin_up;    /**< may receive */
	uint8_t parse_flags; /**< LR_PARSE_* */
	uint8_t src_check;   /**< LR_SRC_CHECK_* : source lookups ip-lookup makes */
};

struct lr_port {
	char name[LR_NAME_LEN];
	char device[LR_DEVICE_LEN];
	char driver[LR_NAME_LEN];
	uint16_t rx_queues, tx_queues;
	uint16_t min_mtu, max_mtu;
	uint64_t rx_offloads, tx_offloads;
	uint64_t rss_hf;     /**< RSS hash fields set with RSS_CONF (RTE_ETH_RSS_*); 0 = the default */
	uint8_t link_up;
	uint32_t speed_mbps;
	bool configured, started;
};

extern struct lr_port_rt lr_port_rt[LR_MAX_PORTS];
extern struct lr_port lr_ports[LR_MAX_PORTS];
extern uint16_t lr_n_ports;

/** Probes every --port and reads its capabilities. */
int lr_port_probe_all(const struct lr_args *a);

/**
 * Sizes the mbuf pool for these ports (when --mbufs is not given);
 * held_per_worker: mbufs a worker's rings may hold besides its queues.
 */
uint32_t lr_port_pool_size(const struct lr_args *a, unsigned n_workers, uint32_t held_per_worker);

/** Configures queues (tx_queues = n_workers) and offloads. */
int lr_port_configure_all(const struct lr_args *a, struct rte_mempool *mp, unsigned n_workers);

int lr_port_start_all(void);
void lr_port_stop_all(void);

/** Refreshes link state and lr_shm->ports[] (about every 100 ms). */
void lr_port_poll(void);

/** Zeroes the device counters. */
void lr_port_stats_reset(void);

void lr_port_info(uint16_t i, struct lr_port_info *out);

/** PORT_SET, all-or-nothing. @return enum lr_status. */
int lr_port_set_batch(const struct lr_port_set *s, uint32_t n, struct lr_ctl_status *st);

/**
 * Main lcore: gives port i n RX queues (0: as many as now) while the other
 * ports keep forwarding. The port is quiesced (no worker polls or sends on
 * it, one grace period), stopped, configured with n RX queues and started;
 * the new queues join the queue map (core/rxq.c); its RSS hash fields are
 * configured again. A device that refuses gets its previous queues back.
 * tx: 0, or the TX queue count asked for, which must be the worker count
 * (TX queue i belongs to worker i). @return enum lr_status (st filled on error).
 */
int lr_port_set_queues(uint16_t i, unsigned n, unsigned tx, struct lr_ctl_status *st);

/** The RSS hash fields linerate configures by default: ip, tcp and udp, as far as the device supports them. */
uint64_t lr_port_rss_default(const struct rte_eth_dev_info *info);

/**
 * The RSS hash fields port i is configured with: those set with RSS_CONF
 * (lr_port.rss_hf), else the default, within the device's support.
 */
uint64_t lr_port_rss_hf(uint16_t i, const struct rte_eth_dev_info *info);

#endif /* LR_PORT_H */
