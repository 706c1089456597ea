/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_run: transmit and receive loops (see pg_run.h). */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "pg_report.h"
#include "pg_run.h"
#include "pg_stamp.h"

#define PG_RX_BURSTS_MAX 8 /* per loop turn, so that TX still gets its turn */

#define PUB(var, val) __atomic_store_n(&(var), (val), __ATOMIC_RELAXED)
#define GET(var)      __atomic_load_n(&(var), __ATOMIC_RELAXED)

void
pg_dev_mark_take(struct pg_ctx *ctx, struct pg_dev_mark *m)
{
	m->tsc = rte_rdtsc();
	if (ctx->has_tx)
		(void)rte_eth_stats_get(ctx->tx_port.id, &m->tx);
	if (ctx->has_rx)
		(void)rte_eth_stats_get(ctx->rx_port.id, &m->rx);
	m->seen = true;
}

static inline void
mark(struct pg_mark *m, uint64_t tsc, uint64_t packets)
{
	m->seen = true;
	m->tsc = tsc;
	m->packets = packets;
}

/*
 * Picks the flow and the frame size of the next packet. Flows go round
 * robin; flow f in round r gets pattern[(r + f) % len], so that consecutive
 * packets follow the IMIX pattern and every flow sees all of it.
 */
static inline const struct pg_tmpl *
next_tmpl(const struct pg_ctx *ctx, struct pg_tx *tx, uint32_t *flow)
{
	const struct pg_pkt_cfg *pkt = &ctx->cfg->pkt;
	uint32_t f = tx->flow_idx;
	const struct pg_tmpl *t = &tx->tmpl[(size_t)f * pkt->nb_sizes + pkt->pattern[tx->pat_idx]];

	*flow = f;
	if (++tx->pat_idx == pkt->pattern_len)
		tx->pat_idx = 0;
	if (++tx->flow_idx == pkt->flows) {
		tx->flow_idx = 0;
		if (++tx->pat_base == pkt->pattern_len)
			tx->pat_base = 0;
		tx->pat_idx = tx->pat_base;
	}
	return t;
}

static inline void
fill(struct rte_mbuf *m, const struct pg_tmpl *t, uint32_t flow, uint32_t seq, uint64_t tsc)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	rte_memcpy(p, t->data, PG_TMPL_COPY);
	pg_stamp_write(p + t->stamp_off, flow, seq, tsc);
	if (t->cksum_off) {
		/* RFC 1624: add the stamp to the sum taken with it zeroed */
		uint32_t sum = __rte_raw_cksum(p + t->stamp_off, PG_STAMP_LEN, t->cksum_sum);
		uint16_t ck = (uint16_t)~__rte_raw_cksum_reduce(sum);
		if (ck == 0)
			ck = 0xffff;
		memcpy(p + t->cksum_off, &ck, sizeof(ck));
	}
	m->data_len = t->frame_len;
	m->pkt_len = t->frame_len;
}

/* Counts pend[off, off + n) as sent. The lengths come from our own array:
 * once tx_burst returned, the mbufs belong to the driver. */
static inline void
tx_account(struct pg_tx *tx, uint16_t off, uint16_t n)
{
	for (uint16_t i = off; i < off + n; i++)
		tx->bytes += tx->pend_len[i];
	tx->packets += n;
}

/* Gives back the sequence numbers of packets that were never sent: they are
 * the newest of their flows, so the sequence space keeps no holes. */
static inline void
tx_unsend(struct pg_tx *tx, struct rte_mbuf **m, const uint32_t *flow, uint16_t n)
{
	for (int i = (int)n - 1; i >= 0; i--)
		tx->seq[flow[i]]--;
	rte_pktmbuf_free_bulk(m, n);
}

static void
tx_step(struct pg_ctx *ctx, struct pg_tx *tx, uint64_t now)
{
	const struct pg_config *cfg = ctx->cfg;
	uint16_t port = ctx->tx_port.id;

	if (tx->pend_n) {
		uint16_t n = rte_eth_tx_burst(port, 0, tx->pend + tx->pend_off, tx->pend_n);
		tx->retries++;
		tx_account(tx, tx->pend_off, n);
		tx->pend_off += n;
		tx->pend_n -= n;
		return;
	}

	uint64_t want = cfg->burst;
	if (ctx->pps_per_cycle > 0) {
		uint64_t due = (uint64_t)((double)(now - ctx->t_start) * ctx->pps_per_cycle) + 1;
		if (due <= tx->packets)
			return;
		want = RTE_MIN(want, due - tx->packets);
	}
	if (cfg->count)
		want = RTE_MIN(want, cfg->count - tx->packets);
	if (want == 0)
		return;

	struct rte_mbuf **m = tx->pend;
	uint32_t *flow = tx->pend_flow;
	uint16_t n = (uint16_t)want;
	if (unlikely(rte_pktmbuf_alloc_bulk(tx->pool, m, n) != 0)) {
		tx->alloc_fail++;
		return;
	}
	uint64_t tsc = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		const struct pg_tmpl *t = next_tmpl(ctx, tx, &flow[i]);
		fill(m[i], t, flow[i], tx->seq[flow[i]]++, tsc);
		tx->pend_len[i] = t->frame_len;
	}
	uint16_t sent = rte_eth_tx_burst(port, 0, m, n);
	tx_account(tx, 0, sent);
	if (sent < n) {
		if (cfg->retry) {
			tx->pend_off = sent;
			tx->pend_n = n - sent;
		} else {
			tx->refused += n - sent;
			tx_unsend(tx, m + sent, flow + sent, n - sent);
		}
	}
}

