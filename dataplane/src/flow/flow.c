/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow tables (see flow.h): the rules by id (main lcore), FLOW_BATCH /
 * FLOW_DUMP / FLOW_STATS, the rte_acl build of the wildcard table, the
 * exact table's two rte_hash copies, and the flow module (sizes from
 * --flows / --flows-exact).
 *
 * A batch: validate every entry (syntax, then against the table), stage
 * the action and exact-table changes on the shadow copy, build the new
 * ACL contexts of the families whose wildcard rules changed, stage them,
 * commit (one pointer swap for the whole batch), then release what the
 * old version held (next hops, contexts, deleted slots). Any error before
 * the commit undoes everything: nothing is half applied.
 *
 * Ties: rte_acl leaves equal priorities undefined, so every build sorts
 * the rules by (priority descending, id ascending) and gives rte_acl the
 * rank as priority: among equal priorities the lower id wins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl.h"
#include "flow.h"
#include "ipaddr.h"
#include "log.h"
#include "module.h"
#include "nexthop.h"
#include "port.h"
#include "status.h"
#include "table.h"
#include "tset.h"

int lr_flow_id = -1;
struct lr_flow_ctr *lr_flow_ctr[LR_MAX_WORKERS];
struct rte_meter_trtcm_profile *lr_flow_meter_prof;
struct rte_meter_trtcm *lr_flow_meter[LR_MAX_WORKERS];

/* ---- ACL layouts (the stage fills the same structs, see flow_acl.h) ---- */
#include "flow_acl.h"

/* A rule as the main lcore keeps it, by slot. */
struct frec {
	struct lr_flow rule;   /* as given (op, counters unused) */
	uint32_t nh;           /* FORWARD: next-hop value held, else LR_NH_NONE */
	uint16_t meter;        /* F_METER: meter index + 1, else 0 */
	uint8_t live;          /* in the published tables */
	uint8_t dying;         /* deleted by the batch in progress */
};

/* Journal of the batch in progress (main records). */
struct fjr {
	int32_t pos;
	uint8_t op;
	struct frec old;       /* REPLACE: the record before */
};

/* Change records of the table set. */
enum { CH_ACT = 1, CH_EXACT_ADD, CH_EXACT_DEL, CH_ACL };

struct fchange {
	uint8_t kind;
	uint8_t pad[3];
	uint32_t slot;
	union {
		struct { struct lr_flow_act old, new_; } act;
		struct lr_flow_key key;
		struct { struct rte_acl_ctx *old[2], *new_[2]; uint32_t n_old, n_new; } acl;
	} u;
};

static struct {
	struct lr_keyed ids;             /* uint32 id -> struct frec */
	struct lr_flow_copy copy[2];
	uint32_t max_wild, max_exact;
	uint32_t n_wild, n_exact;        /* main records (live or in the batch) */
	unsigned workers;
	struct fjr *jr;
	uint32_t n_jr, cap_jr;
	uint64_t acl_bytes[2];           /* heap growth of each published context */
	uint64_t last_build_ns, builds;
	uint64_t gen;
	uint16_t mfree[LR_FLOW_METERS];  /* free meter indexes (a stack) */
	uint32_t n_mfree;
} ft;

#define REC(pos) ((struct frec *)lr_keyed_rec(&ft.ids, (pos)))

/* ---- table-set callbacks ---- */

static int
copy_apply(void *cp, const void *change)
{
	struct lr_flow_copy *c = cp;
	const struct fchange *ch = change;
	int rc;

	switch (ch->kind) {
	case CH_ACT:
		c->act[ch->slot] = ch->u.act.new_;
		return 0;
	case CH_EXACT_ADD:
		rc = rte_hash_add_key_data(c->exact, &ch->u.key, (void *)(uintptr_t)ch->slot);
		if (rc < 0)
			return rc;
		c->n_exact++;
		return 0;
	case CH_EXACT_DEL:
		if (rte_hash_del_key(c->exact, &ch->u.key) >= 0)
			c->n_exact--;
		return 0;
	case CH_ACL:
		c->acl[0] = ch->u.acl.new_[0];
		c->acl[1] = ch->u.acl.new_[1];
		c->n_wild = ch->u.acl.n_new;
		return 0;
	}
	return -EINVAL;
}

static void
copy_undo(void *cp, const void *change)
{
	struct lr_flow_copy *c = cp;
	const struct fchange *ch = change;

	switch (ch->kind) {
	case CH_ACT:
		c->act[ch->slot] = ch->u.act.old;
		break;
	case CH_EXACT_ADD:
		if (rte_hash_del_key(c->exact, &ch->u.key) >= 0)
			c->n_exact--;
		break;
	case CH_EXACT_DEL:
		if (rte_hash_add_key_data(c->exact, &ch->u.key, (void *)(uintptr_t)ch->slot) >= 0)
			c->n_exact++;
		else
			LR_LOG(CRIT, "flow: undo of an exact delete failed");
		break;
	case CH_ACL:
		c->acl[0] = ch->u.acl.old[0];
		c->acl[1] = ch->u.acl.old[1];
		c->n_wild = ch->u.acl.n_old;
		break;
	}
}

static struct lr_flow_copy *
shadow(void)
{
	return lr_tset_copy(lr_flow_id, 1);
}

static int
stage(const struct fchange *ch)
{
	return lr_tset_stage(lr_flow_id, ch, sizeof(*ch));
}

/* ---- module life ---- */

