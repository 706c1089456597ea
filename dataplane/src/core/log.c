/* SPDX-License-Identifier: BSD-3-Clause */
/* Registers the "linerate" log type (see log.h). */
#include "log.h"

RTE_LOG_REGISTER(lr_logtype, linerate, INFO);
