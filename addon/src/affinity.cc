/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Thread CPU affinity for the control plane (see affinity.h). Synchronous:
 * one system call per thread, nothing to hand off the JS thread.
 */
#include "affinity.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <sched.h>
#include <sys/types.h>

namespace lr {

namespace {

/** CPUs a set may name (the kernel's NR_CPUS is at most 8192). */
constexpr int kMaxCpus = 8192;

void ThrowErrno(Napi::Env env, const std::string &what, int err)
{
	Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
	e.Set("errno", Napi::Number::New(env, err));
	e.ThrowAsJavaScriptException();
}

bool TidArg(const Napi::CallbackInfo &info, pid_t *tid)
{
	if (info.Length() < 1 || !info[0].IsNumber()) {
		Napi::TypeError::New(info.Env(), "tid: a thread id (number) expected").ThrowAsJavaScriptException();
		return false;
	}
	int64_t v = info[0].As<Napi::Number>().Int64Value();
	if (v < 0 || v > INT32_MAX) {
		Napi::RangeError::New(info.Env(), "tid: out of range").ThrowAsJavaScriptException();
		return false;
	}
	*tid = static_cast<pid_t>(v);
	return true;
}

/** setThreadAffinity(tid, cpus: number[]): sched_setaffinity; tid 0 = the calling thread. */
Napi::Value SetThreadAffinity(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	pid_t tid;
	if (!TidArg(info, &tid))
		return env.Undefined();
	if (info.Length() < 2 || !info[1].IsArray()) {
		Napi::TypeError::New(env, "cpus: an array of CPU numbers expected").ThrowAsJavaScriptException();
		return env.Undefined();
	}
	Napi::Array cpus = info[1].As<Napi::Array>();
	if (cpus.Length() == 0) {
		Napi::RangeError::New(env, "cpus: empty").ThrowAsJavaScriptException();
		return env.Undefined();
	}
	cpu_set_t *set = CPU_ALLOC(kMaxCpus);
	if (set == nullptr) {
		ThrowErrno(env, "CPU_ALLOC", ENOMEM);
		return env.Undefined();
	}
	size_t size = CPU_ALLOC_SIZE(kMaxCpus);
	CPU_ZERO_S(size, set);
	for (uint32_t i = 0; i < cpus.Length(); i++) {
		Napi::Value v = cpus.Get(i);
		int64_t c = v.IsNumber() ? v.As<Napi::Number>().Int64Value() : -1;
		if (c < 0 || c >= kMaxCpus) {
			CPU_FREE(set);
			Napi::RangeError::New(env, "cpus[" + std::to_string(i) + "]: not a CPU number 0.." +
						       std::to_string(kMaxCpus - 1)).ThrowAsJavaScriptException();
			return env.Undefined();
		}
		CPU_SET_S(static_cast<size_t>(c), size, set);
	}
	int rc = sched_setaffinity(tid, size, set);
	int err = errno;
	CPU_FREE(set);
	if (rc != 0)
		ThrowErrno(env, "sched_setaffinity(" + std::to_string(tid) + ")", err);
	return env.Undefined();
}

/** getThreadAffinity(tid): the CPUs (sorted) sched_getaffinity reports. */
Napi::Value GetThreadAffinity(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	pid_t tid;
	if (!TidArg(info, &tid))
		return env.Undefined();
	cpu_set_t *set = CPU_ALLOC(kMaxCpus);
	if (set == nullptr) {
		ThrowErrno(env, "CPU_ALLOC", ENOMEM);
		return env.Undefined();
	}
	size_t size = CPU_ALLOC_SIZE(kMaxCpus);
	CPU_ZERO_S(size, set);
	if (sched_getaffinity(tid, size, set) != 0) {
		int err = errno;
		CPU_FREE(set);
		ThrowErrno(env, "sched_getaffinity(" + std::to_string(tid) + ")", err);
		return env.Undefined();
	}
	Napi::Array out = Napi::Array::New(env);
	uint32_t n = 0;
	for (int c = 0; c < kMaxCpus; c++)
		if (CPU_ISSET_S(static_cast<size_t>(c), size, set))
			out.Set(n++, Napi::Number::New(env, c));
	CPU_FREE(set);
	return out;
}

} // namespace

void InitAffinity(Napi::Env env, Napi::Object exports)
{
	exports.Set("setThreadAffinity", Napi::Function::New(env, SetThreadAffinity, "setThreadAffinity"));
	exports.Set("getThreadAffinity", Napi::Function::New(env, GetThreadAffinity, "getThreadAffinity"));
}

} // namespace lr
