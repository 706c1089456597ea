/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * CPU affinity of threads (sched_setaffinity / sched_getaffinity by thread
 * id): how serve pins its own threads (Node's main thread, the libuv pool,
 * V8's workers) to housekeeping CPUs (CoreService.PinControlPlane,
 * system.controlPlaneCpus). Exports setThreadAffinity(tid, cpus) and
 * getThreadAffinity(tid).
 */
#ifndef LR_ADDON_AFFINITY_H
#define LR_ADDON_AFFINITY_H

#include <napi.h>

namespace lr {

/** Adds setThreadAffinity and getThreadAffinity to `exports`. */
void InitAffinity(Napi::Env env, Napi::Object exports);

} // namespace lr

#endif /* LR_ADDON_AFFINITY_H */