static void
tx_finish(struct pg_ctx *ctx, struct pg_tx *tx, uint64_t now)
{
	if (tx->pend_n) {
		tx_unsend(tx, tx->pend + tx->pend_off, tx->pend_flow + tx->pend_off, tx->pend_n);
		tx->pend_n = 0;
	}
	mark(&tx->end, now, tx->packets);
	tx->done = true;
	PUB(ctx->pub_tx_packets, tx->packets);
	__atomic_store_n(&ctx->pub_tx_done, 1, __ATOMIC_RELEASE);
}

static inline uint16_t
rx_step(struct pg_ctx *ctx, struct pg_rx *rx, uint64_t steady_from)
{
	struct rte_mbuf *m[PG_MAX_BURST];
	uint16_t q = rx->next_q;
	uint16_t n;

	rx->next_q = (uint16_t)(q + 1 < ctx->rx_port.nb_rxq ? q + 1 : 0);
	n = rte_eth_rx_burst(ctx->rx_port.id, q, m, ctx->cfg->burst);

	if (n == 0)
		return 0;
	uint64_t now = rte_rdtsc();
	uint32_t flows = ctx->cfg->pkt.flows;
	bool steady = now >= steady_from;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		const struct pg_stamp *s = pg_stamp_find(rte_pktmbuf_mtod(m[i], const uint8_t *),
							 m[i]->data_len);
		rx->bytes += m[i]->pkt_len;
		if (s == NULL) {
			rx->foreign++;
			continue;
		}
		if (unlikely(s->flow >= flows)) {
			rx->bad_flow++;
			continue;
		}
		rx->matched++;
		pg_seq_rx(&rx->seq, s->flow, s->seq);
		if (steady)
			pg_hist_add(&rx->hist, (now - pg_stamp_tsc(s)) & PG_TSC_MASK);
	}
	rte_pktmbuf_free_bulk(m, n);
	rx->packets += n;
	PUB(ctx->pub_rx_packets, rx->packets);
	return n;
}

void
pg_run_loop(struct pg_ctx *ctx, bool do_tx, bool do_rx)
{
	const struct pg_config *cfg = ctx->cfg;
	struct pg_tx *tx = &ctx->tx;
	struct pg_rx *rx = &ctx->rx;
	/* the role that owns the run's clock: device marks and progress lines */
	bool owner = do_tx || !ctx->has_tx;
	uint64_t next_progress = ctx->progress_cycles ? ctx->t_start + ctx->progress_cycles : UINT64_MAX;
	uint64_t drain_until = UINT64_MAX;
	struct pg_report_prev prev = { .tsc = ctx->t_start };

	while (rte_rdtsc() < ctx->t_start)
		rte_pause();
	if (owner)
		pg_dev_mark_take(ctx, &ctx->dev_start);

	for (;;) {
		uint64_t now = rte_rdtsc();
		bool quit = *ctx->quit != 0;

		if (now >= ctx->t_warm) {
			if (owner && !ctx->dev_warm.seen)
				pg_dev_mark_take(ctx, &ctx->dev_warm);
			if (do_tx && !tx->warm.seen)
				mark(&tx->warm, now, tx->packets);
			if (do_rx && !rx->warm.seen)
				mark(&rx->warm, now, rx->packets);
		}

		if (do_tx && !tx->done) {
			if (quit || (ctx->t_stop && now >= ctx->t_stop) ||
			    (cfg->count && tx->packets >= cfg->count)) {
				pg_dev_mark_take(ctx, &ctx->dev_end);
				tx_finish(ctx, tx, now);
			} else {
				tx_step(ctx, tx, now);
				PUB(ctx->pub_tx_packets, tx->packets);
			}
		}

		if (do_rx) {
			/* the steady window ends when TX stops (receiving alone:
			 * at the time or count limit); then in-flight packets
			 * are drained */
			if (!rx->end.seen) {
				bool over;
				if (ctx->has_tx)
					over = __atomic_load_n(&ctx->pub_tx_done, __ATOMIC_ACQUIRE) != 0;
				else
					over = quit || (ctx->t_stop && now >= ctx->t_stop) ||
						(cfg->count && rx->matched >= cfg->count);
				if (over) {
					mark(&rx->end, now, rx->packets);
					if (!ctx->has_tx) {
						pg_dev_mark_take(ctx, &ctx->dev_end);
						break;
					}
					drain_until = now + ctx->drain_cycles;
				}
			} else if (now >= drain_until || quit ||
				   rx->seq.unique >= GET(ctx->pub_tx_packets)) {
				break; /* all sent came back, or the drain time is over */
			}
			/* receive until a burst comes back short before sending
			 * more: a sink that falls behind stalls a forwarder in its
			 * TX retries and builds queues that inflate the latency */
			for (unsigned k = 0; k < PG_RX_BURSTS_MAX; k++)
				if (rx_step(ctx, rx, ctx->t_warm) < cfg->burst)
					break;
		} else if (tx->done) {
			break;
		}

		if (owner && now >= next_progress) {
			pg_report_progress(ctx, &prev, now);
			next_progress += ctx->progress_cycles;
		}
	}
}
