/* SPDX-License-Identifier: BSD-3-Clause */
#include "route_js.h"

#include <string>

#include "addon_data.h"
#include "lr_common.h"

namespace lr {

namespace {

using routes::Batch;
using routes::Hop;
using routes::Key;
using routes::Update;


const char *OpName(uint8_t op) { return op == routes::kAdd ? "add" : op == routes::kMod ? "mod" : "del"; }

Napi::Error Fail(Napi::Env env, const std::string &msg) { return Napi::Error::New(env, msg); }

std::string Str(const Napi::Value &v) { return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(); }

/** Model next hops ({port, via?, weight?}) of @p n hops. */
Napi::Array HopsToJs(Napi::Env env, const Key &k, const Hop *hops, size_t n, const std::vector<std::string> &names)
{
	Napi::Array out = Napi::Array::New(env, n);
	for (size_t j = 0; j < n; j++) {
		Napi::Object h = Napi::Object::New(env);
		h.Set("port", names[hops[j].name]);
		if (hops[j].has_via) {
			char buf[48];
			size_t len = routes::FormatIp(k.family, hops[j].via, buf);
			h.Set("via", Napi::String::New(env, buf, len));
		}
		if (hops[j].weight > 1)
			h.Set("weight", hops[j].weight);
		out.Set(uint32_t(j), h);
	}
	return out;
}

/** A model route {prefix, family, nextHops}. */
Napi::Object RouteToJs(Napi::Env env, const Key &k, const Hop *hops, size_t n, const std::vector<std::string> &names)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("prefix", routes::FormatPrefix(k));
	o.Set("family", k.family);
	o.Set("nextHops", HopsToJs(env, k, hops, n, names));
	return o;
}

/** Decodes on a worker thread; resolves with a RouteBatch, or with the reason (a string) it is not for the fast path. */
class DecodeWorker : public Napi::AsyncWorker {
public:
	DecodeWorker(Napi::Env env, routes::Method m, Napi::Buffer<uint8_t> buf, uint32_t max_ecmp)
		: Napi::AsyncWorker(env, "linerate.routes.decode"), deferred_(Napi::Promise::Deferred::New(env)),
		  method_(m), buf_(Napi::Persistent(buf)), data_(buf.Data()), len_(buf.Length()), max_ecmp_(max_ecmp),
		  batch_(std::make_shared<Batch>())
	{
	}
	Napi::Promise Promise() { return deferred_.Promise(); }
	void Execute() override { ok_ = routes::Decode(method_, data_, len_, max_ecmp_, batch_.get(), &why_); }
	void OnOK() override
	{
		Napi::Env env = Env();
		if (ok_)
			deferred_.Resolve(RouteBatch::Wrap(env, std::move(batch_)));
		else
			deferred_.Resolve(Napi::String::New(env, why_));
	}
	void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

private:
	Napi::Promise::Deferred deferred_;
	routes::Method method_;
	Napi::Reference<Napi::Buffer<uint8_t>> buf_; /* keeps the bytes alive */
	const uint8_t *data_;
	size_t len_;
	uint32_t max_ecmp_;
	std::shared_ptr<Batch> batch_;
	bool ok_ = false;
	std::string why_;
};

/** Journal + apply, the journal alone, or the apply alone, on a worker thread. */
class CommitWorker : public Napi::AsyncWorker {
public:
	enum Part { kBoth, kJournal, kApply };

	CommitWorker(Napi::Env env, std::shared_ptr<routes::Store> store, std::shared_ptr<Batch> b, Part part)
		: Napi::AsyncWorker(env, "linerate.routes.commit"), deferred_(Napi::Promise::Deferred::New(env)),
		  store_(std::move(store)), batch_(std::move(b)), part_(part)
	{
	}
	Napi::Promise Promise() { return deferred_.Promise(); }
	void Execute() override
	{
		std::string err;
		if (part_ == kApply)
			store_->Apply(*batch_);
		else if (!(part_ == kBoth ? store_->Commit(*batch_, &err) : store_->Journal(*batch_, &err)))
			SetError(err);
	}
	void OnOK() override { deferred_.Resolve(Env().Undefined()); }
	void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

private:
	Napi::Promise::Deferred deferred_;
	std::shared_ptr<routes::Store> store_;
	std::shared_ptr<Batch> batch_;
	Part part_;
};

} // namespace

/* ---- RouteBatch ---- */

