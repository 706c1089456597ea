/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Control-plane policing: a token bucket per worker, input port and punt
 * class on what the IP stages hand the main lcore, so that a flood of one
 * class (ARP, ND, ICMP to us, anything else to us) can neither crowd the
 * others out of the punt ring nor eat the main lcore that also runs ARP /
 * ND resolution and the control socket. A port's rate per class is split
 * evenly over the workers (each polices its own queues, no sharing). A
 * policed packet is dropped and counted under its class's drop reason.
 * ICMP errors to answer are pre-limited the same way (class ERROR, at
 * twice the per-port ICMP error rate: the main lcore would not send more),
 * and counted only under the reason they were dropped for.
 * Configured by the main lcore before workers start; read by workers.
 */
#ifndef LR_POLICE_H
#define LR_POLICE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "lr_common.h"

enum lr_punt_class {
#define LR_PUNT_ENUM_(sym, name, rate) LR_PUNT_##sym,
	LR_PUNT_CLASSES(LR_PUNT_ENUM_)
#undef LR_PUNT_ENUM_
	LR_PUNT_ERROR,          /**< errors to answer (ICMP), at 2 x --icmp-rate */
	LR_PUNT_CLASS_MAX
};

struct lr_police_rate {
	uint64_t tsc_per_token;  /**< 0: not policed */
	uint32_t burst;
	uint32_t drop_reason;    /**< enum lr_drop_reason of a policed packet */
};

struct lr_police_bucket {
	uint64_t last;           /**< TSC of the last refill */
	uint32_t tokens;
	uint32_t pad;
};

struct lr_police_worker {
	struct lr_police_bucket b[LR_MAX_PORTS][LR_PUNT_CLASS_MAX];
} __rte_cache_aligned;

extern struct lr_police_rate lr_police_rate[LR_PUNT_CLASS_MAX];
extern struct lr_police_worker lr_police_w[LR_MAX_WORKERS];

/**
 * Sets the per-port rates (packets/s, 0 = not policed; rate[LR_PUNT_ERROR]
 * is the ICMP error rate) split over n_workers. Main lcore, before traffic.
 */
void lr_police_init(const uint32_t rate[LR_PUNT_CLASS_MAX], unsigned n_workers);

/** Index of a class name ("arp", "nd", "icmp", "other"), or -1. */
int lr_police_class(const char *name);

/** Default per-port rate of class c. */
uint32_t lr_police_default_rate(unsigned c);

/** Class of a frame the IP stages punt (ARP, ND, ICMP / ICMPv6, other). */
static inline unsigned
lr_police_classify(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	if (f[12] == 0x08 && f[13] == 0x06)
		return LR_PUNT_ARP;
	if (f[12] == 0x08 && f[13] == 0x00)
		return f[14 + 9] == 1 ? LR_PUNT_ICMP : LR_PUNT_OTHER;
	if (f[12] == 0x86 && f[13] == 0xdd && f[14 + 6] == 58 && m->data_len > 14 + 40) {
		uint8_t t = f[14 + 40];

		return t >= 133 && t <= 137 ? LR_PUNT_ND : LR_PUNT_ICMP;
	}
	return LR_PUNT_OTHER;
}

/**
 * Takes a token of class c for input port `port` on worker w.
 * @return true: punt it; false: police it.
 */
static inline bool
lr_police_ok(unsigned w, uint16_t port, unsigned c)
{
	const struct lr_police_rate *r = &lr_police_rate[c];
	struct lr_police_bucket *k;

	if (r->tsc_per_token == 0)
		return true;
	k = &lr_police_w[w].b[port][c];
	if (unlikely(k->tokens == 0)) {
		uint64_t now = rte_rdtsc(), n = (now - k->last) / r->tsc_per_token;

		if (n == 0)
			return false;
		k->tokens = n > r->burst ? r->burst : (uint32_t)n;
		k->last = now;
	}
	k->tokens--;
	return true;
}

#endif /* LR_POLICE_H */
