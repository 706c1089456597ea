/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * linerate control protocol: messages exchanged over the dataplane's unix
 * stream socket (served by the main lcore).
 *
 * Framing: every message starts with struct lr_ctl_hdr; hdr.len is the size
 * of the whole message (header included) and hdr.count the number of fixed
 * size entries that follow the header (requests) or the struct
 * lr_ctl_status (replies). All integers are host byte order (the socket
 * never leaves the machine); addresses are network byte order, IPv4 in the
 * first 4 bytes of a 16-byte field.
 *
 * Exchange: the client sends one request and reads one reply; replies carry
 * the request's seq and type | LR_CTL_REPLY. The first request on a
 * connection must be LR_CTL_HELLO with version LR_CTL_VERSION; anything else
 * gets LR_ERR_PRECONDITION and the connection is closed.
 *
 * Batches (*_BATCH) are all-or-nothing: the dataplane validates every entry,
 * applies them to a shadow copy of the table and publishes it with one
 * pointer swap (RCU), so readers see either none or all of the batch. On
 * failure status.index names the first failing entry and nothing changed.
 */
#ifndef LR_CTL_H
#define LR_CTL_H

#include <stdint.h>
#include "lr_common.h"
#include "lr_flow.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_CTL_MAGIC     0x4c524354u /* "LRCT" */
#define LR_CTL_VERSION   1
#define LR_CTL_MAX_BATCH 65536       /**< entries in one batch request */
#define LR_CTL_MAX_DUMP  4096        /**< entries in one dump reply */
#define LR_CTL_MAX_MSG   (32u << 20) /**< bytes in one message */
#define LR_CTL_MSG_LEN   192         /**< status message, NUL included */

/** Message types. A reply has the request's type | LR_CTL_REPLY. */
enum lr_ctl_type {
	LR_CTL_HELLO = 1,        /**< req: lr_ctl_hello_req; rep: lr_ctl_hello_rep */
	LR_CTL_PORT_LIST = 2,    /**< req: -; rep: count x lr_port_info */
	LR_CTL_ADDR_BATCH = 3,   /**< req: count x lr_addr; rep: - */
	LR_CTL_ADDR_DUMP = 4,    /**< req: -; rep: count x lr_addr (op = ADD) */
	LR_CTL_ROUTE_BATCH = 5,  /**< req: count x lr_route; rep: - */
	LR_CTL_ROUTE_DUMP = 6,   /**< req: lr_ctl_dump_req; rep: lr_ctl_dump_rep + count x lr_route */
	LR_CTL_NEIGH_BATCH = 7,  /**< req: count x lr_neigh; rep: - */
	LR_CTL_NEIGH_DUMP = 8,   /**< req: lr_ctl_dump_req; rep: lr_ctl_dump_rep + count x lr_neigh */
	LR_CTL_STATS_CLEAR = 9,  /**< req: -; rep: - (zeroes software counters) */
	LR_CTL_PORT_SET = 10,    /**< req: count x lr_port_set; rep: - (admin state, MTU) */
	LR_CTL_FLOW_BATCH = 11,  /**< req: count x lr_flow (lr_flow.h); rep: - */
	LR_CTL_FLOW_DUMP = 12,   /**< req: lr_ctl_dump_req; rep: lr_ctl_dump_rep + count x lr_flow (with counters) */
	LR_CTL_FLOW_STATS = 13,  /**< req: -; rep: 1 x lr_flow_stats */
	LR_CTL_CAPTURE_START = 14, /**< req: lr_capture_start; rep: lr_capture_info */
	LR_CTL_CAPTURE_STOP = 15,  /**< req: -; rep: lr_capture_info (final counts; idle: the last capture's) */
	LR_CTL_CAPTURE_INFO = 16,  /**< req: -; rep: lr_capture_info */
	/* UPF (lr_upf.h): 20..29 */
	LR_CTL_UPF_SESSION_BATCH = 20, /**< req: count x lr_upf_session; rep: count x lr_upf_result */
	LR_CTL_UPF_SESSION_READ = 21,  /**< req: 1 x uint64_t seid; rep: 1 x lr_upf_session (counters) */
	LR_CTL_UPF_SESSION_DUMP = 22,  /**< req: lr_ctl_dump_req; rep: lr_ctl_dump_rep + count x lr_upf_session */
	LR_CTL_UPF_CONFIG = 23,        /**< req: lr_upf_config; rep: lr_upf_config */
	LR_CTL_UPF_STATS = 24,         /**< req: -; rep: 1 x lr_upf_stats */
	LR_CTL_UPF_SESSION_WRITE = 25, /**< req: count x lr_upf_session; rep: - (all or nothing, status.index) */
	/* 30..39: queues, cores (issue 11) */
	LR_CTL_QUEUE_MAP = 30,     /**< req: -; rep: count x lr_queue_entry, port-major */
	LR_CTL_QUEUE_MOVE = 31,    /**< req: count x lr_queue_move; rep: - (all-or-nothing) */
	LR_CTL_RETA_GET = 32,      /**< req: lr_reta (port_id); rep: lr_reta (the device's table) */
	LR_CTL_RETA_SET = 33,      /**< req: lr_reta (masked entries); rep: lr_reta (read back) */
	LR_CTL_PORT_QUEUES = 34,   /**< req: 1 x lr_port_queues; rep: - (that port restarted, the others forward) */
	LR_CTL_RSS_CONF = 35,      /**< req: lr_rss_conf (set = 1: write rss_hf); rep: lr_rss_conf (read back) */
	LR_CTL_REPLY = 0x8000,
};

