/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec.h"

#include "addon_data.h"

#include <cstdio>
#include <cstring>

#include <arpa/inet.h>

namespace lr {

namespace {

const char *const kKeyNames[] = {
	"op", "prefix", "nextHops", "connected", "portId", "via", "weight",
	"address", "prefixLen", "mac", "state", "ageSeconds", "mtu", "adminUp",
	"table", "id", "priority", "family", "action", "inPort", "proto", "src", "dst",
	"sportLo", "sportHi", "dportLo", "dportHi", "dscp", "dscpMask", "tcpFlags",
	"tcpFlagsMask", "outPort", "mirrorPort", "setDscp", "packets", "bytes",
	"meter", "cir", "cbs", "pir", "pbs", "mode", "yellowDscp", "redDscp",
	"queue", "worker", "rxQueues", "txQueues",
};

constexpr size_t kAddrBuf = 64; /* longest textual IPv6 (45) + "/128", with room to spare */

int HexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

} // namespace

bool ParseAddr(const char *s, uint8_t out[16], uint8_t *family)
{
	memset(out, 0, 16);
	if (strchr(s, ':') != nullptr) {
		*family = LR_AF_INET6;
		return inet_pton(AF_INET6, s, out) == 1;
	}
	*family = LR_AF_INET;
	return inet_pton(AF_INET, s, out) == 1;
}

bool ParsePrefix(const char *s, uint8_t out[16], uint8_t *family, uint8_t *plen)
{
	const char *slash = strchr(s, '/');
	if (slash == nullptr || size_t(slash - s) >= kAddrBuf)
		return false;
	char addr[kAddrBuf];
	memcpy(addr, s, size_t(slash - s));
	addr[slash - s] = '\0';

	const char *d = slash + 1;
	unsigned len = 0;
	int digits = 0;
	for (; *d >= '0' && *d <= '9' && digits < 4; d++, digits++)
		len = len * 10 + unsigned(*d - '0');
	if (digits == 0 || digits > 3 || *d != '\0')
		return false;
	if (!ParseAddr(addr, out, family))
		return false;
	if (len > (*family == LR_AF_INET ? 32u : 128u))
		return false;
	*plen = uint8_t(len);
	return true;
}

bool ParseMac(const char *s, uint8_t out[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = HexDigit(s[0]);
		int lo = hi < 0 ? -1 : HexDigit(s[1]);
		if (lo < 0)
			return false;
		out[i] = uint8_t(hi << 4 | lo);
		s += 2;
		if (*s != (i == 5 ? '\0' : ':'))
			return false;
		s += i == 5 ? 0 : 1;
	}
	return true;
}

void FormatAddr(uint8_t family, const uint8_t addr[16], char *buf)
{
	if (inet_ntop(family == LR_AF_INET6 ? AF_INET6 : AF_INET, addr, buf, 46) == nullptr)
		strcpy(buf, "?");
}

void FormatMac(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void Codec::InitKeys(napi_env env)
{
	static_assert(sizeof(kKeyNames) / sizeof(kKeyNames[0]) == K_MAX, "kKeyNames does not match Key");
	/*
	 * Keys read back from an object's own names are internalized strings.
	 * Node-API (v8) only references objects, so the array of names is what
	 * the instance data keeps.
	 */
	napi_value obj, names, zero;
	napi_ref ref = nullptr;
	bool ok = napi_create_object(env, &obj) == napi_ok && napi_create_uint32(env, 0, &zero) == napi_ok;
	for (int k = 0; ok && k < K_MAX; k++)
		ok = napi_set_named_property(env, obj, kKeyNames[k], zero) == napi_ok;
	ok = ok && napi_get_property_names(env, obj, &names) == napi_ok &&
	     napi_create_reference(env, names, 1, &ref) == napi_ok;
	if (ok)
		Data(env).keys = ref;
	if (!ok)
		napi_throw_error(env, nullptr, "linerate addon: cannot create property keys");
}

Codec::Codec(napi_env env) : env_(env)
{
	napi_value names;
	napi_ref keys = Data(env).keys;
	if (keys == nullptr)
		throw InputError{LR_ERR_INTERNAL, -1, "addon keys not initialized"};
	Ok(napi_get_reference_value(env, keys, &names));
	for (uint32_t k = 0; k < K_MAX; k++)
		Ok(napi_get_element(env, names, k, &keys_[k]));
}

void Codec::Ok(napi_status s)
{
	if (s == napi_ok)
		return;
	ClearException();
	throw InputError{LR_ERR_INTERNAL, -1, "Node-API call failed (status " + std::to_string(s) + ")"};
}

void Codec::Fail(uint32_t i, const std::string &msg)
{
	/*
	 * Entries are not type-checked up front (one Node-API call less per
	 * entry: reading a property of a primitive just gives undefined), so
	 * name the real problem here.
	 */
	napi_valuetype t = napi_object;
	if (entry_ != nullptr && napi_typeof(env_, entry_, &t) == napi_ok && t != napi_object)
		throw InputError{LR_ERR_INVALID, int64_t(i), "entry " + std::to_string(i) + ": not an object"};
	throw InputError{LR_ERR_INVALID, int64_t(i), "entry " + std::to_string(i) + ": " + msg};
}

void Codec::ClearException()
{
	bool pending = false;
	napi_is_exception_pending(env_, &pending);
	if (pending) {
		napi_value ignored;
		napi_get_and_clear_last_exception(env_, &ignored);
	}
}

napi_value Codec::Element(napi_value array, uint32_t i)
{
	napi_value v;
	if (napi_get_element(env_, array, i, &v) != napi_ok) {
		ClearException();
		Fail(i, "unreadable");
	}
	return v;
}

napi_value Codec::Get(napi_value obj, Key k, uint32_t i)
{
	napi_value v;
	if (napi_get_property(env_, obj, keys_[k], &v) != napi_ok) {
		/* A getter or proxy that throws, or null: bad input, not a crash. */
		ClearException();
		Fail(i, std::string("cannot read ") + kKeyNames[k]);
	}
	return v;
}

static bool IsNullish(napi_env env, napi_value v)
{
	napi_valuetype t;
	return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

bool Codec::GetString(napi_value obj, Key k, uint32_t i, char *buf, size_t cap, bool optional)
{
	napi_value v = Get(obj, k, i);
	size_t len = 0;
	napi_status s = napi_get_value_string_utf8(env_, v, buf, cap, &len);
	if (s == napi_string_expected) {
		if (optional && IsNullish(env_, v))
			return false;
		Fail(i, std::string(kKeyNames[k]) + " must be a string");
	}
	Ok(s);
	if (len + 1 >= cap)
		Fail(i, std::string(kKeyNames[k]) + " is too long");
	if (strlen(buf) != len)
		Fail(i, std::string(kKeyNames[k]) + " contains a NUL character");
	return true;
}

uint32_t Codec::GetUint(napi_value obj, Key k, uint32_t i, uint32_t lo, uint32_t hi, bool optional,
			uint32_t def)
{
	napi_value v = Get(obj, k, i);
	double d;
	napi_status s = napi_get_value_double(env_, v, &d);
	if (s == napi_number_expected) {
		if (optional && IsNullish(env_, v))
			return def;
		Fail(i, std::string(kKeyNames[k]) + " must be a number");
	}
	Ok(s);
	/* NaN fails both comparisons, fractions fail the integer test. */
	if (!(d >= double(lo) && d <= double(hi)) || d != double(uint32_t(d)))
		Fail(i, std::string(kKeyNames[k]) + " must be an integer in " + std::to_string(lo) +
				".." + std::to_string(hi));
	return uint32_t(d);
}

uint64_t Codec::GetU64(napi_value obj, Key k, uint32_t i, uint64_t lo, uint64_t hi)
{
	napi_value v = Get(obj, k, i);
	double d;
	napi_status s = napi_get_value_double(env_, v, &d);
	if (s == napi_number_expected)
		Fail(i, std::string(kKeyNames[k]) + " must be a number");
	Ok(s);
	if (!(d >= double(lo) && d <= double(hi)) || d != double(uint64_t(d)))
		Fail(i, std::string(kKeyNames[k]) + " must be an integer in " + std::to_string(lo) + ".." +
				std::to_string(hi));
	return uint64_t(d);
}

uint8_t Codec::GetOp(napi_value obj, uint32_t i)
{
	char op[16];
	if (!GetString(obj, K_OP, i, op, sizeof(op), true))
		return LR_OP_ADD;
	if (strcmp(op, "add") == 0)
		return LR_OP_ADD;
	if (strcmp(op, "del") == 0)
		return LR_OP_DEL;
	if (strcmp(op, "replace") == 0)
		return LR_OP_REPLACE;
	Fail(i, "op must be 'add', 'del' or 'replace'");
}

void Codec::ToRoute(napi_value v, uint32_t i, lr_route *r)
{
	entry_ = v;
	char buf[kAddrBuf];
	r->op = GetOp(v, i);
	GetString(v, K_PREFIX, i, buf, sizeof(buf), false);
	if (!ParsePrefix(buf, r->prefix, &r->family, &r->plen))
		Fail(i, std::string("prefix \"") + buf + "\" is not an IPv4 or IPv6 prefix (addr/len)");

	napi_value nhs = Get(v, K_NEXTHOPS, i);
	uint32_t n = 0;
	napi_status s = napi_get_array_length(env_, nhs, &n);
	if (s == napi_array_expected) {
		if (r->op == LR_OP_DEL && IsNullish(env_, nhs)) {
			r->n_next_hops = 0;
			return;
		}
		Fail(i, "nextHops must be an array");
	}
	Ok(s);
	if (n > LR_MAX_ECMP)
		Fail(i, "more than " + std::to_string(LR_MAX_ECMP) + " nextHops");
	r->n_next_hops = uint8_t(n);
	for (uint32_t j = 0; j < n; j++) {
		napi_value h;
		if (napi_get_element(env_, nhs, j, &h) != napi_ok) {
			ClearException();
			Fail(i, "nextHops[" + std::to_string(j) + "] unreadable");
		}
		lr_next_hop *nh = &r->next_hops[j];
		nh->port_id = uint16_t(GetUint(h, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
		nh->weight = uint16_t(GetUint(h, K_WEIGHT, i, 0, UINT16_MAX, true, 0));
		if (GetString(h, K_VIA, i, buf, sizeof(buf), true)) {
			uint8_t fam;
			if (!ParseAddr(buf, nh->via, &fam))
				Fail(i, std::string("nextHops via \"") + buf + "\" is not an IP address");
			if (fam != r->family)
				Fail(i, std::string("nextHops via \"") + buf + "\" is not of the prefix's family");
		}
	}
}

void Codec::ToAddr(napi_value v, uint32_t i, lr_addr *a)
{
	entry_ = v;
	char buf[kAddrBuf];
	a->op = GetOp(v, i);
	a->port_id = uint16_t(GetUint(v, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
	GetString(v, K_ADDRESS, i, buf, sizeof(buf), false);
	if (!ParseAddr(buf, a->addr, &a->family))
		Fail(i, std::string("address \"") + buf + "\" is not an IP address");
	a->plen = uint8_t(GetUint(v, K_PREFIX_LEN, i, 0, a->family == LR_AF_INET ? 32 : 128, false, 0));
}

void Codec::ToNeigh(napi_value v, uint32_t i, lr_neigh *n)
{
	entry_ = v;
	char buf[kAddrBuf];
	n->op = GetOp(v, i);
	n->state = LR_NEIGH_STATIC;
	n->port_id = uint16_t(GetUint(v, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
	GetString(v, K_ADDRESS, i, buf, sizeof(buf), false);
	if (!ParseAddr(buf, n->addr, &n->family))
		Fail(i, std::string("address \"") + buf + "\" is not an IP address");
	/* A delete names only the key; the MAC may be left out. */
	if (GetString(v, K_MAC, i, buf, sizeof(buf), n->op == LR_OP_DEL) && !ParseMac(buf, n->mac))
		Fail(i, std::string("mac \"") + buf + "\" is not of the form aa:bb:cc:dd:ee:ff");
}

void Codec::ToPortSet(napi_value v, uint32_t i, lr_port_set *p)
{
	entry_ = v;
	p->port_id = uint16_t(GetUint(v, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
	p->mtu = uint16_t(GetUint(v, K_MTU, i, 0, UINT16_MAX, true, 0));
	p->admin_up = 0xff;
	napi_value up = Get(v, K_ADMIN_UP, i);
	bool b;
	napi_status s = napi_get_value_bool(env_, up, &b);
	if (s == napi_ok)
		p->admin_up = b ? 1 : 0;
	else if (!IsNullish(env_, up))
		Fail(i, "adminUp must be a boolean");
}

/* A queue move: {portId, queue, worker}; the dataplane checks them against its ports and workers. */
void Codec::ToQueueMove(napi_value v, uint32_t i, lr_queue_move *m)
{
	entry_ = v;
	m->port_id = uint16_t(GetUint(v, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
	m->queue = uint16_t(GetUint(v, K_QUEUE, i, 0, UINT16_MAX, false, 0));
	m->worker = uint16_t(GetUint(v, K_WORKER, i, 0, UINT16_MAX, false, 0));
}

/* A port's new RX queue count: {portId, rxQueues}; the dataplane checks the device's limit. */
void Codec::ToPortQueues(napi_value v, uint32_t i, lr_port_queues *p)
{
	entry_ = v;
	p->port_id = uint16_t(GetUint(v, K_PORT_ID, i, 0, UINT16_MAX, false, 0));
	p->rx_queues = uint16_t(GetUint(v, K_RX_QUEUES, i, 0, UINT16_MAX, false, 0));
	p->tx_queues = uint16_t(GetUint(v, K_TX_QUEUES, i, 0, UINT16_MAX, true, 0));
	p->pad = 0;
}

void Codec::GetFlowPrefix(napi_value v, Key k, uint32_t i, uint8_t family, uint8_t *addr, uint8_t *plen)
{
	char buf[kAddrBuf];
	uint8_t fam;
	memset(addr, 0, 16);
	*plen = 0;
	if (!GetString(v, k, i, buf, sizeof(buf), true))
		return;
	if (!ParsePrefix(buf, addr, &fam, plen))
		Fail(i, std::string(kKeyNames[k]) + " \"" + buf + "\" is not an IPv4 or IPv6 prefix (addr/len)");
	if (fam != family)
		Fail(i, std::string(kKeyNames[k]) + " \"" + buf + "\" is not of the flow's family");
}

/*
 * A flow: absent match fields match anything (in_port, proto, prefixes
 * /0, ports 0..65535, DSCP and TCP flags unmasked); mirrorPort and setDscp
 * turn their modifier on. A delete reads only table and id.
 */
void Codec::ToFlow(napi_value v, uint32_t i, lr_flow *f)
{
	entry_ = v;
	char buf[kAddrBuf];
	f->op = GetOp(v, i);
	GetString(v, K_TABLE, i, buf, sizeof(buf), false);
	if (strcmp(buf, "wildcard") == 0)
		f->table = LR_FLOW_WILDCARD;
	else if (strcmp(buf, "exact") == 0)
		f->table = LR_FLOW_EXACT;
	else
		Fail(i, "table must be 'wildcard' or 'exact'");
	f->id = GetUint(v, K_ID, i, 0, UINT32_MAX, false, 0);
	f->in_port = LR_FLOW_ANY_PORT;
	f->vlan = LR_FLOW_ANY_VLAN;
	f->mirror_port = LR_FLOW_ANY_PORT;
	f->sport_hi = f->dport_hi = 0xffff;
	if (f->op == LR_OP_DEL)
		return;
	f->family = uint8_t(GetUint(v, K_FAMILY, i, 4, 6, false, 0));
	if (f->family != LR_AF_INET && f->family != LR_AF_INET6)
		Fail(i, "family must be 4 or 6");
	f->priority = GetUint(v, K_PRIORITY, i, 0, UINT32_MAX, true, 0);
	GetString(v, K_ACTION, i, buf, sizeof(buf), false);
	if (strcmp(buf, "continue") == 0)
		f->action = LR_FLOW_CONTINUE;
	else if (strcmp(buf, "drop") == 0)
		f->action = LR_FLOW_DROP;
	else if (strcmp(buf, "forward") == 0)
		f->action = LR_FLOW_FORWARD;
	else
		Fail(i, "action must be 'continue', 'drop' or 'forward'");
	f->in_port = uint16_t(GetUint(v, K_IN_PORT, i, 0, UINT16_MAX, true, LR_FLOW_ANY_PORT));
	f->proto = uint8_t(GetUint(v, K_PROTO, i, 0, 255, true, 0));
	{
		napi_value p = Get(v, K_PROTO, i);
		f->proto_mask = IsNullish(env_, p) ? 0 : 0xff;
	}
	GetFlowPrefix(v, K_SRC, i, f->family, f->src, &f->src_plen);
	GetFlowPrefix(v, K_DST, i, f->family, f->dst, &f->dst_plen);
	f->sport_lo = uint16_t(GetUint(v, K_SPORT_LO, i, 0, UINT16_MAX, true, 0));
	f->sport_hi = uint16_t(GetUint(v, K_SPORT_HI, i, 0, UINT16_MAX, true, UINT16_MAX));
	f->dport_lo = uint16_t(GetUint(v, K_DPORT_LO, i, 0, UINT16_MAX, true, 0));
	f->dport_hi = uint16_t(GetUint(v, K_DPORT_HI, i, 0, UINT16_MAX, true, UINT16_MAX));
	f->dscp = uint8_t(GetUint(v, K_DSCP, i, 0, 255, true, 0));
	f->dscp_mask = uint8_t(GetUint(v, K_DSCP_MASK, i, 0, 255, true, 0));
	f->tcp_flags = uint8_t(GetUint(v, K_TCP_FLAGS, i, 0, 255, true, 0));
	f->tcp_flags_mask = uint8_t(GetUint(v, K_TCP_FLAGS_MASK, i, 0, 255, true, 0));
	if (f->action == LR_FLOW_FORWARD) {
		f->out_port = uint16_t(GetUint(v, K_OUT_PORT, i, 0, UINT16_MAX, false, 0));
		if (GetString(v, K_VIA, i, buf, sizeof(buf), true)) {
			uint8_t fam;
			if (!ParseAddr(buf, f->via, &fam))
				Fail(i, std::string("via \"") + buf + "\" is not an IP address");
			if (fam != f->family)
				Fail(i, std::string("via \"") + buf + "\" is not of the flow's family");
		}
	}
	napi_value mp = Get(v, K_MIRROR_PORT, i);
	if (!IsNullish(env_, mp)) {
		f->flags |= LR_FLOW_F_MIRROR;
		f->mirror_port = uint16_t(GetUint(v, K_MIRROR_PORT, i, 0, UINT16_MAX, false, 0));
	}
	napi_value sd = Get(v, K_SET_DSCP, i);
	if (!IsNullish(env_, sd)) {
		f->flags |= LR_FLOW_F_SET_DSCP;
		f->set_dscp = uint8_t(GetUint(v, K_SET_DSCP, i, 0, 255, false, 0));
	}
	napi_value mt = Get(v, K_METER, i);
	if (!IsNullish(env_, mt)) {
		const uint64_t max = uint64_t(1) << 53;
		char mode[16];
		f->flags |= LR_FLOW_F_METER;
		f->cir = GetU64(mt, K_CIR, i, 0, max);
		f->cbs = GetU64(mt, K_CBS, i, 0, max);
		f->pir = GetU64(mt, K_PIR, i, 0, max);
		f->pbs = GetU64(mt, K_PBS, i, 0, max);
		GetString(mt, K_MODE, i, mode, sizeof(mode), false);
		if (strcmp(mode, "drop-red") == 0)
			f->meter_mode = LR_FLOW_METER_DROP_RED;
		else if (strcmp(mode, "mark") == 0)
			f->meter_mode = LR_FLOW_METER_MARK;
		else
			Fail(i, "meter mode must be 'drop-red' or 'mark'");
		f->yellow_dscp = uint8_t(GetUint(mt, K_YELLOW_DSCP, i, 0, 255, true, 0));
		f->red_dscp = uint8_t(GetUint(mt, K_RED_DSCP, i, 0, 255, true, 0));
	}
}

napi_value Codec::Obj()
{
	napi_value o;
	Ok(napi_create_object(env_, &o));
	return o;
}

napi_value Codec::Str(const char *s)
{
	napi_value v;
	Ok(napi_create_string_utf8(env_, s, NAPI_AUTO_LENGTH, &v));
	return v;
}

void Codec::Set(napi_value obj, Key k, napi_value v)
{
	Ok(napi_set_property(env_, obj, keys_[k], v));
}

void Codec::SetUint(napi_value obj, Key k, uint32_t n)
{
	napi_value v;
	Ok(napi_create_uint32(env_, n, &v));
	Set(obj, k, v);
}

void Codec::SetStr(napi_value obj, Key k, const char *s)
{
	Set(obj, k, Str(s));
}

void Codec::SetBool(napi_value obj, Key k, bool b)
{
	napi_value v;
	Ok(napi_get_boolean(env_, b, &v));
	Set(obj, k, v);
}

void Codec::SetBig(napi_value obj, Key k, uint64_t n)
{
	napi_value v;
	Ok(napi_create_bigint_uint64(env_, n, &v));
	Set(obj, k, v);
}

napi_value Codec::FromFlow(const lr_flow &f)
{
	char buf[kAddrBuf];
	static const uint8_t zero[16] = {0};
	napi_value o = Obj();
	auto prefix = [&](Key k, const uint8_t *a, uint8_t plen) {
		FormatAddr(f.family, a, buf);
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, "/%u", unsigned(plen));
		SetStr(o, k, buf);
	};
	SetStr(o, K_TABLE, f.table == LR_FLOW_EXACT ? "exact" : "wildcard");
	SetUint(o, K_ID, f.id);
	SetUint(o, K_PRIORITY, f.priority);
	SetUint(o, K_FAMILY, f.family);
	SetStr(o, K_ACTION, f.action == LR_FLOW_DROP ? "drop" : f.action == LR_FLOW_FORWARD ? "forward" : "continue");
	if (f.in_port != LR_FLOW_ANY_PORT)
		SetUint(o, K_IN_PORT, f.in_port);
	if (f.proto_mask != 0)
		SetUint(o, K_PROTO, f.proto);
	prefix(K_SRC, f.src, f.src_plen);
	prefix(K_DST, f.dst, f.dst_plen);
	SetUint(o, K_SPORT_LO, f.sport_lo);
	SetUint(o, K_SPORT_HI, f.sport_hi);
	SetUint(o, K_DPORT_LO, f.dport_lo);
	SetUint(o, K_DPORT_HI, f.dport_hi);
	SetUint(o, K_DSCP, f.dscp);
	SetUint(o, K_DSCP_MASK, f.dscp_mask);
	SetUint(o, K_TCP_FLAGS, f.tcp_flags);
	SetUint(o, K_TCP_FLAGS_MASK, f.tcp_flags_mask);
	if (f.action == LR_FLOW_FORWARD) {
		SetUint(o, K_OUT_PORT, f.out_port);
		if (memcmp(f.via, zero, 16) != 0) {
			FormatAddr(f.family, f.via, buf);
			SetStr(o, K_VIA, buf);
		}
	}
	if (f.flags & LR_FLOW_F_MIRROR)
		SetUint(o, K_MIRROR_PORT, f.mirror_port);
	if (f.flags & LR_FLOW_F_SET_DSCP)
		SetUint(o, K_SET_DSCP, f.set_dscp);
	if (f.flags & LR_FLOW_F_METER) {
		napi_value m = Obj();
		auto num = [&](Key k, uint64_t n) { napi_value x; Ok(napi_create_double(env_, double(n), &x)); Set(m, k, x); };
		num(K_CIR, f.cir);
		num(K_CBS, f.cbs);
		num(K_PIR, f.pir);
		num(K_PBS, f.pbs);
		SetStr(m, K_MODE, f.meter_mode == LR_FLOW_METER_MARK ? "mark" : "drop-red");
		SetUint(m, K_YELLOW_DSCP, f.yellow_dscp);
		SetUint(m, K_RED_DSCP, f.red_dscp);
		Set(o, K_METER, m);
	}
	SetBig(o, K_PACKETS, f.packets);
	SetBig(o, K_BYTES, f.bytes);
	return o;
}

napi_value Codec::FromFlowStats(const lr_flow_stats &s)
{
	napi_value o = Obj();
	auto set = [&](const char *name, napi_value v) { Ok(napi_set_named_property(env_, o, name, v)); };
	auto u32 = [&](uint32_t n) { napi_value v; Ok(napi_create_uint32(env_, n, &v)); return v; };
	auto big = [&](uint64_t n) { napi_value v; Ok(napi_create_bigint_uint64(env_, n, &v)); return v; };
	set("wildcardRules", u32(s.wildcard_rules));
	set("exactRules", u32(s.exact_rules));
	set("wildcardMax", u32(s.wildcard_max));
	set("exactMax", u32(s.exact_max));
	set("aclBytes", big(s.acl_bytes));
	set("exactBytes", big(s.exact_bytes));
	set("lastBuildNs", big(s.last_build_ns));
	set("builds", big(s.builds));
	set("meters", u32(s.meters));
	return o;
}

napi_value Codec::FromQueueEntry(const lr_queue_entry &e)
{
	napi_value o = Obj();
	auto set = [&](const char *name, napi_value v) { Ok(napi_set_named_property(env_, o, name, v)); };
	auto u32 = [&](uint32_t n) { napi_value v; Ok(napi_create_uint32(env_, n, &v)); return v; };
	auto big = [&](uint64_t n) { napi_value v; Ok(napi_create_bigint_uint64(env_, n, &v)); return v; };
	set("portId", u32(e.port_id));
	set("queue", u32(e.queue));
	set("worker", u32(e.worker));
	set("lcore", u32(e.lcore));
	set("version", u32(e.version));
	set("moves", u32(e.moves));
	set("lastMoveNs", big(e.last_move_ns));
	return o;
}

napi_value Codec::FromRoute(const lr_route &r)
{
	char buf[kAddrBuf];
	napi_value o = Obj();
	FormatAddr(r.family, r.prefix, buf);
	size_t len = strlen(buf);
	snprintf(buf + len, sizeof(buf) - len, "/%u", unsigned(r.plen));
	SetStr(o, K_PREFIX, buf);

	unsigned n = r.n_next_hops <= LR_MAX_ECMP ? r.n_next_hops : LR_MAX_ECMP;
	napi_value nhs;
	Ok(napi_create_array_with_length(env_, n, &nhs));
	static const uint8_t zero[16] = {0};
	for (unsigned j = 0; j < n; j++) {
		const lr_next_hop &nh = r.next_hops[j];
		napi_value h = Obj();
		SetUint(h, K_PORT_ID, nh.port_id);
		if (memcmp(nh.via, zero, 16) != 0) {
			FormatAddr(r.family, nh.via, buf);
			SetStr(h, K_VIA, buf);
		}
		SetUint(h, K_WEIGHT, nh.weight);
		Ok(napi_set_element(env_, nhs, j, h));
	}
	Set(o, K_NEXTHOPS, nhs);
	SetBool(o, K_CONNECTED, (r.flags & LR_ROUTE_F_CONNECTED) != 0);
	return o;
}

napi_value Codec::FromAddr(const lr_addr &a)
{
	char buf[kAddrBuf];
	napi_value o = Obj();
	SetUint(o, K_PORT_ID, a.port_id);
	FormatAddr(a.family, a.addr, buf);
	SetStr(o, K_ADDRESS, buf);
	SetUint(o, K_PREFIX_LEN, a.plen);
	return o;
}

napi_value Codec::FromNeigh(const lr_neigh &n)
{
	char buf[kAddrBuf];
	napi_value o = Obj();
	SetUint(o, K_PORT_ID, n.port_id);
	FormatAddr(n.family, n.addr, buf);
	SetStr(o, K_ADDRESS, buf);
	FormatMac(n.mac, buf);
	SetStr(o, K_MAC, buf);
	const char *state = n.state == LR_NEIGH_STATIC	    ? "static"
			    : n.state == LR_NEIGH_LEARNED   ? "learned"
			    : n.state == LR_NEIGH_INCOMPLETE ? "incomplete"
							     : "unknown";
	SetStr(o, K_STATE, state);
	SetUint(o, K_AGE, n.age_s);
	return o;
}

/* Port info and hello are a handful of objects per call: plain named sets. */
napi_value Codec::FromPortInfo(const lr_port_info &p)
{
	char buf[LR_DEVICE_LEN + 1];
	napi_value o = Obj();
	auto set = [&](const char *name, napi_value v) { Ok(napi_set_named_property(env_, o, name, v)); };
	auto u32 = [&](uint32_t n) { napi_value v; Ok(napi_create_uint32(env_, n, &v)); return v; };
	auto big = [&](uint64_t n) { napi_value v; Ok(napi_create_bigint_uint64(env_, n, &v)); return v; };
	auto boolean = [&](bool b) { napi_value v; Ok(napi_get_boolean(env_, b, &v)); return v; };
	auto fixed = [&](const char *s, size_t cap) {
		napi_value v;
		Ok(napi_create_string_utf8(env_, s, strnlen(s, cap), &v));
		return v;
	};
	set("portId", u32(p.port_id));
	set("name", fixed(p.name, sizeof(p.name)));
	set("driver", fixed(p.driver, sizeof(p.driver)));
	set("device", fixed(p.device, sizeof(p.device)));
	FormatMac(p.mac, buf);
	set("mac", Str(buf));
	set("rxQueues", u32(p.rx_queues));
	set("txQueues", u32(p.tx_queues));
	set("mtu", u32(p.mtu));
	set("linkUp", boolean(p.link_up != 0));
	set("adminUp", boolean(p.admin_up != 0));
	set("speedMbps", u32(p.speed_mbps));
	set("dpdkPortId", u32(p.dpdk_port_id));
	set("rxOffloads", big(p.rx_offloads));
	set("txOffloads", big(p.tx_offloads));
	return o;
}

napi_value Codec::FromHello(const lr_ctl_hello_rep &h)
{
	napi_value o = Obj();
	auto set = [&](const char *name, napi_value v) { Ok(napi_set_named_property(env_, o, name, v)); };
	auto u32 = [&](uint32_t n) { napi_value v; Ok(napi_create_uint32(env_, n, &v)); return v; };
	auto big = [&](uint64_t n) { napi_value v; Ok(napi_create_bigint_uint64(env_, n, &v)); return v; };
	auto fixed = [&](const char *s, size_t cap) {
		napi_value v;
		Ok(napi_create_string_utf8(env_, s, strnlen(s, cap), &v));
		return v;
	};
	set("version", u32(h.version));
	set("pid", u32(h.pid));
	set("bootId", big(h.boot_id));
	set("startTimeNs", big(h.start_time_ns));
	set("nPorts", u32(h.n_ports));
	set("nWorkers", u32(h.n_workers));
	set("statsPath", fixed(h.stats_path, sizeof(h.stats_path)));
	set("name", fixed(h.name, sizeof(h.name)));
	return o;
}

} // namespace lr
