/* SPDX-License-Identifier: BSD-3-Clause */
#include "dataplane.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <unistd.h>

#include "route_js.h"
#include "upf_js.h"

namespace lr {

namespace {

constexpr int kDefaultTimeoutMs = 5000;
constexpr uint32_t kEntriesPerScope = 64;

Napi::Error MakeError(Napi::Env env, const Status &st, bool with_index)
{
	Napi::Error e = Napi::Error::New(env, st.msg.empty() ? "dataplane request failed" : st.msg);
	e.Set("code", Napi::Number::New(env, st.code));
	if (with_index && st.index >= 0)
		e.Set("index", Napi::Number::New(env, double(st.index)));
	return e;
}

/** Frees the handles made while converting some entries, on every exit path. */
class EntryScope {
public:
	explicit EntryScope(napi_env env) : env_(env) { napi_open_handle_scope(env, &scope_); }
	~EntryScope() { napi_close_handle_scope(env_, scope_); }
	EntryScope(const EntryScope &) = delete;
	EntryScope &operator=(const EntryScope &) = delete;

private:
	napi_env env_;
	napi_handle_scope scope_;
};

} // namespace

/**
 * One queued call. Execute() runs on a worker thread and records status_;
 * Complete() runs on the JS thread, settles the promise and returns true,
 * or returns false to have Execute() run again (next page of a dump).
 */
class Request {
public:
	Request(Napi::Env env, bool batch) : deferred_(Napi::Promise::Deferred::New(env)), batch_(batch) {}
	virtual ~Request() = default;

	virtual void Execute(CtlConn &conn) = 0;
	virtual bool Complete(Napi::Env env)
	{
		if (!status_.ok()) {
			Reject(env);
			return true;
		}
		return Resolve(env);
	}
	void Reject(Napi::Env env) { deferred_.Reject(MakeError(env, status_, batch_).Value()); }
	Napi::Promise Promise() const { return deferred_.Promise(); }
	/** The request's message buffer, handed back for reuse once it is done. */
	virtual std::vector<uint8_t> TakeBuffer() { return {}; }

	Status status_;
	bool is_connect_ = false;

protected:
	virtual bool Resolve(Napi::Env env)
	{
		deferred_.Resolve(env.Undefined());
		return true;
	}

	Napi::Promise::Deferred deferred_;
	bool batch_;
};

/** A request whose message is built on the JS thread and whose reply is a bare status. */
class MsgRequest : public Request {
public:
	MsgRequest(Napi::Env env, uint16_t type, bool batch) : Request(env, batch), type_(type) {}

	/**
	 * Room for the header and @p n entries of @p size bytes, in @p buf (a
	 * recycled buffer: its pages are already faulted in, which matters for
	 * megabyte batches). Entries are written whole by the caller.
	 */
	uint8_t *Init(uint32_t n, size_t size, std::vector<uint8_t> buf = {})
	{
		count_ = n;
		msg_ = std::move(buf);
		msg_.resize(sizeof(lr_ctl_hdr) + size_t(n) * size);
		return msg_.data() + sizeof(lr_ctl_hdr);
	}
	std::vector<uint8_t> TakeBuffer() override { return std::move(msg_); }

	void Execute(CtlConn &conn) override
	{
		if (msg_.empty())
			Init(0, 0);
		std::vector<uint8_t> body;
		uint32_t rep_count = 0;
		status_ = conn.Transact(msg_, type_, count_, body, rep_count);
	}

private:
	uint16_t type_;
	uint32_t count_ = 0;
	std::vector<uint8_t> msg_;
};

class ConnectRequest : public Request {
public:
	ConnectRequest(Napi::Env env, std::string path, int timeout_ms)
		: Request(env, false), path_(std::move(path)), timeout_ms_(timeout_ms)
	{
		is_connect_ = true;
	}

	void Execute(CtlConn &conn) override
	{
		status_ = conn.Connect(path_, timeout_ms_);
		if (!status_.ok())
			return;
		std::vector<uint8_t> msg(sizeof(lr_ctl_hdr) + sizeof(lr_ctl_hello_req), 0);
		lr_ctl_hello_req req;
		memset(&req, 0, sizeof(req));
		snprintf(req.client, sizeof(req.client), "linerate-addon/%d", int(getpid()));
		memcpy(msg.data() + sizeof(lr_ctl_hdr), &req, sizeof(req));
		std::vector<uint8_t> body;
		uint32_t count = 0;
		status_ = conn.Transact(msg, LR_CTL_HELLO, 1, body, count);
		if (status_.ok() && body.size() < sizeof(rep_))
			status_ = Status::Error(kUnavailable, "HELLO reply too short (" + std::to_string(body.size()) +
								      " bytes)");
		if (status_.ok()) {
			memcpy(&rep_, body.data(), sizeof(rep_));
			if (rep_.version != LR_CTL_VERSION)
				status_ = Status::Error(LR_ERR_PRECONDITION,
							"dataplane speaks control protocol version " +
								std::to_string(rep_.version) + ", the addon " +
								std::to_string(LR_CTL_VERSION));
		}
		/* The dataplane drops a connection whose HELLO it refused. */
		if (!status_.ok())
			conn.Close();
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		Codec codec(env);
		deferred_.Resolve(Napi::Value(env, codec.FromHello(rep_)));
		return true;
	}

private:
	std::string path_;
	int timeout_ms_;
	lr_ctl_hello_rep rep_;
};

/**
 * Packet capture (LR_CTL_CAPTURE_*): an optional lr_capture_start request,
 * one lr_capture_info in the reply, resolved as
 * {state, id, written, matched, ringFull, rateLimited} (counters bigint).
 */
class CaptureRequest : public Request {
public:
	CaptureRequest(Napi::Env env, uint16_t type) : Request(env, false), type_(type)
	{
		msg_.resize(sizeof(lr_ctl_hdr));
	}
	void SetStart(const lr_capture_start &c)
	{
		msg_.resize(sizeof(lr_ctl_hdr) + sizeof(c));
		memcpy(msg_.data() + sizeof(lr_ctl_hdr), &c, sizeof(c));
		count_ = 1;
	}

	void Execute(CtlConn &conn) override
	{
		std::vector<uint8_t> body;
		uint32_t n = 0;
		status_ = conn.Transact(msg_, type_, count_, body, n);
		if (status_.ok() && (n != 1 || body.size() != sizeof(rep_)))
			status_ = Status::Error(LR_ERR_INTERNAL, "malformed capture reply: " + std::to_string(body.size()) +
									  " bytes");
		if (status_.ok())
			memcpy(&rep_, body.data(), sizeof(rep_));
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		static const char *const states[] = {"idle", "running", "done"};
		Napi::Object o = Napi::Object::New(env);
		o.Set("state", rep_.state < 3 ? states[rep_.state] : "unknown");
		o.Set("id", Napi::Number::New(env, rep_.id));
		o.Set("written", Napi::BigInt::New(env, rep_.written));
		o.Set("matched", Napi::BigInt::New(env, rep_.matched));
		o.Set("ringFull", Napi::BigInt::New(env, rep_.ring_full));
		o.Set("rateLimited", Napi::BigInt::New(env, rep_.rate_limited));
		deferred_.Resolve(o);
		return true;
	}

private:
	uint16_t type_;
	uint32_t count_ = 0;
	std::vector<uint8_t> msg_;
	lr_capture_info rep_{};
};

/**
 * The RSS redirection table (LR_CTL_RETA_GET / SET): one lr_reta each way,
 * resolved as {portId, retaSize, rxQueues, groups: [{mask: bigint,
 * queues: number[64]}]} with the retaSize / 64 groups the device has.
 */
class RetaRequest : public Request {
public:
	RetaRequest(Napi::Env env, uint16_t type, const lr_reta &req) : Request(env, false), type_(type)
	{
		msg_.resize(sizeof(lr_ctl_hdr) + sizeof(req));
		memcpy(msg_.data() + sizeof(lr_ctl_hdr), &req, sizeof(req));
	}

