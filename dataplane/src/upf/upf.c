/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UPF sessions (see upf.h): the sessions by SEID (main lcore),
 * SESSION_BATCH / _READ / _DUMP, CONFIG and STATS, the two copies of the
 * uplink and downlink hashes and of the compiled sessions, and the upf
 * module (LR_UPF_SESSIONS sessions).
 *
 * A batch takes each session in turn: validate it (syntax, then against
 * the shadow copy, which already holds the sessions accepted before it in
 * this batch, so "F-TEID / UE IP used by another session" sees them) and,
 * when valid, stage it (compiled session, key deletions, key additions) on
 * the shadow copy. Validation checks everything staging could refuse
 * (capacity included), so a session is either staged whole or not at all;
 * its result names the rule and the field. The accepted sessions are
 * published together by one commit. An unexpected staging failure aborts
 * the whole batch (every session reports it): nothing is half applied.
 *
 * URR counters live at positions 0..LR_UPF_MAX_URR-1 of the session's slot;
 * a MODIFY keeps a URR id at its position, so its counters continue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl.h"
#include "ipaddr.h"
#include "log.h"
#include "module.h"
#include "port.h"
#include "status.h"
#include "table.h"
#include "tset.h"
#include "upf.h"

int lr_upf_id = -1;
struct lr_upf_uctr *lr_upf_ctr[LR_MAX_WORKERS];
struct rte_meter_trtcm *lr_upf_meter[LR_MAX_WORKERS];
struct lr_upf_wstats *lr_upf_wst;

/* A session as the main lcore keeps it, by slot. */
struct srec {
	struct lr_upf_session s;   /* as given (op, counters unused) */
	uint8_t urr_pos[LR_UPF_MAX_URR];
	uint8_t dying;             /* deleted by the batch in progress */
	uint8_t zero_after;        /* URR positions to zero after the commit (bits) */
};

/* Journal of the batch in progress. */
struct sjr {
	int32_t pos;
	uint8_t op;
	struct srec old;           /* MODIFY: the record before */
};

enum { CH_SESS = 1, CH_UL_ADD, CH_UL_DEL, CH_DL_ADD, CH_DL_DEL, CH_CFG };

struct uchange {
	uint8_t kind;
	int8_t delta;              /* CH_SESS: +1 create, -1 delete, 0 modify */
	uint8_t pad[2];
	uint32_t slot;
	union {
		struct { struct lr_upf_csess old, new_; } sess;
		struct lr_upf_ulkey ul;
		struct lr_upf_dlkey dl;
		struct { uint32_t n3[2]; uint8_t iface[2][LR_MAX_PORTS]; } cfg;  /* [0] old, [1] new */
	} u;
};

static struct {
	struct lr_keyed ids;             /* uint64 seid -> struct srec */
	struct lr_upf_copy copy[2];
	uint32_t max;                    /* sessions */
	uint32_t n;                      /* main records live (dying excluded) */
	uint32_t cap;                    /* slots */
	unsigned workers;
	struct sjr *jr;
	uint32_t n_jr, cap_jr;
	struct lr_upf_config cfg;
} ut;

#define REC(pos) ((struct srec *)lr_keyed_rec(&ut.ids, (pos)))

/* ---- table-set callbacks ---- */

static int
copy_apply(void *cp, const void *change)
{
	struct lr_upf_copy *c = cp;
	const struct uchange *ch = change;
	int rc;

	switch (ch->kind) {
	case CH_SESS:
		c->sess[ch->slot] = ch->u.sess.new_;
		c->n_sess = (uint32_t)((int32_t)c->n_sess + ch->delta);
		return 0;
	case CH_UL_ADD:
		rc = rte_hash_add_key_data(c->ul, &ch->u.ul, (void *)(uintptr_t)ch->slot);
		return rc < 0 ? rc : 0;
	case CH_UL_DEL:
		rte_hash_del_key(c->ul, &ch->u.ul);
		return 0;
	case CH_DL_ADD:
		rc = rte_hash_add_key_data(c->dl, &ch->u.dl, (void *)(uintptr_t)ch->slot);
		return rc < 0 ? rc : 0;
	case CH_DL_DEL:
		rte_hash_del_key(c->dl, &ch->u.dl);
		return 0;
	case CH_CFG:
		c->n3 = ch->u.cfg.n3[1];
		memcpy(c->port_iface, ch->u.cfg.iface[1], LR_MAX_PORTS);
		return 0;
	}
	return -EINVAL;
}

static void
copy_undo(void *cp, const void *change)
{
	struct lr_upf_copy *c = cp;
	const struct uchange *ch = change;

	switch (ch->kind) {
	case CH_SESS:
		c->sess[ch->slot] = ch->u.sess.old;
		c->n_sess = (uint32_t)((int32_t)c->n_sess - ch->delta);
		break;
	case CH_UL_ADD:
		rte_hash_del_key(c->ul, &ch->u.ul);
		break;
	case CH_UL_DEL:
		if (rte_hash_add_key_data(c->ul, &ch->u.ul, (void *)(uintptr_t)ch->slot) < 0)
			LR_LOG(CRIT, "upf: undo of an uplink key delete failed");
		break;
	case CH_DL_ADD:
		rte_hash_del_key(c->dl, &ch->u.dl);
		break;
	case CH_DL_DEL:
		if (rte_hash_add_key_data(c->dl, &ch->u.dl, (void *)(uintptr_t)ch->slot) < 0)
			LR_LOG(CRIT, "upf: undo of a downlink key delete failed");
		break;
	case CH_CFG:
		c->n3 = ch->u.cfg.n3[0];
		memcpy(c->port_iface, ch->u.cfg.iface[0], LR_MAX_PORTS);
		break;
	}
}

static struct lr_upf_copy *
shadow(void)
{
	return lr_tset_copy(lr_upf_id, 1);
}

/* ---- module life ---- */

void
lr_upf_fini(void)
{
	unsigned i;

	if (lr_upf_id >= 0)
		lr_tset_unregister(lr_upf_id);
	lr_upf_id = -1;
	for (i = 0; i < 2; i++) {
		rte_hash_free(ut.copy[i].ul);
		rte_hash_free(ut.copy[i].dl);
		rte_free(ut.copy[i].sess);
	}
	for (i = 0; i < LR_MAX_WORKERS; i++) {
		rte_free(lr_upf_ctr[i]);
		lr_upf_ctr[i] = NULL;
		rte_free(lr_upf_meter[i]);
		lr_upf_meter[i] = NULL;
	}
	rte_free(lr_upf_wst);
	lr_upf_wst = NULL;
	lr_keyed_free(&ut.ids);
	free(ut.jr);
	memset(&ut, 0, sizeof(ut));
}

