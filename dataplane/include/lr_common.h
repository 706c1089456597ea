/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * linerate shared vocabulary: limits, status codes and drop reasons.
 *
 * This header is included by the dataplane (C11 + DPDK), by the addon (C++)
 * and, through the addon, is the source of the names the control plane
 * shows. It must stay free of DPDK headers so that the addon builds
 * without DPDK's compile flags.
 */
#ifndef LR_COMMON_H
#define LR_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LR_MAX_PORTS     16  /**< ports one dataplane drives */
#define LR_MAX_QUEUES    16  /**< RX queues per port */
#define LR_MAX_WORKERS   32  /**< worker lcores; each has one TX queue per port */
#define LR_MAX_ECMP      8   /**< next hops in one route */
#define LR_NAME_LEN      32  /**< port names, driver names (NUL included) */
#define LR_DEVICE_LEN   192 /**< device string (PCI address or vdev devargs) */
#define LR_PATH_LEN      108 /**< sun_path size */
#define LR_CACHE_LINE    64

/** Address families as they appear on the wire of the control protocol. */
#define LR_AF_INET  4
#define LR_AF_INET6 6

/**
 * Status of a control request. The values are gRPC status codes on
 * purpose: the control plane maps them one to one.
 */
enum lr_status {
	LR_OK = 0,
	LR_ERR_INVALID = 3,        /**< INVALID_ARGUMENT: malformed entry */
	LR_ERR_NOT_FOUND = 5,      /**< NOT_FOUND: delete of a missing entry, unknown port */
	LR_ERR_EXISTS = 6,         /**< ALREADY_EXISTS: add of an existing entry */
	LR_ERR_NO_SPACE = 8,       /**< RESOURCE_EXHAUSTED: table or batch full */
	LR_ERR_PRECONDITION = 9,   /**< FAILED_PRECONDITION: bad version, wrong state */
	LR_ERR_UNSUPPORTED = 12,   /**< UNIMPLEMENTED: unknown message type */
	LR_ERR_INTERNAL = 13,      /**< INTERNAL: a bug or a DPDK failure */
};

/**
 * Classes of what the IP stages punt to the main lcore, policed per port
 * (ip/police.h; config router.puntRates). X(sym, "name", default rate per
 * port per second).
 */
#define LR_PUNT_CLASSES(X) \
	X(ARP,   "arp",   1000) \
	X(ND,    "nd",    1000) \
	X(ICMP,  "icmp",  1000) \
	X(OTHER, "other", 100)

/**
 * Why a packet was dropped. X-macro: LR_DROP(symbol, "name", "help").
 * Order is ABI (it indexes counter arrays in the stats memory): append only.
 */
