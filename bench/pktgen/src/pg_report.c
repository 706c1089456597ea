/* SPDX-License-Identifier: BSD-3-Clause */
/* pg_report: progress lines and the final result (see pg_report.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "pg_report.h"
#include "pg_run.h"

/* A minimal JSON writer: enough for flat objects, nested objects and arrays
 * of numbers, written straight to a FILE. */
struct jw {
	FILE *f;
	int depth;
	bool first[8];
};

static void
jw_sep(struct jw *w)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

static void
jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	fprintf(w->f, "\"%s\":", k);
}

static void
jw_open(struct jw *w, const char *k, char c)
{
	if (k)
		jw_key(w, k);
	else if (w->depth >= 0)
		jw_sep(w);
	fputc(c, w->f);
	w->first[++w->depth] = true;
}

static void
jw_close(struct jw *w, char c)
{
	fputc(c, w->f);
	w->depth--;
}

static void
jw_str(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	fputc('"', w->f);
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(w->f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(w->f, "\\u%04x", (unsigned char)*p);
		else
			fputc(*p, w->f);
	}
	fputc('"', w->f);
}

static void
jw_u64(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	fprintf(w->f, "%" PRIu64, v);
}

static void
jw_i64(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	fprintf(w->f, "%" PRId64, v);
}

static void
jw_dbl(struct jw *w, const char *k, double v)
{
	if (k)
		jw_key(w, k);
	else
		jw_sep(w);
	if (isfinite(v))
		fprintf(w->f, "%.10g", v);
	else
		fputs("null", w->f);
}

static void
jw_bool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	fputs(v ? "true" : "false", w->f);
}

static void
jw_null(struct jw *w, const char *k)
{
	jw_key(w, k);
	fputs("null", w->f);
}

static double
secs(const struct pg_ctx *ctx, uint64_t cycles)
{
	return (double)cycles / (double)ctx->hz;
}

static double
ns(const struct pg_ctx *ctx, uint64_t cycles)
{
	return (double)cycles * 1e9 / (double)ctx->hz;
}

void
pg_report_progress(struct pg_ctx *ctx, struct pg_report_prev *prev, uint64_t now)
{
	uint64_t tx = __atomic_load_n(&ctx->pub_tx_packets, __ATOMIC_RELAXED);
	uint64_t rx = __atomic_load_n(&ctx->pub_rx_packets, __ATOMIC_RELAXED);
	double dt = secs(ctx, now - prev->tsc);
	double tx_mpps = dt > 0 ? (double)(tx - prev->tx_packets) / dt / 1e6 : 0;
	double rx_mpps = dt > 0 ? (double)(rx - prev->rx_packets) / dt / 1e6 : 0;
	double t = secs(ctx, now - ctx->t_start);

	if (ctx->cfg->json) {
		struct jw w = { .f = stdout, .depth = -1 };
		jw_open(&w, NULL, '{');
		jw_str(&w, "type", "progress");
		jw_dbl(&w, "t", t);
		jw_u64(&w, "tx_packets", tx);
		jw_u64(&w, "rx_packets", rx);
		jw_dbl(&w, "tx_mpps", tx_mpps);
		jw_dbl(&w, "rx_mpps", rx_mpps);
		jw_close(&w, '}');
		fputc('\n', stdout);
	} else {
		printf("%8.3f s  tx %" PRIu64 " (%.3f Mpps)  rx %" PRIu64 " (%.3f Mpps)\n",
		       t, tx, tx_mpps, rx, rx_mpps);
	}
	fflush(stdout);
	prev->tsc = now;
	prev->tx_packets = tx;
	prev->rx_packets = rx;
}

struct window {
	uint64_t packets;
	double seconds;
	double pps;
};

static struct window
window(const struct pg_ctx *ctx, const struct pg_mark *a, const struct pg_mark *b)
{
	struct window w = { 0, 0, 0 };

	if (a->seen && b->seen && b->tsc > a->tsc) {
		w.packets = b->packets - a->packets;
		w.seconds = secs(ctx, b->tsc - a->tsc);
		w.pps = (double)w.packets / w.seconds;
	}
	return w;
}

static double
dev_pps(const struct pg_ctx *ctx, const struct pg_dev_mark *a, const struct pg_dev_mark *b,
	uint64_t va, uint64_t vb)
{
	if (!a->seen || !b->seen || b->tsc <= a->tsc)
		return 0;
	return (double)(vb - va) / secs(ctx, b->tsc - a->tsc);
}

