/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Filling a control reply's status (lr_ctl_status) from the table modules:
 * code, failing entry, message naming the field.
 */
#ifndef LR_STATUS_H
#define LR_STATUS_H

#include <stdarg.h>
#include <stdio.h>
#include "lr_ctl.h"

static inline int
lr_status_set(struct lr_ctl_status *st, int code, uint32_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** @return code, for "return lr_status_set(...)". */
static inline int
lr_status_set(struct lr_ctl_status *st, int code, uint32_t index, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	st->index = index;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return code;
}

#endif /* LR_STATUS_H */
