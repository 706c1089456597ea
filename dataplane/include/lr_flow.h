/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Flow tables: the contract of the `flow` stage's rules (struct lr_flow)
 * shared by the dataplane (src/flow/) and the addon. Written by the control
 * plane through LR_CTL_FLOW_BATCH, read back with LR_CTL_FLOW_DUMP (with
 * counters) and LR_CTL_FLOW_STATS (sizes, classifier build time).
 *
 * Two tables, one stage between ip-classify and ip-lookup:
 *  - LR_FLOW_EXACT: the 5-tuple (family, proto, source, destination,
 *    ports) matched exactly on rte_hash, looked up first: a pinned flow is
 *    the operator's most specific intent, and an exact hit skips the ACL
 *    classify;
 *  - LR_FLOW_WILDCARD: prefixes, port ranges, protocol, DSCP, TCP flags,
 *    input port, on rte_acl; the highest priority wins and, among equal
 *    priorities, the LOWER rule id wins (the dataplane encodes that into
 *    the priority it gives rte_acl, which leaves ties undefined).
 * A packet no rule matches continues to routing.
 *
 * Rule ids are one key space across both tables (an id names one rule).
 * Counters (packets, bytes: frame length as received) are exact, kept per
 * worker, summed by the dump. Addresses are network byte order, IPv4 in
 * the first 4 bytes; ports and everything else host byte order.
 */
#ifndef LR_FLOW_H
#define LR_FLOW_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LR_FLOW_PRIO_MAX  65535u    /**< wildcard priorities 0 .. max, higher wins */
#define LR_FLOW_ANY_PORT  0xffffu   /**< in_port / mirror_port: none */
#define LR_FLOW_ANY_VLAN  0xffffu

/** Which table a rule lives in. */
enum lr_flow_table {
	LR_FLOW_WILDCARD = 1,
	LR_FLOW_EXACT = 2,
};

/** What happens to a matching packet (after the modifiers below). */
enum lr_flow_action {
	LR_FLOW_CONTINUE = 1,  /**< on to routing (ip-lookup), e.g. count only */
	LR_FLOW_DROP = 2,      /**< dropped, counted under drop reason flow_drop */
	LR_FLOW_FORWARD = 3,   /**< out of out_port to via (zero: on-link destination) */
};

/** Modifiers applied before the action (lr_flow.flags). */
#define LR_FLOW_F_SET_DSCP 0x1  /**< rewrite DSCP to set_dscp (IPv4 checksum updated) */
#define LR_FLOW_F_MIRROR   0x2  /**< a byte-identical copy of the frame as received to mirror_port */
#define LR_FLOW_F_METER    0x4  /**< trTCM (RFC 2698, colour-blind) on rte_meter, per worker */

/** What the meter does with the colour (lr_flow.meter_mode). */
enum lr_flow_meter_mode {
	LR_FLOW_METER_DROP_RED = 1,  /**< red packets dropped (flow_meter_drop), the rest go on */
	LR_FLOW_METER_MARK = 2,      /**< yellow get yellow_dscp, red get red_dscp; none dropped */
};

#define LR_FLOW_METERS 4096      /**< rules with a meter, at most */

struct lr_flow {
	uint8_t op;           /**< enum lr_ctl_op: ADD, DEL, REPLACE (add or overwrite; counters kept) */
	uint8_t table;        /**< enum lr_flow_table */
	uint8_t family;       /**< LR_AF_INET or LR_AF_INET6 (the EtherType) */
	uint8_t action;       /**< enum lr_flow_action */
	uint32_t id;          /**< rule id, the key (DEL reads only id and table) */
	uint32_t priority;    /**< wildcard: 0 .. LR_FLOW_PRIO_MAX; exact: 0 */
	uint32_t flags;       /**< LR_FLOW_F_* */
	/* match */
	uint16_t in_port;     /**< wildcard: input port or LR_FLOW_ANY_PORT */
	uint16_t vlan;        /**< LR_FLOW_ANY_VLAN (VLAN tags are not parsed yet) */
	uint8_t proto;        /**< IP protocol (exact: required) */
	uint8_t proto_mask;   /**< wildcard: 0 any, 0xff this protocol */
	uint8_t dscp;         /**< wildcard: DSCP value 0..63 */
	uint8_t dscp_mask;    /**< wildcard: 0 any, bits of dscp to compare (<= 0x3f) */
	uint8_t tcp_flags;    /**< wildcard: TCP flag bits that must be set ... */
	uint8_t tcp_flags_mask; /**< ... among these (0: any; needs proto TCP) */
	uint8_t src_plen;     /**< wildcard: 0..32/128; exact: must be 32/128 */
	uint8_t dst_plen;
	uint16_t sport_lo, sport_hi;  /**< inclusive; exact: lo == hi */
	uint16_t dport_lo, dport_hi;
	uint8_t src[16];      /**< host bits must be zero */
	uint8_t dst[16];
	/* action parameters */
	uint16_t out_port;    /**< FORWARD */
	uint16_t mirror_port; /**< F_MIRROR */
	uint8_t set_dscp;     /**< F_SET_DSCP: 0..63 */
	uint8_t pad[3];
	uint8_t via[16];      /**< FORWARD: gateway; zero = on-link */
	uint8_t meter_mode;   /**< F_METER: enum lr_flow_meter_mode */
	uint8_t yellow_dscp;  /**< F_METER, MARK: 0..63 */
	uint8_t red_dscp;
	uint8_t pad2[5];
	uint64_t cir, cbs;    /**< F_METER: committed rate (bytes/s) and burst (bytes), > 0 */
	uint64_t pir, pbs;    /**< F_METER: peak rate >= cir, peak burst > 0 */
	/* dumps only */
	uint64_t packets;
	uint64_t bytes;
};

/** LR_CTL_FLOW_STATS reply (one entry). */
struct lr_flow_stats {
	uint32_t wildcard_rules;      /**< rules in the wildcard table */
	uint32_t exact_rules;         /**< flows in the exact table */
	uint32_t wildcard_max;        /**< capacities (--flows, --flows-exact) */
	uint32_t exact_max;
	uint64_t acl_bytes;           /**< memory of the published rte_acl contexts (both families) */
	uint64_t exact_bytes;         /**< memory of the exact-match tables (both copies) */
	uint64_t last_build_ns;       /**< time the last classifier build took */
	uint64_t builds;              /**< classifier builds so far */
	uint32_t meters;              /**< meters in use (of LR_FLOW_METERS) */
	uint32_t pad;
};

#ifdef __cplusplus
}
#endif

#endif /* LR_FLOW_H */
