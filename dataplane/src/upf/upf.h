/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * UPF sessions (contract: include/lr_upf.h): what the main lcore keeps and
 * the version of it the `upf` stage reads, as one table of the table set
 * (core/tset.h).
 *
 * Each copy holds: the uplink rte_hash (TEID, N3 address) -> session slot,
 * the downlink rte_hash (family, UE IP) -> session slot, the compiled
 * session by slot (its PDRs sorted by precedence, FARs, QERs with their
 * trTCM profiles) and the configuration (N3 address, port roles). A slot
 * is the session's position in the main lcore's SEID table; URR counters
 * and meter states are per worker, by slot, outside the copies, so both
 * copies count into the same place.
 *
 * Written by the SESSION_BATCH / CONFIG handlers (upf.c) on the main
 * lcore; read by the `upf` stage (stage.c) on the workers.
 */
#ifndef LR_UPF_MOD_H
#define LR_UPF_MOD_H

#include <stdint.h>

#include <rte_hash.h>
#include <rte_meter.h>

#include "lr_upf.h"

/** Uplink key: the local F-TEID. */
struct lr_upf_ulkey {
	uint32_t teid;         /**< host order */
	uint32_t addr;         /**< network order */
};

/** Downlink key: the UE IP. */
struct lr_upf_dlkey {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct lr_upf_cpdr {
	uint32_t precedence;
	uint8_t src_if;
	uint8_t qfi;           /**< LR_UPF_ANY_QFI: any */
	uint8_t far;           /**< index in the session's fars */
	uint8_t n_qer, n_urr;
	uint8_t qer[LR_UPF_PDR_QERS];   /**< indexes in the session's qers */
	uint8_t urr[LR_UPF_PDR_URRS];   /**< indexes (counter positions) */
	uint8_t pad[3];
	struct lr_upf_ulkey ul;
	struct lr_upf_dlkey dl;
};

struct lr_upf_cfar {
	uint8_t action;
	uint8_t ohc;
	uint8_t qfi;
	uint8_t pad;
	uint32_t peer_teid;    /**< network order */
	uint32_t peer;         /**< network order */
};

struct lr_upf_cqer {
	uint8_t gate[2];       /**< [0] uplink, [1] downlink: closed */
	uint8_t metered[2];
	struct rte_meter_trtcm_profile prof[2];
};

/** A session as the stage reads it. */
struct lr_upf_csess {
	uint8_t n_pdr;
	uint8_t pad[7];
	struct lr_upf_cpdr pdr[LR_UPF_MAX_PDR];    /**< by precedence, lowest value first */
	struct lr_upf_cfar far[LR_UPF_MAX_FAR];
	struct lr_upf_cqer qer[LR_UPF_MAX_QER];
};

/** One copy of the UPF tables. */
struct lr_upf_copy {
	struct rte_hash *ul;
	struct rte_hash *dl;
	struct lr_upf_csess *sess;   /**< by slot */
	uint32_t n_sess;
	uint32_t n3;                 /**< host order, 0 = none */
	uint8_t port_iface[LR_MAX_PORTS];
};

/** Per-worker counters of one URR position. */
struct lr_upf_uctr {
	uint64_t packets[2];   /**< [0] uplink, [1] downlink */
	uint64_t bytes[2];
};

/** Per-worker UPF counters (LR_UPF_COUNTERS). */
struct lr_upf_wstats {
	uint64_t c[LR_UPF_CTR_MAX];
} __attribute__((aligned(64)));

/** Table-set id of the UPF tables (-1 before lr_upf_init()). */
extern int lr_upf_id;

/** URR counters by worker, then slot * LR_UPF_MAX_URR + URR index. */
extern struct lr_upf_uctr *lr_upf_ctr[LR_MAX_WORKERS];

/** Meter states by worker, then (slot * LR_UPF_MAX_QER + QER index) * 2 + direction. */
extern struct rte_meter_trtcm *lr_upf_meter[LR_MAX_WORKERS];

/** UPF counters by worker. */
extern struct lr_upf_wstats *lr_upf_wst;

/**
 * Creates the tables: `sessions` sessions, counters and meters for
 * `workers` workers. @return 0 or -errno.
 */
int lr_upf_init(uint32_t sessions, unsigned workers);

/** Frees them (also after a failed init). */
void lr_upf_fini(void);

/**
 * SESSION_BATCH: applies each of the n sessions whole or not at all;
 * res[i] says how session i fared (naming the rule and field at fault).
 * The accepted ones are published together, as one version.
 * @return sessions rejected.
 */
uint32_t lr_upf_batch(const struct lr_upf_session *s, uint32_t n, struct lr_upf_result *res);

/**
 * SESSION_WRITE: the n sessions all or nothing (the control plane's
 * desired-state path: reconcile, journal); st names the first failing
 * session (index) and its rule and field. @return enum lr_status.
 */
int lr_upf_write(const struct lr_upf_session *s, uint32_t n, struct lr_ctl_status *st);

/** SESSION_READ: session seid with its URR counters. @return 0 or -ENOENT. */
int lr_upf_read(uint64_t seid, struct lr_upf_session *out);

/** SESSION_DUMP: sessions from cursor on, with their counters. */
uint32_t lr_upf_dump(uint8_t family, uint32_t cursor, struct lr_upf_session *out, uint32_t max,
		     uint32_t *next, uint32_t *done);

/** CONFIG: sets (c->flags & 1) and returns the configuration in force. @return enum lr_status. */
int lr_upf_configure(const struct lr_upf_config *c, struct lr_upf_config *out,
		     struct lr_ctl_status *st);

/** STATS: sizes and counters summed over the workers. */
void lr_upf_get_stats(struct lr_upf_stats *s);

#endif /* LR_UPF_MOD_H */
