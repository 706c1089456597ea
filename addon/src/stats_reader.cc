/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats_reader.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lr {

namespace {

constexpr int kUnavailable = 14;

const char *const kDropNames[] = {
#define LR_DROP_NAME_(sym, name, help) name,
	LR_DROP_REASONS(LR_DROP_NAME_)
#undef LR_DROP_NAME_
};



int64_t MonotonicNs()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void Throw(Napi::Env env, int code, const std::string &msg)
{
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", Napi::Number::New(env, code));
	throw e;
}

/** Fixed-size C string to JS, never reading past the field. */
Napi::String FixedStr(Napi::Env env, const char *s, size_t cap)
{
	return Napi::String::New(env, s, strnlen(s, cap));
}

} // namespace

Napi::Function StatsReader::Init(Napi::Env env)
{
	return DefineClass(env, "StatsReader",
			   {
				   InstanceMethod<&StatsReader::Snapshot>("snapshot"),
				   InstanceMethod<&StatsReader::Close>("close"),
			   });
}

StatsReader::StatsReader(const Napi::CallbackInfo &info) : Napi::ObjectWrap<StatsReader>(info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsString())
		Throw(env, 3, "statsPath must be a string");
	std::string path = info[0].As<Napi::String>().Utf8Value();

	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		Throw(env, kUnavailable, "cannot open stats file " + path + ": " + strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || size_t(st.st_size) < sizeof(lr_stats_shm)) {
		close(fd);
		Throw(env, 9, "stats file " + path + " is smaller than struct lr_stats_shm (" +
				      std::to_string(sizeof(lr_stats_shm)) + " bytes)");
	}
	void *p = mmap(nullptr, sizeof(lr_stats_shm), PROT_READ, MAP_SHARED, fd, 0);
	int err = errno;
	close(fd); /* the mapping keeps the file */
	if (p == MAP_FAILED)
		Throw(env, kUnavailable, "cannot map stats file " + path + ": " + strerror(err));
	shm_ = static_cast<const lr_stats_shm *>(p);
	map_len_ = sizeof(lr_stats_shm);

	/* magic is written last by the dataplane: check it first. */
	uint32_t magic = __atomic_load_n(&shm_->magic, __ATOMIC_ACQUIRE);
	std::string why;
	if (magic != LR_STATS_MAGIC)
		why = "bad magic (not a linerate stats file, or the dataplane is still starting)";
	else if (shm_->version != LR_STATS_VERSION)
		why = "version " + std::to_string(shm_->version) + ", the addon reads " +
		      std::to_string(LR_STATS_VERSION);
	else if (shm_->size != sizeof(lr_stats_shm))
		why = "size " + std::to_string(shm_->size) + ", the addon expects " +
		      std::to_string(sizeof(lr_stats_shm));
	if (!why.empty()) {
		Unmap();
		Throw(env, 9, "stats file " + path + ": " + why);
	}
	copy_.reset(new lr_stats_shm);
}

StatsReader::~StatsReader()
{
	Unmap();
}

void StatsReader::Unmap()
{
	if (shm_ != nullptr) {
		munmap(const_cast<lr_stats_shm *>(shm_), map_len_);
		shm_ = nullptr;
	}
}

Napi::Value StatsReader::Close(const Napi::CallbackInfo &info)
{
	Unmap();
	return info.Env().Undefined();
}

