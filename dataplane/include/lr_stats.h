/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * linerate stats memory: the layout of the file the dataplane publishes its
 * counters in (a tmpfs file, named in lr_ctl_hello_rep.stats_path).
 *
 * Writers: each RX queue and each (port, TX queue) belongs to exactly one
 * worker, which is the only writer of its counters (plain 64-bit stores, no
 * atomics: aligned 64-bit stores are single-copy atomic on the targets we
 * run on). The main lcore writes the port, slow-path and header fields.
 * Readers map the file read-only and sum; a snapshot is a memcpy.
 *
 * Per port totals = sum over its rxq[] / txq[]; per worker totals are in
 * workers[]. cycles/packet of a worker = busy_cycles / rx_packets.
 */
#ifndef LR_STATS_H
#define LR_STATS_H

#include <stdint.h>
#include "lr_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_STATS_MAGIC   0x4c525354u /* "LRST" */
#define LR_STATS_VERSION 6

#define LR_STATS_ALIGNED __attribute__((aligned(LR_CACHE_LINE)))

/** One RX queue of one port. Written by its owning worker only. */
struct lr_stats_rxq {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t fwd_packets;           /**< handed to a TX queue (a fragmented packet counts once) */
	uint64_t punt_packets;          /**< handed to the main lcore (ARP, ND, local, held for a neighbor) */
	uint64_t drops[LR_DROP_MAX];    /**< indexed by enum lr_drop_reason */
	int32_t worker;                 /**< owning worker index, -1 = not polled */
	uint32_t pad;
} LR_STATS_ALIGNED;

/** One TX queue of one port; TX queue i belongs to worker i. */
struct lr_stats_txq {
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped;            /**< refused by the device (also in drops[TX_FULL]) */
} LR_STATS_ALIGNED;

/** One worker lcore. */
struct lr_stats_worker {
	uint32_t lcore_id;
	uint32_t rx_queues;                 /**< (port, queue) pairs it polls */
	uint64_t polls;                 /**< loop iterations */
	uint64_t busy_polls;            /**< iterations that received >= 1 packet */
	uint64_t busy_cycles;           /**< TSC cycles spent in busy iterations */
	uint64_t idle_cycles;           /**< TSC cycles spent in empty iterations */
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t drops;                 /**< all reasons */
	uint64_t rcu_quiescent;         /**< times it reported a quiescent state */
} LR_STATS_ALIGNED;

/** Device-level view, refreshed by the main lcore (rte_eth_stats_get, link). */
struct lr_stats_port {
	char name[LR_NAME_LEN];
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;               /**< dropped by the NIC: no RX descriptor */
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;
	uint32_t link_up;
	uint32_t speed_mbps;
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint32_t pad;
} LR_STATS_ALIGNED;

/**
 * Slow-path (main lcore) counters. X-macro: X(field, "help"); the field
 * name is also the key the addon, the proto (StatsService slow_path) and
 * the CLI show, unchanged. Order is ABI: append only.
 */
#define LR_SLOW_COUNTERS(X) \
	X(punt_rx,        "punted packets taken from the workers' rings (held ones too; not the errors to answer)") \
	X(arp_request_rx, "ARP requests received") \
	X(arp_reply_rx,   "ARP replies received") \
	X(arp_request_tx, "ARP requests sent (resolutions we started)") \
	X(arp_reply_tx,   "ARP replies sent (answers for our addresses)") \
	X(nd_ns_rx,       "neighbor solicitations received") \
	X(nd_na_rx,       "neighbor advertisements received") \
	X(nd_ns_tx,       "neighbor solicitations sent") \
	X(nd_na_tx,       "neighbor advertisements sent") \
	X(icmp_echo_rx,   "ICMP / ICMPv6 echo requests to our addresses") \
	X(icmp_echo_tx,   "ICMP / ICMPv6 echo replies sent") \
	X(neigh_learned,  "neighbors learned or resolved from the wire") \
	X(neigh_refused,  "neighbor information not learned: sender outside the port's subnets, or unsolicited in replies-only mode") \
	X(neigh_evicted,  "learned / resolving neighbors evicted for a new one (per-port cap or table full)") \
	X(neigh_mac_changed, "learned neighbors whose MAC changed") \
	X(neigh_held,     "packets held while their neighbor resolves") \
	X(neigh_hold_sent, "held packets sent once their neighbor resolved") \
	X(neigh_hold_dropped, "packets not held or not sent: queue full, port down, over the MTU, entry gone") \
	X(neigh_hold_expired, "held packets whose neighbor never resolved (answered with host unreachable)") \
	X(dropped,        "punted packets dropped on the main lcore") \
	X(table_swaps,    "RCU-published table-set versions") \
	X(ctl_requests,   "control requests handled") \
	X(ctl_errors,     "control requests answered with an error") \
	X(icmp_error_tx,  "ICMP / ICMPv6 errors sent (time exceeded, unreachable, too big)") \
	X(icmp_error_limited, "ICMP / ICMPv6 errors not sent: over the per-port rate limit") \
	X(icmp_error_suppressed, "ICMP / ICMPv6 errors never sent: about an error, a fragment, a multicast or a bad source")

/** Slow path on the main lcore. */
struct lr_stats_slowpath {
#define LR_SLOW_FIELD_(field, help) uint64_t field;
	LR_SLOW_COUNTERS(LR_SLOW_FIELD_)
#undef LR_SLOW_FIELD_
} LR_STATS_ALIGNED;

struct lr_stats_shm {
	uint32_t magic;                 /**< LR_STATS_MAGIC, written last at start */
	uint32_t version;               /**< LR_STATS_VERSION */
	uint64_t size;                  /**< sizeof(struct lr_stats_shm) */
	uint64_t tsc_hz;
	uint64_t boot_id;               /**< same as lr_ctl_hello_rep.boot_id */
	uint64_t start_time_ns;
	uint64_t heartbeat_ns;          /**< CLOCK_REALTIME of the main loop's last turn */
	uint64_t port_update_tsc;       /**< when ports[] was last refreshed */
	uint32_t pid;
	uint32_t n_ports;
	uint32_t n_workers;
	uint32_t pad;
	uint64_t mbufs_size;            /**< mbufs in the packet pool */
	uint64_t mbufs_in_use;          /**< of which in use (rte_mempool_in_use_count): a leak grows this */
	struct lr_stats_slowpath slow;
	struct lr_stats_port ports[LR_MAX_PORTS];
	struct lr_stats_rxq rxq[LR_MAX_PORTS][LR_MAX_QUEUES];
	struct lr_stats_txq txq[LR_MAX_PORTS][LR_MAX_WORKERS];
	struct lr_stats_worker workers[LR_MAX_WORKERS];
} LR_STATS_ALIGNED;

#ifdef __cplusplus
}
#endif

#endif /* LR_STATS_H */
