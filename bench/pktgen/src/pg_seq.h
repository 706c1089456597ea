/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pg_seq: per-flow sequence accounting on the receive side.
 *
 * Each flow keeps the next expected sequence number (32-bit on the wire,
 * extended to 64 bits here by serial-number arithmetic) and a 64-packet
 * window of what arrived just below it, so that a late packet is told
 * apart from a duplicate. Counts:
 *  - unique:     distinct (flow, seq) received;
 *  - reordered:  arrived after a higher sequence number of its flow;
 *  - duplicates: a (flow, seq) already received (within the window);
 *  - late:       reordered by more than the window (cannot be checked for
 *                duplication; counted as unique and reordered too).
 * Loss is sent - unique when the sender is known (same process), else
 * sum(highest seq + 1) - unique: the sender never leaves holes in its
 * sequence space (refused packets give their numbers back).
 * Pure C (no DPDK) so that it is unit tested alone.
 */
#ifndef PG_SEQ_H
#define PG_SEQ_H

#include <stdint.h>

#define PG_SEQ_WINDOW 64

struct pg_seq_flow {
	uint64_t next;   /**< highest seq seen + 1 (0: none yet) */
	uint64_t window; /**< bit k: seq (next - 1 - k) was received */
};

struct pg_seq {
	struct pg_seq_flow *flow;
	uint32_t nb_flows;
	uint64_t unique;
	uint64_t reordered;
	uint64_t duplicates;
	uint64_t late;
};

/** Allocates the per-flow state (zeroed). 0 on success, -1 on ENOMEM. */
int pg_seq_init(struct pg_seq *s, uint32_t nb_flows);
void pg_seq_free(struct pg_seq *s);

/** Accounts one received (flow, seq); flow must be < nb_flows. */
static inline void
pg_seq_rx(struct pg_seq *s, uint32_t flow, uint32_t seq)
{
	struct pg_seq_flow *f = &s->flow[flow];
	/* extend to 64 bits around the expected value (RFC 1982 style) */
	int64_t ext = (int64_t)f->next + (int32_t)(seq - (uint32_t)f->next);

	if (ext >= (int64_t)f->next) {
		uint64_t d = (uint64_t)ext - f->next + 1;
		f->window = d >= PG_SEQ_WINDOW ? 0 : f->window << d;
		f->window |= 1;
		f->next = (uint64_t)ext + 1;
		s->unique++;
		return;
	}
	uint64_t k = ext < 0 ? UINT64_MAX : f->next - 1 - (uint64_t)ext;
	if (k < PG_SEQ_WINDOW) {
		uint64_t bit = UINT64_C(1) << k;
		if (f->window & bit) {
			s->duplicates++;
			return;
		}
		f->window |= bit;
	} else {
		s->late++;
	}
	s->reordered++;
	s->unique++;
}

/** sum over flows of (highest seq + 1): what the sender sent, as far as seen. */
uint64_t pg_seq_span(const struct pg_seq *s);

#endif /* PG_SEQ_H */