Napi::Value StatsReader::Snapshot(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (shm_ == nullptr)
		Throw(env, 9, "StatsReader is closed");

	int64_t t0 = MonotonicNs();
	memcpy(copy_.get(), shm_, sizeof(lr_stats_shm));
	int64_t t1 = MonotonicNs();
	const lr_stats_shm &s = *copy_;
	if (s.magic != LR_STATS_MAGIC)
		Throw(env, kUnavailable, "stats memory is no longer valid (dataplane stopped?)");

	auto big = [&](uint64_t v) { return Napi::BigInt::New(env, v); };
	auto num = [&](double v) { return Napi::Number::New(env, v); };

	Napi::Object o = Napi::Object::New(env);
	o.Set("tscHz", big(s.tsc_hz));
	o.Set("bootId", big(s.boot_id));
	o.Set("startTimeNs", big(s.start_time_ns));
	o.Set("heartbeatNs", big(s.heartbeat_ns));
	o.Set("pid", num(s.pid));
	o.Set("nPorts", num(s.n_ports));
	o.Set("nWorkers", num(s.n_workers));
	{
		Napi::Object mb = Napi::Object::New(env);
		mb.Set("size", big(s.mbufs_size));
		mb.Set("inUse", big(s.mbufs_in_use));
		o.Set("mbufs", mb);
	}
	o.Set("takenNs", Napi::BigInt::New(env, t0 + (t1 - t0) / 2));

	Napi::Object slow = Napi::Object::New(env);
#define LR_SLOW_SET_(field, help) slow.Set(#field, big(s.slow.field));
	LR_SLOW_COUNTERS(LR_SLOW_SET_)
#undef LR_SLOW_SET_
	o.Set("slow", slow);

	/* Drop-reason keys are made once per snapshot, then reused for every queue. */
	Napi::String drop_keys[LR_DROP_MAX];
	for (int r = 0; r < LR_DROP_MAX; r++)
		drop_keys[r] = Napi::String::New(env, kDropNames[r]);

	/* Counts come from a process we do not trust to be bug free: clamp them. */
	uint32_t n_ports = s.n_ports < LR_MAX_PORTS ? s.n_ports : LR_MAX_PORTS;
	Napi::Array ports = Napi::Array::New(env, n_ports);
	for (uint32_t p = 0; p < n_ports; p++) {
		const lr_stats_port &hw = s.ports[p];
		Napi::Object po = Napi::Object::New(env);
		po.Set("name", FixedStr(env, hw.name, sizeof(hw.name)));
		po.Set("ipackets", big(hw.ipackets));
		po.Set("opackets", big(hw.opackets));
		po.Set("ibytes", big(hw.ibytes));
		po.Set("obytes", big(hw.obytes));
		po.Set("imissed", big(hw.imissed));
		po.Set("ierrors", big(hw.ierrors));
		po.Set("oerrors", big(hw.oerrors));
		po.Set("rxNombuf", big(hw.rx_nombuf));
		po.Set("linkUp", Napi::Boolean::New(env, hw.link_up != 0));
		po.Set("speedMbps", num(hw.speed_mbps));
		uint32_t rx_queues = hw.rx_queues < LR_MAX_QUEUES ? hw.rx_queues : LR_MAX_QUEUES;
		uint32_t tx_queues = hw.tx_queues < LR_MAX_WORKERS ? hw.tx_queues : LR_MAX_WORKERS;
		po.Set("rxQueues", num(rx_queues));
		po.Set("txQueues", num(tx_queues));

		Napi::Array rxqs = Napi::Array::New(env, rx_queues);
		for (uint32_t q = 0; q < rx_queues; q++) {
			const lr_stats_rxq &rq = s.rxq[p][q];
			Napi::Object qo = Napi::Object::New(env);
			qo.Set("rxPackets", big(rq.rx_packets));
			qo.Set("rxBytes", big(rq.rx_bytes));
			qo.Set("fwdPackets", big(rq.fwd_packets));
			qo.Set("puntPackets", big(rq.punt_packets));
			Napi::Object drops = Napi::Object::New(env);
			for (int r = 0; r < LR_DROP_MAX; r++)
				drops.Set(drop_keys[r], big(rq.drops[r]));
			qo.Set("drops", drops);
			qo.Set("worker", num(rq.worker));
			rxqs.Set(q, qo);
		}
		po.Set("rxq", rxqs);

		Napi::Array txqs = Napi::Array::New(env, tx_queues);
		for (uint32_t q = 0; q < tx_queues; q++) {
			const lr_stats_txq &tq = s.txq[p][q];
			Napi::Object qo = Napi::Object::New(env);
			qo.Set("txPackets", big(tq.tx_packets));
			qo.Set("txBytes", big(tq.tx_bytes));
			qo.Set("txDropped", big(tq.tx_dropped));
			txqs.Set(q, qo);
		}
		po.Set("txq", txqs);
		ports.Set(p, po);
	}
	o.Set("ports", ports);

	uint32_t n_workers = s.n_workers < LR_MAX_WORKERS ? s.n_workers : LR_MAX_WORKERS;
	Napi::Array workers = Napi::Array::New(env, n_workers);
	for (uint32_t w = 0; w < n_workers; w++) {
		const lr_stats_worker &ws = s.workers[w];
		Napi::Object wo = Napi::Object::New(env);
		wo.Set("lcoreId", num(ws.lcore_id));
		wo.Set("rxQueues", num(ws.rx_queues));
		wo.Set("polls", big(ws.polls));
		wo.Set("busyPolls", big(ws.busy_polls));
		wo.Set("busyCycles", big(ws.busy_cycles));
		wo.Set("idleCycles", big(ws.idle_cycles));
		wo.Set("rxPackets", big(ws.rx_packets));
		wo.Set("txPackets", big(ws.tx_packets));
		wo.Set("drops", big(ws.drops));
		wo.Set("rcuQuiescent", big(ws.rcu_quiescent));
		workers.Set(w, wo);
	}
	o.Set("workers", workers);
	return o;
}

} // namespace lr