void
lr_flow_fini(void)
{
	unsigned i;
	int f;

	if (lr_flow_id >= 0)
		lr_tset_unregister(lr_flow_id);
	lr_flow_id = -1;
	/* both copies share the contexts */
	for (f = 0; f < 2; f++)
		rte_acl_free(ft.copy[0].acl[f]);
	for (i = 0; i < 2; i++) {
		rte_hash_free(ft.copy[i].exact);
		rte_free(ft.copy[i].act);
	}
	for (i = 0; i < LR_MAX_WORKERS; i++) {
		rte_free(lr_flow_ctr[i]);
		lr_flow_ctr[i] = NULL;
		rte_free(lr_flow_meter[i]);
		lr_flow_meter[i] = NULL;
	}
	rte_free(lr_flow_meter_prof);
	lr_flow_meter_prof = NULL;
	if (ft.ids.h != NULL) {
		uint32_t it = 0;
		const void *key;
		void *data;
		int32_t pos;

		while ((pos = rte_hash_iterate(ft.ids.h, &key, &data, &it)) >= 0)
			if (REC(pos)->nh != LR_NH_NONE)
				lr_nh_put(REC(pos)->nh);
	}
	lr_keyed_free(&ft.ids);
	free(ft.jr);
	memset(&ft, 0, sizeof(ft));
}

