/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per addon instance state (Node-API instance data, one slot per env): the
 * Codec's property keys and the constructors of the route classes. One
 * struct, because an env has one instance data pointer.
 */
#ifndef LR_ADDON_ADDON_DATA_H
#define LR_ADDON_ADDON_DATA_H

#include <napi.h>

namespace lr {

struct AddonData {
	napi_ref keys = nullptr; /**< Codec: array of internalized key strings */
	Napi::FunctionReference route_batch, route_snapshot, route_store, route_plan;
};

/** This env's AddonData, made on first use (module init). */
AddonData &Data(napi_env env);

} // namespace lr

#endif /* LR_ADDON_ADDON_DATA_H */