int
lr_upf_init(uint32_t sessions, unsigned workers)
{
	struct lr_tset_table t = { .name = "upf", .apply = copy_apply, .undo = copy_undo };
	uint32_t keys;
	unsigned i;
	int rc;

	memset(&ut, 0, sizeof(ut));
	ut.max = sessions;
	ut.workers = workers ? workers : 1;
	if (ut.workers > LR_MAX_WORKERS)
		ut.workers = LR_MAX_WORKERS;
	rc = lr_keyed_create(&ut.ids, "lr_upf_ids", sessions, sizeof(uint64_t), sizeof(struct srec),
			     false);
	if (rc < 0)
		goto fail;
	ut.cap = ut.ids.cap;
	keys = sessions * LR_UPF_MAX_PDR;
	for (i = 0; i < 2; i++) {
		char n1[RTE_HASH_NAMESIZE], n2[RTE_HASH_NAMESIZE];
		struct rte_hash_parameters p = {
			.entries = keys < 64 ? 64 : keys, .hash_func = rte_hash_crc,
			.socket_id = (int)rte_socket_id(),
			.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
		};

		snprintf(n1, sizeof(n1), "lr_upf_ul%u", i);
		snprintf(n2, sizeof(n2), "lr_upf_dl%u", i);
		p.name = n1;
		p.key_len = sizeof(struct lr_upf_ulkey);
		ut.copy[i].ul = rte_hash_create(&p);
		p.name = n2;
		p.key_len = sizeof(struct lr_upf_dlkey);
		ut.copy[i].dl = rte_hash_create(&p);
		ut.copy[i].sess = rte_zmalloc("lr_upf_sess", sizeof(struct lr_upf_csess) * ut.cap,
					      RTE_CACHE_LINE_SIZE);
		if (ut.copy[i].ul == NULL || ut.copy[i].dl == NULL || ut.copy[i].sess == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		t.copy[i] = &ut.copy[i];
	}
	for (i = 0; i < ut.workers; i++) {
		lr_upf_ctr[i] = rte_zmalloc("lr_upf_ctr",
					    sizeof(struct lr_upf_uctr) * ut.cap * LR_UPF_MAX_URR,
					    RTE_CACHE_LINE_SIZE);
		lr_upf_meter[i] = rte_zmalloc("lr_upf_meter", sizeof(struct rte_meter_trtcm) * ut.cap *
					      LR_UPF_MAX_QER * 2, RTE_CACHE_LINE_SIZE);
		if (lr_upf_ctr[i] == NULL || lr_upf_meter[i] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	lr_upf_wst = rte_zmalloc("lr_upf_wst", sizeof(struct lr_upf_wstats) * LR_MAX_WORKERS,
				 RTE_CACHE_LINE_SIZE);
	if (lr_upf_wst == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = lr_tset_register(&t);
	if (rc < 0)
		goto fail;
	lr_upf_id = rc;
	return 0;
fail:
	LR_LOG(ERR, "upf: cannot create the tables (%u sessions): %d", sessions, rc);
	lr_upf_fini();
	return rc;
}

/* ---- validation ---- */

#define BAD(c_, ...) (r->code = (c_), \
		      snprintf(r->msg, sizeof(r->msg), __VA_ARGS__), (c_))

static const char *
ifname(uint8_t i)
{
	return i == LR_UPF_ACCESS ? "ACCESS" : i == LR_UPF_CORE ? "CORE" : "?";
}

static int
find_far(const struct lr_upf_session *s, uint16_t id)
{
	int k;

	for (k = 0; k < s->n_fars; k++)
		if (s->fars[k].id == id)
			return k;
	return -1;
}

static int
find_qer(const struct lr_upf_session *s, uint16_t id)
{
	int k;

	for (k = 0; k < s->n_qers; k++)
		if (s->qers[k].id == id)
			return k;
	return -1;
}

static int
find_urr(const struct lr_upf_session *s, uint16_t id)
{
	int k;

	for (k = 0; k < s->n_urrs; k++)
		if (s->urrs[k].id == id)
			return k;
	return -1;
}

/* Syntax of one session (CREATE / MODIFY); the tables are not consulted. */
static int
validate(const struct lr_upf_session *s, uint32_t i, struct lr_upf_result *r)
{
	char b[LR_IP_STRLEN];
	unsigned j, k;

	if (s->n_pdrs == 0 || s->n_pdrs > LR_UPF_MAX_PDR)
		return BAD(LR_ERR_INVALID, "sessions[%u].pdrs: 1 to %u PDRs, got %u", i, LR_UPF_MAX_PDR,
			   s->n_pdrs);
	if (s->n_fars == 0 || s->n_fars > LR_UPF_MAX_FAR)
		return BAD(LR_ERR_INVALID, "sessions[%u].fars: 1 to %u FARs, got %u", i, LR_UPF_MAX_FAR,
			   s->n_fars);
	if (s->n_qers > LR_UPF_MAX_QER)
		return BAD(LR_ERR_INVALID, "sessions[%u].qers: at most %u QERs, got %u", i, LR_UPF_MAX_QER,
			   s->n_qers);
	if (s->n_urrs > LR_UPF_MAX_URR)
		return BAD(LR_ERR_INVALID, "sessions[%u].urrs: at most %u URRs, got %u", i, LR_UPF_MAX_URR,
			   s->n_urrs);
	for (j = 0; j < s->n_pdrs; j++)
		for (k = 0; k < j; k++)
			if (s->pdrs[j].id == s->pdrs[k].id)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].id: %u is also pdrs[%u]", i, j,
					   s->pdrs[j].id, k);
	for (j = 0; j < s->n_fars; j++)
		for (k = 0; k < j; k++)
			if (s->fars[j].id == s->fars[k].id)
				return BAD(LR_ERR_INVALID, "sessions[%u].fars[%u].id: %u is also fars[%u]", i, j,
					   s->fars[j].id, k);
	for (j = 0; j < s->n_qers; j++)
		for (k = 0; k < j; k++)
			if (s->qers[j].id == s->qers[k].id)
				return BAD(LR_ERR_INVALID, "sessions[%u].qers[%u].id: %u is also qers[%u]", i, j,
					   s->qers[j].id, k);
	for (j = 0; j < s->n_urrs; j++)
		for (k = 0; k < j; k++)
			if (s->urrs[j].id == s->urrs[k].id)
				return BAD(LR_ERR_INVALID, "sessions[%u].urrs[%u].id: %u is also urrs[%u]", i, j,
					   s->urrs[j].id, k);
	for (j = 0; j < s->n_fars; j++) {
		const struct lr_upf_far *f = &s->fars[j];

		if (f->action < LR_UPF_DROP || f->action > LR_UPF_BUFFER)
			return BAD(LR_ERR_INVALID, "sessions[%u].fars[%u].action: unknown action %u", i, j,
				   f->action);
		if (f->action != LR_UPF_FORWARD)
			continue;
		if (f->destination_interface != LR_UPF_ACCESS && f->destination_interface != LR_UPF_CORE)
			return BAD(LR_ERR_INVALID,
				   "sessions[%u].fars[%u].destination_interface: must be ACCESS or CORE, got %u",
				   i, j, f->destination_interface);
		if (f->destination_interface == LR_UPF_CORE) {
			if (f->outer_header_creation)
				return BAD(LR_ERR_UNSUPPORTED,
					   "sessions[%u].fars[%u].outer_header_creation: towards CORE (N9) is not supported",
					   i, j);
			continue;
		}
		if (!f->outer_header_creation)
			return BAD(LR_ERR_INVALID,
				   "sessions[%u].fars[%u].outer_header_creation: forwarding to ACCESS needs it", i, j);
		if (f->peer_teid == 0)
			return BAD(LR_ERR_INVALID, "sessions[%u].fars[%u].peer_teid: TEID 0 is reserved", i, j);
		if (!lr_ip_is_unicast_host(LR_AF_INET, f->peer_addr))
			return BAD(LR_ERR_INVALID, "sessions[%u].fars[%u].peer_addr: %s is not a unicast address",
				   i, j, lr_ip_fmt(LR_AF_INET, f->peer_addr, -1, b, sizeof(b)));
		if (f->qfi > LR_UPF_QFI_MAX)
			return BAD(LR_ERR_INVALID, "sessions[%u].fars[%u].qfi: QFI is 0..63, got %u", i, j, f->qfi);
	}
	for (j = 0; j < s->n_qers; j++) {
		const struct lr_upf_qer *q = &s->qers[j];

		if (q->gate_ul > 1 || q->gate_dl > 1)
			return BAD(LR_ERR_INVALID, "sessions[%u].qers[%u].gate_%s: must be OPEN or CLOSED", i, j,
				   q->gate_ul > 1 ? "ul" : "dl");
		if (q->qfi > LR_UPF_QFI_MAX)
			return BAD(LR_ERR_INVALID, "sessions[%u].qers[%u].qfi: QFI is 0..63, got %u", i, j, q->qfi);
		if ((q->mbr_ul != 0 && q->mbr_ul < 8) || (q->mbr_dl != 0 && q->mbr_dl < 8))
			return BAD(LR_ERR_INVALID, "sessions[%u].qers[%u].mbr_%s: at least 8 bits/s", i, j,
				   q->mbr_ul != 0 && q->mbr_ul < 8 ? "ul" : "dl");
	}
	for (j = 0; j < s->n_pdrs; j++) {
		const struct lr_upf_pdr *p = &s->pdrs[j];
		int fi;

		if (p->source_interface == LR_UPF_ACCESS) {
			if (p->teid == 0)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].teid: TEID 0 is reserved", i, j);
			if (!lr_ip_is_unicast_host(LR_AF_INET, p->n3_addr))
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].n3_addr: %s is not a unicast address",
					   i, j, lr_ip_fmt(LR_AF_INET, p->n3_addr, -1, b, sizeof(b)));
			if (p->qfi > LR_UPF_QFI_MAX && p->qfi != LR_UPF_ANY_QFI)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].qfi: QFI is 0..63, got %u", i, j,
					   p->qfi);
			if (p->outer_header_removal != 1)
				return BAD(LR_ERR_UNSUPPORTED,
					   "sessions[%u].pdrs[%u].outer_header_removal: an ACCESS PDR removes GTP-U/UDP/IPv4 (1)",
					   i, j);
		} else if (p->source_interface == LR_UPF_CORE) {
			if (p->ue_family != LR_AF_INET && p->ue_family != LR_AF_INET6)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].ue_family: must be 4 or 6, got %u",
					   i, j, p->ue_family);
			if (!lr_ip_is_unicast_host(p->ue_family, p->ue_addr))
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].ue_addr: %s is not a unicast address",
					   i, j, lr_ip_fmt(p->ue_family, p->ue_addr, -1, b, sizeof(b)));
			if (p->qfi != LR_UPF_ANY_QFI)
				return BAD(LR_ERR_INVALID,
					   "sessions[%u].pdrs[%u].qfi: only an ACCESS PDR matches a QFI", i, j);
			if (p->outer_header_removal != 0)
				return BAD(LR_ERR_INVALID,
					   "sessions[%u].pdrs[%u].outer_header_removal: a CORE PDR has no outer header", i, j);
		} else {
			return BAD(LR_ERR_INVALID,
				   "sessions[%u].pdrs[%u].source_interface: must be ACCESS or CORE, got %u", i, j,
				   p->source_interface);
		}
		fi = find_far(s, p->far_id);
		if (fi < 0)
			return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].far_id: no FAR %u in the session", i, j,
				   p->far_id);
		if (s->fars[fi].action == LR_UPF_FORWARD &&
		    s->fars[fi].destination_interface == p->source_interface)
			return BAD(LR_ERR_INVALID,
				   "sessions[%u].pdrs[%u].far_id: FAR %u forwards to %s, where this PDR's traffic comes from",
				   i, j, p->far_id, ifname(p->source_interface));
		if (p->n_qers > LR_UPF_PDR_QERS)
			return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].qer_ids: at most %u, got %u", i, j,
				   LR_UPF_PDR_QERS, p->n_qers);
		if (p->n_urrs > LR_UPF_PDR_URRS)
			return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].urr_ids: at most %u, got %u", i, j,
				   LR_UPF_PDR_URRS, p->n_urrs);
		for (k = 0; k < p->n_qers; k++)
			if (find_qer(s, p->qer_ids[k]) < 0)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].qer_ids[%u]: no QER %u in the session",
					   i, j, k, p->qer_ids[k]);
		for (k = 0; k < p->n_urrs; k++)
			if (find_urr(s, p->urr_ids[k]) < 0)
				return BAD(LR_ERR_INVALID, "sessions[%u].pdrs[%u].urr_ids[%u]: no URR %u in the session",
					   i, j, k, p->urr_ids[k]);
	}
	return LR_OK;
}