	void Execute(CtlConn &conn) override
	{
		std::vector<uint8_t> body;
		uint32_t n = 0;
		status_ = conn.Transact(msg_, type_, 1, body, n);
		if (status_.ok() && (n != 1 || body.size() != sizeof(rep_)))
			status_ = Status::Error(LR_ERR_INTERNAL, "malformed RETA reply: " + std::to_string(body.size()) +
									  " bytes");
		if (status_.ok())
			memcpy(&rep_, body.data(), sizeof(rep_));
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("portId", Napi::Number::New(env, rep_.port_id));
		o.Set("retaSize", Napi::Number::New(env, rep_.reta_size));
		o.Set("rxQueues", Napi::Number::New(env, rep_.rx_queues));
		uint32_t n = std::min<uint32_t>(rep_.reta_size / LR_RETA_GROUP, LR_RETA_GROUPS);
		Napi::Array groups = Napi::Array::New(env, n);
		for (uint32_t g = 0; g < n; g++) {
			Napi::Object grp = Napi::Object::New(env);
			grp.Set("mask", Napi::BigInt::New(env, rep_.groups[g].mask));
			Napi::Array q = Napi::Array::New(env, LR_RETA_GROUP);
			for (uint32_t j = 0; j < LR_RETA_GROUP; j++)
				q.Set(j, Napi::Number::New(env, rep_.groups[g].queues[j]));
			grp.Set("queues", q);
			groups.Set(g, grp);
		}
		o.Set("groups", groups);
		deferred_.Resolve(o);
		return true;
	}

private:
	uint16_t type_;
	std::vector<uint8_t> msg_;
	lr_reta rep_{};
};

/**
 * A list reply: count x T after the status, preceded by lr_ctl_dump_rep for
 * paged dumps, which are requested again from the returned cursor until
 * done. Each page is turned into JS objects as it arrives, so only one page
 * is held in C++ memory.
 */
template <typename T>
class ListRequest : public Request {
public:
	using From = napi_value (Codec::*)(const T &);

	ListRequest(Napi::Env env, uint16_t type, bool paged, uint8_t family, From from)
		: Request(env, false), type_(type), paged_(paged), family_(family), from_(from),
		  array_(Napi::Persistent(Napi::Array::New(env)))
	{
	}

	void Execute(CtlConn &conn) override
	{
		std::vector<uint8_t> msg(sizeof(lr_ctl_hdr) + (paged_ ? sizeof(lr_ctl_dump_req) : 0), 0);
		if (paged_) {
			lr_ctl_dump_req req;
			memset(&req, 0, sizeof(req));
			req.family = family_;
			req.cursor = cursor_;
			memcpy(msg.data() + sizeof(lr_ctl_hdr), &req, sizeof(req));
		}
		status_ = conn.Transact(msg, type_, paged_ ? 1 : 0, body_, count_);
		if (!status_.ok())
			return;
		size_t head = paged_ ? sizeof(lr_ctl_dump_rep) : 0;
		if (body_.size() < head || (body_.size() - head) / sizeof(T) != count_ ||
		    (body_.size() - head) % sizeof(T) != 0)
			status_ = Status::Error(LR_ERR_INTERNAL, "malformed reply: " + std::to_string(count_) +
									 " entries in " + std::to_string(body_.size()) +
									 " bytes");
	}

	bool Complete(Napi::Env env) override
	{
		if (!status_.ok()) {
			Reject(env);
			return true;
		}
		size_t head = 0;
		lr_ctl_dump_rep rep = {0, 1};
		if (paged_) {
			memcpy(&rep, body_.data(), sizeof(rep));
			head = sizeof(rep);
		}
		Codec codec(env);
		napi_value array = array_.Value();
		for (uint32_t i = 0; i < count_; i++) {
			EntryScope scope(env);
			T e;
			memcpy(&e, body_.data() + head + size_t(i) * sizeof(T), sizeof(T));
			if (napi_set_element(env, array, n_++, (codec.*from_)(e)) != napi_ok)
				throw InputError{LR_ERR_INTERNAL, -1, "cannot append a dump entry"};
		}
		if (paged_ && !rep.done) {
			/* A cursor that stands still with nothing returned would loop forever. */
			if (count_ == 0 && rep.next == cursor_) {
				status_ = Status::Error(LR_ERR_INTERNAL, "dump cursor does not advance");
				Reject(env);
				return true;
			}
			cursor_ = rep.next;
			std::vector<uint8_t>().swap(body_);
			return false;
		}
		deferred_.Resolve(array_.Value());
		return true;
	}

private:
	uint16_t type_;
	bool paged_;
	uint8_t family_;
	From from_;
	Napi::Reference<Napi::Array> array_;
	uint32_t n_ = 0;      /**< entries appended so far */
	uint32_t cursor_ = 0;
	uint32_t count_ = 0;  /**< entries in the last page */
	std::vector<uint8_t> body_;
};

/**
 * A CALL message with a body built on the JS thread whose reply entries
 * (count x entry_size bytes) are turned into a JS array, or into the first
 * entry alone (single), by a converter on the JS thread. Paged: the body is
 * an lr_ctl_dump_req and the pages are fetched on the worker thread until
 * done (the UPF messages use it).
 */
class CallRequest : public Request {
public:
	using Conv = Napi::Value (*)(Napi::Env, const uint8_t *entry);

	CallRequest(Napi::Env env, uint16_t type, size_t entry_size, Conv conv, bool single, bool paged = false)
		: Request(env, false), type_(type), entry_size_(entry_size), conv_(conv), single_(single),
		  paged_(paged)
	{
		msg_.resize(sizeof(lr_ctl_hdr));
	}
	void SetBody(const void *p, size_t n, uint32_t count)
	{
		msg_.resize(sizeof(lr_ctl_hdr) + n);
		memcpy(msg_.data() + sizeof(lr_ctl_hdr), p, n);
		count_ = count;
	}