int
lr_flow_init(uint32_t wild, uint32_t exact, unsigned workers)
{
	struct lr_tset_table t = { .name = "flow", .apply = copy_apply, .undo = copy_undo };
	uint32_t slots = wild + exact;
	unsigned i;
	int rc;

	memset(&ft, 0, sizeof(ft));
	ft.max_wild = wild;
	ft.max_exact = exact;
	ft.workers = workers ? workers : 1;
	if (ft.workers > LR_MAX_WORKERS)
		ft.workers = LR_MAX_WORKERS;
	rc = lr_keyed_create(&ft.ids, "lr_flow_ids", slots, sizeof(uint32_t), sizeof(struct frec),
			     false);
	if (rc < 0)
		goto fail;
	/* positions of ids are slots: act and counters have room for each */
	slots = ft.ids.cap;
	for (i = 0; i < 2; i++) {
		char name[RTE_HASH_NAMESIZE];
		struct rte_hash_parameters p = {
			.name = name, .entries = exact < 8 ? 8 : exact,
			.key_len = sizeof(struct lr_flow_key), .hash_func = rte_hash_crc,
			.socket_id = (int)rte_socket_id(),
			.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
		};

		snprintf(name, sizeof(name), "lr_flow_exact%u", i);
		ft.copy[i].exact = rte_hash_create(&p);
		ft.copy[i].act = rte_zmalloc("lr_flow_act", sizeof(struct lr_flow_act) * slots, 0);
		if (ft.copy[i].exact == NULL || ft.copy[i].act == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		t.copy[i] = &ft.copy[i];
	}
	for (i = 0; i < ft.workers; i++) {
		lr_flow_ctr[i] = rte_zmalloc("lr_flow_ctr", sizeof(struct lr_flow_ctr) * slots,
					     RTE_CACHE_LINE_SIZE);
		lr_flow_meter[i] = rte_zmalloc("lr_flow_meter", sizeof(struct rte_meter_trtcm) * LR_FLOW_METERS,
					       RTE_CACHE_LINE_SIZE);
		if (lr_flow_ctr[i] == NULL || lr_flow_meter[i] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	lr_flow_meter_prof = rte_zmalloc("lr_flow_meter_prof",
					 sizeof(struct rte_meter_trtcm_profile) * LR_FLOW_METERS, 0);
	if (lr_flow_meter_prof == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < LR_FLOW_METERS; i++)
		ft.mfree[i] = (uint16_t)(LR_FLOW_METERS - 1 - i);
	ft.n_mfree = LR_FLOW_METERS;
	rc = lr_tset_register(&t);
	if (rc < 0)
		goto fail;
	lr_flow_id = rc;
	return 0;
fail:
	LR_LOG(ERR, "flow: cannot create the tables (%d wildcard, %u exact): %d", (int)wild, exact, rc);
	lr_flow_fini();
	return rc;
}

/* ---- validation ---- */

static bool
ports_given(uint16_t lo, uint16_t hi)
{
	return lo != 0 || hi != 0xffff;
}

static bool
l4_proto(const struct lr_flow *e)
{
	return e->proto_mask == 0xff &&
	       (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP || e->proto == IPPROTO_SCTP);
}

#define BAD(code, ...) lr_status_set(st, (code), i, __VA_ARGS__)

static int
check_prefix(const struct lr_flow *e, uint32_t i, const char *field, const uint8_t *a,
	     uint8_t plen, struct lr_ctl_status *st)
{
	char b[LR_IP_STRLEN];

	if (plen > lr_ip_maxplen(e->family))
		return BAD(LR_ERR_INVALID, "flows[%u].%s_plen: %u is longer than %u", i, field, plen,
			   lr_ip_maxplen(e->family));
	if (lr_ip_host_bits_set(e->family, a, plen))
		return BAD(LR_ERR_INVALID, "flows[%u].%s: host bits set in %s", i, field,
			   lr_ip_fmt(e->family, a, plen, b, sizeof(b)));
	return LR_OK;
}

static int
check_range(uint32_t i, const char *field, uint16_t lo, uint16_t hi, struct lr_ctl_status *st)
{
	if (lo > hi)
		return BAD(LR_ERR_INVALID, "flows[%u].%s: range %u-%u is reversed", i, field, lo, hi);
	return LR_OK;
}

/* Syntax of one entry; the table is not consulted. */
static int
validate(const struct lr_flow *e, uint32_t i, uint16_t n_ports, struct lr_ctl_status *st)
{
	char b[LR_IP_STRLEN];
	int code;

	if (e->op == LR_OP_DEL) {
		if (e->table != LR_FLOW_WILDCARD && e->table != LR_FLOW_EXACT)
			return BAD(LR_ERR_INVALID, "flows[%u].table: must be 1 (wildcard) or 2 (exact), got %u",
				   i, e->table);
		return LR_OK;
	}
	code = lr_check_entry(st, "flows", i, e->op, e->family, NULL, 0);
	if (code != LR_OK)
		return code;
	if (e->table != LR_FLOW_WILDCARD && e->table != LR_FLOW_EXACT)
		return BAD(LR_ERR_INVALID, "flows[%u].table: must be 1 (wildcard) or 2 (exact), got %u",
			   i, e->table);
	if (e->action < LR_FLOW_CONTINUE || e->action > LR_FLOW_FORWARD)
		return BAD(LR_ERR_INVALID, "flows[%u].action: unknown action %u", i, e->action);
	if (e->flags & ~(uint32_t)(LR_FLOW_F_SET_DSCP | LR_FLOW_F_MIRROR | LR_FLOW_F_METER))
		return BAD(LR_ERR_INVALID, "flows[%u].flags: unknown bits 0x%x", i,
			   e->flags & ~(uint32_t)(LR_FLOW_F_SET_DSCP | LR_FLOW_F_MIRROR | LR_FLOW_F_METER));
	if (e->vlan != LR_FLOW_ANY_VLAN)
		return BAD(LR_ERR_UNSUPPORTED, "flows[%u].vlan: VLAN-tagged frames are not parsed yet", i);
	if (e->in_port != LR_FLOW_ANY_PORT && e->in_port >= n_ports)
		return BAD(LR_ERR_NOT_FOUND, "flows[%u].in_port: no port %u", i, e->in_port);
	if (e->proto_mask != 0 && e->proto_mask != 0xff)
		return BAD(LR_ERR_INVALID, "flows[%u].proto_mask: must be 0 (any) or 255, got %u", i,
			   e->proto_mask);
	if (e->proto_mask == 0 && e->proto != 0)
		return BAD(LR_ERR_INVALID, "flows[%u].proto: %u given with proto_mask 0", i, e->proto);
	if (e->dscp_mask > 0x3f || e->dscp > 0x3f)
		return BAD(LR_ERR_INVALID, "flows[%u].dscp: DSCP is 6 bits, got %u/0x%x", i, e->dscp,
			   e->dscp_mask);
	if (e->dscp & ~e->dscp_mask)
		return BAD(LR_ERR_INVALID, "flows[%u].dscp: bits 0x%x outside dscp_mask 0x%x", i,
			   e->dscp & ~e->dscp_mask, e->dscp_mask);
	if (e->tcp_flags & ~e->tcp_flags_mask)
		return BAD(LR_ERR_INVALID, "flows[%u].tcp_flags: bits 0x%x outside tcp_flags_mask 0x%x",
			   i, e->tcp_flags & ~e->tcp_flags_mask, e->tcp_flags_mask);
	if (e->tcp_flags_mask != 0 && !(e->proto_mask == 0xff && e->proto == IPPROTO_TCP))
		return BAD(LR_ERR_INVALID, "flows[%u].tcp_flags: needs proto tcp", i);
	if ((code = check_prefix(e, i, "src", e->src, e->src_plen, st)) != LR_OK ||
	    (code = check_prefix(e, i, "dst", e->dst, e->dst_plen, st)) != LR_OK ||
	    (code = check_range(i, "sport", e->sport_lo, e->sport_hi, st)) != LR_OK ||
	    (code = check_range(i, "dport", e->dport_lo, e->dport_hi, st)) != LR_OK)
		return code;
	if ((ports_given(e->sport_lo, e->sport_hi) || ports_given(e->dport_lo, e->dport_hi)) &&
	    !l4_proto(e))
		return BAD(LR_ERR_INVALID, "flows[%u].%s: ports need proto tcp, udp or sctp", i,
			   ports_given(e->sport_lo, e->sport_hi) ? "sport" : "dport");
	if (e->table == LR_FLOW_WILDCARD) {
		if (e->priority > LR_FLOW_PRIO_MAX)
			return BAD(LR_ERR_INVALID, "flows[%u].priority: %u is out of range 0..%u", i,
				   e->priority, LR_FLOW_PRIO_MAX);
	} else {
		uint8_t max = lr_ip_maxplen(e->family);

		if (e->priority != 0)
			return BAD(LR_ERR_INVALID, "flows[%u].priority: exact flows have none, got %u", i,
				   e->priority);
		if (e->in_port != LR_FLOW_ANY_PORT || e->dscp_mask != 0 || e->tcp_flags_mask != 0)
			return BAD(LR_ERR_INVALID, "flows[%u].%s: an exact flow matches the 5-tuple only", i,
				   e->in_port != LR_FLOW_ANY_PORT ? "in_port" :
				   e->dscp_mask != 0 ? "dscp_mask" : "tcp_flags_mask");
		if (e->proto_mask != 0xff)
			return BAD(LR_ERR_INVALID, "flows[%u].proto_mask: an exact flow names its protocol", i);
		if (e->src_plen != max || e->dst_plen != max)
			return BAD(LR_ERR_INVALID, "flows[%u].%s_plen: an exact flow matches whole addresses (/%u)",
				   i, e->src_plen != max ? "src" : "dst", max);
		if (e->sport_lo != e->sport_hi || e->dport_lo != e->dport_hi)
			return BAD(LR_ERR_INVALID, "flows[%u].%s: an exact flow matches one port, not a range",
				   i, e->sport_lo != e->sport_hi ? "sport" : "dport");
		if (!l4_proto(e) && (e->sport_lo != 0 || e->dport_lo != 0))
			return BAD(LR_ERR_INVALID, "flows[%u].sport: ports need proto tcp, udp or sctp", i);
	}
	if (e->action == LR_FLOW_FORWARD) {
		if (e->out_port >= n_ports)
			return BAD(LR_ERR_NOT_FOUND, "flows[%u].out_port: no port %u", i, e->out_port);
		if (!lr_ip_is_zero(e->family, e->via) && !lr_ip_is_unicast_host(e->family, e->via))
			return BAD(LR_ERR_INVALID, "flows[%u].via: %s is not a unicast address", i,
				   lr_ip_fmt(e->family, e->via, -1, b, sizeof(b)));
	}
	if ((e->flags & LR_FLOW_F_MIRROR) && e->mirror_port >= n_ports)
		return BAD(LR_ERR_NOT_FOUND, "flows[%u].mirror_port: no port %u", i, e->mirror_port);
	if ((e->flags & LR_FLOW_F_SET_DSCP) && e->set_dscp > 0x3f)
		return BAD(LR_ERR_INVALID, "flows[%u].set_dscp: DSCP is 0..63, got %u", i, e->set_dscp);
	if (e->flags & LR_FLOW_F_METER) {
		if (e->meter_mode != LR_FLOW_METER_DROP_RED && e->meter_mode != LR_FLOW_METER_MARK)
			return BAD(LR_ERR_INVALID, "flows[%u].meter_mode: must be 1 (drop red) or 2 (mark), got %u",
				   i, e->meter_mode);
		if (e->cir == 0 || e->cbs == 0 || e->pbs == 0)
			return BAD(LR_ERR_INVALID, "flows[%u].%s: must be above 0", i,
				   e->cir == 0 ? "cir" : e->cbs == 0 ? "cbs" : "pbs");
		if (e->pir < e->cir)
			return BAD(LR_ERR_INVALID, "flows[%u].pir: %" PRIu64 " is below cir %" PRIu64, i,
				   e->pir, e->cir);
		if (e->cbs > UINT32_MAX || e->pbs > UINT32_MAX)
			return BAD(LR_ERR_INVALID, "flows[%u].%s: at most %u bytes", i,
				   e->cbs > UINT32_MAX ? "cbs" : "pbs", UINT32_MAX);
		if (e->meter_mode == LR_FLOW_METER_MARK && (e->yellow_dscp > 0x3f || e->red_dscp > 0x3f))
			return BAD(LR_ERR_INVALID, "flows[%u].%s_dscp: DSCP is 0..63", i,
				   e->yellow_dscp > 0x3f ? "yellow" : "red");
	}
	return LR_OK;
}

/* ---- building blocks ---- */

static void
key_of(const struct lr_flow *e, struct lr_flow_key *k)
{
	unsigned len = lr_ip_len(e->family);

	memset(k, 0, sizeof(*k));
	k->family = e->family;
	k->proto = e->proto;
	k->sport = rte_cpu_to_be_16(e->sport_lo);
	k->dport = rte_cpu_to_be_16(e->dport_lo);
	memcpy(k->src, e->src, len);
	memcpy(k->dst, e->dst, len);
}

static void
act_of(const struct frec *r, struct lr_flow_act *a)
{
	memset(a, 0, sizeof(*a));
	a->action = r->rule.action;
	a->flags = (uint8_t)r->rule.flags;
	a->set_dscp = r->rule.set_dscp;
	a->mirror_port = r->rule.mirror_port;
	a->nh = r->nh;
	if (r->meter != 0) {
		a->meter = (uint16_t)(r->meter - 1);
		a->meter_mode = r->rule.meter_mode;
		a->yellow_dscp = r->rule.yellow_dscp;
		a->red_dscp = r->rule.red_dscp;
	}
}

/* F_METER: a fresh meter index (never live) with its profile and state. */
static int
meter_get(const struct lr_flow *e, uint16_t *meter)
{
	struct rte_meter_trtcm_params p = {
		.cir = e->cir, .pir = e->pir, .cbs = e->cbs, .pbs = e->pbs,
	};
	uint16_t idx;
	unsigned w;

	*meter = 0;
	if (!(e->flags & LR_FLOW_F_METER))
		return 0;
	if (ft.n_mfree == 0)
		return -ENOSPC;
	idx = ft.mfree[ft.n_mfree - 1];
	if (rte_meter_trtcm_profile_config(&lr_flow_meter_prof[idx], &p) < 0)
		return -EINVAL;
	for (w = 0; w < ft.workers; w++)
		rte_meter_trtcm_config(&lr_flow_meter[w][idx], &lr_flow_meter_prof[idx]);
	ft.n_mfree--;
	*meter = (uint16_t)(idx + 1);
	return 0;
}

static void
meter_put(uint16_t meter)
{
	if (meter != 0)
		ft.mfree[ft.n_mfree++] = (uint16_t)(meter - 1);
}

/* FORWARD: the adjacency of (out_port, via), with a reference. */
static int
nh_get(const struct lr_flow *e, uint32_t *nh)
{
	*nh = LR_NH_NONE;
	if (e->action != LR_FLOW_FORWARD)
		return 0;
	if (lr_ip_is_zero(e->family, e->via))
		return lr_adj_get(LR_ADJ_GLEAN, e->family, e->out_port, NULL, nh, NULL);
	return lr_adj_get(LR_ADJ_NEIGH, e->family, e->out_port, e->via, nh, NULL);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort order of a build: priority descending, then id ascending. */
static int
cmp_rank(const void *a, const void *b)
{
	const struct lr_flow *x = &REC(*(const int32_t *)a)->rule;
	const struct lr_flow *y = &REC(*(const int32_t *)b)->rule;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t
heap_used(void)
{
	struct rte_malloc_socket_stats s;
	uint64_t sum = 0;
	int sock;

	for (sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &s) == 0)
			sum += s.heap_allocsz_bytes;
	return sum;
}

/* IPv4 rule fields from a flow (host byte order, as rte_acl wants them). */
static void
fill_common(struct rte_acl_field *f, const struct lr_flow *e)
{
	f[LR_FACL_PROTO].value.u8 = e->proto;
	f[LR_FACL_PROTO].mask_range.u8 = e->proto_mask;
	f[LR_FACL_DSCP].value.u8 = e->dscp;
	f[LR_FACL_DSCP].mask_range.u8 = e->dscp_mask;
	f[LR_FACL_TCPF].value.u8 = e->tcp_flags;
	f[LR_FACL_TCPF].mask_range.u8 = e->tcp_flags_mask;
	if (e->in_port == LR_FLOW_ANY_PORT) {
		f[LR_FACL_INPORT].value.u16 = 0;
		f[LR_FACL_INPORT].mask_range.u16 = 0xffff;
	} else {
		f[LR_FACL_INPORT].value.u16 = e->in_port;
		f[LR_FACL_INPORT].mask_range.u16 = e->in_port;
	}
}

static void
fill_ports(struct rte_acl_field *sp, struct rte_acl_field *dp, const struct lr_flow *e)
{
	sp->value.u16 = e->sport_lo;
	sp->mask_range.u16 = e->sport_hi;
	dp->value.u16 = e->dport_lo;
	dp->mask_range.u16 = e->dport_hi;
}

static void
fill_addr6(struct rte_acl_field *f, const uint8_t *a, uint8_t plen)
{
	unsigned w;

	for (w = 0; w < 4; w++) {
		uint32_t x;
		int bits = (int)plen - 32 * (int)w;

		memcpy(&x, a + 4 * w, 4);
		f[w].value.u32 = rte_be_to_cpu_32(x);
		f[w].mask_range.u32 = bits <= 0 ? 0 : bits >= 32 ? 32 : (uint32_t)bits;
	}
}

/*
 * Builds the context of one family from the wildcard rules at pos[0..n)
 * (sorted by rank); *ctx = NULL when n == 0.
 */
static int
build_family(unsigned fam, const int32_t *pos, uint32_t n, struct rte_acl_ctx **ctx,
	     uint64_t *bytes)
{
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param p;
	struct rte_acl_config cfg;
	uint64_t before = heap_used();
	uint32_t i;
	int rc;

	*ctx = NULL;
	*bytes = 0;
	if (n == 0)
		return 0;
	snprintf(name, sizeof(name), "lr_flow%c_%" PRIu64, fam ? '6' : '4', ft.gen++);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket_id = (int)rte_socket_id();
	p.rule_size = fam ? RTE_ACL_RULE_SZ(LR_FACL6_NUM) : RTE_ACL_RULE_SZ(LR_FACL4_NUM);
	p.max_rule_num = n;
	*ctx = rte_acl_create(&p);
	if (*ctx == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct lr_flow *e = &REC(pos[i])->rule;
		union { struct lr_facl4_rule r4; struct lr_facl6_rule r6; } u;
		struct rte_acl_rule_data *d = fam ? &u.r6.data : &u.r4.data;

		memset(&u, 0, sizeof(u));
		d->category_mask = 1;
		d->priority = (int32_t)(n - i);   /* rank: unique, ties broken by id */
		d->userdata = (uint32_t)pos[i] + 1;
		if (fam == 0) {
			uint32_t s, t;

			fill_common(u.r4.field, e);
			memcpy(&s, e->src, 4);
			memcpy(&t, e->dst, 4);
			u.r4.field[LR_FACL4_SRC].value.u32 = rte_be_to_cpu_32(s);
			u.r4.field[LR_FACL4_SRC].mask_range.u32 = e->src_plen;
			u.r4.field[LR_FACL4_DST].value.u32 = rte_be_to_cpu_32(t);
			u.r4.field[LR_FACL4_DST].mask_range.u32 = e->dst_plen;
			fill_ports(&u.r4.field[LR_FACL4_SPORT], &u.r4.field[LR_FACL4_DPORT], e);
		} else {
			fill_common(u.r6.field, e);
			fill_addr6(&u.r6.field[LR_FACL6_SRC0], e->src, e->src_plen);
			fill_addr6(&u.r6.field[LR_FACL6_DST0], e->dst, e->dst_plen);
			fill_ports(&u.r6.field[LR_FACL6_SPORT], &u.r6.field[LR_FACL6_DPORT], e);
		}
		rc = rte_acl_add_rules(*ctx, (const struct rte_acl_rule *)(const void *)&u, 1);
		if (rc < 0)
			goto fail;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_categories = 1;
	if (fam == 0) {
		cfg.num_fields = LR_FACL4_NUM;
		memcpy(cfg.defs, lr_facl4_defs, sizeof(lr_facl4_defs));
	} else {
		cfg.num_fields = LR_FACL6_NUM;
		memcpy(cfg.defs, lr_facl6_defs, sizeof(lr_facl6_defs));
	}
	rc = rte_acl_build(*ctx, &cfg);
	if (rc < 0)
		goto fail;
	*bytes = heap_used() - before;
	return 0;
fail:
	LR_LOG(ERR, "flow: IPv%c classifier build of %u rules failed: %d", fam ? '6' : '4', n, rc);
	rte_acl_free(*ctx);
	*ctx = NULL;
	return rc == -ENOMEM ? -ENOMEM : -EINVAL;
}

/*
 * New contexts for the families marked in `dirty` from the live wildcard
 * records (those of the batch included, the dying left out); the others
 * keep the published one.
 */
static int
build(unsigned dirty, struct rte_acl_ctx *out[2], uint64_t bytes[2], uint32_t *n_rules)
{
	const struct lr_flow_copy *c = shadow();
	int32_t *pos[2] = { NULL, NULL };
	uint32_t n[2] = { 0, 0 }, it = 0;
	uint64_t t0 = rte_get_tsc_cycles();
	const void *key;
	void *data;
	int32_t p;
	unsigned f;
	int rc = 0;

	for (f = 0; f < 2; f++) {
		out[f] = c->acl[f];
		bytes[f] = ft.acl_bytes[f];
		pos[f] = malloc(sizeof(int32_t) * (ft.n_wild + 1));
		if (pos[f] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	while ((p = rte_hash_iterate(ft.ids.h, &key, &data, &it)) >= 0) {
		const struct frec *r = REC(p);

		if (r->dying || r->rule.table != LR_FLOW_WILDCARD)
			continue;
		f = r->rule.family == LR_AF_INET6;
		pos[f][n[f]++] = p;
	}
	*n_rules = n[0] + n[1];
	for (f = 0; f < 2; f++) {
		if (!(dirty & (1u << f)))
			continue;
		qsort(pos[f], n[f], sizeof(int32_t), cmp_rank);
		rc = build_family(f, pos[f], n[f], &out[f], &bytes[f]);
		if (rc < 0) {
			if (f == 1 && (dirty & 1)) {
				rte_acl_free(out[0]);
				out[0] = c->acl[0];
			}
			goto out;
		}
	}
	ft.last_build_ns = (rte_get_tsc_cycles() - t0) * 1000000000ull / rte_get_tsc_hz();
	ft.builds++;
out:
	free(pos[0]);
	free(pos[1]);
	return rc;
}

static int
jr_push(int32_t pos, uint8_t op, const struct frec *old)
{
	struct fjr *j;

	if (lr_grow((void **)&ft.jr, &ft.cap_jr, ft.n_jr, sizeof(*ft.jr), 1024) < 0)
		return -ENOMEM;
	j = &ft.jr[ft.n_jr++];
	j->pos = pos;
	j->op = op;
	if (old != NULL)
		j->old = *old;
	return 0;
}

/* Undoes the main records of the batch in progress (after lr_tset_abort). */
static void
revert(void)
{
	uint32_t i;

	for (i = ft.n_jr; i-- > 0;) {
		const struct fjr *j = &ft.jr[i];
		struct frec *r = REC(j->pos);

		switch (j->op) {
		case LR_OP_ADD:
			if (r->nh != LR_NH_NONE)
				lr_nh_put(r->nh);
			meter_put(r->meter);
			if (r->rule.table == LR_FLOW_WILDCARD)
				ft.n_wild--;
			else
				ft.n_exact--;
			lr_keyed_del_pos(&ft.ids, j->pos);
			break;
		case LR_OP_REPLACE:
			if (r->nh != LR_NH_NONE)
				lr_nh_put(r->nh);
			meter_put(r->meter);
			*r = j->old;
			break;
		case LR_OP_DEL:
			r->dying = 0;
			if (r->rule.table == LR_FLOW_WILDCARD)
				ft.n_wild++;
			else
				ft.n_exact++;
			break;
		}
	}
	ft.n_jr = 0;
}

/* After the commit: what the old version held goes. */
static void
release(void)
{
	uint32_t i;
	unsigned w;

	for (i = 0; i < ft.n_jr; i++) {
		const struct fjr *j = &ft.jr[i];
		struct frec *r = REC(j->pos);

		if (j->op == LR_OP_REPLACE) {
			if (j->old.nh != LR_NH_NONE)
				lr_nh_put(j->old.nh);
			meter_put(j->old.meter);
		}
		if (j->op != LR_OP_DEL)
			continue;
		if (r->nh != LR_NH_NONE)
			lr_nh_put(r->nh);
		meter_put(r->meter);
		/* no worker reaches the slot any more: its counters start at zero
		 * for whoever gets it next */
		for (w = 0; w < ft.workers; w++)
			memset(&lr_flow_ctr[w][j->pos], 0, sizeof(struct lr_flow_ctr));
		lr_keyed_del_pos(&ft.ids, j->pos);
	}
	ft.n_jr = 0;
}

/* Stages entry e (valid, checked against the table). */
static int
stage_entry(const struct lr_flow *e, uint32_t i, struct lr_ctl_status *st, unsigned *dirty)
{
	struct fchange ch;
	struct frec *r, old;
	bool replaced = false;
	int32_t pos;
	int rc;

	pos = lr_keyed_find(&ft.ids, &e->id);
	memset(&ch, 0, sizeof(ch));
	if (e->op == LR_OP_DEL) {
		r = REC(pos);
		if ((rc = jr_push(pos, LR_OP_DEL, NULL)) < 0)
			return BAD(LR_ERR_NO_SPACE, "flows[%u]: out of memory", i);
		r->dying = 1;
		if (r->rule.table == LR_FLOW_WILDCARD) {
			ft.n_wild--;
			*dirty |= 1u << (r->rule.family == LR_AF_INET6);
			return LR_OK;
		}
		ft.n_exact--;
		ch.kind = CH_EXACT_DEL;
		ch.slot = (uint32_t)pos;
		key_of(&r->rule, &ch.u.key);
		return stage(&ch) < 0 ? BAD(LR_ERR_INTERNAL, "flows[%u]: exact delete failed", i) : LR_OK;
	}
	if (e->op == LR_OP_ADD || pos < 0) {  /* REPLACE of an absent rule adds it */
		if (e->table == LR_FLOW_WILDCARD ? ft.n_wild >= ft.max_wild : ft.n_exact >= ft.max_exact)
			return BAD(LR_ERR_NO_SPACE, "flows[%u]: the %s table is full (%u rules)", i,
				   e->table == LR_FLOW_WILDCARD ? "wildcard" : "exact",
				   e->table == LR_FLOW_WILDCARD ? ft.max_wild : ft.max_exact);
		pos = lr_keyed_add(&ft.ids, &e->id);
		if (pos < 0)
			return BAD(LR_ERR_NO_SPACE, "flows[%u]: no room for id %u", i, e->id);
		r = REC(pos);
		r->rule = *e;
		r->nh = LR_NH_NONE;
		r->meter = 0;
		if (jr_push(pos, LR_OP_ADD, NULL) < 0) {
			lr_keyed_del_pos(&ft.ids, pos);
			return BAD(LR_ERR_NO_SPACE, "flows[%u]: out of memory", i);
		}
		if (e->table == LR_FLOW_WILDCARD)
			ft.n_wild++;
		else
			ft.n_exact++;
		memset(&old, 0, sizeof(old));
		old.nh = LR_NH_NONE;
	} else {
		r = REC(pos);
		old = *r;
		replaced = true;
		if (jr_push(pos, LR_OP_REPLACE, &old) < 0)
			return BAD(LR_ERR_NO_SPACE, "flows[%u]: out of memory", i);
		r->rule = *e;
		r->nh = LR_NH_NONE;
		r->meter = 0;
	}
	r->rule.packets = r->rule.bytes = 0;
	if (nh_get(e, &r->nh) < 0)
		return BAD(LR_ERR_NO_SPACE, "flows[%u].out_port: no room for the next hop", i);
	rc = meter_get(e, &r->meter);
	if (rc == -ENOSPC)
		return BAD(LR_ERR_NO_SPACE, "flows[%u].flags: all %u meters are in use", i, LR_FLOW_METERS);
	if (rc < 0)
		return BAD(LR_ERR_INVALID, "flows[%u].cir: rte_meter refuses these rates", i);
	ch.kind = CH_ACT;
	ch.slot = (uint32_t)pos;
	act_of(&old, &ch.u.act.old);
	act_of(r, &ch.u.act.new_);
	if (stage(&ch) < 0)
		return BAD(LR_ERR_NO_SPACE, "flows[%u]: out of memory", i);
	if (e->table == LR_FLOW_WILDCARD) {
		*dirty |= 1u << (e->family == LR_AF_INET6);
		if (replaced && old.rule.family != e->family)
			*dirty |= 1u << (old.rule.family == LR_AF_INET6);
		return LR_OK;
	}
	if (replaced) {
		struct lr_flow_key ok, nk;

		key_of(&old.rule, &ok);
		key_of(e, &nk);
		if (memcmp(&ok, &nk, sizeof(ok)) == 0)
			return LR_OK;
		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_EXACT_DEL;
		ch.slot = (uint32_t)pos;
		ch.u.key = ok;
		if (stage(&ch) < 0)
			return BAD(LR_ERR_INTERNAL, "flows[%u]: exact delete failed", i);
	}
	memset(&ch, 0, sizeof(ch));
	ch.kind = CH_EXACT_ADD;
	ch.slot = (uint32_t)pos;
	key_of(e, &ch.u.key);
	if (rte_hash_lookup(shadow()->exact, &ch.u.key) >= 0) {
		char b[LR_IP_STRLEN];

		return BAD(LR_ERR_EXISTS, "flows[%u]: an exact flow %s %u -> port %u already exists", i,
			   lr_ip_fmt(e->family, e->src, -1, b, sizeof(b)), e->sport_lo, e->dport_lo);
	}
	rc = stage(&ch);
	if (rc < 0)
		return BAD(LR_ERR_NO_SPACE, "flows[%u]: the exact table is full", i);
	return LR_OK;
}

int
lr_flow_batch(const struct lr_flow *e, uint32_t n, struct lr_ctl_status *st)
{
	struct fchange ch;
	uint32_t i, *ids, dup, n_rules = 0;
	unsigned dirty = 0;
	int code = LR_OK;

	if (lr_flow_id < 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0, "flows: the flow tables are not set up");
	for (i = 0; i < n; i++)
		if ((code = validate(&e[i], i, lr_n_ports, st)) != LR_OK)
			return code;
	/* one id once per batch */
	ids = malloc(sizeof(*ids) * (n ? n : 1));
	if (ids == NULL)
		return lr_status_set(st, LR_ERR_NO_SPACE, 0, "flows: out of memory");
	for (i = 0; i < n; i++)
		ids[i] = e[i].id;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			break;
	dup = i < n ? ids[i] : 0;
	free(ids);
	if (i < n) {
		uint32_t j, first = UINT32_MAX;

		for (j = 0; j < n; j++) {
			if (e[j].id != dup)
				continue;
			if (first != UINT32_MAX)
				return lr_status_set(st, LR_ERR_INVALID, j,
						     "flows[%u].id: %u is also flows[%u]", j, dup, first);
			first = j;
		}
	}
	/* against the table */
	for (i = 0; i < n; i++) {
		int32_t pos = lr_keyed_find(&ft.ids, &e[i].id);

		if (e[i].op == LR_OP_ADD && pos >= 0)
			return lr_status_set(st, LR_ERR_EXISTS, i, "flows[%u].id: rule %u exists", i, e[i].id);
		if (e[i].op == LR_OP_DEL && pos < 0)
			return lr_status_set(st, LR_ERR_NOT_FOUND, i, "flows[%u].id: no rule %u", i, e[i].id);
		if (pos >= 0 && e[i].op != LR_OP_ADD && REC(pos)->rule.table != e[i].table)
			return lr_status_set(st, LR_ERR_INVALID, i, "flows[%u].table: rule %u is in the %s table",
					     i, e[i].id, REC(pos)->rule.table == LR_FLOW_WILDCARD ? "wildcard" : "exact");
	}
	for (i = 0; i < n; i++)
		if ((code = stage_entry(&e[i], i, st, &dirty)) != LR_OK)
			goto abort;
	if (dirty) {
		struct lr_flow_copy *c = shadow();
		uint64_t bytes[2];

		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_ACL;
		ch.u.acl.old[0] = c->acl[0];
		ch.u.acl.old[1] = c->acl[1];
		ch.u.acl.n_old = c->n_wild;
		if (build(dirty, ch.u.acl.new_, bytes, &n_rules) < 0) {
			code = lr_status_set(st, LR_ERR_NO_SPACE, 0, "flows: the classifier build failed");
			goto abort;
		}
		ch.u.acl.n_new = n_rules;
		if (stage(&ch) < 0) {
			unsigned f;

			for (f = 0; f < 2; f++)
				if (ch.u.acl.new_[f] != ch.u.acl.old[f])
					rte_acl_free(ch.u.acl.new_[f]);
			code = lr_status_set(st, LR_ERR_NO_SPACE, 0, "flows: out of memory");
			goto abort;
		}
		lr_tset_commit();
		for (i = 0; i < 2; i++)
			if (ch.u.acl.new_[i] != ch.u.acl.old[i]) {
				rte_acl_free(ch.u.acl.old[i]);
				ft.acl_bytes[i] = bytes[i];
			}
	} else {
		lr_tset_commit();
	}
	release();
	return LR_OK;
abort:
	lr_tset_abort();
	revert();
	return code;
}

/* ---- FLOW_DUMP / FLOW_STATS ---- */

static unsigned
emit(const void *key, int32_t pos, uint8_t family, void *out)
{
	const struct frec *r = REC(pos);
	struct lr_flow *o = out;
	unsigned w;

	(void)key;
	if (r->dying || (family != 0 && r->rule.family != family))
		return 0;
	if (o == NULL)
		return 1;
	*o = r->rule;
	o->op = LR_OP_ADD;
	o->packets = o->bytes = 0;
	for (w = 0; w < ft.workers; w++) {
		o->packets += lr_flow_ctr[w][pos].packets;
		o->bytes += lr_flow_ctr[w][pos].bytes;
	}
	return 1;
}

uint32_t
lr_flow_dump(uint8_t family, uint32_t cursor, struct lr_flow *out, uint32_t max, uint32_t *next,
	     uint32_t *done)
{
	if (lr_flow_id < 0) {
		*next = 0;
		*done = 1;
		return 0;
	}
	return lr_keyed_dump(&ft.ids, cursor, family, emit, out, sizeof(*out), max, next, done);
}

void
lr_flow_get_stats(struct lr_flow_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->wildcard_rules = ft.n_wild;
	s->exact_rules = ft.n_exact;
	s->wildcard_max = ft.max_wild;
	s->exact_max = ft.max_exact;
	s->acl_bytes = ft.acl_bytes[0] + ft.acl_bytes[1];
	if (ft.copy[0].exact != NULL)
		s->exact_bytes = 2 * (rte_hash_max_key_id(ft.copy[0].exact) + 1ull) *
				 (sizeof(struct lr_flow_key) + 2 * sizeof(void *));
	s->last_build_ns = ft.last_build_ns;
	s->builds = ft.builds;
	s->meters = lr_flow_id < 0 ? 0 : LR_FLOW_METERS - ft.n_mfree;
}

static int
stats_call(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	   struct lr_ctl_status *st)
{
	(void)req;
	(void)st;
	lr_flow_get_stats(out);
	*count = 1;
	*payload = sizeof(struct lr_flow_stats);
	return LR_OK;
}

LR_CTL_TABLE(flow, "flows", struct lr_flow, LR_CTL_FLOW_BATCH, lr_flow_batch, LR_CTL_FLOW_DUMP,
	     lr_flow_dump)

static const struct lr_ctl_handler flow_stats_handler = {
	.type = LR_CTL_FLOW_STATS, .shape = LR_CTL_CALL, .what = "flow stats",
	.reply_max = sizeof(struct lr_flow_stats), .call = stats_call,
};
LR_CTL_REGISTER(flow_stats_handler)

/* ---- the module ---- */

static int
flow_mod_init(const struct lr_module_env *env)
{
	unsigned lc = rte_lcore_count();

	return lr_flow_init(env->args->flows, env->args->flows_exact, lc > 1 ? lc - 1 : 1);
}

static const struct lr_module flow_module = {
	.name = "flow",
	.order = 200,   /* after ip: forward actions take next hops */
	.init = flow_mod_init,
	.fini = lr_flow_fini,
};
LR_MODULE_REGISTER(flow_module)