/* ---- building blocks ---- */

static void
ulkey_of(const struct lr_upf_pdr *p, struct lr_upf_ulkey *k)
{
	memset(k, 0, sizeof(*k));
	k->teid = p->teid;
	memcpy(&k->addr, p->n3_addr, 4);
}

static void
dlkey_of(const struct lr_upf_pdr *p, struct lr_upf_dlkey *k)
{
	memset(k, 0, sizeof(*k));
	k->family = p->ue_family;
	memcpy(k->addr, p->ue_addr, lr_ip_len(p->ue_family));
}

/* Does session s have a PDR with the same key as p (before index lim)? */
static bool
has_key(const struct lr_upf_session *s, const struct lr_upf_pdr *p, unsigned lim)
{
	unsigned j;

	for (j = 0; j < lim && j < s->n_pdrs; j++) {
		const struct lr_upf_pdr *q = &s->pdrs[j];

		if (q->source_interface != p->source_interface)
			continue;
		if (p->source_interface == LR_UPF_ACCESS) {
			if (q->teid == p->teid && memcmp(q->n3_addr, p->n3_addr, 4) == 0)
				return true;
		} else if (q->ue_family == p->ue_family &&
			   memcmp(q->ue_addr, p->ue_addr, lr_ip_len(p->ue_family)) == 0) {
			return true;
		}
	}
	return false;
}