	void Execute(CtlConn &conn) override
	{
		uint32_t cursor = 0;
		for (;;) {
			std::vector<uint8_t> msg = msg_, body;
			uint32_t n = 0;
			if (paged_) {
				lr_ctl_dump_req req;
				memset(&req, 0, sizeof(req));
				req.cursor = cursor;
				msg.resize(sizeof(lr_ctl_hdr) + sizeof(req));
				memcpy(msg.data() + sizeof(lr_ctl_hdr), &req, sizeof(req));
			}
			status_ = conn.Transact(msg, type_, paged_ ? 1 : count_, body, n);
			if (!status_.ok())
				return;
			size_t head = paged_ ? sizeof(lr_ctl_dump_rep) : 0;
			if (body.size() < head || body.size() - head != size_t(n) * entry_size_) {
				status_ = Status::Error(LR_ERR_INTERNAL, "malformed reply: " + std::to_string(n) +
										 " entries in " + std::to_string(body.size()) +
										 " bytes");
				return;
			}
			out_.insert(out_.end(), body.begin() + long(head), body.end());
			n_ += n;
			if (!paged_)
				return;
			lr_ctl_dump_rep rep;
			memcpy(&rep, body.data(), sizeof(rep));
			if (rep.done)
				return;
			if (n == 0 && rep.next == cursor) {
				status_ = Status::Error(LR_ERR_INTERNAL, "dump cursor does not advance");
				return;
			}
			cursor = rep.next;
		}
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		if (single_) {
			if (n_ < 1)
				deferred_.Resolve(env.Undefined());
			else
				deferred_.Resolve(conv_(env, out_.data()));
			return true;
		}
		Napi::Array a = Napi::Array::New(env);
		for (uint32_t i = 0, k = 0; i < n_; i++) {
			EntryScope scope(env);
			Napi::Value v = conv_(env, out_.data() + size_t(i) * entry_size_);
			if (!v.IsUndefined())  /* the converter leaves it out */
				a.Set(k++, v);
		}
		deferred_.Resolve(a);
		return true;
	}

private:
	uint16_t type_;
	size_t entry_size_;
	Conv conv_;
	bool single_, paged_;
	uint32_t count_ = 0, n_ = 0;
	std::vector<uint8_t> msg_, out_;
};

/**
 * A RouteBatch (route_js.h) sent as one LR_CTL_ROUTE_BATCH: the lr_route
 * entries are built on the worker thread, not the JS thread, so that the
 * JS thread is free to decode the next batch meanwhile.
 */
class NativeRouteRequest : public Request {
public:
	NativeRouteRequest(Napi::Env env, std::shared_ptr<routes::Batch> b, std::vector<uint16_t> ids,
			   std::vector<uint8_t> buf)
		: Request(env, true), batch_(std::move(b)), ids_(std::move(ids)), msg_(std::move(buf))
	{
	}

	void Execute(CtlConn &conn) override
	{
		const routes::Batch &b = *batch_;
		uint32_t n = uint32_t(b.updates.size());
		msg_.resize(sizeof(lr_ctl_hdr) + size_t(n) * sizeof(lr_route));
		uint8_t *out = msg_.data() + sizeof(lr_ctl_hdr);
		for (uint32_t i = 0; i < n; i++) {
			const routes::Update &u = b.updates[i];
			lr_route r;
			memset(&r, 0, sizeof(r));
			r.op = u.op == routes::kAdd ? LR_OP_ADD : u.op == routes::kMod ? LR_OP_REPLACE : LR_OP_DEL;
			r.family = u.key.family == 4 ? LR_AF_INET : LR_AF_INET6;
			r.plen = u.key.plen;
			memcpy(r.prefix, u.key.addr, sizeof(r.prefix));
			if (u.op != routes::kDel) {
				r.n_next_hops = u.n_hops;
				for (uint8_t j = 0; j < u.n_hops; j++) {
					const routes::Hop &h = b.hops[u.hop0 + j];
					r.next_hops[j].port_id = ids_[h.name];
					r.next_hops[j].weight = h.weight;
					memcpy(r.next_hops[j].via, h.via, sizeof(r.next_hops[j].via));
				}
			}
			memcpy(out + size_t(i) * sizeof(r), &r, sizeof(r));
		}
		std::vector<uint8_t> body;
		uint32_t rep_count = 0;
		status_ = conn.Transact(msg_, LR_CTL_ROUTE_BATCH, n, body, rep_count);
	}
	std::vector<uint8_t> TakeBuffer() override { return std::move(msg_); }

private:
	std::shared_ptr<routes::Batch> batch_;
	std::vector<uint16_t> ids_; /**< port id of each of the batch's port names */
	std::vector<uint8_t> msg_;
};

/** Whether two next hops are the same (weight 0 = 1). */
static bool SameHop(const lr_next_hop &a, const lr_next_hop &b)
{
	return a.port_id == b.port_id && (a.weight > 1 ? a.weight : 1) == (b.weight > 1 ? b.weight : 1) &&
	       memcmp(a.via, b.via, sizeof(a.via)) == 0;
}

/** Whether two FIB entries carry the same next hops, in any order. */
static bool SameHops(const lr_route &a, const lr_route &b)
{
	unsigned n = a.n_next_hops;
	if (n != b.n_next_hops || n > LR_MAX_ECMP)
		return false;
	bool used[LR_MAX_ECMP] = {false};
	for (unsigned i = 0; i < n; i++) {
		/* Same order is the common case: try the same position first. */
		unsigned j = i;
		if (used[j] || !SameHop(a.next_hops[i], b.next_hops[j])) {
			for (j = 0; j < n; j++)
				if (!used[j] && SameHop(a.next_hops[i], b.next_hops[j]))
					break;
			if (j == n)
				return false;
		}
		used[j] = true;
	}
	return true;
}

/**
 * Reconcile of the FIB against the route table (routeReconcilePlan): dumps
 * every route page by page on the worker thread and diffs it with a copy
 * of the table, all in C++; a million routes are never JS objects.
 */
class RoutePlanRequest : public Request {
public:
	RoutePlanRequest(Napi::Env env, routes::Snapshot snap, std::vector<int32_t> ids)
		: Request(env, false), snap_(std::move(snap)), ids_(std::move(ids)), plan_(std::make_shared<RoutePlanData>())
	{
	}

	void Execute(CtlConn &conn) override
	{
		std::vector<lr_route> dumped;
		uint32_t cursor = 0;
		for (;;) {
			std::vector<uint8_t> msg(sizeof(lr_ctl_hdr) + sizeof(lr_ctl_dump_req), 0);
			lr_ctl_dump_req req;
			memset(&req, 0, sizeof(req));
			req.cursor = cursor;
			memcpy(msg.data() + sizeof(lr_ctl_hdr), &req, sizeof(req));
			std::vector<uint8_t> body;
			uint32_t count = 0;
			status_ = conn.Transact(msg, LR_CTL_ROUTE_DUMP, 1, body, count);
			if (!status_.ok())
				return;
			lr_ctl_dump_rep rep;
			if (body.size() < sizeof(rep) || (body.size() - sizeof(rep)) != size_t(count) * sizeof(lr_route)) {
				status_ = Status::Error(LR_ERR_INTERNAL, "malformed route dump reply");
				return;
			}
			memcpy(&rep, body.data(), sizeof(rep));
			for (uint32_t i = 0; i < count; i++) {
				lr_route r;
				memcpy(&r, body.data() + sizeof(rep) + size_t(i) * sizeof(r), sizeof(r));
				if (!(r.flags & LR_ROUTE_F_CONNECTED))
					dumped.push_back(r); /* connected routes are the dataplane's own */
			}
			if (rep.done)
				break;
			if (count == 0 && rep.next == cursor) {
				status_ = Status::Error(LR_ERR_INTERNAL, "dump cursor does not advance");
				return;
			}
			cursor = rep.next;
		}
		plan_->dumped = dumped.size();
		routes::RouteIndex have;
		have.Reserve(dumped.size());
		for (uint32_t i = 0; i < dumped.size(); i++) {
			routes::Key k{};
			k.family = dumped[i].family;
			k.plen = dumped[i].plen;
			memcpy(k.addr, dumped[i].prefix, 16);
			have.Insert(k, i);
		}
		std::vector<bool> seen(dumped.size(), false);
		for (const auto &[key, set] : snap_.routes) {
			const std::vector<routes::Hop> &hops = snap_.sets[set];
			lr_route want;
			memset(&want, 0, sizeof(want));
			want.op = LR_OP_REPLACE;
			want.family = key.family == 4 ? LR_AF_INET : LR_AF_INET6;
			want.plen = key.plen;
			memcpy(want.prefix, key.addr, 16);
			want.n_next_hops = uint8_t(std::min<size_t>(hops.size(), LR_MAX_ECMP));
			bool unknown = false;
			for (unsigned j = 0; j < want.n_next_hops; j++) {
				int32_t id = ids_[hops[j].name];
				if (id < 0) {
					plan_->unknown_port.push_back("route " + routes::FormatPrefix(key) + " via " + snap_.names[hops[j].name]);
					unknown = true;
					break;
				}
				want.next_hops[j].port_id = uint16_t(id);
				want.next_hops[j].weight = hops[j].weight;
				memcpy(want.next_hops[j].via, hops[j].via, 16);
			}
			const routes::RouteIndex::Slot *h = have.Find(key);
			if (h != nullptr)
				seen[h->value] = true;
			if (unknown)
				continue; /* not pushed; what the FIB holds for it stays, as reconcile.ts does */
			if (h == nullptr || !SameHops(dumped[h->value], want))
				plan_->add.push_back(want);
		}
		for (uint32_t i = 0; i < dumped.size(); i++) {
			if (seen[i])
				continue;
			lr_route del;
			memset(&del, 0, sizeof(del));
			del.op = LR_OP_DEL;
			del.family = dumped[i].family;
			del.plen = dumped[i].plen;
			memcpy(del.prefix, dumped[i].prefix, 16);
			plan_->del.push_back(del);
		}
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		deferred_.Resolve(RoutePlan::Wrap(env, plan_));
		return true;
	}

private:
	routes::Snapshot snap_;
	std::vector<int32_t> ids_; /**< port id of each snapshot name, -1: no such port */
	std::shared_ptr<RoutePlanData> plan_;
};

/**
 * Pushes a plan's deletions or additions in batches of max_batch; an entry
 * the dataplane refuses is reported and left out, and the rest of its batch
 * is sent again (one bad entry does not block the others).
 */
class RoutePushRequest : public Request {
public:
	RoutePushRequest(Napi::Env env, std::shared_ptr<RoutePlanData> plan, bool adds, uint32_t max_batch)
		: Request(env, false), plan_(std::move(plan)), adds_(adds), max_batch_(max_batch ? max_batch : 1)
	{
	}

