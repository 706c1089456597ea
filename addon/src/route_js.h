/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * JS classes of the route write path (typed in control/src/dataplane/addon.ts):
 *
 *   RouteBatch     a decoded write. RouteBatch.decode(method, bytes) runs the
 *                  protobuf decoder on a worker thread; fromRoutes() builds one
 *                  from model routes (the full validation's output).
 *   RouteStore     the desired route table (route_store.h): check, commit
 *                  (journal + apply, on a worker thread), reads, persistence.
 *   RouteSnapshot  a frozen copy for long reads, paged as JS objects or as
 *                  encoded ListRoutesResponse messages.
 *
 * Dataplane.routeBatchNative (dataplane.cc) sends a RouteBatch to the
 * dataplane, building the lr_route message on the worker thread.
 */
#ifndef LR_ADDON_ROUTE_JS_H
#define LR_ADDON_ROUTE_JS_H

#include <memory>

#include <napi.h>

#include "lr_ctl.h"
#include "route_store.h"

namespace lr {

class RouteBatch : public Napi::ObjectWrap<RouteBatch> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit RouteBatch(const Napi::CallbackInfo &info);

	/** A new JS RouteBatch holding @p b. */
	static Napi::Object Wrap(Napi::Env env, std::shared_ptr<routes::Batch> b);
	/** The batch of a JS RouteBatch, or null if @p v is not one. */
	static std::shared_ptr<routes::Batch> From(Napi::Value v);

	std::shared_ptr<routes::Batch> batch_;

	void Finalize(Napi::Env env) override;

private:
	/** Tells V8 about the batch's C++ memory, so that it collects dropped batches soon enough. */
	void Account(Napi::Env env);
	Napi::Value Release(const Napi::CallbackInfo &info);
	int64_t accounted_ = 0;

	static Napi::Value Decode(const Napi::CallbackInfo &info);
	static Napi::Value FromRoutes(const Napi::CallbackInfo &info);
	Napi::Value Length(const Napi::CallbackInfo &info);
	Napi::Value Inverse(const Napi::CallbackInfo &info);
	Napi::Value ToEntries(const Napi::CallbackInfo &info);
	Napi::Value ToRoutes(const Napi::CallbackInfo &info);
};

class RouteStore : public Napi::ObjectWrap<RouteStore> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit RouteStore(const Napi::CallbackInfo &info);

private:
	Napi::Value Load(const Napi::CallbackInfo &info);
	Napi::Value Compact(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
	Napi::Value Size(const Napi::CallbackInfo &info);
	Napi::Value Seq(const Napi::CallbackInfo &info);
	Napi::Value Count(const Napi::CallbackInfo &info);
	Napi::Value Get(const Napi::CallbackInfo &info);
	Napi::Value Check(const Napi::CallbackInfo &info);
	Napi::Value Commit(const Napi::CallbackInfo &info);
	Napi::Value Journal(const Napi::CallbackInfo &info);
	Napi::Value Apply(const Napi::CallbackInfo &info);
	Napi::Value ApplyMemory(const Napi::CallbackInfo &info);
	Napi::Value Snapshot(const Napi::CallbackInfo &info);

	friend std::shared_ptr<routes::Store> StoreOf(Napi::Value v);
	std::shared_ptr<routes::Store> store_ = std::make_shared<routes::Store>();
};

class RouteSnapshot : public Napi::ObjectWrap<RouteSnapshot> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit RouteSnapshot(const Napi::CallbackInfo &info);
	static Napi::Object Wrap(Napi::Env env, routes::Snapshot s);

private:
	Napi::Value Length(const Napi::CallbackInfo &info);
	Napi::Value Next(const Napi::CallbackInfo &info);
	Napi::Value EncodePage(const Napi::CallbackInfo &info);

	routes::Snapshot snap_;
};

/**
 * What reconcile must push so that the dataplane's FIB holds the route
 * table (Dataplane.routeReconcilePlan): the deletions, the replacements and
 * the routes naming a port the dataplane lacks. Pushed by routePlanPush.
 */
struct RoutePlanData {
	std::vector<lr_route> del, add;
	std::vector<std::string> unknown_port;
	size_t dumped = 0;
};

class RoutePlan : public Napi::ObjectWrap<RoutePlan> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit RoutePlan(const Napi::CallbackInfo &info);
	static Napi::Object Wrap(Napi::Env env, std::shared_ptr<RoutePlanData> p);
	static std::shared_ptr<RoutePlanData> From(Napi::Value v);

	std::shared_ptr<RoutePlanData> plan_;

private:
	Napi::Value Dels(const Napi::CallbackInfo &info);
	Napi::Value Adds(const Napi::CallbackInfo &info);
	Napi::Value Dumped(const Napi::CallbackInfo &info);
	Napi::Value UnknownPort(const Napi::CallbackInfo &info);
};

/** The store of a JS RouteStore, or null. */
std::shared_ptr<routes::Store> StoreOf(Napi::Value v);

/** Registers the classes on @p exports. */
void InitRoutes(Napi::Env env, Napi::Object exports);

} // namespace lr

#endif /* LR_ADDON_ROUTE_JS_H */