/* Distinct keys of s (ACCESS: uplink, CORE: downlink). */
static void
count_keys(const struct lr_upf_session *s, uint32_t *ul, uint32_t *dl)
{
	unsigned j;

	*ul = *dl = 0;
	for (j = 0; j < s->n_pdrs; j++)
		if (!has_key(s, &s->pdrs[j], j)) {
			if (s->pdrs[j].source_interface == LR_UPF_ACCESS)
				(*ul)++;
			else
				(*dl)++;
		}
}

static void
profile_of(uint64_t mbr, struct rte_meter_trtcm_profile *prof)
{
	/* MBR in bits/s: both buckets at mbr / 8 bytes/s, 10 ms of burst, at
	 * least three full frames */
	uint64_t rate = mbr / 8, burst = rate / 100;
	struct rte_meter_trtcm_params p;

	if (burst < 3 * 1518)
		burst = 3 * 1518;
	if (burst > UINT32_MAX)
		burst = UINT32_MAX;
	p.cir = p.pir = rate;
	p.cbs = p.pbs = burst;
	if (rte_meter_trtcm_profile_config(prof, &p) < 0)
		LR_LOG(ERR, "upf: rte_meter refuses %" PRIu64 " bits/s", mbr);
}

static int
cmp_prec(const void *a, const void *b)
{
	const struct lr_upf_cpdr *x = a, *y = b;

	return x->precedence < y->precedence ? -1 : x->precedence > y->precedence;
}

/* The compiled form of a valid session (urr_pos: the URRs' positions). */
static void
compile(const struct lr_upf_session *s, const uint8_t *urr_pos, struct lr_upf_csess *c)
{
	unsigned j, k;

	memset(c, 0, sizeof(*c));
	c->n_pdr = s->n_pdrs;
	for (j = 0; j < s->n_pdrs; j++) {
		const struct lr_upf_pdr *p = &s->pdrs[j];
		struct lr_upf_cpdr *q = &c->pdr[j];

		q->precedence = p->precedence;
		q->src_if = p->source_interface;
		q->qfi = p->source_interface == LR_UPF_ACCESS ? p->qfi : LR_UPF_ANY_QFI;
		q->far = (uint8_t)find_far(s, p->far_id);
		q->n_qer = p->n_qers;
		q->n_urr = p->n_urrs;
		for (k = 0; k < p->n_qers; k++)
			q->qer[k] = (uint8_t)find_qer(s, p->qer_ids[k]);
		for (k = 0; k < p->n_urrs; k++)
			q->urr[k] = urr_pos[find_urr(s, p->urr_ids[k])];
		if (p->source_interface == LR_UPF_ACCESS)
			ulkey_of(p, &q->ul);
		else
			dlkey_of(p, &q->dl);
	}
	/* stable on ties: the order given */
	for (j = 1; j < c->n_pdr; j++)
		for (k = j; k > 0 && cmp_prec(&c->pdr[k - 1], &c->pdr[k]) > 0; k--) {
			struct lr_upf_cpdr t = c->pdr[k];

			c->pdr[k] = c->pdr[k - 1];
			c->pdr[k - 1] = t;
		}
	for (j = 0; j < s->n_fars; j++) {
		const struct lr_upf_far *f = &s->fars[j];
		struct lr_upf_cfar *o = &c->far[j];

		o->action = f->action;
		o->ohc = f->outer_header_creation;
		o->qfi = f->qfi;
		o->peer_teid = rte_cpu_to_be_32(f->peer_teid);
		memcpy(&o->peer, f->peer_addr, 4);
	}
	for (j = 0; j < s->n_qers; j++) {
		const struct lr_upf_qer *q = &s->qers[j];
		struct lr_upf_cqer *o = &c->qer[j];

		o->gate[0] = q->gate_ul;
		o->gate[1] = q->gate_dl;
		o->metered[0] = q->mbr_ul != 0;
		o->metered[1] = q->mbr_dl != 0;
		if (q->mbr_ul != 0)
			profile_of(q->mbr_ul, &o->prof[0]);
		if (q->mbr_dl != 0)
			profile_of(q->mbr_dl, &o->prof[1]);
	}
}

/* Meter states of slot's QERs, fresh (full buckets) for every worker. */
static void
meters_init(int32_t pos, const struct lr_upf_csess *c, const struct lr_upf_session *s)
{
	unsigned w, q, d;

	for (q = 0; q < s->n_qers; q++)
		for (d = 0; d < 2; d++) {
			if (!c->qer[q].metered[d])
				continue;
			for (w = 0; w < ut.workers; w++)
				rte_meter_trtcm_config(&lr_upf_meter[w][((size_t)pos * LR_UPF_MAX_QER + q) * 2 + d],
						       (struct rte_meter_trtcm_profile *)(uintptr_t)&c->qer[q].prof[d]);
		}
}

