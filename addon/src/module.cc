/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * linerate_addon.node entry point: the exports described by
 * control/src/dataplane/addon.ts (AddonModule).
 */
#include <napi.h>

#include "addon_data.h"
#include "affinity.h"
#include "codec.h"
#include "dataplane.h"
#include "lr_common.h"
#include "lr_ctl.h"
#include "route_js.h"
#include "stats_reader.h"

namespace lr {

AddonData &Data(napi_env env)
{
	void *d = nullptr;
	if (napi_get_instance_data(env, &d) == napi_ok && d != nullptr)
		return *static_cast<AddonData *>(d);
	auto *data = new AddonData();
	napi_set_instance_data(
		env, data,
		[](napi_env e, void *p, void *) {
			auto *ad = static_cast<AddonData *>(p);
			if (ad->keys != nullptr)
				napi_delete_reference(e, ad->keys);
			delete ad;
		},
		nullptr);
	return *data;
}

} // namespace lr

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	lr::Codec::InitKeys(env);
	exports.Set("Dataplane", lr::Dataplane::Init(env));
	exports.Set("StatsReader", lr::StatsReader::Init(env));
	lr::InitRoutes(env, exports);
	lr::InitAffinity(env, exports);

	/* Index = enum lr_drop_reason, straight from the X-macro. */
	static const char *const names[] = {
#define LR_DROP_NAME_(sym, name, help) name,
		LR_DROP_REASONS(LR_DROP_NAME_)
#undef LR_DROP_NAME_
	};
	static const char *const helps[] = {
#define LR_DROP_HELP_(sym, name, help) help,
		LR_DROP_REASONS(LR_DROP_HELP_)
#undef LR_DROP_HELP_
	};
	Napi::Array reasons = Napi::Array::New(env, LR_DROP_MAX);
	Napi::Array help = Napi::Array::New(env, LR_DROP_MAX);
	for (uint32_t i = 0; i < LR_DROP_MAX; i++) {
		reasons.Set(i, Napi::String::New(env, names[i]));
		help.Set(i, Napi::String::New(env, helps[i]));
	}
	exports.Set("dropReasons", reasons);
	exports.Set("dropReasonHelp", help);
	/* RSS hash field names (lr_ctl.h LR_RSS_FIELDS) in bit order, and the groups as lists of them. */
	Napi::Array rss = Napi::Array::New(env);
	uint32_t nrss = 0;
#define LR_RSS_NAME_(sym, name, bit) rss.Set(nrss++, Napi::String::New(env, name));
	LR_RSS_FIELDS(LR_RSS_NAME_)
#undef LR_RSS_NAME_
	exports.Set("rssFields", rss);
	Napi::Object groups = Napi::Object::New(env);
#define LR_RSS_GROUP_(sym, gname, mask)                                                  \
	{                                                                                  \
		Napi::Array m = Napi::Array::New(env);                                     \
		const uint64_t gmask = (mask);                                             \
		uint32_t k = 0;                                                            \
		LR_RSS_FIELDS(LR_RSS_MEMBER_)                                              \
		groups.Set(gname, m);                                                      \
	}
#define LR_RSS_MEMBER_(sym, name, bit) if (gmask & LR_RSS_B(bit)) m.Set(k++, Napi::String::New(env, name));
	LR_RSS_GROUPS(LR_RSS_GROUP_)
#undef LR_RSS_MEMBER_
#undef LR_RSS_GROUP_
	exports.Set("rssGroups", groups);
	exports.Set("protocolVersion", Napi::Number::New(env, LR_CTL_VERSION));

	Napi::Object limits = Napi::Object::New(env);
	limits.Set("maxPorts", Napi::Number::New(env, LR_MAX_PORTS));
	limits.Set("maxQueues", Napi::Number::New(env, LR_MAX_QUEUES));
	limits.Set("maxWorkers", Napi::Number::New(env, LR_MAX_WORKERS));
	limits.Set("maxEcmp", Napi::Number::New(env, LR_MAX_ECMP));
	limits.Set("maxBatch", Napi::Number::New(env, LR_CTL_MAX_BATCH));
	exports.Set("limits", limits);
	return exports;
}

} // namespace

NODE_API_MODULE(linerate_addon, Init)