Napi::Function RouteBatch::Init(Napi::Env env)
{
	return DefineClass(env, "RouteBatch",
			   {
				   StaticMethod<&RouteBatch::Decode>("decode"),
				   StaticMethod<&RouteBatch::FromRoutes>("fromRoutes"),
				   InstanceAccessor<&RouteBatch::Length>("length"),
				   InstanceMethod<&RouteBatch::Inverse>("inverse"),
				   InstanceMethod<&RouteBatch::ToEntries>("toEntries"),
				   InstanceMethod<&RouteBatch::ToRoutes>("toRoutes"),
				   InstanceMethod<&RouteBatch::Release>("release"),
			   });
}

void RouteBatch::Account(Napi::Env env)
{
	int64_t bytes = 0;
	if (batch_)
		bytes = int64_t(batch_->updates.capacity() * sizeof(Update) + batch_->old.capacity() * sizeof(Update) +
				(batch_->hops.capacity() + batch_->old_hops.capacity()) * sizeof(Hop));
	if (bytes != accounted_)
		Napi::MemoryManagement::AdjustExternalMemory(env, bytes - accounted_);
	accounted_ = bytes;
}

void RouteBatch::Finalize(Napi::Env env)
{
	batch_.reset();
	Account(env);
}

/** release(): frees the batch now (the write path is done with it) rather than at the next GC. */
Napi::Value RouteBatch::Release(const Napi::CallbackInfo &info)
{
	batch_ = std::make_shared<Batch>();
	Account(info.Env());
	return info.Env().Undefined();
}

RouteBatch::RouteBatch(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RouteBatch>(info), batch_(std::make_shared<Batch>()) {}

Napi::Object RouteBatch::Wrap(Napi::Env env, std::shared_ptr<Batch> b)
{
	Napi::Object o = Data(env).route_batch.New({});
	RouteBatch *rb = Unwrap(o);
	rb->batch_ = std::move(b);
	rb->Account(env);
	return o;
}

std::shared_ptr<Batch> RouteBatch::From(Napi::Value v)
{
	Napi::Env env = v.Env();
	if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).route_batch.Value()))
		return nullptr;
	return Unwrap(v.As<Napi::Object>())->batch_;
}

Napi::Value RouteBatch::Decode(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string m = Str(info[0]);
	routes::Method method;
	if (m == "Write")
		method = routes::Method::kWrite;
	else if (m == "AddRoutes")
		method = routes::Method::kAdd;
	else if (m == "DeleteRoutes")
		method = routes::Method::kDelete;
	else
		throw Fail(env, "decode: method must be Write, AddRoutes or DeleteRoutes");
	if (!info[1].IsBuffer())
		throw Fail(env, "decode: bytes must be a Buffer");
	uint32_t max_ecmp = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 8;
	auto *w = new DecodeWorker(env, method, info[1].As<Napi::Buffer<uint8_t>>(), max_ecmp);
	Napi::Promise p = w->Promise();
	w->Queue();
	return p;
}

/**
 * fromRoutes([{op: 'add'|'mod'|'del', prefix, nextHops: [{port, via?, weight?}]}]):
 * model routes (already validated and canonical) as a batch.
 */
Napi::Value RouteBatch::FromRoutes(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsArray())
		throw Fail(env, "fromRoutes: expected an array");
	Napi::Array arr = info[0].As<Napi::Array>();
	auto b = std::make_shared<Batch>();
	for (uint32_t i = 0; i < arr.Length(); i++) {
		Napi::Object o = arr.Get(i).As<Napi::Object>();
		std::string op = Str(o.Get("op")), prefix = Str(o.Get("prefix"));
		Update u{};
		u.op = op == "add" ? routes::kAdd : op == "mod" ? routes::kMod : op == "del" ? routes::kDel : 0;
		if (u.op == 0 || !routes::ParsePrefix(prefix, &u.key))
			throw Fail(env, "fromRoutes: entry " + std::to_string(i) + ": bad op or prefix " + prefix);
		u.hop0 = uint32_t(b->hops.size());
		Napi::Value nhv = o.Get("nextHops");
		if (u.op != routes::kDel && nhv.IsArray()) {
			Napi::Array nhs = nhv.As<Napi::Array>();
			for (uint32_t j = 0; j < nhs.Length() && j < LR_MAX_ECMP; j++) {
				Napi::Object h = nhs.Get(j).As<Napi::Object>();
				Hop hop{};
				hop.name = b->Name(Str(h.Get("port")));
				std::string via = Str(h.Get("via"));
				uint8_t fam = 0;
				if (!via.empty()) {
					if (!routes::ParseIp(via, &fam, hop.via))
						throw Fail(env, "fromRoutes: entry " + std::to_string(i) + ": bad via " + via);
					hop.has_via = fam;
				}
				Napi::Value w = h.Get("weight");
				uint32_t wt = w.IsNumber() ? w.As<Napi::Number>().Uint32Value() : 0;
				hop.weight = wt > 1 && wt <= 65535 ? uint16_t(wt) : 0;
				b->hops.push_back(hop);
				u.n_hops++;
			}
		}
		b->updates.push_back(u);
	}
	return Wrap(env, std::move(b));
}