static void
zero_urr(int32_t pos, unsigned u)
{
	unsigned w;

	for (w = 0; w < ut.workers; w++)
		memset(&lr_upf_ctr[w][(size_t)pos * LR_UPF_MAX_URR + u], 0, sizeof(struct lr_upf_uctr));
}

static int
jr_push(int32_t pos, uint8_t op, const struct srec *old)
{
	struct sjr *j;

	if (lr_grow((void **)&ut.jr, &ut.cap_jr, ut.n_jr, sizeof(*ut.jr), 64) < 0)
		return -ENOMEM;
	j = &ut.jr[ut.n_jr++];
	j->pos = pos;
	j->op = op;
	if (old != NULL)
		j->old = *old;
	return 0;
}

/* Session owning key (slot), or -1. */
static int32_t
owner_ul(const struct lr_upf_ulkey *k)
{
	void *d;

	return rte_hash_lookup_data(shadow()->ul, k, &d) >= 0 ? (int32_t)(uintptr_t)d : -1;
}

static int32_t
owner_dl(const struct lr_upf_dlkey *k)
{
	void *d;

	return rte_hash_lookup_data(shadow()->dl, k, &d) >= 0 ? (int32_t)(uintptr_t)d : -1;
}

static uint64_t
seid_at(int32_t pos)
{
	uint64_t s;

	memcpy(&s, lr_keyed_key(&ut.ids, pos), sizeof(s));
	return s;
}

/* Against the shadow copy: the keys of s are free or its own (slot own, -1 = new). */
static int
check_keys(const struct lr_upf_session *s, uint32_t i, int32_t own, const struct lr_upf_session *old,
	   struct lr_upf_result *r)
{
	const struct lr_upf_copy *c = shadow();
	uint32_t ul, dl, oul = 0, odl = 0;
	char b[LR_IP_STRLEN];
	unsigned j;

	for (j = 0; j < s->n_pdrs; j++) {
		const struct lr_upf_pdr *p = &s->pdrs[j];
		int32_t o;

		if (p->source_interface == LR_UPF_ACCESS) {
			struct lr_upf_ulkey k;

			ulkey_of(p, &k);
			o = owner_ul(&k);
			if (o >= 0 && o != own)
				return BAD(LR_ERR_EXISTS,
					   "sessions[%u].pdrs[%u].teid: F-TEID %u at %s is used by session %" PRIu64,
					   i, j, p->teid, lr_ip_fmt(LR_AF_INET, p->n3_addr, -1, b, sizeof(b)),
					   seid_at(o));
		} else {
			struct lr_upf_dlkey k;

			dlkey_of(p, &k);
			o = owner_dl(&k);
			if (o >= 0 && o != own)
				return BAD(LR_ERR_EXISTS,
					   "sessions[%u].pdrs[%u].ue_addr: UE IP %s is used by session %" PRIu64,
					   i, j, lr_ip_fmt(p->ue_family, p->ue_addr, -1, b, sizeof(b)), seid_at(o));
		}
	}
	count_keys(s, &ul, &dl);
	if (old != NULL)
		count_keys(old, &oul, &odl);
	if (rte_hash_count(c->ul) - oul + ul > ut.max * LR_UPF_MAX_PDR ||
	    rte_hash_count(c->dl) - odl + dl > ut.max * LR_UPF_MAX_PDR)
		return BAD(LR_ERR_NO_SPACE, "sessions[%u].pdrs: the key tables are full", i);
	return LR_OK;
}

static int
stage_ch(const struct uchange *ch)
{
	return lr_tset_stage(lr_upf_id, ch, sizeof(*ch));
}

/* Key changes from old to new (either may be NULL), as change records. */
static int
stage_keys(const struct lr_upf_session *old, const struct lr_upf_session *new_, int32_t pos)
{
	static struct uchange ch;
	unsigned j;

	for (j = 0; old != NULL && j < old->n_pdrs; j++) {
		const struct lr_upf_pdr *p = &old->pdrs[j];

		if (has_key(old, p, j) || (new_ != NULL && has_key(new_, p, LR_UPF_MAX_PDR)))
			continue;
		memset(&ch, 0, sizeof(ch));
		ch.slot = (uint32_t)pos;
		if (p->source_interface == LR_UPF_ACCESS) {
			ch.kind = CH_UL_DEL;
			ulkey_of(p, &ch.u.ul);
		} else {
			ch.kind = CH_DL_DEL;
			dlkey_of(p, &ch.u.dl);
		}
		if (stage_ch(&ch) < 0)
			return -1;
	}
	for (j = 0; new_ != NULL && j < new_->n_pdrs; j++) {
		const struct lr_upf_pdr *p = &new_->pdrs[j];

		if (has_key(new_, p, j) || (old != NULL && has_key(old, p, LR_UPF_MAX_PDR)))
			continue;
		memset(&ch, 0, sizeof(ch));
		ch.slot = (uint32_t)pos;
		if (p->source_interface == LR_UPF_ACCESS) {
			ch.kind = CH_UL_ADD;
			ulkey_of(p, &ch.u.ul);
		} else {
			ch.kind = CH_DL_ADD;
			dlkey_of(p, &ch.u.dl);
		}
		if (stage_ch(&ch) < 0)
			return -1;
	}
	return 0;
}

/* MODIFY: URR positions of new, keeping an id's position; bits to zero after commit in *late. */
static void
assign_urrs(const struct srec *old, const struct lr_upf_session *s, uint8_t *pos, uint8_t *late,
	    int32_t slot)
{
	unsigned used = 0, j;
	int k;

	*late = 0;
	for (j = 0; j < s->n_urrs; j++) {
		pos[j] = 0xff;
		if (old != NULL && (k = find_urr(&old->s, s->urrs[j].id)) >= 0) {
			pos[j] = old->urr_pos[k];
			used |= 1u << pos[j];
		}
	}
	for (j = 0; j < s->n_urrs; j++) {
		unsigned oldused = 0, u, pick = LR_UPF_MAX_URR;

		if (pos[j] != 0xff)
			continue;
		for (k = 0; old != NULL && k < old->s.n_urrs; k++)
			oldused |= 1u << old->urr_pos[k];
		/* a position the published version does not count into, if any */
		for (u = 0; u < LR_UPF_MAX_URR; u++)
			if (!(used & (1u << u)) && !(oldused & (1u << u))) {
				pick = u;
				break;
			}
		if (pick == LR_UPF_MAX_URR) {
			for (u = 0; u < LR_UPF_MAX_URR; u++)
				if (!(used & (1u << u))) {
					pick = u;
					break;
				}
			*late |= (uint8_t)(1u << pick);
		}
		zero_urr(slot, pick);
		pos[j] = (uint8_t)pick;
		used |= 1u << pick;
	}
}

