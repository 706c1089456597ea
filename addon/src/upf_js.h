/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * UPF sessions between JS objects and the dataplane's structs (lr_upf.h):
 * the encoding the Dataplane methods upfSessionBatch / upfSessionRead /
 * upfSessionDump / upfConfig / upfStats use. Names follow the proto
 * (proto/linerate/v1/upf.proto) in camelCase; enums are lower-case
 * strings ("access", "forward", "closed"); SEIDs and counters are BigInt.
 * Runs on the JS thread. Written for the upf feature only.
 */
#ifndef LR_ADDON_UPF_JS_H
#define LR_ADDON_UPF_JS_H

#include <string>

#include <napi.h>

#include "lr_upf.h"

namespace lr {
namespace upf {

/**
 * Session @p i of a batch into @p out. Throws InputError (INVALID_ARGUMENT,
 * index i) naming the field: "sessions[2].pdrs[0].sourceInterface: ...".
 */
void ToSession(Napi::Env env, Napi::Value v, uint32_t i, lr_upf_session *out);

/** A session (with its URR counters) as a JS object. */
Napi::Value FromSession(Napi::Env env, const lr_upf_session &s);

/** A batch result {seid, code, message}. */
Napi::Value FromResult(Napi::Env env, const lr_upf_result &r);

/** {n3Address, ports: {<port id>: 'access' | 'core'}} into @p out (flags set). */
void ToConfig(Napi::Env env, Napi::Value v, lr_upf_config *out);
Napi::Value FromConfig(Napi::Env env, const lr_upf_config &c);

/** {sessions, sessionsMax, ulKeys, dlKeys, bytes, counters: {<LR_UPF_COUNTERS name>: bigint}}. */
Napi::Value FromStats(Napi::Env env, const lr_upf_stats &s);

} // namespace upf
} // namespace lr

#endif /* LR_ADDON_UPF_JS_H */
