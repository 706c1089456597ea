/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * UPF user plane: the contract of the `upf` stage's sessions (TS 29.244
 * semantics: PDR, FAR, QER, URR with ids local to their session) shared by
 * the dataplane (src/upf/) and the addon. Written by the control plane
 * through LR_CTL_UPF_SESSION_BATCH and LR_CTL_UPF_CONFIG, read back with
 * LR_CTL_UPF_SESSION_READ / _DUMP (URR counters filled) and LR_CTL_UPF_STATS.
 *
 * Wire (TS 29.281): G-PDUs over UDP 2152 to the N3 address on an ACCESS
 * port are matched by local F-TEID (TEID, N3 address) and, optionally, the
 * QFI of their PDU Session Container (TS 38.415); packets on a CORE port
 * to a UE IP are matched by UE IP. Among a key's PDRs the lowest
 * precedence value that matches wins (as PFCP). The FAR drops, forwards
 * (uplink: outer IPv4/UDP/GTP-U removed, the inner packet routed;
 * downlink: outer IPv4/UDP/GTP-U with a DL PDU Session Container created,
 * source the N3 address, then routed) or buffers (not implemented yet:
 * counted as upf_buffer drops). QERs gate and meter (trTCM, rte_meter) per
 * direction; URRs count per direction, exactly, the packets FORWARDED and
 * the bytes of their inner (UE) IP packet.
 *
 * Addresses are network byte order (IPv4 in the first 4 bytes); TEIDs,
 * ids and everything else host byte order.
 */
#ifndef LR_UPF_H
#define LR_UPF_H

#include <stdint.h>

#include "lr_common.h"
#include "lr_ctl.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_UPF_MAX_PDR     8      /**< PDRs in one session */
#define LR_UPF_MAX_FAR     8
#define LR_UPF_MAX_QER     4
#define LR_UPF_MAX_URR     4
#define LR_UPF_PDR_QERS    2      /**< QERs one PDR names */
#define LR_UPF_PDR_URRS    2      /**< URRs one PDR names */
#define LR_UPF_SESSIONS    4096   /**< sessions one dataplane holds */
#define LR_UPF_BATCH_MAX   1024   /**< sessions in one SESSION_BATCH */
#define LR_UPF_GTPU_PORT   2152
#define LR_UPF_ANY_QFI     0xff   /**< lr_upf_pdr.qfi: any (or no) QFI */
#define LR_UPF_QFI_MAX     63

/** Interfaces (PFCP source / destination interface), also port roles. */
enum lr_upf_iface {
	LR_UPF_IF_NONE = 0,    /**< port: not part of the UPF */
	LR_UPF_ACCESS = 1,     /**< N3, towards the gNBs */
	LR_UPF_CORE = 2,       /**< N6, towards the data network */
};

/** FAR apply action. */
enum lr_upf_action {
	LR_UPF_DROP = 1,
	LR_UPF_FORWARD = 2,
	LR_UPF_BUFFER = 3,     /**< not implemented yet: counted drop (upf_buffer) */
};

/** Session operations (lr_upf_session.op). */
enum lr_upf_op {
	LR_UPF_CREATE = 1,
	LR_UPF_DELETE = 2,     /**< only seid is read */
	LR_UPF_MODIFY = 3,     /**< the session's rules are replaced as given; URR counters
				    of ids kept at the same position are kept */
};

#define LR_UPF_GATE_OPEN   0
#define LR_UPF_GATE_CLOSED 1

/** Packet Detection Rule. */
struct lr_upf_pdr {
	uint16_t id;                 /**< unique in the session */
	uint8_t source_interface;    /**< ACCESS: matched by F-TEID; CORE: by UE IP */
	uint8_t qfi;                 /**< ACCESS: 0..63 or LR_UPF_ANY_QFI; CORE: ANY */
	uint32_t precedence;         /**< lower wins */
	uint32_t teid;               /**< ACCESS: local F-TEID TEID, not 0 */
	uint8_t n3_addr[4];          /**< ACCESS: local F-TEID IPv4 address */
	uint8_t ue_family;           /**< CORE: LR_AF_INET or LR_AF_INET6 */
	uint8_t outer_header_removal;/**< ACCESS: 1 (GTP-U/UDP/IPv4 removed); CORE: 0 */
	uint8_t n_qers;              /**< 0..LR_UPF_PDR_QERS */
	uint8_t n_urrs;              /**< 0..LR_UPF_PDR_URRS */
	uint8_t ue_addr[16];         /**< CORE: the UE IP */
	uint16_t far_id;             /**< a FAR of the session */
	uint16_t qer_ids[LR_UPF_PDR_QERS];
	uint16_t urr_ids[LR_UPF_PDR_URRS];
	uint16_t pad;
};

