/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * StatsReader: maps the dataplane's stats file (lr_stats.h) read-only and
 * turns a memcpy of it into JS objects. snapshot() makes no syscall.
 */
#ifndef LR_ADDON_STATS_READER_H
#define LR_ADDON_STATS_READER_H

#include <memory>

#include <napi.h>

#include "lr_stats.h"

namespace lr {

class StatsReader : public Napi::ObjectWrap<StatsReader> {
public:
	static Napi::Function Init(Napi::Env env);
	explicit StatsReader(const Napi::CallbackInfo &info);
	~StatsReader() override;

private:
	Napi::Value Snapshot(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
	void Unmap();

	const lr_stats_shm *shm_ = nullptr; /**< the read-only mapping */
	size_t map_len_ = 0;
	std::unique_ptr<lr_stats_shm> copy_; /**< snapshot buffer, reused */
};

} // namespace lr

#endif /* LR_ADDON_STATS_READER_H */