#define LR_DROP_REASONS(X) \
	X(TRUNCATED,      "truncated",      "frame shorter than its headers") \
	X(NOT_IP,         "not_ip",         "ethertype is neither IPv4, IPv6 nor ARP") \
	X(BAD_VERSION,    "bad_version",    "IP version field does not match the ethertype") \
	X(BAD_IHL,        "bad_ihl",        "IPv4 header length below 20 bytes or beyond the packet") \
	X(BAD_LENGTH,     "bad_length",     "IP total/payload length inconsistent with the frame") \
	X(BAD_CHECKSUM,   "bad_checksum",   "IPv4 header checksum is wrong") \
	X(BAD_ADDRESS,    "bad_address",    "source is multicast/broadcast, or destination is unspecified/loopback") \
	X(TTL_EXPIRED,    "ttl_expired",    "TTL or hop limit would reach zero") \
	X(NO_ROUTE,       "no_route",       "no route matches the destination") \
	X(NO_NEIGHBOR,    "no_neighbor",    "next hop MAC not resolved yet (resolution was requested)") \
	X(MTU_EXCEEDED,   "mtu_exceeded",   "packet larger than the output port's MTU") \
	X(TX_FULL,        "tx_full",        "output queue refused the packet") \
	X(PUNT_FULL,      "punt_full",      "slow-path ring to the main lcore was full") \
	X(LOCAL,          "local",          "addressed to the forwarder and not handled") \
	X(BAD_ARP,        "bad_arp",        "malformed or unsupported ARP") \
	X(BAD_ND,         "bad_nd",         "malformed or unsupported ICMPv6 neighbor discovery") \
	X(NOT_FOR_US,     "not_for_us",     "destination MAC is neither ours, broadcast nor multicast") \
	X(PORT_DOWN,      "port_down",      "output port is administratively or link down") \
	X(UNHANDLED,      "unhandled",      "no stage of the pipeline took the packet (a bug)") \
	X(MARTIAN_SOURCE, "martian_source", "source is 0/8, 127/8, 240/4, ::, ::1 or one of our own addresses (RFC 1812 5.3.7)") \
	X(RPF_FAILED,     "rpf_failed",     "unicast RPF: no route back to the source through the input port (RFC 3704)") \
	X(DIRECTED_BROADCAST, "directed_broadcast", "to a connected subnet's broadcast address (RFC 2644)") \
	X(FLOW_DROP,      "flow_drop",      "a flow rule's action is drop") \
	X(FLOW_METER,     "flow_meter_drop", "red under a flow rule's meter (trTCM)") \
	X(POLICED_ARP,    "policed_arp",    "ARP to the slow path over the port's policing rate") \
	X(POLICED_ND,     "policed_nd",     "neighbor discovery to the slow path over the port's policing rate") \
	X(POLICED_ICMP,   "policed_icmp",   "ICMP / ICMPv6 to our addresses over the port's policing rate") \
	X(POLICED_OTHER,  "policed_other",  "other packets to our addresses over the port's policing rate") \
	X(GTPU_BAD_LENGTH, "gtpu_bad_length", "GTP-U header or its length beyond the UDP payload") \
	X(GTPU_BAD_VERSION, "gtpu_bad_version", "GTP-U version is not 1 or PT is not 1 (GTP')") \
	X(GTPU_BAD_EXT,   "gtpu_bad_ext",   "GTP-U extension header of length 0 or beyond the packet") \
	X(GTPU_BAD_CONTAINER, "gtpu_bad_container", "PDU Session Container truncated or of an unknown PDU type (TS 38.415)") \
	X(GTPU_UNKNOWN_EXT, "gtpu_unknown_ext", "unknown GTP-U extension header marked comprehension required") \
	X(GTPU_UNSUPPORTED_TYPE, "gtpu_unsupported_type", "GTP-U message type neither G-PDU nor Echo Request") \
	X(GTPU_UNKNOWN_TEID, "gtpu_unknown_teid", "G-PDU whose (TEID, N3 address) is no session's F-TEID") \
	X(UPF_NO_PDR,     "upf_no_pdr",     "known F-TEID or UE IP, but no PDR of the session matches (QFI)") \
	X(UPF_FAR_DROP,   "upf_far_drop",   "the matching PDR's FAR drops") \
	X(UPF_BUFFER,     "upf_buffer",     "the FAR buffers: not implemented yet, dropped") \
	X(UPF_QER_GATE,   "upf_qer_gate",   "a QER's gate is closed in this direction") \
	X(UPF_QER_MBR,    "upf_qer_mbr",    "red under a QER's maximum bit rate (trTCM)") \
	X(UPF_BAD_INNER,  "upf_bad_inner",  "the G-PDU's inner packet is not a valid IP packet") \
	X(UPF_NO_HEADROOM, "upf_no_headroom", "no mbuf headroom for the outer headers")

enum lr_drop_reason {
#define LR_DROP_ENUM_(sym, name, help) LR_DROP_##sym,
	LR_DROP_REASONS(LR_DROP_ENUM_)
#undef LR_DROP_ENUM_
	LR_DROP_MAX
};

#ifdef __cplusplus
}
#endif

#endif /* LR_COMMON_H */
