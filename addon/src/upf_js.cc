/* SPDX-License-Identifier: BSD-3-Clause */
/* UPF sessions <-> JS (see upf_js.h). */
#include "upf_js.h"

#include <cstring>

#include "codec.h"

namespace lr {
namespace upf {

namespace {

[[noreturn]] void Fail(uint32_t i, const std::string &field, const std::string &msg)
{
	throw InputError{LR_ERR_INVALID, int64_t(i), field + ": " + msg};
}

Napi::Object AsObject(Napi::Value v, uint32_t i, const std::string &field)
{
	if (!v.IsObject() || v.IsArray())
		Fail(i, field, "must be an object");
	return v.As<Napi::Object>();
}

bool Has(Napi::Object o, const char *k)
{
	Napi::Value v = o.Get(k);
	return !v.IsUndefined() && !v.IsNull();
}

uint64_t U64(Napi::Object o, const char *k, uint32_t i, const std::string &field, uint64_t max, bool optional,
	     uint64_t def = 0)
{
	Napi::Value v = o.Get(k);
	std::string f = field + "." + k;
	if (v.IsUndefined() || v.IsNull()) {
		if (optional)
			return def;
		Fail(i, f, "required");
	}
	uint64_t x;
	if (v.IsBigInt()) {
		bool lossless = false;
		x = v.As<Napi::BigInt>().Uint64Value(&lossless);
		if (!lossless)
			Fail(i, f, "out of range");
	} else if (v.IsNumber()) {
		double d = v.As<Napi::Number>().DoubleValue();
		if (!(d >= 0) || d != double(uint64_t(d)) || d > 9007199254740991.0)
			Fail(i, f, "must be a non-negative integer");
		x = uint64_t(d);
	} else if (v.IsString()) {
		std::string s = v.As<Napi::String>().Utf8Value();
		char *end = nullptr;
		x = strtoull(s.c_str(), &end, 0);
		if (s.empty() || *end != '\0' || s[0] == '-')
			Fail(i, f, "must be an unsigned integer");
	} else {
		Fail(i, f, "must be an integer");
	}
	if (x > max)
		Fail(i, f, std::to_string(x) + " is above " + std::to_string(max));
	return x;
}

std::string Str(Napi::Object o, const char *k, uint32_t i, const std::string &field, const char *def)
{
	Napi::Value v = o.Get(k);
	if (v.IsUndefined() || v.IsNull()) {
		if (def != nullptr)
			return def;
		Fail(i, field + "." + k, "required");
	}
	if (!v.IsString())
		Fail(i, field + "." + k, "must be a string");
	return v.As<Napi::String>().Utf8Value();
}

uint8_t Enum(Napi::Object o, const char *k, uint32_t i, const std::string &field, const char *const *names,
	     unsigned n, const char *def)
{
	std::string s = Str(o, k, i, field, def);
	for (unsigned j = 0; j < n; j++)
		if (names[j] != nullptr && s == names[j])
			return uint8_t(j);
	std::string allowed;
	for (unsigned j = 0; j < n; j++)
		if (names[j] != nullptr)
			allowed += std::string(allowed.empty() ? "" : ", ") + names[j];
	Fail(i, field + "." + k, "\"" + s + "\" is not one of " + allowed);
}

void Addr4(Napi::Object o, const char *k, uint32_t i, const std::string &field, uint8_t out[4])
{
	std::string s = Str(o, k, i, field, nullptr);
	uint8_t a[16], fam = 0;
	if (!ParseAddr(s.c_str(), a, &fam) || fam != LR_AF_INET)
		Fail(i, field + "." + k, "\"" + s + "\" is not an IPv4 address");
	memcpy(out, a, 4);
}

Napi::Array Arr(Napi::Object o, const char *k, uint32_t i, const std::string &field, unsigned max)
{
	Napi::Value v = o.Get(k);
	if (v.IsUndefined() || v.IsNull())
		return Napi::Array::New(o.Env());
	if (!v.IsArray())
		Fail(i, field + "." + k, "must be a list");
	Napi::Array a = v.As<Napi::Array>();
	if (a.Length() > max)
		Fail(i, field + "." + k, std::to_string(a.Length()) + " entries, at most " + std::to_string(max));
	return a;
}

const char *const kIface[] = {nullptr, "access", "core"};
const char *const kAction[] = {nullptr, "drop", "forward", "buffer"};
const char *const kGate[] = {"open", "closed"};
const char *const kOp[] = {nullptr, "create", "delete", "modify"};
/* the desired-state tables' ops (BatchOp), same values: add = create, del = delete, replace = modify */
const char *const kBatchOp[] = {nullptr, "add", "del", "replace"};

std::string Fmt4(const uint8_t a[4])
{
	uint8_t b[16] = {0};
	char buf[48];
	memcpy(b, a, 4);
	FormatAddr(LR_AF_INET, b, buf);
	return buf;
}

} // namespace

void ToSession(Napi::Env env, Napi::Value v, uint32_t i, lr_upf_session *s)
{
	(void)env;
	std::string f = "sessions[" + std::to_string(i) + "]";
	Napi::Object o = AsObject(v, i, f);
	memset(s, 0, sizeof(*s));
	{
		std::string op = Str(o, "op", i, f, "create");
		s->op = 0;
		for (unsigned j = 1; j < 4; j++)
			if (op == kOp[j] || op == kBatchOp[j])
				s->op = uint8_t(j);
		if (s->op == 0)
			Fail(i, f + ".op", "\"" + op + "\" is not one of create, delete, modify (add, del, replace)");
	}
	s->seid = U64(o, "seid", i, f, UINT64_MAX, false);
	if (s->op == LR_UPF_DELETE)
		return;
	Napi::Array pdrs = Arr(o, "pdrs", i, f, LR_UPF_MAX_PDR);
	Napi::Array fars = Arr(o, "fars", i, f, LR_UPF_MAX_FAR);
	Napi::Array qers = Arr(o, "qers", i, f, LR_UPF_MAX_QER);
	Napi::Array urrs = Arr(o, "urrs", i, f, LR_UPF_MAX_URR);
	s->n_pdrs = uint8_t(pdrs.Length());
	s->n_fars = uint8_t(fars.Length());
	s->n_qers = uint8_t(qers.Length());
	s->n_urrs = uint8_t(urrs.Length());
	for (uint32_t j = 0; j < pdrs.Length(); j++) {
		std::string g = f + ".pdrs[" + std::to_string(j) + "]";
		Napi::Object p = AsObject(pdrs.Get(j), i, g);
		lr_upf_pdr *d = &s->pdrs[j];
		d->id = uint16_t(U64(p, "id", i, g, 0xffff, false));
		d->precedence = uint32_t(U64(p, "precedence", i, g, UINT32_MAX, true, 0));
		d->source_interface = Enum(p, "sourceInterface", i, g, kIface, 3, nullptr);
		d->qfi = uint8_t(U64(p, "qfi", i, g, LR_UPF_QFI_MAX, true, LR_UPF_ANY_QFI));
		if (d->source_interface == LR_UPF_ACCESS) {
			d->teid = uint32_t(U64(p, "teid", i, g, UINT32_MAX, false));
			Addr4(p, "n3Address", i, g, d->n3_addr);
			d->outer_header_removal = 1;
			if (Has(p, "outerHeaderRemoval"))
				d->outer_header_removal = p.Get("outerHeaderRemoval").ToBoolean() ? 1 : 0;
		} else {
			std::string ue = Str(p, "ueAddress", i, g, nullptr);
			if (!ParseAddr(ue.c_str(), d->ue_addr, &d->ue_family))
				Fail(i, g + ".ueAddress", "\"" + ue + "\" is not an IP address");
		}
		d->far_id = uint16_t(U64(p, "farId", i, g, 0xffff, false));
		Napi::Array q = Arr(p, "qerIds", i, g, LR_UPF_PDR_QERS);
		Napi::Array u = Arr(p, "urrIds", i, g, LR_UPF_PDR_URRS);
		d->n_qers = uint8_t(q.Length());
		d->n_urrs = uint8_t(u.Length());
		for (uint32_t k = 0; k < q.Length(); k++) {
			Napi::Object w = Napi::Object::New(env);
			w.Set("id", q.Get(k));
			d->qer_ids[k] = uint16_t(U64(w, "id", i, g + ".qerIds[" + std::to_string(k) + "]", 0xffff, false));
		}
		for (uint32_t k = 0; k < u.Length(); k++) {
			Napi::Object w = Napi::Object::New(env);
			w.Set("id", u.Get(k));
			d->urr_ids[k] = uint16_t(U64(w, "id", i, g + ".urrIds[" + std::to_string(k) + "]", 0xffff, false));
		}
	}
	for (uint32_t j = 0; j < fars.Length(); j++) {
		std::string g = f + ".fars[" + std::to_string(j) + "]";
		Napi::Object p = AsObject(fars.Get(j), i, g);
		lr_upf_far *d = &s->fars[j];
		d->id = uint16_t(U64(p, "id", i, g, 0xffff, false));
		d->action = Enum(p, "action", i, g, kAction, 4, nullptr);
		if (d->action == LR_UPF_FORWARD)
			d->destination_interface = Enum(p, "destinationInterface", i, g, kIface, 3, nullptr);
		if (Has(p, "outerHeaderCreation")) {
			std::string h = g + ".outerHeaderCreation";
			Napi::Object c = AsObject(p.Get("outerHeaderCreation"), i, h);
			d->outer_header_creation = 1;
			d->peer_teid = uint32_t(U64(c, "teid", i, h, UINT32_MAX, false));
			Addr4(c, "address", i, h, d->peer_addr);
			d->qfi = uint8_t(U64(c, "qfi", i, h, LR_UPF_QFI_MAX, true, 0));
		}
	}
	for (uint32_t j = 0; j < qers.Length(); j++) {
		std::string g = f + ".qers[" + std::to_string(j) + "]";
		Napi::Object p = AsObject(qers.Get(j), i, g);
		lr_upf_qer *d = &s->qers[j];
		d->id = uint16_t(U64(p, "id", i, g, 0xffff, false));
		d->gate_ul = Enum(p, "gateUl", i, g, kGate, 2, "open");
		d->gate_dl = Enum(p, "gateDl", i, g, kGate, 2, "open");
		d->mbr_ul = U64(p, "mbrUl", i, g, UINT64_MAX, true, 0);
		d->mbr_dl = U64(p, "mbrDl", i, g, UINT64_MAX, true, 0);
		d->qfi = uint8_t(U64(p, "qfi", i, g, LR_UPF_QFI_MAX, true, 0));
	}
	for (uint32_t j = 0; j < urrs.Length(); j++) {
		std::string g = f + ".urrs[" + std::to_string(j) + "]";
		Napi::Object p = AsObject(urrs.Get(j), i, g);
		s->urrs[j].id = uint16_t(U64(p, "id", i, g, 0xffff, false));
	}
}

Napi::Value FromSession(Napi::Env env, const lr_upf_session &s)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("seid", Napi::BigInt::New(env, s.seid));
	Napi::Array pdrs = Napi::Array::New(env, s.n_pdrs);
	for (uint32_t j = 0; j < s.n_pdrs && j < LR_UPF_MAX_PDR; j++) {
		const lr_upf_pdr &p = s.pdrs[j];
		Napi::Object x = Napi::Object::New(env);
		x.Set("id", p.id);
		x.Set("precedence", p.precedence);
		x.Set("sourceInterface", p.source_interface == LR_UPF_ACCESS ? "access" : "core");
		if (p.qfi != LR_UPF_ANY_QFI)
			x.Set("qfi", p.qfi);
		if (p.source_interface == LR_UPF_ACCESS) {
			x.Set("teid", p.teid);
			x.Set("n3Address", Fmt4(p.n3_addr));
			x.Set("outerHeaderRemoval", p.outer_header_removal != 0);
		} else {
			char buf[48];
			FormatAddr(p.ue_family, p.ue_addr, buf);
			x.Set("ueAddress", buf);
		}
		x.Set("farId", p.far_id);
		Napi::Array q = Napi::Array::New(env, p.n_qers), u = Napi::Array::New(env, p.n_urrs);
		for (uint32_t k = 0; k < p.n_qers && k < LR_UPF_PDR_QERS; k++)
			q.Set(k, p.qer_ids[k]);
		for (uint32_t k = 0; k < p.n_urrs && k < LR_UPF_PDR_URRS; k++)
			u.Set(k, p.urr_ids[k]);
		x.Set("qerIds", q);
		x.Set("urrIds", u);
		pdrs.Set(j, x);
	}
	o.Set("pdrs", pdrs);
	Napi::Array fars = Napi::Array::New(env, s.n_fars);
	for (uint32_t j = 0; j < s.n_fars && j < LR_UPF_MAX_FAR; j++) {
		const lr_upf_far &p = s.fars[j];
		Napi::Object x = Napi::Object::New(env);
		x.Set("id", p.id);
		x.Set("action", p.action <= LR_UPF_BUFFER && p.action > 0 ? kAction[p.action] : "drop");
		if (p.action == LR_UPF_FORWARD)
			x.Set("destinationInterface", p.destination_interface == LR_UPF_ACCESS ? "access" : "core");
		if (p.outer_header_creation) {
			Napi::Object c = Napi::Object::New(env);
			c.Set("teid", p.peer_teid);
			c.Set("address", Fmt4(p.peer_addr));
			c.Set("qfi", p.qfi);
			x.Set("outerHeaderCreation", c);
		}
		fars.Set(j, x);
	}
	o.Set("fars", fars);
	Napi::Array qers = Napi::Array::New(env, s.n_qers);
	for (uint32_t j = 0; j < s.n_qers && j < LR_UPF_MAX_QER; j++) {
		const lr_upf_qer &p = s.qers[j];
		Napi::Object x = Napi::Object::New(env);
		x.Set("id", p.id);
		x.Set("gateUl", p.gate_ul ? "closed" : "open");
		x.Set("gateDl", p.gate_dl ? "closed" : "open");
		x.Set("mbrUl", Napi::BigInt::New(env, p.mbr_ul));
		x.Set("mbrDl", Napi::BigInt::New(env, p.mbr_dl));
		x.Set("qfi", p.qfi);
		qers.Set(j, x);
	}
	o.Set("qers", qers);
	Napi::Array urrs = Napi::Array::New(env, s.n_urrs);
	for (uint32_t j = 0; j < s.n_urrs && j < LR_UPF_MAX_URR; j++) {
		const lr_upf_urr &p = s.urrs[j];
		Napi::Object x = Napi::Object::New(env);
		x.Set("id", p.id);
		x.Set("ulPackets", Napi::BigInt::New(env, p.ul_packets));
		x.Set("ulBytes", Napi::BigInt::New(env, p.ul_bytes));
		x.Set("dlPackets", Napi::BigInt::New(env, p.dl_packets));
		x.Set("dlBytes", Napi::BigInt::New(env, p.dl_bytes));
		urrs.Set(j, x);
	}
	o.Set("urrs", urrs);
	return o;
}

Napi::Value FromResult(Napi::Env env, const lr_upf_result &r)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("seid", Napi::BigInt::New(env, r.seid));
	o.Set("code", r.code);
	o.Set("message", std::string(r.msg, strnlen(r.msg, sizeof(r.msg))));
	return o;
}