	void Execute(CtlConn &conn) override
	{
		const std::vector<lr_route> &all = adds_ ? plan_->add : plan_->del;
		for (size_t i = 0; i < all.size(); i += max_batch_) {
			std::vector<lr_route> chunk(all.begin() + long(i), all.begin() + long(std::min(all.size(), i + max_batch_)));
			while (!chunk.empty()) {
				std::vector<uint8_t> msg(sizeof(lr_ctl_hdr) + chunk.size() * sizeof(lr_route));
				memcpy(msg.data() + sizeof(lr_ctl_hdr), chunk.data(), chunk.size() * sizeof(lr_route));
				std::vector<uint8_t> body;
				uint32_t count = 0;
				Status st = conn.Transact(msg, LR_CTL_ROUTE_BATCH, uint32_t(chunk.size()), body, count);
				if (st.ok()) {
					pushed_ += chunk.size();
					break;
				}
				if (st.index < 0 || size_t(st.index) >= chunk.size() || st.code == LR_ERR_INTERNAL ||
				    st.code == kUnavailable) {
					status_ = st;
					return;
				}
				routes::Key k{};
				k.family = chunk[size_t(st.index)].family;
				k.plen = chunk[size_t(st.index)].plen;
				memcpy(k.addr, chunk[size_t(st.index)].prefix, 16);
				refused_.push_back("route " + routes::FormatPrefix(k) + ": " + st.msg);
				chunk.erase(chunk.begin() + st.index);
			}
		}
	}

protected:
	bool Resolve(Napi::Env env) override
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("pushed", double(pushed_));
		Napi::Array refused = Napi::Array::New(env, refused_.size());
		for (size_t i = 0; i < refused_.size(); i++)
			refused.Set(uint32_t(i), refused_[i]);
		o.Set("refused", refused);
		deferred_.Resolve(o);
		return true;
	}

private:
	std::shared_ptr<RoutePlanData> plan_;
	bool adds_;
	size_t max_batch_;
	size_t pushed_ = 0;
	std::vector<std::string> refused_;
};

/** Runs one step of the queue's front request on a libuv worker thread. */
class StepWorker : public Napi::AsyncWorker {
public:
	StepWorker(Napi::Env env, Dataplane *dp, Request *req)
		: Napi::AsyncWorker(env, "linerate.dataplane"), dp_(dp), req_(req)
	{
	}

	void Execute() override
	{
		try {
			req_->Execute(dp_->conn_);
		} catch (const std::exception &e) {
			/* Stopped mid-exchange (e.g. out of memory): the stream is out of step. */
			dp_->conn_.Close();
			req_->status_ = Status::Error(kUnavailable, std::string("request aborted: ") + e.what());
		}
	}
	void OnOK() override { dp_->StepDone(); }
	void OnError(const Napi::Error &e) override
	{
		req_->status_ = Status::Error(LR_ERR_INTERNAL, e.Message());
		dp_->StepDone();
	}

private:
	Dataplane *dp_;
	Request *req_;
};

Napi::Function Dataplane::Init(Napi::Env env)
{
	return DefineClass(env, "Dataplane",
			   {
				   InstanceMethod<&Dataplane::Connect>("connect"),
				   InstanceMethod<&Dataplane::Close>("close"),
				   InstanceAccessor<&Dataplane::Connected>("connected"),
				   InstanceMethod<&Dataplane::PortList>("portList"),
				   InstanceMethod<&Dataplane::PortSet>("portSet"),
				   InstanceMethod<&Dataplane::AddrBatch>("addrBatch"),
				   InstanceMethod<&Dataplane::AddrDump>("addrDump"),
				   InstanceMethod<&Dataplane::RouteBatch>("routeBatch"),
				   InstanceMethod<&Dataplane::RouteBatchNative>("routeBatchNative"),
				   InstanceMethod<&Dataplane::RouteReconcilePlan>("routeReconcilePlan"),
				   InstanceMethod<&Dataplane::RoutePlanPush>("routePlanPush"),
				   InstanceMethod<&Dataplane::RouteDump>("routeDump"),
				   InstanceMethod<&Dataplane::NeighBatch>("neighBatch"),
				   InstanceMethod<&Dataplane::NeighDump>("neighDump"),
				   InstanceMethod<&Dataplane::StatsClear>("statsClear"),
				   InstanceMethod<&Dataplane::FlowBatch>("flowBatch"),
				   InstanceMethod<&Dataplane::FlowDump>("flowDump"),
				   InstanceMethod<&Dataplane::FlowStats>("flowStats"),
				   InstanceMethod<&Dataplane::QueueMap>("queueMap"),
				   InstanceMethod<&Dataplane::QueueMove>("queueMove"),
				   InstanceMethod<&Dataplane::RetaGet>("retaGet"),
				   InstanceMethod<&Dataplane::PortQueues>("portQueues"),
				   InstanceMethod<&Dataplane::RetaSet>("retaSet"),
				   InstanceMethod<&Dataplane::RssConf>("rssConf"),
				   InstanceMethod<&Dataplane::CaptureStart>("captureStart"),
				   InstanceMethod<&Dataplane::CaptureStop>("captureStop"),
				   InstanceMethod<&Dataplane::CaptureInfo>("captureInfo"),
				   InstanceMethod<&Dataplane::UpfSessionBatch>("upfSessionBatch"),
				   InstanceMethod<&Dataplane::UpfSessionRead>("upfSessionRead"),
				   InstanceMethod<&Dataplane::UpfSessionDump>("upfSessionDump"),
				   InstanceMethod<&Dataplane::UpfConfig>("upfConfig"),
				   InstanceMethod<&Dataplane::UpfSessionWrite>("upfSessionWrite"),
				   InstanceMethod<&Dataplane::UpfConfigWrite>("upfConfigWrite"),
				   InstanceMethod<&Dataplane::UpfConfigDump>("upfConfigDump"),
				   InstanceMethod<&Dataplane::UpfStats>("upfStats"),
			   });
}

