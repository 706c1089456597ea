/* SPDX-License-Identifier: BSD-3-Clause */
#include "dataplane.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <unistd.h>

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
				   InstanceMethod<&Dataplane::RouteDump>("routeDump"),
				   InstanceMethod<&Dataplane::NeighBatch>("neighBatch"),
				   InstanceMethod<&Dataplane::NeighDump>("neighDump"),
				   InstanceMethod<&Dataplane::StatsClear>("statsClear"),
				   InstanceMethod<&Dataplane::CaptureStart>("captureStart"),
				   InstanceMethod<&Dataplane::CaptureStop>("captureStop"),
				   InstanceMethod<&Dataplane::CaptureInfo>("captureInfo"),
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

} // namespace lr