/** Batch operations. */
enum lr_ctl_op {
	LR_OP_ADD = 1,     /**< ALREADY_EXISTS if present */
	LR_OP_DEL = 2,     /**< NOT_FOUND if absent; only the key is read */
	LR_OP_REPLACE = 3, /**< add or overwrite */
};

struct lr_ctl_hdr {
	uint32_t magic;   /**< LR_CTL_MAGIC */
	uint16_t version; /**< LR_CTL_VERSION */
	uint16_t type;    /**< enum lr_ctl_type */
	uint32_t seq;     /**< echoed in the reply */
	uint32_t len;     /**< whole message in bytes, header included */
	uint32_t count;   /**< entries after the header (request) or status (reply) */
	uint32_t flags;   /**< reserved, 0 */
};

/** First thing after the header in every reply. */
struct lr_ctl_status {
	int32_t code;                /**< enum lr_status */
	uint32_t index;              /**< failing entry of a batch, else 0 */
	char msg[LR_CTL_MSG_LEN];    /**< human readable, names the field */
};

struct lr_ctl_hello_req {
	char client[LR_NAME_LEN];
};

struct lr_ctl_hello_rep {
	uint32_t version;            /**< LR_CTL_VERSION */
	uint32_t pid;
	uint64_t boot_id;            /**< random per dataplane start: detects restarts */
	uint64_t start_time_ns;      /**< CLOCK_REALTIME at start */
	uint32_t n_ports;
	uint32_t n_workers;
	char stats_path[LR_PATH_LEN]; /**< file to mmap read-only: struct lr_stats_shm */
	char name[LR_NAME_LEN];      /**< instance name */
};

struct lr_port_info {
	uint16_t port_id;            /**< index used by every other message */
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t mtu;
	uint8_t mac[6];
	uint8_t link_up;
	uint8_t admin_up;
	uint32_t speed_mbps;         /**< 0 when unknown */
	uint32_t dpdk_port_id;       /**< rte_ethdev port id */
	uint64_t rx_offloads;        /**< offloads in use (RTE_ETH_RX_OFFLOAD_*) */
	uint64_t tx_offloads;
	char name[LR_NAME_LEN];      /**< operator's name, e.g. "p0" */
	char driver[LR_NAME_LEN];    /**< e.g. "net_af_packet" */
	char device[LR_DEVICE_LEN];
};

struct lr_port_set {
	uint16_t port_id;
	uint16_t mtu;                /**< 0 = unchanged */
	uint8_t admin_up;            /**< 0 down, 1 up, 0xff unchanged */
	uint8_t pad[3];
};

/*
 * Packet capture (dataplane/src/obs/capture.c): one at a time. The workers
 * copy the matching frames (rte_pcapng_copy) into a bounded ring, within a
 * rate cap; the main lcore writes them to `path` as pcapng. A full ring or
 * the cap costs the capture frames (counted), never the forwarded ones.
 */