Napi::Value RouteBatch::Length(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), double(batch_->updates.size()));
}

/** The batch that undoes this one (Store::Check filled in what it replaces): in reverse order. */
Napi::Value RouteBatch::Inverse(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const Batch &b = *batch_;
	if (b.old.size() != b.updates.size())
		throw Fail(env, "inverse: the batch was not checked against the store");
	auto inv = std::make_shared<Batch>();
	inv->names = b.names;
	for (size_t k = b.updates.size(); k-- > 0;) {
		const Update &u = b.updates[k];
		const Update &o = b.old[k];
		Update r{};
		r.key = u.key;
		r.hop0 = uint32_t(inv->hops.size());
		if (u.op == routes::kAdd) {
			r.op = routes::kDel;
		} else {
			r.op = u.op == routes::kDel ? routes::kAdd : routes::kMod;
			r.n_hops = o.n_hops;
			for (uint8_t j = 0; j < o.n_hops; j++)
				inv->hops.push_back(b.old_hops[o.hop0 + j]);
		}
		inv->updates.push_back(r);
	}
	return Wrap(env, std::move(inv));
}

/** toEntries({name: portId}): the addon's RouteEntry objects (the fake dataplane applies these). */
Napi::Value RouteBatch::ToEntries(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject())
		throw Fail(env, "toEntries: expected the port ids by name");
	Napi::Object ids = info[0].As<Napi::Object>();
	const Batch &b = *batch_;
	Napi::Array out = Napi::Array::New(env, b.updates.size());
	for (size_t i = 0; i < b.updates.size(); i++) {
		const Update &u = b.updates[i];
		Napi::Object e = Napi::Object::New(env);
		e.Set("op", u.op == routes::kAdd ? "add" : u.op == routes::kMod ? "replace" : "del");
		e.Set("prefix", routes::FormatPrefix(u.key));
		Napi::Array nhs = Napi::Array::New(env, u.op == routes::kDel ? 0 : u.n_hops);
		for (uint8_t j = 0; u.op != routes::kDel && j < u.n_hops; j++) {
			const Hop &h = b.hops[u.hop0 + j];
			Napi::Object nh = Napi::Object::New(env);
			nh.Set("portId", ids.Get(b.names[h.name]));
			if (h.has_via) {
				char buf[48];
				size_t len = routes::FormatIp(u.key.family, h.via, buf);
				nh.Set("via", Napi::String::New(env, buf, len));
			}
			if (h.weight > 1)
				nh.Set("weight", h.weight);
			nhs.Set(uint32_t(j), nh);
		}
		e.Set("nextHops", nhs);
		out.Set(uint32_t(i), e);
	}
	return out;
}

/** toRoutes(): [{op, route}] in model form (tests, the log). */
Napi::Value RouteBatch::ToRoutes(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	const Batch &b = *batch_;
	Napi::Array out = Napi::Array::New(env, b.updates.size());
	for (size_t i = 0; i < b.updates.size(); i++) {
		const Update &u = b.updates[i];
		Napi::Object e = Napi::Object::New(env);
		e.Set("op", OpName(u.op));
		e.Set("route", RouteToJs(env, u.key, b.hops.data() + u.hop0, u.op == routes::kDel ? 0 : u.n_hops, b.names));
		out.Set(uint32_t(i), e);
	}
	return out;
}

/* ---- RouteStore ---- */

Napi::Function RouteStore::Init(Napi::Env env)
{
	return DefineClass(env, "RouteStore",
			   {
				   InstanceMethod<&RouteStore::Load>("load"),
				   InstanceMethod<&RouteStore::Compact>("compact"),
				   InstanceMethod<&RouteStore::Close>("close"),
				   InstanceAccessor<&RouteStore::Size>("size"),
				   InstanceAccessor<&RouteStore::Seq>("seq"),
				   InstanceMethod<&RouteStore::Count>("count"),
				   InstanceMethod<&RouteStore::Get>("get"),
				   InstanceMethod<&RouteStore::Check>("check"),
				   InstanceMethod<&RouteStore::Commit>("commit"),
				   InstanceMethod<&RouteStore::Journal>("journal"),
				   InstanceMethod<&RouteStore::Apply>("apply"),
				   InstanceMethod<&RouteStore::ApplyMemory>("applyMemory"),
				   InstanceMethod<&RouteStore::Snapshot>("snapshot"),
			   });
}