Dataplane::Dataplane(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Dataplane>(info) {}

std::vector<uint8_t> Dataplane::TakeSpare()
{
	if (spare_.empty())
		return {};
	std::vector<uint8_t> buf = std::move(spare_.back());
	spare_.pop_back();
	return buf;
}

void Dataplane::Recycle(std::vector<uint8_t> buf)
{
	/* Two buffers cover a caller that keeps one batch in flight while it converts the next. */
	if (buf.capacity() > 0 && spare_.size() < 2)
		spare_.push_back(std::move(buf));
}

Napi::Value Dataplane::Submit(std::unique_ptr<Request> req)
{
	Napi::Promise p = req->Promise();
	queue_.push_back(std::move(req));
	if (!referenced_) {
		Ref();
		referenced_ = true;
	}
	Pump();
	return p;
}

void Dataplane::Pump()
{
	if (busy_ || queue_.empty())
		return;
	busy_ = true;
	Request *req = queue_.front().get();
	if (req->is_connect_)
		hello_done_ = false;
	(new StepWorker(Env(), this, req))->Queue();
}

void Dataplane::StepDone()
{
	Napi::Env env = Env();
	Request *req = queue_.front().get();
	if (close_pending_) {
		close_pending_ = false;
		conn_.Close();
		hello_done_ = false;
		if (req->is_connect_ && req->status_.ok())
			req->status_ = Status::Error(kUnavailable, "close() called while connecting");
	}
	if (req->is_connect_ && req->status_.ok())
		hello_done_ = true;

	bool done = true;
	try {
		done = req->Complete(env);
	} catch (const InputError &e) {
		req->status_ = Status::Error(e.code, e.msg);
		req->Reject(env);
	} catch (const Napi::Error &e) {
		req->status_ = Status::Error(LR_ERR_INTERNAL, e.Message());
		req->Reject(env);
	}
	if (!done) {
		(new StepWorker(env, this, req))->Queue();
		return;
	}
	Recycle(req->TakeBuffer());
	queue_.pop_front();
	busy_ = false;
	if (queue_.empty()) {
		if (referenced_) {
			referenced_ = false;
			Unref();
		}
		return;
	}
	Pump();
}

/** Rejects a request before it is queued (bad arguments). */
static Napi::Value RejectNow(std::unique_ptr<Request> req, Napi::Env env, const InputError &e)
{
	req->status_ = Status::Error(e.code, e.msg, e.index);
	req->Reject(env);
	return req->Promise();
}

Napi::Value Dataplane::Connect(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string path;
	int timeout = kDefaultTimeoutMs;
	if (info.Length() >= 1 && info[0].IsString())
		path = info[0].As<Napi::String>().Utf8Value();
	auto req = std::make_unique<ConnectRequest>(env, path, 0);
	if (!info[0].IsString())
		return RejectNow(std::move(req), env, {LR_ERR_INVALID, -1, "ctlPath must be a string"});
	if (!info[1].IsUndefined()) {
		double t = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
		if (!(t >= 1 && t <= 3600000))
			return RejectNow(std::move(req), env,
					 {LR_ERR_INVALID, -1, "timeoutMs must be a number in 1..3600000"});
		timeout = int(t);
	}
	return Submit(std::make_unique<ConnectRequest>(env, path, timeout));
}

Napi::Value Dataplane::Close(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	hello_done_ = false;
	conn_.Shutdown(); /* unblocks a request in flight; the fd is closed when it returns */
	if (busy_)
		close_pending_ = true;
	else
		conn_.Close();

	/* Requests that have not started will find no connection: settle them now. */
	std::vector<std::unique_ptr<Request>> dropped;
	while (queue_.size() > (busy_ ? 1u : 0u)) {
		dropped.push_back(std::move(queue_.back()));
		queue_.pop_back();
	}
	for (auto it = dropped.rbegin(); it != dropped.rend(); ++it) {
		(*it)->status_ = Status::Error(kUnavailable, "dataplane connection closed");
		(*it)->Reject(env);
	}
	spare_.clear();
	if (queue_.empty() && referenced_) {
		referenced_ = false;
		Unref();
	}
	return env.Undefined();
}

Napi::Value Dataplane::Connected(const Napi::CallbackInfo &info)
{
	return Napi::Boolean::New(info.Env(), hello_done_ && conn_.IsOpen());
}

template <typename T, void (Codec::*To)(napi_value, uint32_t, T *)>
Napi::Value Dataplane::Batch(const Napi::CallbackInfo &info, uint16_t type)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<MsgRequest>(env, type, true);
	try {
		if (info.Length() < 1 || !info[0].IsArray())
			throw InputError{LR_ERR_INVALID, -1, "expected an array of entries"};
		napi_value array = info[0];
		uint32_t n = 0;
		napi_get_array_length(env, array, &n);
		if (n > LR_CTL_MAX_BATCH)
			throw InputError{LR_ERR_NO_SPACE, -1,
					 "batch of " + std::to_string(n) + " entries exceeds limits.maxBatch (" +
						 std::to_string(LR_CTL_MAX_BATCH) + ")"};
		uint8_t *out = req->Init(n, sizeof(T), TakeSpare());
		Codec codec(env);
		for (uint32_t i0 = 0; i0 < n; i0 += kEntriesPerScope) {
			/* Handles of a slice of entries are freed together: per entry costs more. */
			EntryScope scope(env);
			uint32_t end = n - i0 < kEntriesPerScope ? n : i0 + kEntriesPerScope;
			for (uint32_t i = i0; i < end; i++) {
				napi_value v = codec.Element(array, i);
				T e;
				memset(&e, 0, sizeof(e));
				(codec.*To)(v, i, &e);
				memcpy(out + size_t(i) * sizeof(T), &e, sizeof(T));
			}
		}
	} catch (const InputError &e) {
		/* A getter that threw leaves nothing pending: Codec cleared it. */
		Recycle(req->TakeBuffer());
		return RejectNow(std::move(req), env, e);
	}
	return Submit(std::move(req));
}

Napi::Value Dataplane::PortSet(const Napi::CallbackInfo &info)
{
	return Batch<lr_port_set, &Codec::ToPortSet>(info, LR_CTL_PORT_SET);
}

Napi::Value Dataplane::AddrBatch(const Napi::CallbackInfo &info)
{
	return Batch<lr_addr, &Codec::ToAddr>(info, LR_CTL_ADDR_BATCH);
}

Napi::Value Dataplane::RouteBatch(const Napi::CallbackInfo &info)
{
	return Batch<lr_route, &Codec::ToRoute>(info, LR_CTL_ROUTE_BATCH);
}

/** routeBatchNative(batch, {portName: portId}): a RouteBatch as one dataplane batch. */
Napi::Value Dataplane::RouteBatchNative(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto b = RouteBatch::From(info[0]);
	std::vector<uint16_t> ids;
	std::string bad;
	if (b && info[1].IsObject()) {
		Napi::Object map = info[1].As<Napi::Object>();
		for (const std::string &name : b->names) {
			Napi::Value id = map.Get(name);
			if (!id.IsNumber()) {
				bad = "no port id for port " + name;
				break;
			}
			ids.push_back(uint16_t(id.As<Napi::Number>().Uint32Value()));
		}
	} else {
		bad = "expected a RouteBatch and the port ids by name";
	}
	if (b && b->updates.size() > LR_CTL_MAX_BATCH)
		bad = "batch of " + std::to_string(b->updates.size()) + " entries exceeds limits.maxBatch";
	auto req = std::make_unique<NativeRouteRequest>(env, b, std::move(ids), TakeSpare());
	if (!bad.empty()) {
		Recycle(req->TakeBuffer());
		return RejectNow(std::move(req), env, {LR_ERR_INVALID, -1, bad});
	}
	return Submit(std::move(req));
}