/* Validates and stages session s (index i). */
static int
one(const struct lr_upf_session *s, uint32_t i, struct lr_upf_result *r)
{
	static struct uchange ch;
	int32_t pos = lr_keyed_find(&ut.ids, &s->seid);
	struct srec *rec;
	int code;

	if (s->seid == 0)
		return BAD(LR_ERR_INVALID, "sessions[%u].seid: SEID 0 is reserved", i);
	if (s->op != LR_UPF_CREATE && s->op != LR_UPF_DELETE && s->op != LR_UPF_MODIFY)
		return BAD(LR_ERR_INVALID, "sessions[%u].op: must be CREATE, DELETE or MODIFY, got %u", i,
			   s->op);
	if (pos >= 0 && REC(pos)->dying)
		return BAD(LR_ERR_INVALID, "sessions[%u].seid: session %" PRIu64 " is deleted earlier in this batch",
			   i, s->seid);
	if (s->op == LR_UPF_CREATE && pos >= 0)
		return BAD(LR_ERR_EXISTS, "sessions[%u].seid: session %" PRIu64 " exists", i, s->seid);
	if (s->op != LR_UPF_CREATE && pos < 0)
		return BAD(LR_ERR_NOT_FOUND, "sessions[%u].seid: no session %" PRIu64, i, s->seid);
	memset(&ch, 0, sizeof(ch));
	ch.kind = CH_SESS;
	if (s->op == LR_UPF_DELETE) {
		rec = REC(pos);
		if (jr_push(pos, LR_UPF_DELETE, NULL) < 0)
			return BAD(LR_ERR_NO_SPACE, "sessions[%u]: out of memory", i);
		rec->dying = 1;
		ut.n--;
		ch.delta = -1;
		ch.slot = (uint32_t)pos;
		ch.u.sess.old = shadow()->sess[pos];
		memset(&ch.u.sess.new_, 0, sizeof(ch.u.sess.new_));
		if (stage_ch(&ch) < 0 || stage_keys(&rec->s, NULL, pos) < 0)
			return -1;
		return LR_OK;
	}
	if ((code = validate(s, i, r)) != LR_OK)
		return code;
	if (s->op == LR_UPF_CREATE) {
		uint8_t late;

		if (ut.n >= ut.max)
			return BAD(LR_ERR_NO_SPACE, "sessions[%u]: the session table is full (%u)", i, ut.max);
		if ((code = check_keys(s, i, -1, NULL, r)) != LR_OK)
			return code;
		pos = lr_keyed_add(&ut.ids, &s->seid);
		if (pos < 0)
			return BAD(LR_ERR_NO_SPACE, "sessions[%u]: no room for session %" PRIu64, i, s->seid);
		rec = REC(pos);
		rec->s = *s;
		rec->dying = 0;
		if (jr_push(pos, LR_UPF_CREATE, NULL) < 0) {
			lr_keyed_del_pos(&ut.ids, pos);
			return BAD(LR_ERR_NO_SPACE, "sessions[%u]: out of memory", i);
		}
		ut.n++;
		assign_urrs(NULL, s, rec->urr_pos, &late, pos);
		rec->zero_after = 0;
		ch.delta = 1;
		ch.slot = (uint32_t)pos;
		ch.u.sess.old = shadow()->sess[pos];
		compile(s, rec->urr_pos, &ch.u.sess.new_);
		meters_init(pos, &ch.u.sess.new_, s);
		if (stage_ch(&ch) < 0 || stage_keys(NULL, s, pos) < 0)
			return -1;
		return LR_OK;
	}
	/* MODIFY */
	rec = REC(pos);
	if ((code = check_keys(s, i, pos, &rec->s, r)) != LR_OK)
		return code;
	if (jr_push(pos, LR_UPF_MODIFY, rec) < 0)
		return BAD(LR_ERR_NO_SPACE, "sessions[%u]: out of memory", i);
	{
		struct srec old = *rec;

		rec->s = *s;
		assign_urrs(&old, s, rec->urr_pos, &rec->zero_after, pos);
		ch.delta = 0;
		ch.slot = (uint32_t)pos;
		ch.u.sess.old = shadow()->sess[pos];
		compile(s, rec->urr_pos, &ch.u.sess.new_);
		meters_init(pos, &ch.u.sess.new_, s);
		if (stage_ch(&ch) < 0 || stage_keys(&old.s, s, pos) < 0)
			return -1;
	}
	return LR_OK;
}

/* Undoes the main records of the batch in progress (after lr_tset_abort). */
static void
revert(void)
{
	uint32_t i;

	for (i = ut.n_jr; i-- > 0;) {
		const struct sjr *j = &ut.jr[i];
		struct srec *r = REC(j->pos);

		switch (j->op) {
		case LR_UPF_CREATE:
			ut.n--;
			lr_keyed_del_pos(&ut.ids, j->pos);
			break;
		case LR_UPF_MODIFY:
			*r = j->old;
			break;
		case LR_UPF_DELETE:
			r->dying = 0;
			ut.n++;
			break;
		}
	}
	ut.n_jr = 0;
}

/* After the commit: deleted sessions go, their counters start at zero for the next. */
static void
release(void)
{
	uint32_t i;
	unsigned u;

	for (i = 0; i < ut.n_jr; i++) {
		const struct sjr *j = &ut.jr[i];
		struct srec *r = REC(j->pos);

		if (j->op == LR_UPF_MODIFY) {
			for (u = 0; u < LR_UPF_MAX_URR; u++)
				if (r->zero_after & (1u << u))
					zero_urr(j->pos, u);
			r->zero_after = 0;
		}
		if (j->op != LR_UPF_DELETE)
			continue;
		for (u = 0; u < LR_UPF_MAX_URR; u++)
			zero_urr(j->pos, u);
		lr_keyed_del_pos(&ut.ids, j->pos);
	}
	ut.n_jr = 0;
}

