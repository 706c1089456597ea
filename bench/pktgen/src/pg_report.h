/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_report: what pktgen prints. With --json, stdout carries only JSON, one
 * object per line: {"type":"progress",...} lines while running (--progress)
 * and one {"type":"result",...} at the end. Without --json the same figures
 * are printed for people. Logs and errors go to stderr.
 */
#ifndef PG_REPORT_H
#define PG_REPORT_H

#include <stdint.h>

struct pg_ctx;

/** Where the previous progress line left off (interval rates). */
struct pg_report_prev {
	uint64_t tsc;
	uint64_t tx_packets, rx_packets;
};

void pg_report_progress(struct pg_ctx *ctx, struct pg_report_prev *prev, uint64_t now);

/** Prints the final report; @p interrupted: stopped by a signal. */
void pg_report_result(const struct pg_ctx *ctx, unsigned lcores, int interrupted);

#endif /* PG_REPORT_H */