/** routeReconcilePlan(store, {portName: portId}): Promise<RoutePlan>. */
Napi::Value Dataplane::RouteReconcilePlan(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto store = StoreOf(info[0]);
	routes::Snapshot snap;
	std::vector<int32_t> ids;
	if (store && info[1].IsObject()) {
		snap = store->Copy(false);
		Napi::Object map = info[1].As<Napi::Object>();
		for (const std::string &name : snap.names) {
			Napi::Value id = map.Get(name);
			ids.push_back(id.IsNumber() ? int32_t(id.As<Napi::Number>().Int32Value()) : -1);
		}
	}
	auto req = std::make_unique<RoutePlanRequest>(env, std::move(snap), std::move(ids));
	if (!store || !info[1].IsObject())
		return RejectNow(std::move(req), env, {LR_ERR_INVALID, -1, "expected a RouteStore and the port ids by name"});
	return Submit(std::move(req));
}

/** routePlanPush(plan, 'del' | 'add', maxBatch): Promise<{pushed, refused}>. */
Napi::Value Dataplane::RoutePlanPush(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto plan = RoutePlan::From(info[0]);
	std::string which = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
	uint32_t max_batch = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : LR_CTL_MAX_BATCH;
	auto req = std::make_unique<RoutePushRequest>(env, plan, which == "add", std::min<uint32_t>(max_batch, LR_CTL_MAX_BATCH));
	if (!plan || (which != "add" && which != "del"))
		return RejectNow(std::move(req), env, {LR_ERR_INVALID, -1, "expected a RoutePlan and 'del' or 'add'"});
	return Submit(std::move(req));
}

Napi::Value Dataplane::NeighBatch(const Napi::CallbackInfo &info)
{
	return Batch<lr_neigh, &Codec::ToNeigh>(info, LR_CTL_NEIGH_BATCH);
}

Napi::Value Dataplane::StatsClear(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<MsgRequest>(info.Env(), LR_CTL_STATS_CLEAR, false));
}

/** captureStart({portId, queue?, rx, tx, dropReason?, snaplen, rate, count, filter, path}). */
Napi::Value Dataplane::CaptureStart(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<CaptureRequest>(env, LR_CTL_CAPTURE_START);
	if (info.Length() < 1 || !info[0].IsObject())
		return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, "expected a capture object"});
	Napi::Object o = info[0].As<Napi::Object>();
	auto num = [&](const char *k, double dflt) {
		Napi::Value v = o.Get(k);
		return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
	};
	auto str = [&](const char *k) {
		Napi::Value v = o.Get(k);
		return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
	};
	lr_capture_start c;
	memset(&c, 0, sizeof(c));
	c.port_id = uint16_t(num("portId", 0));
	c.queue = uint16_t(num("queue", LR_CAPTURE_ANY_QUEUE));
	c.dirs = uint8_t((o.Get("rx").ToBoolean() ? LR_CAPTURE_RX : 0) | (o.Get("tx").ToBoolean() ? LR_CAPTURE_TX : 0));
	c.drop_reason = uint8_t(num("dropReason", LR_CAPTURE_NO_DROP));
	c.snaplen = uint32_t(num("snaplen", 0));
	c.rate = uint32_t(num("rate", 0));
	c.count = uint64_t(num("count", 0));
	std::string filter = str("filter"), path = str("path");
	if (filter.size() >= sizeof(c.filter))
		return RejectNow(std::move(req), env,
				 InputError{LR_ERR_INVALID, -1, "capture.filter: longer than " +
									std::to_string(sizeof(c.filter) - 1) + " bytes"});
	if (path.size() >= sizeof(c.path))
		return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, "capture.path: too long"});
	memcpy(c.filter, filter.data(), filter.size());
	memcpy(c.path, path.data(), path.size());
	req->SetStart(c);
	return Submit(std::move(req));
}

Napi::Value Dataplane::CaptureStop(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<CaptureRequest>(info.Env(), LR_CTL_CAPTURE_STOP));
}

Napi::Value Dataplane::CaptureInfo(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<CaptureRequest>(info.Env(), LR_CTL_CAPTURE_INFO));
}

Napi::Value Dataplane::PortList(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<ListRequest<lr_port_info>>(info.Env(), LR_CTL_PORT_LIST, false, 0,
								  &Codec::FromPortInfo));
}

Napi::Value Dataplane::AddrDump(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<ListRequest<lr_addr>>(info.Env(), LR_CTL_ADDR_DUMP, false, 0,
							     &Codec::FromAddr));
}

/** family argument of the dumps: undefined, 0, 4 or 6. */
static bool DumpFamily(const Napi::CallbackInfo &info, uint8_t *family)
{
	*family = 0;
	if (info.Length() < 1 || info[0].IsUndefined())
		return true;
	if (!info[0].IsNumber())
		return false;
	double f = info[0].As<Napi::Number>().DoubleValue();
	if (f != 0 && f != LR_AF_INET && f != LR_AF_INET6)
		return false;
	*family = uint8_t(f);
	return true;
}

Napi::Value Dataplane::RouteDump(const Napi::CallbackInfo &info)
{
	uint8_t family;
	bool ok = DumpFamily(info, &family);
	auto req = std::make_unique<ListRequest<lr_route>>(info.Env(), LR_CTL_ROUTE_DUMP, true, family,
							   &Codec::FromRoute);
	if (!ok)
		return RejectNow(std::move(req), info.Env(), {LR_ERR_INVALID, -1, "family must be 0, 4 or 6"});
	return Submit(std::move(req));
}

Napi::Value Dataplane::NeighDump(const Napi::CallbackInfo &info)
{
	uint8_t family;
	bool ok = DumpFamily(info, &family);
	auto req = std::make_unique<ListRequest<lr_neigh>>(info.Env(), LR_CTL_NEIGH_DUMP, true, family,
							   &Codec::FromNeigh);
	if (!ok)
		return RejectNow(std::move(req), info.Env(), {LR_ERR_INVALID, -1, "family must be 0, 4 or 6"});
	return Submit(std::move(req));
}

Napi::Value Dataplane::FlowBatch(const Napi::CallbackInfo &info)
{
	return Batch<lr_flow, &Codec::ToFlow>(info, LR_CTL_FLOW_BATCH);
}

Napi::Value Dataplane::FlowDump(const Napi::CallbackInfo &info)
{
	uint8_t family;
	bool ok = DumpFamily(info, &family);
	auto req = std::make_unique<ListRequest<lr_flow>>(info.Env(), LR_CTL_FLOW_DUMP, true, family,
							  &Codec::FromFlow);
	if (!ok)
		return RejectNow(std::move(req), info.Env(), {LR_ERR_INVALID, -1, "family must be 0, 4 or 6"});
	return Submit(std::move(req));
}

Napi::Value Dataplane::FlowStats(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<ListRequest<lr_flow_stats>>(info.Env(), LR_CTL_FLOW_STATS, false, 0,
								   &Codec::FromFlowStats));
}

/** queueMap(): every (port, RX queue) with its worker (LR_CTL_QUEUE_MAP). */
Napi::Value Dataplane::QueueMap(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<ListRequest<lr_queue_entry>>(info.Env(), LR_CTL_QUEUE_MAP, false, 0,
								    &Codec::FromQueueEntry));
}

