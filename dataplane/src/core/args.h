/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Command line of linerate-dp (the options after the EAL's "--").
 * Owns struct lr_args and its parser; pure (no DPDK calls), unit-tested.
 */
#ifndef LR_ARGS_H
#define LR_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include "lr_common.h"

#define LR_BURST_MAX 64

/** Unicast reverse-path forwarding check of a port (RFC 3704). */
enum lr_rpf {
	LR_RPF_OFF = 0,
	LR_RPF_LOOSE,              /**< some route leads back to the source */
	LR_RPF_STRICT,             /**< the route back leaves through the input port */
};

struct lr_args_port {
	char name[LR_NAME_LEN];
	char device[LR_DEVICE_LEN];
	uint16_t rx_queues;        /**< 0 = use lr_args.rx_queues */
	uint8_t rpf;               /**< enum lr_rpf */
	uint8_t has_mac;           /**< mac set: make it the device's default MAC */
	uint8_t mac[6];
};

#define LR_NEIGH_HOLD_MAX 256  /**< most --neigh-hold allows (Linux's unres_qlen is 101) */

struct lr_args {
	char name[LR_NAME_LEN];
	char ctl_path[LR_PATH_LEN];
	char stats_path[LR_PATH_LEN];
	unsigned n_ports;
	struct lr_args_port ports[LR_MAX_PORTS];
	uint16_t rx_queues;        /**< RX queues per port (before clamping) */
	uint16_t rxd, txd;
	uint32_t mbufs;            /**< 0 = sized from ports and queues */
	uint16_t burst;
	uint32_t idle_sleep_us;
	uint32_t routes4;          /**< IPv4 FIB capacity (rules) */
	uint32_t routes6;          /**< IPv6 FIB capacity (rules) */
	uint32_t neighbors;        /**< neighbor table capacity */
	uint32_t neigh_port_max;   /**< learned + INCOMPLETE entries per port, 0 = neighbors / 4 (>= 64) */
	uint32_t neigh_hold;       /**< packets held per INCOMPLETE neighbor, 0 = none */
	uint8_t neigh_replies_only; /**< learn only from answers to our requests */
	uint32_t flows;            /**< wildcard flow rules (rte_acl) */
	uint32_t flows_exact;      /**< exact-match flows (rte_hash) */
	uint8_t allow_class_e;     /**< forward IPv4 sources in 240/4 */
	uint8_t drop_own_source;   /**< drop sources that are our own addresses */
	uint32_t icmp_rate;        /**< ICMP errors per second per port, 0 = none */
	uint32_t punt_rate[8];     /**< per port per second, by LR_PUNT_CLASSES order; 0 = not policed */
	uint32_t ctl_uid;          /**< control plane's uid (socket and stats owner), default 0 */
	int64_t ctl_gid;           /**< group given the socket (0660) and stats (0640), -1 = none */
	uint32_t ctl_timeout_ms;   /**< HELLO, half-sent message, unread replies (default 5000) */
	uint32_t ctl_idle_s;       /**< idle clients other than ctl_uid closed (default 300, 0 = never) */
};

/**
 * Parses argv[0..argc) (argv[0] is the program name, getopt style).
 * @return 0 ok, 1 help requested (usage not printed), -1 error (err set).
 */
int lr_args_parse(int argc, char **argv, struct lr_args *a, char *err, size_t errlen);

/** Prints the option summary. */
void lr_args_usage(const char *prog, void *stream);

#endif /* LR_ARGS_H */
