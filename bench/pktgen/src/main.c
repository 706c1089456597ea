/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerate-pktgen: DPDK traffic generator and receiver for the linerate
 * benchmarks. Sets up EAL, the ports, the pools and the templates, runs
 * the TX and RX roles (pg_run.c) on one or two lcores and prints the
 * result (pg_report.c). See bench/README.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "pg_config.h"
#include "pg_port.h"
#include "pg_report.h"
#include "pg_run.h"
#include "pg_tmpl.h"

#define PG_LOG(fmt, ...) fprintf(stderr, "linerate-pktgen: " fmt "\n", ##__VA_ARGS__)
#define PG_POOL_CACHE 256

static volatile int quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* The TX pool is zeroed once: packets only overwrite their first
 * PG_TMPL_COPY bytes, the payload after that stays zero (see pg_tmpl.h). */
static void
zero_mbuf(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct rte_mbuf *m = obj;

	(void)mp;
	(void)arg;
	(void)idx;
	memset(m->buf_addr, 0, m->buf_len);
}

struct role_args {
	struct pg_ctx *ctx;
	bool tx, rx;
};

static int
role_main(void *arg)
{
	struct role_args *a = arg;

	pg_run_loop(a->ctx, a->tx, a->rx);
	return 0;
}

static int
build_templates(struct pg_ctx *ctx)
{
	const struct pg_pkt_cfg *pkt = &ctx->cfg->pkt;
	size_t n = (size_t)pkt->flows * pkt->nb_sizes;

	ctx->tx.tmpl = rte_zmalloc("pg_tmpl", n * sizeof(struct pg_tmpl), RTE_CACHE_LINE_SIZE);
	ctx->tx.seq = rte_zmalloc("pg_seq", pkt->flows * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	if (ctx->tx.tmpl == NULL || ctx->tx.seq == NULL) {
		PG_LOG("no memory for %zu templates", n);
		return -1;
	}
	for (uint32_t f = 0; f < pkt->flows; f++)
		for (unsigned s = 0; s < pkt->nb_sizes; s++)
			pg_tmpl_build(pkt, f, pkt->sizes[s], &ctx->tx.tmpl[(size_t)f * pkt->nb_sizes + s]);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct pg_config cfg;
	static struct pg_ctx ctx;
	struct rte_mempool *rx_pool = NULL;
	int ret, status = EXIT_FAILURE;

	/* EAL logs to stdout by default; stdout is for results only */
	rte_openlog_stream(stderr);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		PG_LOG("EAL init failed: %s", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	ret = pg_opts_parse(&cfg, argc, argv);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? EXIT_SUCCESS : 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ctx.cfg = &cfg;
	ctx.quit = &quit;
	ctx.has_tx = cfg.tx_dev[0] != '\0';
	ctx.has_rx = cfg.rx_dev[0] != '\0';
	bool shared = ctx.has_tx && ctx.has_rx && strcmp(cfg.tx_dev, cfg.rx_dev) == 0;

	/* TX first: in a one-process memif loop it is the server, and a memif
	 * client must find the server's socket when it is probed */
	if (ctx.has_tx && pg_port_open(cfg.tx_dev, &ctx.tx_port) != 0)
		goto out;
	if (shared)
		ctx.rx_port = ctx.tx_port;
	else if (ctx.has_rx && pg_port_open(cfg.rx_dev, &ctx.rx_port) != 0)
		goto out;
	if (ctx.has_tx && ctx.has_rx && !shared && ctx.tx_port.id == ctx.rx_port.id)
		shared = true; /* two names for one port */

	int socket = (int)rte_socket_id();
	unsigned pool_n = cfg.pool_size;
	/* every port has an RX queue, polled or not, so there is always an RX pool */
	rx_pool = rte_pktmbuf_pool_create("pg_rx", pool_n, PG_POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (rx_pool == NULL) {
		PG_LOG("RX pool: %s", rte_strerror(rte_errno));
		goto out;
	}
	if (ctx.has_tx) {
		ctx.tx.pool = rte_pktmbuf_pool_create("pg_tx", pool_n, PG_POOL_CACHE, 0,
						      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
		if (ctx.tx.pool == NULL) {
			PG_LOG("TX pool: %s", rte_strerror(rte_errno));
			goto out;
		}
		rte_mempool_obj_iter(ctx.tx.pool, zero_mbuf, NULL);
		if (pg_port_setup(&ctx.tx_port, rx_pool, cfg.rxd, cfg.txd, shared ? cfg.rx_queues : 1) != 0)
			goto out;
	}
	if (ctx.has_rx && !shared && pg_port_setup(&ctx.rx_port, rx_pool, cfg.rxd, cfg.txd, cfg.rx_queues) != 0)
		goto out;
	if (shared)
		ctx.rx_port.nb_rxq = ctx.tx_port.nb_rxq;  /* the copy above predates the setup */

	/* start: a memif server before its client, so TX first again */
	struct pg_port *ports[2];
	unsigned nb_ports = 0;
	if (ctx.has_tx)
		ports[nb_ports++] = &ctx.tx_port;
	if (ctx.has_rx && !shared)
		ports[nb_ports++] = &ctx.rx_port;
	for (unsigned i = 0; i < nb_ports; i++)
		if (pg_port_start(ports[i]) != 0)
			goto out;
	if (shared)
		ctx.rx_port = ctx.tx_port;
	if (!pg_port_wait_link(ports, nb_ports, cfg.link_wait_ms)) {
		PG_LOG("link down after %u ms (a memif peer missing?)", cfg.link_wait_ms);
		goto out;
	}
	/* a forwarder polls its link state: give it time to see ours up */
	if (cfg.start_delay_ms)
		rte_delay_us_sleep(cfg.start_delay_ms * 1000u);

	struct pg_pkt_cfg *pkt = &cfg.pkt;
	if (!pkt->src_mac_set)
		pkt->src_mac = ctx.has_tx ? ctx.tx_port.mac : ctx.rx_port.mac;
	if (!pkt->dst_mac_set) {
		if (ctx.has_rx)
			pkt->dst_mac = ctx.rx_port.mac;
		else
			memset(&pkt->dst_mac, 0xff, sizeof(pkt->dst_mac));
	}
	if (ctx.has_tx && build_templates(&ctx) != 0)
		goto out;
	if (ctx.has_rx) {
		if (pg_seq_init(&ctx.rx.seq, pkt->flows) != 0) {
			PG_LOG("no memory for %u flows", pkt->flows);
			goto out;
		}
		pg_hist_reset(&ctx.rx.hist);
	}

	/* roles: one lcore runs both; with two or more, TX on the main lcore
	 * and RX on the first worker */
	unsigned lcores = rte_lcore_count();
	unsigned rx_lcore = rte_get_next_lcore(-1, 1, 0);
	bool split = ctx.has_tx && ctx.has_rx && lcores >= 2 && rx_lcore < RTE_MAX_LCORE;
	if (lcores > 2 || (lcores == 2 && !split))
		PG_LOG("note: %u lcores given, %u used", lcores, split ? 2 : 1);

	ctx.hz = rte_get_tsc_hz();
	ctx.drain_cycles = (uint64_t)cfg.drain_ms * ctx.hz / 1000;
	ctx.progress_cycles = (uint64_t)cfg.progress_ms * ctx.hz / 1000;
	ctx.pps_per_cycle = cfg.rate_pps > 0 ? cfg.rate_pps / (double)ctx.hz : 0;
	/* a short common start so that both lcores begin on the same tick */
	ctx.t_start = rte_rdtsc() + ctx.hz / 1000;
	ctx.t_warm = ctx.t_start + (uint64_t)(cfg.warmup_s * (double)ctx.hz);
	ctx.t_stop = cfg.duration_s > 0 ?
		ctx.t_warm + (uint64_t)(cfg.duration_s * (double)ctx.hz) : 0;

	if (split) {
		static struct role_args rx_args;
		rx_args = (struct role_args){ .ctx = &ctx, .tx = false, .rx = true };
		ret = rte_eal_remote_launch(role_main, &rx_args, rx_lcore);
		if (ret != 0) {
			PG_LOG("cannot launch the RX lcore: %s", rte_strerror(-ret));
			goto out;
		}
		pg_run_loop(&ctx, true, false);
		rte_eal_mp_wait_lcore();
	} else {
		pg_run_loop(&ctx, ctx.has_tx, ctx.has_rx);
	}
	pg_dev_mark_take(&ctx, &ctx.dev_final);
	pg_report_result(&ctx, split ? 2 : 1, quit);
	status = EXIT_SUCCESS;

out:
	if (ctx.has_rx && !shared && ctx.rx_port.name[0]) {
		/* when both ends of a memif are ours, let the peer's interrupt
		 * thread finish handling the disconnect before that peer is
		 * closed too: closing it concurrently corrupts memory in the
		 * 22.11 PMD ("EAL: Error: Invalid memory") */
		pg_port_stop(&ctx.rx_port);
		if (ctx.has_tx && ctx.tx_port.started && pg_port_wait_down(&ctx.tx_port, 200))
			rte_delay_us_sleep(5000);
		pg_port_close(&ctx.rx_port);
	}
	if (ctx.has_tx && ctx.tx_port.name[0])
		pg_port_close(&ctx.tx_port);
	pg_seq_free(&ctx.rx.seq);
	rte_free(ctx.tx.tmpl);
	rte_free(ctx.tx.seq);
	rte_mempool_free(ctx.tx.pool);
	rte_mempool_free(rx_pool);
	rte_eal_cleanup();
	return status;
}