/** queueMove([{portId, queue, worker}]): one all-or-nothing move batch (LR_CTL_QUEUE_MOVE). */
Napi::Value Dataplane::QueueMove(const Napi::CallbackInfo &info)
{
	return Batch<lr_queue_move, &Codec::ToQueueMove>(info, LR_CTL_QUEUE_MOVE);
}

/** retaGet(portId): the port's RSS redirection table (LR_CTL_RETA_GET). */
Napi::Value Dataplane::RetaGet(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	lr_reta r;
	memset(&r, 0, sizeof(r));
	bool ok = info.Length() >= 1 && info[0].IsNumber();
	double id = ok ? info[0].As<Napi::Number>().DoubleValue() : -1;
	if (id >= 0 && id <= UINT16_MAX)
		r.port_id = uint16_t(id);
	auto req = std::make_unique<RetaRequest>(env, LR_CTL_RETA_GET, r);
	if (!(id >= 0 && id <= UINT16_MAX))
		return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, "portId: a port index expected"});
	return Submit(std::move(req));
}

/**
 * retaSet({portId, retaSize, groups: [{mask: bigint, queues: number[]}]}):
 * writes the masked entries (LR_CTL_RETA_SET); resolves with the table read back.
 */
Napi::Value Dataplane::RetaSet(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	lr_reta r;
	memset(&r, 0, sizeof(r));
	std::string err;
	auto num = [&](Napi::Object o, const char *k, double hi, double *out) {
		Napi::Value v = o.Get(k);
		if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 || v.As<Napi::Number>().DoubleValue() > hi ||
		    v.As<Napi::Number>().DoubleValue() != double(int64_t(v.As<Napi::Number>().DoubleValue()))) {
			err = std::string(k) + ": an integer 0.." + std::to_string(int64_t(hi)) + " expected";
			return false;
		}
		*out = v.As<Napi::Number>().DoubleValue();
		return true;
	};
	[&]() {
		if (info.Length() < 1 || !info[0].IsObject()) {
			err = "expected {portId, retaSize, groups}";
			return;
		}
		Napi::Object o = info[0].As<Napi::Object>();
		double v;
		if (!num(o, "portId", UINT16_MAX, &v))
			return;
		r.port_id = uint16_t(v);
		if (!num(o, "retaSize", LR_RETA_MAX, &v))
			return;
		r.reta_size = uint16_t(v);
		Napi::Value gv = o.Get("groups");
		if (!gv.IsArray() || gv.As<Napi::Array>().Length() > LR_RETA_GROUPS) {
			err = "groups: an array of at most " + std::to_string(LR_RETA_GROUPS) + " groups expected";
			return;
		}
		Napi::Array groups = gv.As<Napi::Array>();
		for (uint32_t g = 0; g < groups.Length(); g++) {
			Napi::Value e = groups.Get(g);
			if (!e.IsObject()) {
				err = "groups[" + std::to_string(g) + "]: an object expected";
				return;
			}
			Napi::Value m = e.As<Napi::Object>().Get("mask");
			bool lossless = false;
			if (!m.IsBigInt()) {
				err = "groups[" + std::to_string(g) + "].mask: a bigint expected";
				return;
			}
			r.groups[g].mask = m.As<Napi::BigInt>().Uint64Value(&lossless);
			if (!lossless) {
				err = "groups[" + std::to_string(g) + "].mask: above 64 bits";
				return;
			}
			Napi::Value qv = e.As<Napi::Object>().Get("queues");
			if (!qv.IsArray() || qv.As<Napi::Array>().Length() > LR_RETA_GROUP) {
				err = "groups[" + std::to_string(g) + "].queues: an array of at most 64 queues expected";
				return;
			}
			Napi::Array q = qv.As<Napi::Array>();
			for (uint32_t j = 0; j < q.Length(); j++) {
				Napi::Value x = q.Get(j);
				double d = x.IsNumber() ? x.As<Napi::Number>().DoubleValue() : -1;
				if (!(d >= 0 && d <= UINT16_MAX)) {
					err = "groups[" + std::to_string(g) + "].queues[" + std::to_string(j) + "]: a queue number expected";
					return;
				}
				r.groups[g].queues[j] = uint16_t(d);
			}
		}
	}();
	auto req = std::make_unique<RetaRequest>(env, LR_CTL_RETA_SET, r);
	if (!err.empty())
		return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, err});
	return Submit(std::move(req));
}

/* The names of rss_hf's bits (lr_ctl.h LR_RSS_FIELDS), in bit order. */
static Napi::Array RssNames(Napi::Env env, uint64_t mask)
{
	Napi::Array a = Napi::Array::New(env);
	uint32_t k = 0;
#define RSS_NAME_(sym, name, bit) \
	if (mask & LR_RSS_B(bit))  \
		a.Set(k++, Napi::String::New(env, name));
	LR_RSS_FIELDS(RSS_NAME_)
#undef RSS_NAME_
	return a;
}

static Napi::Value RssConfOf(Napi::Env env, const uint8_t *p)
{
	lr_rss_conf c;
	memcpy(&c, p, sizeof(c));
	Napi::Object o = Napi::Object::New(env);
	o.Set("portId", Napi::Number::New(env, c.port_id));
	o.Set("rxQueues", Napi::Number::New(env, c.rx_queues));
	o.Set("rssHf", Napi::BigInt::New(env, c.rss_hf));
	o.Set("fields", RssNames(env, c.rss_hf));
	o.Set("supported", RssNames(env, c.supported));
	o.Set("defaults", RssNames(env, c.rss_hf_default));
	return o;
}

/**
 * rssConf(portId, fields?: string[]): the port's RSS hash fields
 * (LR_CTL_RSS_CONF); with fields (LR_RSS_FIELDS names), writes them first.
 * Resolves {portId, rxQueues, rssHf: bigint, fields, supported, defaults}
 * (names).
 */
Napi::Value Dataplane::RssConf(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<CallRequest>(env, LR_CTL_RSS_CONF, sizeof(lr_rss_conf), RssConfOf, true);
	lr_rss_conf c;
	memset(&c, 0, sizeof(c));
	double id = info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
	if (!(id >= 0 && id <= UINT16_MAX))
		return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, "portId: a port index expected"});
	c.port_id = uint16_t(id);
	if (info.Length() >= 2 && !info[1].IsUndefined()) {
		if (!info[1].IsArray())
			return RejectNow(std::move(req), env, InputError{LR_ERR_INVALID, -1, "fields: an array of names expected"});
		Napi::Array a = info[1].As<Napi::Array>();
		c.set = 1;
		for (uint32_t i = 0; i < a.Length(); i++) {
			Napi::Value v = a.Get(i);
			std::string n = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
			uint64_t bit = 0;
#define RSS_BIT_(sym, name, b) \
	if (n == name)         \
		bit = LR_RSS_B(b);
			LR_RSS_FIELDS(RSS_BIT_)
#undef RSS_BIT_
			if (bit == 0)
				return RejectNow(std::move(req), env,
						 InputError{LR_ERR_INVALID, int64_t(i),
							    "fields[" + std::to_string(i) + "]: unknown RSS hash field \"" + n + "\""});
			c.rss_hf |= bit;
		}
	}
	req->SetBody(&c, sizeof(c), 1);
	return Submit(std::move(req));
}

/** portQueues([{portId, rxQueues, txQueues?}]): one port's queue counts (LR_CTL_PORT_QUEUES). */
Napi::Value Dataplane::PortQueues(const Napi::CallbackInfo &info)
{
	return Batch<lr_port_queues, &Codec::ToPortQueues>(info, LR_CTL_PORT_QUEUES);
}