uint32_t
lr_upf_batch(const struct lr_upf_session *s, uint32_t n, struct lr_upf_result *res)
{
	uint32_t i, bad = 0;

	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].seid = s[i].seid;
	}
	if (lr_upf_id < 0) {
		for (i = 0; i < n; i++) {
			res[i].code = LR_ERR_PRECONDITION;
			snprintf(res[i].msg, sizeof(res[i].msg), "sessions: the UPF tables are not set up");
		}
		return n;
	}
	for (i = 0; i < n; i++) {
		uint32_t k;
		int code;

		for (k = 0; k < i; k++)
			if (s[k].seid == s[i].seid)
				break;
		if (k < i) {
			struct lr_upf_result *r = &res[i];

			(void)BAD(LR_ERR_INVALID, "sessions[%u].seid: %" PRIu64 " is also sessions[%u]", i,
			    s[i].seid, k);
			bad++;
			continue;
		}
		code = one(&s[i], i, &res[i]);
		if (code < 0) {
			/* a staging failure validation did not foresee: nothing of the batch */
			lr_tset_abort();
			revert();
			for (k = 0; k < n; k++) {
				res[k].code = LR_ERR_INTERNAL;
				snprintf(res[k].msg, sizeof(res[k].msg),
					 "sessions[%u]: staging failed, the whole batch was refused", i);
			}
			return n;
		}
		if (code != LR_OK)
			bad++;
	}
	lr_tset_commit();
	release();
	return bad;
}

int
lr_upf_write(const struct lr_upf_session *s, uint32_t n, struct lr_ctl_status *st)
{
	struct lr_upf_result r;
	uint32_t i, k;
	int code;

	if (lr_upf_id < 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0, "sessions: the UPF tables are not set up");
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)
			if (s[k].seid == s[i].seid) {
				code = lr_status_set(st, LR_ERR_INVALID, i, "sessions[%u].seid: %" PRIu64
						     " is also sessions[%u]", i, s[i].seid, k);
				goto abort;
			}
		memset(&r, 0, sizeof(r));
		code = one(&s[i], i, &r);
		if (code < 0) {
			code = lr_status_set(st, LR_ERR_INTERNAL, i, "sessions[%u]: staging failed", i);
			goto abort;
		}
		if (code != LR_OK) {
			lr_status_set(st, code, i, "%s", r.msg);
			goto abort;
		}
	}
	lr_tset_commit();
	release();
	return LR_OK;
abort:
	lr_tset_abort();
	revert();
	return code;
}

/* ---- reads ---- */

static void
fill(int32_t pos, struct lr_upf_session *o)
{
	const struct srec *r = REC(pos);
	unsigned u, w;

	*o = r->s;
	o->op = LR_UPF_CREATE;
	for (u = 0; u < r->s.n_urrs; u++) {
		struct lr_upf_urr *x = &o->urrs[u];
		size_t at = (size_t)pos * LR_UPF_MAX_URR + r->urr_pos[u];

		x->ul_packets = x->ul_bytes = x->dl_packets = x->dl_bytes = 0;
		for (w = 0; w < ut.workers; w++) {
			const struct lr_upf_uctr *c = &lr_upf_ctr[w][at];

			x->ul_packets += c->packets[0];
			x->ul_bytes += c->bytes[0];
			x->dl_packets += c->packets[1];
			x->dl_bytes += c->bytes[1];
		}
	}
}

int
lr_upf_read(uint64_t seid, struct lr_upf_session *out)
{
	int32_t pos;

	if (lr_upf_id < 0)
		return -ENOENT;
	pos = lr_keyed_find(&ut.ids, &seid);
	if (pos < 0 || REC(pos)->dying)
		return -ENOENT;
	fill(pos, out);
	return 0;
}

static unsigned
emit(const void *key, int32_t pos, uint8_t family, void *out)
{
	(void)key;
	(void)family;
	if (REC(pos)->dying)
		return 0;
	if (out != NULL)
		fill(pos, out);
	return 1;
}

uint32_t
lr_upf_dump(uint8_t family, uint32_t cursor, struct lr_upf_session *out, uint32_t max,
	    uint32_t *next, uint32_t *done)
{
	if (lr_upf_id < 0) {
		*next = 0;
		*done = 1;
		return 0;
	}
	return lr_keyed_dump(&ut.ids, cursor, family, emit, out, sizeof(*out), max, next, done);
}

int
lr_upf_configure(const struct lr_upf_config *c, struct lr_upf_config *out, struct lr_ctl_status *st)
{
	static struct uchange ch;
	unsigned p;

	if (lr_upf_id < 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0, "upf: the UPF tables are not set up");
	if (c != NULL && (c->flags & 1)) {
		uint32_t n3;
		char b[LR_IP_STRLEN];

		if (c->flags & ~1u)
			return lr_status_set(st, LR_ERR_INVALID, 0, "config.flags: unknown bits 0x%x",
					     c->flags & ~1u);
		if (!lr_ip_is_zero(LR_AF_INET, c->n3_addr) &&
		    !lr_ip_is_unicast_host(LR_AF_INET, c->n3_addr))
			return lr_status_set(st, LR_ERR_INVALID, 0, "config.n3_addr: %s is not a unicast address",
					     lr_ip_fmt(LR_AF_INET, c->n3_addr, -1, b, sizeof(b)));
		for (p = 0; p < LR_MAX_PORTS; p++) {
			if (c->port_iface[p] > LR_UPF_CORE)
				return lr_status_set(st, LR_ERR_INVALID, 0,
						     "config.port_iface[%u]: must be NONE, ACCESS or CORE, got %u", p,
						     c->port_iface[p]);
			if (c->port_iface[p] != LR_UPF_IF_NONE && p >= lr_n_ports)
				return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "config.port_iface[%u]: no port %u",
						     p, p);
		}
		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_CFG;
		ch.u.cfg.n3[0] = shadow()->n3;
		memcpy(ch.u.cfg.iface[0], shadow()->port_iface, LR_MAX_PORTS);
		memcpy(&n3, c->n3_addr, 4);
		ch.u.cfg.n3[1] = rte_be_to_cpu_32(n3);
		memcpy(ch.u.cfg.iface[1], c->port_iface, LR_MAX_PORTS);
		if (stage_ch(&ch) < 0) {
			lr_tset_abort();
			return lr_status_set(st, LR_ERR_INTERNAL, 0, "config: staging failed");
		}
		lr_tset_commit();
		ut.cfg = *c;
		ut.cfg.flags = 0;
	}
	if (out != NULL)
		*out = ut.cfg;
	return LR_OK;
}