#define LR_CAPTURE_FILTER_LEN 256
#define LR_CAPTURE_ANY_QUEUE  0xffff  /**< lr_capture_start.queue: every queue */
#define LR_CAPTURE_NO_DROP    0xff    /**< lr_capture_start.drop_reason: capture traffic, not drops */
#define LR_CAPTURE_SNAPLEN_MAX 65535
#define LR_CAPTURE_RATE_DEFAULT 10000 /**< frames per second, all workers */
#define LR_CAPTURE_RATE_MAX   1000000

enum lr_capture_dir {
	LR_CAPTURE_RX = 1,            /**< as received, before any stage */
	LR_CAPTURE_TX = 2,            /**< as sent, rewritten */
};

struct lr_capture_start {
	uint16_t port_id;             /**< linerate port index */
	uint16_t queue;               /**< RX queue (TX: the worker's queue), LR_CAPTURE_ANY_QUEUE */
	uint8_t dirs;                 /**< lr_capture_dir bits; 0 with a drop_reason */
	uint8_t drop_reason;          /**< enum lr_drop_reason: capture the frames it dropped; LR_CAPTURE_NO_DROP */
	uint16_t pad;
	uint32_t snaplen;             /**< bytes kept per frame, 0 = LR_CAPTURE_SNAPLEN_MAX */
	uint32_t rate;                /**< frames per second cap, 0 = LR_CAPTURE_RATE_DEFAULT */
	uint64_t count;               /**< stop after this many frames written, 0 = until CAPTURE_STOP */
	char filter[LR_CAPTURE_FILTER_LEN]; /**< tcpdump (pcap-filter) expression, "" = every frame */
	char path[LR_PATH_LEN];       /**< pcapng file to create (must not exist), owned by --ctl-uid */
};

enum lr_capture_state {
	LR_CAPTURE_IDLE = 0,          /**< none ever started */
	LR_CAPTURE_RUNNING = 1,
	LR_CAPTURE_DONE = 2,          /**< count reached or stopped: the file is complete and closed */
};

struct lr_capture_info {
	uint32_t state;               /**< enum lr_capture_state */
	uint32_t id;                  /**< of the capture, 1 for the first */
	uint64_t written;             /**< frames in the file */
	uint64_t matched;             /**< frames copied by the workers (filter passed) */
	uint64_t ring_full;           /**< matching frames not captured: ring or copy pool full */
	uint64_t rate_limited;        /**< matching frames not captured: over the rate cap */
};

/*
 * The (port, RX queue) -> worker map (dataplane/src/core/rxq.c). Each
 * worker polls the queues of its own RCU-published list. A move takes a
 * queue out of its worker's list, waits a grace period (the old worker
 * polls it no more), then adds it to the new worker's list: a queue is
 * never polled by two workers at once, and is without a poller only for
 * that grace period (its frames wait in the device's descriptors).
 */
struct lr_queue_entry {
	uint16_t port_id;             /**< linerate port index */
	uint16_t queue;               /**< RX queue */
	uint16_t worker;              /**< polling worker index */
	uint16_t lcore;               /**< its EAL lcore */
	uint32_t version;             /**< map version: 1 at start, +1 per applied move batch */
	uint32_t moves;               /**< times this queue was moved */
	uint64_t last_move_ns;        /**< the last batch's request-to-live time (both grace periods) */
};

/**
 * A port's new RX queue count: the port is quiesced, stopped, reconfigured
 * and started; a refusal restores the old count. TX queues are one per
 * worker (TX queue i = worker i, its only sender: no lock on transmit; the
 * main lcore sends through the workers' inject rings), so tx_queues can
 * only name that count.
 */
struct lr_port_queues {
	uint16_t port_id;
	uint16_t rx_queues;           /**< 1 .. the device's max_rx_queues (LR_MAX_QUEUES at most); 0 = unchanged */
	uint16_t tx_queues;           /**< 0 = unchanged; else must be the worker count (INVALID otherwise) */
	uint16_t pad;
};

struct lr_queue_move {
	uint16_t port_id;
	uint16_t queue;
	uint16_t worker;              /**< new worker index (its current one: no change) */
	uint16_t pad;
};

/*
 * The RSS redirection table (RETA) of a port (dataplane/src/port/reta.c),
 * in the device's layout: reta_size entries in groups of 64
 * (rte_eth_rss_reta_entry64), each group with a mask of the entries a SET
 * writes. Entry i is groups[i / 64].queues[i % 64]: the RX queue a packet
 * whose RSS hash % reta_size is i goes to. Every message carries the
 * device's reta_size; a SET must name it.
 */
