/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The rte_acl layout of the wildcard table: the key the `flow` stage
 * builds per packet (network byte order, as rte_acl reads it) and the
 * field definitions the build gives rte_acl (flow.c). One layout per
 * family; shared by the builder and the stage so they cannot disagree.
 *
 * rte_acl reads the first field as one byte, then 4-byte groups (one
 * input_index each): proto | dscp, tcp flags, input port | addresses |
 * source and destination ports.
 */
#ifndef LR_FLOW_ACL_H
#define LR_FLOW_ACL_H

#include <stddef.h>
#include <stdint.h>

#include <rte_acl.h>

/** Per-packet key, IPv4. */
struct lr_facl4_key {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t dscp;
	uint8_t tcp_flags;
	uint16_t in_port;     /* big endian */
	uint32_t src, dst;    /* big endian */
	uint16_t sport, dport;
};

/** Per-packet key, IPv6. */
struct lr_facl6_key {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t dscp;
	uint8_t tcp_flags;
	uint16_t in_port;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* Field indexes common to both layouts, then per family. */
enum { LR_FACL_PROTO, LR_FACL_DSCP, LR_FACL_TCPF, LR_FACL_INPORT };
enum { LR_FACL4_SRC = 4, LR_FACL4_DST, LR_FACL4_SPORT, LR_FACL4_DPORT, LR_FACL4_NUM };
enum {
	LR_FACL6_SRC0 = 4, LR_FACL6_DST0 = 8, LR_FACL6_SPORT = 12, LR_FACL6_DPORT,
	LR_FACL6_NUM
};

RTE_ACL_RULE_DEF(lr_facl4_rule, LR_FACL4_NUM);
RTE_ACL_RULE_DEF(lr_facl6_rule, LR_FACL6_NUM);

#define LR_FACL_HEAD(K) \
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = LR_FACL_PROTO, \
	  .input_index = 0, .offset = offsetof(K, proto) }, \
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = LR_FACL_DSCP, \
	  .input_index = 1, .offset = offsetof(K, dscp) }, \
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = LR_FACL_TCPF, \
	  .input_index = 1, .offset = offsetof(K, tcp_flags) }, \
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = LR_FACL_INPORT, \
	  .input_index = 1, .offset = offsetof(K, in_port) }

#define LR_FACL_ADDR6(idx, in, off) \
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = (idx), \
	  .input_index = (in), .offset = (off) }

static const struct rte_acl_field_def lr_facl4_defs[LR_FACL4_NUM] = {
	LR_FACL_HEAD(struct lr_facl4_key),
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = LR_FACL4_SRC,
	  .input_index = 2, .offset = offsetof(struct lr_facl4_key, src) },
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = LR_FACL4_DST,
	  .input_index = 3, .offset = offsetof(struct lr_facl4_key, dst) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = LR_FACL4_SPORT,
	  .input_index = 4, .offset = offsetof(struct lr_facl4_key, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = LR_FACL4_DPORT,
	  .input_index = 4, .offset = offsetof(struct lr_facl4_key, dport) },
};

static const struct rte_acl_field_def lr_facl6_defs[LR_FACL6_NUM] = {
	LR_FACL_HEAD(struct lr_facl6_key),
	LR_FACL_ADDR6(LR_FACL6_SRC0 + 0, 2, offsetof(struct lr_facl6_key, src) + 0),
	LR_FACL_ADDR6(LR_FACL6_SRC0 + 1, 3, offsetof(struct lr_facl6_key, src) + 4),
	LR_FACL_ADDR6(LR_FACL6_SRC0 + 2, 4, offsetof(struct lr_facl6_key, src) + 8),
	LR_FACL_ADDR6(LR_FACL6_SRC0 + 3, 5, offsetof(struct lr_facl6_key, src) + 12),
	LR_FACL_ADDR6(LR_FACL6_DST0 + 0, 6, offsetof(struct lr_facl6_key, dst) + 0),
	LR_FACL_ADDR6(LR_FACL6_DST0 + 1, 7, offsetof(struct lr_facl6_key, dst) + 4),
	LR_FACL_ADDR6(LR_FACL6_DST0 + 2, 8, offsetof(struct lr_facl6_key, dst) + 8),
	LR_FACL_ADDR6(LR_FACL6_DST0 + 3, 9, offsetof(struct lr_facl6_key, dst) + 12),
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = LR_FACL6_SPORT,
	  .input_index = 10, .offset = offsetof(struct lr_facl6_key, sport) },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = LR_FACL6_DPORT,
	  .input_index = 10, .offset = offsetof(struct lr_facl6_key, dport) },
};

#endif /* LR_FLOW_ACL_H */