RouteStore::RouteStore(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RouteStore>(info) {}

Napi::Value RouteStore::Load(const Napi::CallbackInfo &info)
{
	std::string err;
	if (!store_->Load(Str(info[0]), &err))
		throw Fail(info.Env(), err);
	return Napi::Number::New(info.Env(), double(store_->Seq()));
}

Napi::Value RouteStore::Compact(const Napi::CallbackInfo &info)
{
	std::string err;
	if (!store_->Compact(Str(info[0]), &err))
		throw Fail(info.Env(), err);
	return info.Env().Undefined();
}

Napi::Value RouteStore::Close(const Napi::CallbackInfo &info)
{
	store_->Close();
	return info.Env().Undefined();
}

Napi::Value RouteStore::Size(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), double(store_->Size())); }
Napi::Value RouteStore::Seq(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), double(store_->Seq())); }

Napi::Value RouteStore::Count(const Napi::CallbackInfo &info)
{
	uint32_t f = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
	if (f == 4 || f == 6)
		return Napi::Number::New(info.Env(), double(store_->Count(uint8_t(f))));
	return Napi::Number::New(info.Env(), double(store_->Size()));
}

/** get(prefix): the model route, or undefined (also for text that is no canonical prefix). */
Napi::Value RouteStore::Get(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Key k{};
	if (!routes::ParsePrefix(Str(info[0]), &k))
		return env.Undefined();
	routes::Entry e;
	std::vector<std::string> names;
	if (!store_->Get(k, &e, &names))
		return env.Undefined();
	return RouteToJs(env, e.key, e.hops.data(), e.hops.size(), names);
}

/** check(batch, portNames, maxBatch): null if the batch holds against the table, else why not. */
Napi::Value RouteStore::Check(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto b = RouteBatch::From(info[0]);
	if (!b || !info[1].IsArray())
		throw Fail(env, "check: expected a RouteBatch and the port names");
	Napi::Array ports = info[1].As<Napi::Array>();
	std::vector<bool> known(b->names.size(), false);
	for (uint32_t i = 0; i < ports.Length(); i++) {
		std::string p = Str(ports.Get(i));
		for (size_t j = 0; j < b->names.size(); j++)
			if (b->names[j] == p)
				known[j] = true;
	}
	uint32_t max_batch = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 65536;
	std::string why;
	if (!store_->Check(*b, known, max_batch, &why))
		return Napi::String::New(env, why);
	return env.Null();
}

/** commit / journal / apply: @p what names the method in the error. */
static Napi::Value QueueCommit(const Napi::CallbackInfo &info, std::shared_ptr<routes::Store> store,
			       CommitWorker::Part part, const char *what)
{
	Napi::Env env = info.Env();
	auto b = RouteBatch::From(info[0]);
	if (!b)
		throw Fail(env, std::string(what) + ": expected a RouteBatch");
	auto *w = new CommitWorker(env, std::move(store), std::move(b), part);
	Napi::Promise p = w->Promise();
	w->Queue();
	return p;
}

Napi::Value RouteStore::Commit(const Napi::CallbackInfo &info)
{
	return QueueCommit(info, store_, CommitWorker::kBoth, "commit");
}

Napi::Value RouteStore::Journal(const Napi::CallbackInfo &info)
{
	return QueueCommit(info, store_, CommitWorker::kJournal, "journal");
}

Napi::Value RouteStore::Apply(const Napi::CallbackInfo &info)
{
	return QueueCommit(info, store_, CommitWorker::kApply, "apply");
}

Napi::Value RouteStore::ApplyMemory(const Napi::CallbackInfo &info)
{
	auto b = RouteBatch::From(info[0]);
	if (!b)
		throw Fail(info.Env(), "applyMemory: expected a RouteBatch");
	store_->ApplyMemory(*b);
	return info.Env().Undefined();
}

Napi::Value RouteStore::Snapshot(const Napi::CallbackInfo &info)
{
	return RouteSnapshot::Wrap(info.Env(), store_->Copy());
}

/* ---- RouteSnapshot ---- */

Napi::Function RouteSnapshot::Init(Napi::Env env)
{
	return DefineClass(env, "RouteSnapshot",
			   {
				   InstanceAccessor<&RouteSnapshot::Length>("length"),
				   InstanceMethod<&RouteSnapshot::Next>("next"),
				   InstanceMethod<&RouteSnapshot::EncodePage>("encodePage"),
			   });
}