#define LR_RETA_GROUP    64
#define LR_RETA_MAX      2048  /**< entries: the largest table we handle (ice) */
#define LR_RETA_GROUPS   (LR_RETA_MAX / LR_RETA_GROUP)

struct lr_reta_group {
	uint64_t mask;                /**< bit j: queues[j] is set (SET) / valid (GET) */
	uint16_t queues[LR_RETA_GROUP];
};

struct lr_reta {
	uint16_t port_id;
	uint16_t reta_size;           /**< the device's table size (0: it has none) */
	uint16_t rx_queues;           /**< the port's RX queues: every entry is below */
	uint16_t pad;
	struct lr_reta_group groups[LR_RETA_GROUPS]; /**< reta_size / 64 of them used */
};

/*
 * The RSS hash fields of a port (dataplane/src/port/reta.c): DPDK's rss_hf
 * bits (rte_eth_rss_conf, RTE_ETH_RSS_*), named as testpmd's `port config
 * all rss <types>` names them. X(sym, "name", bit): RTE_ETH_RSS_<sym> is
 * 1 << bit (checked at build time where DPDK's headers are included).
 * LR_RSS_GROUPS are DPDK's unions (RTE_ETH_RSS_IP, _TCP ...): asked for,
 * a group means the part of it the device supports.
 */
#define LR_RSS_FIELDS(X) \
	X(IPV4, "ipv4", 2) X(FRAG_IPV4, "ipv4-frag", 3) X(NONFRAG_IPV4_TCP, "ipv4-tcp", 4) \
	X(NONFRAG_IPV4_UDP, "ipv4-udp", 5) X(NONFRAG_IPV4_SCTP, "ipv4-sctp", 6) \
	X(NONFRAG_IPV4_OTHER, "ipv4-other", 7) X(IPV6, "ipv6", 8) X(FRAG_IPV6, "ipv6-frag", 9) \
	X(NONFRAG_IPV6_TCP, "ipv6-tcp", 10) X(NONFRAG_IPV6_UDP, "ipv6-udp", 11) \
	X(NONFRAG_IPV6_SCTP, "ipv6-sctp", 12) X(NONFRAG_IPV6_OTHER, "ipv6-other", 13) \
	X(L2_PAYLOAD, "l2-payload", 14) X(IPV6_EX, "ipv6-ex", 15) X(IPV6_TCP_EX, "ipv6-tcp-ex", 16) \
	X(IPV6_UDP_EX, "ipv6-udp-ex", 17) X(PORT, "port", 18) X(VXLAN, "vxlan", 19) \
	X(GENEVE, "geneve", 20) X(NVGRE, "nvgre", 21) X(GTPU, "gtpu", 23) X(ETH, "eth", 24) \
	X(S_VLAN, "s-vlan", 25) X(C_VLAN, "c-vlan", 26) X(ESP, "esp", 27) X(AH, "ah", 28) \
	X(L2TPV3, "l2tpv3", 29) X(PFCP, "pfcp", 30) X(PPPOE, "pppoe", 31) X(ECPRI, "ecpri", 32) \
	X(MPLS, "mpls", 33) X(IPV4_CHKSUM, "ipv4-chksum", 34) X(L4_CHKSUM, "l4-chksum", 35) \
	X(L2TPV2, "l2tpv2", 36) X(L2_DST_ONLY, "l2-dst-only", 58) X(L2_SRC_ONLY, "l2-src-only", 59) \
	X(L4_DST_ONLY, "l4-dst-only", 60) X(L4_SRC_ONLY, "l4-src-only", 61) \
	X(L3_DST_ONLY, "l3-dst-only", 62) X(L3_SRC_ONLY, "l3-src-only", 63)

