/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_config: what one pktgen run does, as parsed from the command line
 * (pg_opts.c). Shared by the template builder, the loops and the report.
 */
#ifndef PG_CONFIG_H
#define PG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#define PG_MAX_SIZES     4    /**< distinct frame sizes (IMIX uses 3) */
#define PG_PATTERN_LEN   12   /**< IMIX send pattern: 7 x 64, 4 x 594, 1 x 1518 */
#define PG_MAX_FLOWS     (1u << 20)
#define PG_MAX_BURST     256
#define PG_DEV_LEN       256
#define PG_MIN_FRAME     64
#define PG_MAX_FRAME     1518

/** Header fields that take flow index i added to their base value. */
enum pg_vary {
	PG_VARY_SRC   = 1 << 0, /**< (inner) source address */
	PG_VARY_DST   = 1 << 1, /**< (inner) destination address */
	PG_VARY_SPORT = 1 << 2, /**< (inner) UDP source port */
	PG_VARY_DPORT = 1 << 3, /**< (inner) UDP destination port */
	PG_VARY_TEID  = 1 << 4, /**< GTP-U TEID */
};

/** How the generated packets look. Addresses in network byte order. */
struct pg_pkt_cfg {
	uint16_t sizes[PG_MAX_SIZES];    /**< frame sizes, FCS included */
	uint16_t nb_sizes;
	uint8_t pattern[PG_PATTERN_LEN]; /**< indexes into sizes, in send order */
	uint16_t pattern_len;
	bool imix;
	bool ipv6;                       /**< (inner) IP is IPv6 */
	bool gtpu;                       /**< outer IPv4/UDP 2152/GTP-U */
	uint32_t teid;
	int qfi;                         /**< -1: no PDU session container */
	struct rte_ether_addr src_mac, dst_mac;
	bool src_mac_set, dst_mac_set;
	uint8_t src[16], dst[16];        /**< IPv4 uses the first 4 bytes */
	uint8_t outer_src[4], outer_dst[4];
	uint16_t sport, dport;
	uint32_t flows;
	uint32_t vary;                   /**< enum pg_vary bits */
};

struct pg_config {
	char tx_dev[PG_DEV_LEN];         /**< "" = receive only */
	char rx_dev[PG_DEV_LEN];         /**< "" = transmit only */
	struct pg_pkt_cfg pkt;
	double rate_pps;                 /**< 0 = as fast as possible */
	double rate_pct, link_gbps;      /**< --rate-pct P --link-gbps G, turned into rate_pps */
	double duration_s;               /**< steady window; 0 = until count */
	double warmup_s;
	uint64_t count;                  /**< packets to send (rx only: to receive); 0 = no limit */
	uint16_t burst;
	uint16_t rx_queues;              /**< RX queues of the RX port, polled round-robin (default 1) */
	bool retry;                      /**< closed loop: retry refused packets */
	bool json;
	uint32_t progress_ms;            /**< 0 = no progress lines */
	uint32_t drain_ms;               /**< wait for in-flight packets after TX stops */
	uint32_t link_wait_ms;
	uint32_t start_delay_ms;         /**< idle time between link up and the first packet */
	uint16_t rxd, txd;
	uint32_t pool_size;
};

/**
 * Parses the application arguments (after EAL's). Prints a message and
 * returns -1 on error; 1 when --help was printed.
 */
int pg_opts_parse(struct pg_config *cfg, int argc, char **argv);

/** Mean frame size (FCS included) of the configured size pattern. */
double pg_cfg_mean_frame(const struct pg_pkt_cfg *pkt);

#endif /* PG_CONFIG_H */
