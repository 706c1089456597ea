/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * linerate log type ("linerate", set with --log-level=linerate:debug).
 * Use LR_LOG(LEVEL, fmt, ...) from the main lcore and at start/stop only:
 * never per packet.
 */
#ifndef LR_LOG_H
#define LR_LOG_H

#include <rte_log.h>

extern int lr_logtype;
#define RTE_LOGTYPE_LINERATE lr_logtype

#define LR_LOG(level, fmt, ...) \
	RTE_LOG(level, LINERATE, fmt "\n", ##__VA_ARGS__)

#endif /* LR_LOG_H */