void
lr_upf_get_stats(struct lr_upf_stats *s)
{
	unsigned w, k;

	memset(s, 0, sizeof(*s));
	if (lr_upf_id < 0)
		return;
	s->sessions = ut.n;
	s->sessions_max = ut.max;
	s->ul_keys = (uint32_t)rte_hash_count(ut.copy[0].ul);
	s->dl_keys = (uint32_t)rte_hash_count(ut.copy[0].dl);
	for (w = 0; w < LR_MAX_WORKERS; w++)
		for (k = 0; k < LR_UPF_CTR_MAX; k++)
			s->counters[k] += lr_upf_wst[w].c[k];
	s->bytes = (uint64_t)ut.cap * (2 * sizeof(struct lr_upf_csess) + sizeof(struct srec) +
				       ut.workers * (LR_UPF_MAX_URR * sizeof(struct lr_upf_uctr) +
						     2 * LR_UPF_MAX_QER * sizeof(struct rte_meter_trtcm)));
}

/* ---- control messages ---- */

static int
batch_call(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	   struct lr_ctl_status *st)
{
	uint32_t bad;

	if ((size_t)req->len != sizeof(*req) + (size_t)req->count * sizeof(struct lr_upf_session))
		return lr_status_set(st, LR_ERR_INVALID, 0, "sessions: %u entries do not make %u bytes",
				     req->count, req->len);
	if (req->count > LR_UPF_BATCH_MAX)
		return lr_status_set(st, LR_ERR_NO_SPACE, 0, "sessions: %u in one batch, at most %u",
				     req->count, LR_UPF_BATCH_MAX);
	bad = lr_upf_batch((const struct lr_upf_session *)(const void *)(req + 1), req->count, out);
	*count = req->count;
	*payload = sizeof(struct lr_upf_result) * req->count;
	if (bad != 0)
		snprintf(st->msg, sizeof(st->msg), "sessions: %u of %u rejected", bad, req->count);
	return LR_OK;
}

static int
read_call(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	  struct lr_ctl_status *st)
{
	uint64_t seid;

	if (req->len != sizeof(*req) + sizeof(seid))
		return lr_status_set(st, LR_ERR_INVALID, 0, "seid: the request carries one 64-bit SEID");
	memcpy(&seid, req + 1, sizeof(seid));
	if (lr_upf_read(seid, out) < 0)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "seid: no session %" PRIu64, seid);
	*count = 1;
	*payload = sizeof(struct lr_upf_session);
	return LR_OK;
}

static int
config_call(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	    struct lr_ctl_status *st)
{
	struct lr_upf_config c;
	int code;

	memset(&c, 0, sizeof(c));
	if (req->len == sizeof(*req) + sizeof(c))
		memcpy(&c, req + 1, sizeof(c));
	else if (req->len != sizeof(*req))
		return lr_status_set(st, LR_ERR_INVALID, 0, "config: the request carries one lr_upf_config");
	code = lr_upf_configure(&c, out, st);
	if (code != LR_OK)
		return code;
	*count = 1;
	*payload = sizeof(struct lr_upf_config);
	return LR_OK;
}

static int
stats_call(const struct lr_ctl_hdr *req, void *out, uint32_t *count, size_t *payload,
	   struct lr_ctl_status *st)
{
	(void)req;
	(void)st;
	lr_upf_get_stats(out);
	*count = 1;
	*payload = sizeof(struct lr_upf_stats);
	return LR_OK;
}

static const struct lr_ctl_handler upf_batch_handler = {
	.type = LR_CTL_UPF_SESSION_BATCH, .shape = LR_CTL_CALL, .what = "sessions",
	.reply_max = sizeof(struct lr_upf_result) * LR_UPF_BATCH_MAX, .call = batch_call,
};
LR_CTL_REGISTER(upf_batch_handler)

static int
write_msg(const void *e, uint32_t n, struct lr_ctl_status *st)
{
	return lr_upf_write(e, n, st);
}

static const struct lr_ctl_handler upf_write_handler = {
	.type = LR_CTL_UPF_SESSION_WRITE, .shape = LR_CTL_BATCH, .what = "sessions",
	.entry_size = sizeof(struct lr_upf_session), .batch = write_msg,
};
LR_CTL_REGISTER(upf_write_handler)

static const struct lr_ctl_handler upf_read_handler = {
	.type = LR_CTL_UPF_SESSION_READ, .shape = LR_CTL_CALL, .what = "session",
	.reply_max = sizeof(struct lr_upf_session), .call = read_call,
};
LR_CTL_REGISTER(upf_read_handler)

static uint32_t
dump_msg(uint8_t f, uint32_t c, void *o, uint32_t max, uint32_t *next, uint32_t *done)
{
	/* a reply of LR_CTL_MAX_DUMP sessions would be 4 MB: 256 a page */
	return lr_upf_dump(f, c, o, max < 256 ? max : 256, next, done);
}

static const struct lr_ctl_handler upf_dump_handler = {
	.type = LR_CTL_UPF_SESSION_DUMP, .shape = LR_CTL_DUMP, .what = "sessions",
	.entry_size = sizeof(struct lr_upf_session), .dump = dump_msg,
};
LR_CTL_REGISTER(upf_dump_handler)

static const struct lr_ctl_handler upf_config_handler = {
	.type = LR_CTL_UPF_CONFIG, .shape = LR_CTL_CALL, .what = "upf config",
	.reply_max = sizeof(struct lr_upf_config), .call = config_call,
};
LR_CTL_REGISTER(upf_config_handler)

static const struct lr_ctl_handler upf_stats_handler = {
	.type = LR_CTL_UPF_STATS, .shape = LR_CTL_CALL, .what = "upf stats",
	.reply_max = sizeof(struct lr_upf_stats), .call = stats_call,
};
LR_CTL_REGISTER(upf_stats_handler)

/* ---- the module ---- */

static int
upf_mod_init(const struct lr_module_env *env)
{
	unsigned lc = rte_lcore_count();

	(void)env;
	return lr_upf_init(LR_UPF_SESSIONS, lc > 1 ? lc - 1 : 1);
}

static const struct lr_module upf_module = {
	.name = "upf",
	.order = 300,
	.init = upf_mod_init,
	.fini = lr_upf_fini,
};
LR_MODULE_REGISTER(upf_module)
