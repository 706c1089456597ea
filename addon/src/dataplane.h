/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Dataplane: the JS class that owns one control connection. Each method
 * converts its arguments on the JS thread, queues a request and returns a
 * Promise; requests run one at a time, in call order, on libuv worker
 * threads (the protocol is one request, one reply), and their results are
 * built back on the JS thread.
 */
#ifndef LR_ADDON_DATAPLANE_H
#define LR_ADDON_DATAPLANE_H

#include <deque>
#include <memory>
#include <vector>

#include <napi.h>

#include "codec.h"
#include "ctl_conn.h"

namespace lr {

class Request;

class Dataplane : public Napi::ObjectWrap<Dataplane> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit Dataplane(const Napi::CallbackInfo &info);

private:
	friend class StepWorker;

	Napi::Value Connect(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
	Napi::Value Connected(const Napi::CallbackInfo &info);
	Napi::Value PortList(const Napi::CallbackInfo &info);
	Napi::Value PortSet(const Napi::CallbackInfo &info);
	Napi::Value AddrBatch(const Napi::CallbackInfo &info);
	Napi::Value AddrDump(const Napi::CallbackInfo &info);
	Napi::Value RouteBatch(const Napi::CallbackInfo &info);
	Napi::Value RouteBatchNative(const Napi::CallbackInfo &info);
	Napi::Value RouteReconcilePlan(const Napi::CallbackInfo &info);
	Napi::Value RoutePlanPush(const Napi::CallbackInfo &info);
	Napi::Value RouteDump(const Napi::CallbackInfo &info);
	Napi::Value NeighBatch(const Napi::CallbackInfo &info);
	Napi::Value NeighDump(const Napi::CallbackInfo &info);
	Napi::Value StatsClear(const Napi::CallbackInfo &info);
	Napi::Value FlowBatch(const Napi::CallbackInfo &info);
	Napi::Value FlowDump(const Napi::CallbackInfo &info);
	Napi::Value FlowStats(const Napi::CallbackInfo &info);
	Napi::Value QueueMap(const Napi::CallbackInfo &info);
	Napi::Value QueueMove(const Napi::CallbackInfo &info);
	Napi::Value RetaGet(const Napi::CallbackInfo &info);
	Napi::Value PortQueues(const Napi::CallbackInfo &info);
	Napi::Value RetaSet(const Napi::CallbackInfo &info);
	Napi::Value RssConf(const Napi::CallbackInfo &info);
	Napi::Value CaptureStart(const Napi::CallbackInfo &info);
	Napi::Value CaptureStop(const Napi::CallbackInfo &info);
	Napi::Value CaptureInfo(const Napi::CallbackInfo &info);
	Napi::Value UpfSessionBatch(const Napi::CallbackInfo &info);
	Napi::Value UpfSessionRead(const Napi::CallbackInfo &info);
	Napi::Value UpfSessionDump(const Napi::CallbackInfo &info);
	Napi::Value UpfConfig(const Napi::CallbackInfo &info);
	Napi::Value UpfStats(const Napi::CallbackInfo &info);
	Napi::Value UpfSessionWrite(const Napi::CallbackInfo &info);
	Napi::Value UpfConfigWrite(const Napi::CallbackInfo &info);
	Napi::Value UpfConfigDump(const Napi::CallbackInfo &info);

	template <typename T, void (Codec::*To)(napi_value, uint32_t, T *)>
	Napi::Value Batch(const Napi::CallbackInfo &info, uint16_t type);
	Napi::Value Submit(std::unique_ptr<Request> req);
	void Pump();
	void StepDone();
	std::vector<uint8_t> TakeSpare();
	void Recycle(std::vector<uint8_t> buf);

	CtlConn conn_;
	bool hello_done_ = false;     /**< handshake completed on the current fd */
	bool close_pending_ = false;  /**< close() came while a request was in flight */
	bool busy_ = false;           /**< queue_.front() is running */
	bool referenced_ = false;     /**< kept from GC while requests are queued */
	std::deque<std::unique_ptr<Request>> queue_;
	std::vector<std::vector<uint8_t>> spare_; /**< batch buffers kept for reuse (JS thread) */
};

} // namespace lr

#endif /* LR_ADDON_DATAPLANE_H */