#define LR_RSS_B(n) (UINT64_C(1) << (n))
/** X(sym, "name", mask): RTE_ETH_RSS_<sym> == mask. */
#define LR_RSS_GROUPS(X) \
	X(IP, "ip", LR_RSS_B(2) | LR_RSS_B(3) | LR_RSS_B(7) | LR_RSS_B(8) | LR_RSS_B(9) | LR_RSS_B(13) | LR_RSS_B(15)) \
	X(TCP, "tcp", LR_RSS_B(4) | LR_RSS_B(10) | LR_RSS_B(16)) \
	X(UDP, "udp", LR_RSS_B(5) | LR_RSS_B(11) | LR_RSS_B(17)) \
	X(SCTP, "sctp", LR_RSS_B(6) | LR_RSS_B(12)) \
	X(TUNNEL, "tunnel", LR_RSS_B(19) | LR_RSS_B(20) | LR_RSS_B(21)) \
	X(VLAN, "vlan", LR_RSS_B(25) | LR_RSS_B(26))

/**
 * RSS_CONF: reads (set 0) or writes (set 1) a port's RSS hash fields with
 * rte_eth_dev_rss_hash_update, and answers with rte_eth_dev_rss_hash_conf_get
 * read back. A write is checked first: rss_hf non-zero, within the device's
 * flow_type_rss_offloads (INVALID, the first field it lacks named), and the
 * port must have RSS on (2 RX queues or more: PRECONDITION). The fields are
 * kept for the port: a later RX queue count change configures them again.
 */
struct lr_rss_conf {
	uint16_t port_id;
	uint8_t set;                  /**< 1: write rss_hf first */
	uint8_t pad;
	uint16_t rx_queues;           /**< rep: the port's RX queues */
	uint16_t pad2;
	uint64_t rss_hf;              /**< req: the fields to hash on; rep: those in force (0: RSS off) */
	uint64_t supported;           /**< rep: the device's flow_type_rss_offloads */
	uint64_t rss_hf_default;      /**< rep: what linerate configures when nothing was set (ip, tcp, udp within supported) */
};

/** An address owned by a port: answered for in ARP/ND, and its subnet is on-link. */
struct lr_addr {
	uint8_t op;                  /**< enum lr_ctl_op (ADD or DEL) */
	uint8_t family;              /**< LR_AF_INET or LR_AF_INET6 */
	uint8_t plen;                /**< subnet prefix length */
	uint8_t pad;
	uint16_t port_id;
	uint16_t pad2;
	uint8_t addr[16];
};

struct lr_next_hop {
	uint16_t port_id;            /**< output port */
	uint16_t weight;             /**< ECMP weight, 0 treated as 1 */
	uint8_t via[16];             /**< gateway; all zero = destination is on-link */
};

struct lr_route {
	uint8_t op;                  /**< enum lr_ctl_op (ignored in dumps) */
	uint8_t family;              /**< LR_AF_INET or LR_AF_INET6 */
	uint8_t plen;                /**< 0..32 or 0..128; host bits must be zero */
	uint8_t n_next_hops;         /**< 1..LR_MAX_ECMP (0 allowed for DEL) */
	uint32_t flags;              /**< LR_ROUTE_F_* (dumps only) */
	uint8_t prefix[16];
	struct lr_next_hop next_hops[LR_MAX_ECMP];
};

#define LR_ROUTE_F_CONNECTED 0x1 /**< installed by an lr_addr, not by a batch */

/** Neighbor states, lr_neigh.state. */
enum lr_neigh_state {
	LR_NEIGH_STATIC = 1,         /**< pushed by the operator; never ages */
	LR_NEIGH_LEARNED = 2,        /**< learned from ARP / NA */
	LR_NEIGH_INCOMPLETE = 3,     /**< resolution requested, no answer yet */
};

struct lr_neigh {
	uint8_t op;                  /**< enum lr_ctl_op; batches only push STATIC */
	uint8_t family;
	uint8_t state;               /**< enum lr_neigh_state (dumps) */
	uint8_t pad;
	uint16_t port_id;
	uint8_t mac[6];
	uint8_t addr[16];
	uint32_t age_s;              /**< seconds since last confirmed (dumps) */
	uint32_t pad2;
};

struct lr_ctl_dump_req {
	uint8_t family;              /**< 0 = both */
	uint8_t pad[3];
	uint32_t cursor;             /**< 0 to start; then lr_ctl_dump_rep.next */
};

struct lr_ctl_dump_rep {
	uint32_t next;               /**< cursor for the next request */
	uint32_t done;               /**< 1 when this reply holds the last entries */
};

#ifdef __cplusplus
}
#endif

#endif /* LR_CTL_H */