RouteSnapshot::RouteSnapshot(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RouteSnapshot>(info) {}

Napi::Object RouteSnapshot::Wrap(Napi::Env env, routes::Snapshot s)
{
	Napi::Object o = Data(env).route_snapshot.New({});
	Unwrap(o)->snap_ = std::move(s);
	return o;
}

Napi::Value RouteSnapshot::Length(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), double(snap_.routes.size()));
}

/** next(n): the next n model routes, or null when none is left. */
Napi::Value RouteSnapshot::Next(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	size_t n = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 1024;
	if (snap_.cursor >= snap_.routes.size())
		return env.Null();
	size_t end = std::min(snap_.routes.size(), snap_.cursor + std::max<size_t>(n, 1));
	Napi::Array out = Napi::Array::New(env, end - snap_.cursor);
	for (size_t i = snap_.cursor; i < end; i++) {
		const auto &[key, set] = snap_.routes[i];
		const std::vector<Hop> &hops = snap_.sets[set];
		out.Set(uint32_t(i - snap_.cursor), RouteToJs(env, key, hops.data(), hops.size(), snap_.names));
	}
	snap_.cursor = end;
	return out;
}

/** encodePage(family, n): the next ListRoutesResponse of up to n routes of family (0 = both), or null. */
Napi::Value RouteSnapshot::EncodePage(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t family = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
	size_t n = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 1024;
	std::string out, route;
	size_t got = 0;
	while (snap_.cursor < snap_.routes.size() && got < n) {
		const auto &[key, set] = snap_.routes[snap_.cursor++];
		if (family != 0 && key.family != family)
			continue;
		const std::vector<Hop> &hops = snap_.sets[set];
		route.clear();
		routes::EncodeRoute(route, key, hops.data(), hops.size(), snap_.names);
		routes::PutBytes(out, 1, route.data(), route.size());
		got++;
	}
	if (got == 0)
		return env.Null();
	return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

/* ---- RoutePlan ---- */

Napi::Function RoutePlan::Init(Napi::Env env)
{
	return DefineClass(env, "RoutePlan",
			   {
				   InstanceAccessor<&RoutePlan::Dels>("dels"),
				   InstanceAccessor<&RoutePlan::Adds>("adds"),
				   InstanceAccessor<&RoutePlan::Dumped>("dumped"),
				   InstanceAccessor<&RoutePlan::UnknownPort>("unknownPort"),
			   });
}

RoutePlan::RoutePlan(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RoutePlan>(info), plan_(std::make_shared<RoutePlanData>()) {}

Napi::Object RoutePlan::Wrap(Napi::Env env, std::shared_ptr<RoutePlanData> p)
{
	Napi::Object o = Data(env).route_plan.New({});
	Unwrap(o)->plan_ = std::move(p);
	return o;
}

std::shared_ptr<RoutePlanData> RoutePlan::From(Napi::Value v)
{
	if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(v.Env()).route_plan.Value()))
		return nullptr;
	return Unwrap(v.As<Napi::Object>())->plan_;
}

Napi::Value RoutePlan::Dels(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), double(plan_->del.size())); }
Napi::Value RoutePlan::Adds(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), double(plan_->add.size())); }
Napi::Value RoutePlan::Dumped(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), double(plan_->dumped)); }

Napi::Value RoutePlan::UnknownPort(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env, plan_->unknown_port.size());
	for (size_t i = 0; i < plan_->unknown_port.size(); i++)
		out.Set(uint32_t(i), plan_->unknown_port[i]);
	return out;
}

std::shared_ptr<routes::Store> StoreOf(Napi::Value v)
{
	if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(v.Env()).route_store.Value()))
		return nullptr;
	return RouteStore::Unwrap(v.As<Napi::Object>())->store_;
}

void InitRoutes(Napi::Env env, Napi::Object exports)
{
	Napi::Function batch = RouteBatch::Init(env), snapshot = RouteSnapshot::Init(env), store = RouteStore::Init(env),
		       plan = RoutePlan::Init(env);
	Data(env).route_batch = Napi::Persistent(batch);
	Data(env).route_snapshot = Napi::Persistent(snapshot);
	Data(env).route_store = Napi::Persistent(store);
	Data(env).route_plan = Napi::Persistent(plan);
	exports.Set("RouteBatch", batch);
	exports.Set("RouteStore", store);
	exports.Set("RouteSnapshot", snapshot);
	exports.Set("RoutePlan", plan);
}

} // namespace lr