/** Forwarding Action Rule. */
struct lr_upf_far {
	uint16_t id;
	uint8_t action;              /**< enum lr_upf_action */
	uint8_t destination_interface; /**< FORWARD: ACCESS or CORE */
	uint8_t outer_header_creation; /**< FORWARD to ACCESS: 1 (IPv4/UDP/GTP-U) */
	uint8_t qfi;                 /**< OHC: QFI of the DL PDU Session Container, 0..63 */
	uint16_t pad;
	uint32_t peer_teid;          /**< OHC: the gNB's TEID */
	uint8_t peer_addr[4];        /**< OHC: the gNB's IPv4 address */
};

/** QoS Enforcement Rule. */
struct lr_upf_qer {
	uint16_t id;
	uint8_t gate_ul;             /**< LR_UPF_GATE_OPEN / CLOSED */
	uint8_t gate_dl;
	uint8_t qfi;                 /**< informative (0..63) */
	uint8_t pad[3];
	uint64_t mbr_ul;             /**< bits/s of IP packets, 0 = no limit */
	uint64_t mbr_dl;
};

/** Usage Reporting Rule; the counters are filled by reads only. */
struct lr_upf_urr {
	uint16_t id;
	uint16_t pad[3];
	uint64_t ul_packets, ul_bytes;   /**< bytes: the inner (UE) IP packet */
	uint64_t dl_packets, dl_bytes;
};

struct lr_upf_session {
	uint8_t op;                  /**< enum lr_upf_op (reads: CREATE) */
	uint8_t n_pdrs, n_fars, n_qers, n_urrs;
	uint8_t pad[3];
	uint64_t seid;               /**< the key, not 0 */
	struct lr_upf_pdr pdrs[LR_UPF_MAX_PDR];
	struct lr_upf_far fars[LR_UPF_MAX_FAR];
	struct lr_upf_qer qers[LR_UPF_MAX_QER];
	struct lr_upf_urr urrs[LR_UPF_MAX_URR];
};

/** SESSION_BATCH reply: one per session, in request order. */
struct lr_upf_result {
	int32_t code;                /**< enum lr_status */
	uint32_t pad;
	uint64_t seid;
	char msg[LR_CTL_MSG_LEN];    /**< names the session, rule and field at fault */
};

/** LR_CTL_UPF_CONFIG request (set) and reply (the configuration in force). */
struct lr_upf_config {
	uint8_t n3_addr[4];          /**< GTP-U is taken to this address; downlink source; 0 = none */
	uint8_t port_iface[LR_MAX_PORTS]; /**< enum lr_upf_iface per port index */
	uint32_t flags;              /**< request: 1 = set, 0 = only read */
};

/**
 * UPF counters. X-macro: X(field, "help"); the names reach the addon, the
 * proto (UpfStats.counters) and the CLI unchanged. Order is ABI: append only.
 * Drops are counted under the gtpu_* / upf_* drop reasons (lr_common.h).
 */
#define LR_UPF_COUNTERS(X) \
	X(ul_packets,      "uplink G-PDUs decapsulated and forwarded") \
	X(ul_bytes,        "inner IP bytes of those") \
	X(dl_packets,      "downlink packets encapsulated and forwarded") \
	X(dl_bytes,        "inner IP bytes of those") \
	X(echo_requests,   "GTP-U Echo Requests to the N3 address") \
	X(echo_responses,  "GTP-U Echo Responses sent (answered in the stage)")

enum lr_upf_counter {
#define LR_UPF_CTR_ENUM_(f, h) LR_UPF_CTR_##f,
	LR_UPF_COUNTERS(LR_UPF_CTR_ENUM_)
#undef LR_UPF_CTR_ENUM_
	LR_UPF_CTR_MAX
};

/** LR_CTL_UPF_STATS reply. */
struct lr_upf_stats {
	uint32_t sessions;
	uint32_t sessions_max;
	uint32_t ul_keys;            /**< distinct F-TEIDs */
	uint32_t dl_keys;            /**< distinct UE IPs */
	uint64_t counters[LR_UPF_CTR_MAX]; /**< summed over workers */
	uint64_t bytes;              /**< memory of the session tables (both copies, counters, meters) */
};

#ifdef __cplusplus
}
#endif

#endif /* LR_UPF_H */