static void
jw_window(struct jw *w, const struct window *win)
{
	jw_open(w, "steady", '{');
	jw_u64(w, "packets", win->packets);
	jw_dbl(w, "seconds", win->seconds);
	jw_dbl(w, "pps", win->pps);
	jw_dbl(w, "mpps", win->pps / 1e6);
	jw_close(w, '}');
}

void
pg_report_result(const struct pg_ctx *ctx, unsigned lcores, int interrupted)
{
	const struct pg_config *cfg = ctx->cfg;
	const struct pg_pkt_cfg *pkt = &cfg->pkt;
	const struct pg_tx *tx = &ctx->tx;
	const struct pg_rx *rx = &ctx->rx;
	const struct pg_hist *h = &rx->hist;
	struct window txw = window(ctx, &tx->warm, &tx->end);
	struct window rxw = window(ctx, &rx->warm, &rx->end);
	const struct pg_dev_mark *d0 = &ctx->dev_start, *dw = &ctx->dev_warm;
	const struct pg_dev_mark *de = &ctx->dev_end, *df = &ctx->dev_final;
	/* with a local sender, loss is exact; alone, the sequence span tells
	 * how many were sent up to the last one received */
	uint64_t sent = ctx->has_tx ? tx->packets : pg_seq_span(&rx->seq);
	int64_t lost = (int64_t)sent - (int64_t)rx->seq.unique;
	double lat_mean = h->count ? ns(ctx, h->sum) / (double)h->count : 0;

	if (!cfg->json) {
		printf("tx: %" PRIu64 " packets, steady %.3f Mpps over %.3f s, refused %" PRIu64 "\n",
		       tx->packets, txw.pps / 1e6, txw.seconds, tx->refused);
		printf("rx: %" PRIu64 " packets (%" PRIu64 " ours, %" PRIu64 " unique), steady %.3f Mpps\n",
		       rx->packets, rx->matched, rx->seq.unique, rxw.pps / 1e6);
		printf("loss %" PRId64 " (%.6f %%), reordered %" PRIu64 ", duplicates %" PRIu64 "\n",
		       lost, sent ? 100.0 * (double)lost / (double)sent : 0.0,
		       rx->seq.reordered, rx->seq.duplicates);
		printf("latency ns: p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (%" PRIu64 " samples)\n",
		       ns(ctx, pg_hist_percentile(h, 50)), ns(ctx, pg_hist_percentile(h, 99)),
		       ns(ctx, pg_hist_percentile(h, 99.9)), ns(ctx, h->count ? h->max : 0), h->count);
		fflush(stdout);
		return;
	}

	struct jw w = { .f = stdout, .depth = -1 };
	jw_open(&w, NULL, '{');
	jw_str(&w, "type", "result");
	jw_bool(&w, "interrupted", interrupted != 0);
	jw_u64(&w, "tsc_hz", ctx->hz);

	jw_open(&w, "config", '{');
	jw_str(&w, "tx_port", ctx->has_tx ? ctx->tx_port.name : "");
	jw_str(&w, "rx_port", ctx->has_rx ? ctx->rx_port.name : "");
	jw_str(&w, "tx_driver", ctx->has_tx ? ctx->tx_port.driver : "");
	jw_str(&w, "rx_driver", ctx->has_rx ? ctx->rx_port.driver : "");
	jw_open(&w, "sizes", '[');
	for (unsigned i = 0; i < pkt->nb_sizes; i++)
		jw_dbl(&w, NULL, pkt->sizes[i]);
	jw_close(&w, ']');
	jw_bool(&w, "imix", pkt->imix);
	jw_dbl(&w, "mean_frame", pg_cfg_mean_frame(pkt));
	jw_bool(&w, "ipv6", pkt->ipv6);
	jw_bool(&w, "gtpu", pkt->gtpu);
	jw_u64(&w, "teid", pkt->teid);
	jw_i64(&w, "qfi", pkt->qfi);
	jw_u64(&w, "flows", pkt->flows);
	jw_u64(&w, "burst", cfg->burst);
	jw_u64(&w, "rx_queues", cfg->rx_queues);
	jw_bool(&w, "retry", cfg->retry);
	if (cfg->rate_pps > 0)
		jw_dbl(&w, "rate_pps", cfg->rate_pps);
	else
		jw_null(&w, "rate_pps");
	jw_dbl(&w, "duration_s", cfg->duration_s);
	jw_dbl(&w, "warmup_s", cfg->warmup_s);
	jw_u64(&w, "count", cfg->count);
	jw_u64(&w, "lcores", lcores);
	jw_close(&w, '}');

	jw_open(&w, "tx", '{');
	jw_u64(&w, "packets", tx->packets);
	jw_u64(&w, "bytes", tx->bytes);
	jw_u64(&w, "refused", tx->refused);
	jw_u64(&w, "retries", tx->retries);
	jw_u64(&w, "alloc_fail", tx->alloc_fail);
	jw_window(&w, &txw);
	jw_close(&w, '}');

	jw_open(&w, "rx", '{');
	jw_u64(&w, "packets", rx->packets);
	jw_u64(&w, "bytes", rx->bytes);
	jw_u64(&w, "matched", rx->matched);
	jw_u64(&w, "foreign", rx->foreign);
	jw_u64(&w, "bad_flow", rx->bad_flow);
	jw_u64(&w, "unique", rx->seq.unique);
	jw_u64(&w, "duplicates", rx->seq.duplicates);
	jw_u64(&w, "reordered", rx->seq.reordered);
	jw_u64(&w, "late", rx->seq.late);
	jw_u64(&w, "span", pg_seq_span(&rx->seq)); /* sum over flows of highest seq + 1 */
	jw_window(&w, &rxw);
	jw_close(&w, '}');

	if (ctx->has_rx) {
		jw_open(&w, "loss", '{');
		jw_str(&w, "basis", ctx->has_tx ? "tx" : "sequence");
		jw_u64(&w, "sent", sent);
		jw_i64(&w, "packets", lost);
		jw_dbl(&w, "ratio", sent ? (double)lost / (double)sent : 0.0);
		jw_close(&w, '}');
	} else {
		jw_null(&w, "loss"); /* nothing received: nothing to say */
	}

	jw_open(&w, "latency_ns", '{');
	jw_u64(&w, "samples", h->count);
	jw_dbl(&w, "min", h->count ? ns(ctx, h->min) : 0);
	jw_dbl(&w, "mean", lat_mean);
	jw_dbl(&w, "p50", ns(ctx, pg_hist_percentile(h, 50)));
	jw_dbl(&w, "p99", ns(ctx, pg_hist_percentile(h, 99)));
	jw_dbl(&w, "p999", ns(ctx, pg_hist_percentile(h, 99.9)));
	jw_dbl(&w, "max", h->count ? ns(ctx, h->max) : 0);
	jw_close(&w, '}');

	/* device counters: totals over the run (start to after the drain) and
	 * the rate over the steady window */
	jw_open(&w, "device", '{');
	if (ctx->has_tx) {
		jw_open(&w, "tx", '{');
		jw_str(&w, "port", ctx->tx_port.name);
		jw_u64(&w, "opackets", df->tx.opackets - d0->tx.opackets);
		jw_u64(&w, "obytes", df->tx.obytes - d0->tx.obytes);
		jw_u64(&w, "oerrors", df->tx.oerrors - d0->tx.oerrors);
		jw_dbl(&w, "steady_mpps", dev_pps(ctx, dw, de, dw->tx.opackets, de->tx.opackets) / 1e6);
		jw_close(&w, '}');
	}
	if (ctx->has_rx) {
		jw_open(&w, "rx", '{');
		jw_str(&w, "port", ctx->rx_port.name);
		jw_u64(&w, "ipackets", df->rx.ipackets - d0->rx.ipackets);
		jw_u64(&w, "ibytes", df->rx.ibytes - d0->rx.ibytes);
		jw_u64(&w, "imissed", df->rx.imissed - d0->rx.imissed);
		jw_u64(&w, "ierrors", df->rx.ierrors - d0->rx.ierrors);
		jw_u64(&w, "rx_nombuf", df->rx.rx_nombuf - d0->rx.rx_nombuf);
		jw_dbl(&w, "steady_mpps", dev_pps(ctx, dw, de, dw->rx.ipackets, de->rx.ipackets) / 1e6);
		jw_close(&w, '}');
	}
	jw_close(&w, '}');
	jw_close(&w, '}');
	fputc('\n', stdout);
	fflush(stdout);
}