/* ---- UPF (upf_js.h) ---- */

static Napi::Value UpfResult(Napi::Env env, const uint8_t *p)
{
	lr_upf_result r;
	memcpy(&r, p, sizeof(r));
	return upf::FromResult(env, r);
}

static Napi::Value UpfSession(Napi::Env env, const uint8_t *p)
{
	static lr_upf_session s;  /* JS thread only */
	memcpy(&s, p, sizeof(s));
	return upf::FromSession(env, s);
}

static Napi::Value UpfConfigOf(Napi::Env env, const uint8_t *p)
{
	lr_upf_config c;
	memcpy(&c, p, sizeof(c));
	return upf::FromConfig(env, c);
}

static Napi::Value UpfStatsOf(Napi::Env env, const uint8_t *p)
{
	lr_upf_stats s;
	memcpy(&s, p, sizeof(s));
	return upf::FromStats(env, s);
}

/** upfSessionBatch(sessions): Promise<{seid, code, message}[]>, one per session, in order. */
Napi::Value Dataplane::UpfSessionBatch(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<CallRequest>(env, LR_CTL_UPF_SESSION_BATCH, sizeof(lr_upf_result), UpfResult,
						 false);
	try {
		if (info.Length() < 1 || !info[0].IsArray())
			throw InputError{LR_ERR_INVALID, -1, "expected an array of sessions"};
		Napi::Array a = info[0].As<Napi::Array>();
		if (a.Length() > LR_UPF_BATCH_MAX)
			throw InputError{LR_ERR_NO_SPACE, -1,
					 "sessions: " + std::to_string(a.Length()) + " in one batch, at most " +
						 std::to_string(LR_UPF_BATCH_MAX)};
		std::vector<lr_upf_session> v(a.Length());
		for (uint32_t i = 0; i < a.Length(); i++)
			upf::ToSession(env, a.Get(i), i, &v[i]);
		req->SetBody(v.data(), v.size() * sizeof(lr_upf_session), uint32_t(v.size()));
	} catch (const InputError &e) {
		return RejectNow(std::move(req), env, e);
	}
	return Submit(std::move(req));
}

/** upfSessionRead(seid): Promise<session with URR counters>; NOT_FOUND rejects. */
Napi::Value Dataplane::UpfSessionRead(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<CallRequest>(env, LR_CTL_UPF_SESSION_READ, sizeof(lr_upf_session), UpfSession,
						 true);
	try {
		Napi::Object o = Napi::Object::New(env);
		o.Set("seid", info.Length() > 0 ? info[0] : env.Undefined());
		lr_upf_session s;
		Napi::Object w = Napi::Object::New(env);
		w.Set("op", "delete");
		w.Set("seid", o.Get("seid"));
		upf::ToSession(env, w, 0, &s);
		req->SetBody(&s.seid, sizeof(s.seid), 1);
	} catch (const InputError &e) {
		return RejectNow(std::move(req), env, InputError{e.code, -1, e.msg});
	}
	return Submit(std::move(req));
}

/** upfSessionDump(): Promise<session[]> with their URR counters. */
Napi::Value Dataplane::UpfSessionDump(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<CallRequest>(info.Env(), LR_CTL_UPF_SESSION_DUMP, sizeof(lr_upf_session),
						    UpfSession, false, true));
}

/**
 * upfSessionWrite(sessions): the desired-state path (LR_CTL_UPF_SESSION_WRITE):
 * all or nothing; rejects with the failing session's index and message.
 */
Napi::Value Dataplane::UpfSessionWrite(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<MsgRequest>(env, LR_CTL_UPF_SESSION_WRITE, true);
	try {
		if (info.Length() < 1 || !info[0].IsArray())
			throw InputError{LR_ERR_INVALID, -1, "expected an array of sessions"};
		Napi::Array a = info[0].As<Napi::Array>();
		if (a.Length() > LR_CTL_MAX_MSG / sizeof(lr_upf_session))
			throw InputError{LR_ERR_NO_SPACE, -1, "sessions: " + std::to_string(a.Length()) + " in one batch"};
		uint8_t *out = req->Init(a.Length(), sizeof(lr_upf_session));
		for (uint32_t i = 0; i < a.Length(); i++) {
			EntryScope scope(env);
			lr_upf_session e;
			upf::ToSession(env, a.Get(i), i, &e);
			memcpy(out + size_t(i) * sizeof(e), &e, sizeof(e));
		}
	} catch (const InputError &e) {
		return RejectNow(std::move(req), env, e);
	}
	return Submit(std::move(req));
}

/**
 * upfConfigWrite([entry]): the configuration as a one-entry table (op 'add' /
 * 'replace' sets it, 'del' clears it); upfConfigDump(): [] or [entry].
 */
Napi::Value Dataplane::UpfConfigWrite(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<MsgRequest>(env, LR_CTL_UPF_CONFIG, true);
	try {
		if (info.Length() < 1 || !info[0].IsArray())
			throw InputError{LR_ERR_INVALID, -1, "expected an array of one configuration"};
		Napi::Array a = info[0].As<Napi::Array>();
		if (a.Length() != 1)
			throw InputError{LR_ERR_INVALID, a.Length() > 1 ? 1 : -1, "upf config: one entry"};
		lr_upf_config c;
		Napi::Value v = a.Get(0u);
		bool del = v.IsObject() && v.As<Napi::Object>().Get("op").IsString() &&
			   v.As<Napi::Object>().Get("op").As<Napi::String>().Utf8Value() == "del";
		if (del) {
			memset(&c, 0, sizeof(c));
			c.flags = 1;
		} else {
			upf::ToConfig(env, v, &c);
		}
		memcpy(req->Init(1, sizeof(c)), &c, sizeof(c));
	} catch (const InputError &e) {
		return RejectNow(std::move(req), env, e);
	}
	return Submit(std::move(req));
}

static Napi::Value UpfConfigEntry(Napi::Env env, const uint8_t *p)
{
	lr_upf_config c;
	static const lr_upf_config zero{};
	memcpy(&c, p, sizeof(c));
	c.flags = 0;
	if (memcmp(&c, &zero, sizeof(c)) == 0)
		return env.Undefined();
	return upf::FromConfig(env, c);
}

Napi::Value Dataplane::UpfConfigDump(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<CallRequest>(info.Env(), LR_CTL_UPF_CONFIG, sizeof(lr_upf_config),
						    UpfConfigEntry, false));
}

/** upfConfig(config?): sets {n3Address, ports: {id: 'access'|'core'}} when given; resolves the one in force. */
Napi::Value Dataplane::UpfConfig(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto req = std::make_unique<CallRequest>(env, LR_CTL_UPF_CONFIG, sizeof(lr_upf_config), UpfConfigOf, true);
	if (info.Length() > 0 && !info[0].IsUndefined()) {
		try {
			lr_upf_config c;
			upf::ToConfig(env, info[0], &c);
			req->SetBody(&c, sizeof(c), 1);
		} catch (const InputError &e) {
			return RejectNow(std::move(req), env, InputError{e.code, -1, e.msg});
		}
	}
	return Submit(std::move(req));
}

/** upfStats(): Promise<{sessions, sessionsMax, ulKeys, dlKeys, bytes, counters}>. */
Napi::Value Dataplane::UpfStats(const Napi::CallbackInfo &info)
{
	return Submit(std::make_unique<CallRequest>(info.Env(), LR_CTL_UPF_STATS, sizeof(lr_upf_stats), UpfStatsOf,
						    true));
}

} // namespace lr