void ToConfig(Napi::Env env, Napi::Value v, lr_upf_config *c)
{
	(void)env;
	memset(c, 0, sizeof(*c));
	c->flags = 1;
	Napi::Object o = AsObject(v, 0, "config");
	if (Has(o, "n3Address"))
		Addr4(o, "n3Address", 0, "config", c->n3_addr);
	if (!Has(o, "ports"))
		return;
	Napi::Object p = AsObject(o.Get("ports"), 0, "config.ports");
	Napi::Array keys = p.GetPropertyNames();
	for (uint32_t j = 0; j < keys.Length(); j++) {
		std::string k = keys.Get(j).ToString().Utf8Value();
		char *end = nullptr;
		unsigned long id = strtoul(k.c_str(), &end, 10);
		if (k.empty() || *end != '\0' || id >= LR_MAX_PORTS)
			Fail(0, "config.ports", "\"" + k + "\" is not a port id below " + std::to_string(LR_MAX_PORTS));
		c->port_iface[id] = Enum(p, k.c_str(), 0, "config.ports", kIface, 3, nullptr);
	}
}

Napi::Value FromConfig(Napi::Env env, const lr_upf_config &c)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("n3Address", Fmt4(c.n3_addr));
	Napi::Object p = Napi::Object::New(env);
	for (unsigned j = 0; j < LR_MAX_PORTS; j++)
		if (c.port_iface[j] == LR_UPF_ACCESS || c.port_iface[j] == LR_UPF_CORE)
			p.Set(std::to_string(j), kIface[c.port_iface[j]]);
	o.Set("ports", p);
	return o;
}

Napi::Value FromStats(Napi::Env env, const lr_upf_stats &s)
{
	static const char *const names[] = {
#define LR_UPF_NAME_(f, h) #f,
		LR_UPF_COUNTERS(LR_UPF_NAME_)
#undef LR_UPF_NAME_
	};
	Napi::Object o = Napi::Object::New(env);
	o.Set("sessions", s.sessions);
	o.Set("sessionsMax", s.sessions_max);
	o.Set("ulKeys", s.ul_keys);
	o.Set("dlKeys", s.dl_keys);
	o.Set("bytes", Napi::BigInt::New(env, s.bytes));
	Napi::Object c = Napi::Object::New(env);
	for (unsigned k = 0; k < LR_UPF_CTR_MAX; k++)
		c.Set(names[k], Napi::BigInt::New(env, s.counters[k]));
	o.Set("counters", c);
	return o;
}

} // namespace upf
} // namespace lr
