/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane policing (see police.h): the rates, set once by the main
 * lcore; the buckets, each written by its own worker only.
 */
#include <string.h>

#include "police.h"

struct lr_police_rate lr_police_rate[LR_PUNT_CLASS_MAX];
struct lr_police_worker lr_police_w[LR_MAX_WORKERS];

static const struct {
	const char *name;
	uint32_t rate;
	uint32_t reason;
} classes[] = {
#define LR_PUNT_INFO_(sym, name, rate) { name, rate, LR_DROP_POLICED_##sym },
	LR_PUNT_CLASSES(LR_PUNT_INFO_)
#undef LR_PUNT_INFO_
};

void
lr_police_init(const uint32_t rate[LR_PUNT_CLASS_MAX], unsigned n_workers)
{
	uint64_t hz = rte_get_tsc_hz();
	unsigned c;

	memset(lr_police_w, 0, sizeof(lr_police_w));
	if (n_workers == 0)
		n_workers = 1;
	for (c = 0; c < LR_PUNT_CLASS_MAX; c++) {
		struct lr_police_rate *r = &lr_police_rate[c];
		/* errors: twice what the main lcore sends, the rest is not worth a ring slot */
		uint64_t pps = c == LR_PUNT_ERROR ? 2ull * rate[c] : rate[c];
		uint64_t per = (pps + n_workers - 1) / n_workers;

		r->drop_reason = c < RTE_DIM(classes) ? classes[c].reason : LR_DROP_MAX;
		if (rate[c] == 0 && c != LR_PUNT_ERROR) {
			r->tsc_per_token = 0;  /* not policed */
			continue;
		}
		if (per == 0) {  /* errors off: never punt one */
			r->tsc_per_token = UINT64_MAX;
			r->burst = 0;
			continue;
		}
		r->tsc_per_token = hz / per ? hz / per : 1;
		r->burst = (uint32_t)RTE_MAX(per / 10, 32ull);
	}
}

int
lr_police_class(const char *name)
{
	unsigned c;

	for (c = 0; c < RTE_DIM(classes); c++)
		if (strcmp(classes[c].name, name) == 0)
			return (int)c;
	return -1;
}

uint32_t
lr_police_default_rate(unsigned c)
{
	return c < RTE_DIM(classes) ? classes[c].rate : 0;
}
