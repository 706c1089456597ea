/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerate's own DPDK telemetry commands, beside the EAL's (/ethdev/stats,
 * /mempool/info, ...) on the telemetry socket the EAL opens in its runtime
 * directory (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2; on unless the
 * EAL gets --no-telemetry), so that `dpdk-telemetry.py -f <file-prefix>`
 * shows the forwarder's counters without the control plane:
 *
 *   /linerate/info                 identity, workers, packet pool use
 *   /linerate/ports                port names, in linerate's port order
 *   /linerate/port,<id|name>       sums over the port's queues
 *   /linerate/drops,<id|name>      drops by reason (LR_DROP_REASONS names)
 *   /linerate/worker,<index>       one worker lcore's counters
 *   /linerate/slow_path            LR_SLOW_COUNTERS, by name
 *
 * The callbacks run on the EAL's telemetry thread and only read the stats
 * memory (lr_stats.h): the same counters the addon reads, summed the same
 * way, no lock and nothing the workers wait on. Registered by the module
 * init (commands cannot be unregistered: after fini they answer -ENODEV).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "lr_common.h"
#include "module.h"
#include "stats.h"

static const char *const drop_names[LR_DROP_MAX] = {
#define LR_DROP_NAME_(sym, name, help) name,
	LR_DROP_REASONS(LR_DROP_NAME_)
#undef LR_DROP_NAME_
};

static volatile bool tel_live;

/* The stats memory while the dataplane runs, else NULL. */
static const struct lr_stats_shm *
shm(void)
{
	return tel_live ? lr_shm : NULL;
}

/* Port index from "<id>" or "<name>", or -1. */
static int
port_of(const struct lr_stats_shm *s, const char *params)
{
	char *end;
	unsigned long v;

	if (params == NULL || *params == '\0')
		return -1;
	v = strtoul(params, &end, 10);
	if (*end == '\0' && end != params)
		return v < s->n_ports ? (int)v : -1;
	for (unsigned i = 0; i < s->n_ports; i++)
		if (strncmp(s->ports[i].name, params, sizeof(s->ports[i].name)) == 0)
			return (int)i;
	return -1;
}

static int
tel_info(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();

	if (s == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "pid", s->pid);
	rte_tel_data_add_dict_u64(d, "boot_id", s->boot_id);
	rte_tel_data_add_dict_u64(d, "start_time_ns", s->start_time_ns);
	rte_tel_data_add_dict_u64(d, "heartbeat_ns", s->heartbeat_ns);
	rte_tel_data_add_dict_u64(d, "tsc_hz", s->tsc_hz);
	rte_tel_data_add_dict_u64(d, "ports", s->n_ports);
	rte_tel_data_add_dict_u64(d, "workers", s->n_workers);
	rte_tel_data_add_dict_u64(d, "mbufs_size", s->mbufs_size);
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", s->mbufs_in_use);
	return 0;
}

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();

	if (s == NULL)
		return -ENODEV;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < s->n_ports; i++)
		rte_tel_data_add_array_string(d, s->ports[i].name);
	return 0;
}

static int
tel_port(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();
	const struct lr_stats_port *p;
	uint64_t rx = 0, rxb = 0, fwd = 0, punt = 0, drop = 0, tx = 0, txb = 0, txd = 0;
	int i;

	if (s == NULL)
		return -ENODEV;
	i = port_of(s, params);
	if (i < 0)
		return -EINVAL;
	p = &s->ports[i];
	for (unsigned q = 0; q < p->rx_queues && q < LR_MAX_QUEUES; q++) {
		const struct lr_stats_rxq *r = &s->rxq[i][q];

		rx += r->rx_packets;
		rxb += r->rx_bytes;
		fwd += r->fwd_packets;
		punt += r->punt_packets;
		for (unsigned k = 0; k < LR_DROP_MAX; k++)
			drop += r->drops[k];
	}
	for (unsigned q = 0; q < p->tx_queues && q < LR_MAX_WORKERS; q++) {
		tx += s->txq[i][q].tx_packets;
		txb += s->txq[i][q].tx_bytes;
		txd += s->txq[i][q].tx_dropped;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", p->name);
	rte_tel_data_add_dict_u64(d, "link_up", p->link_up);
	rte_tel_data_add_dict_u64(d, "speed_mbps", p->speed_mbps);
	rte_tel_data_add_dict_u64(d, "rx_queues", p->rx_queues);
	rte_tel_data_add_dict_u64(d, "tx_queues", p->tx_queues);
	rte_tel_data_add_dict_u64(d, "rx_packets", rx);
	rte_tel_data_add_dict_u64(d, "rx_bytes", rxb);
	rte_tel_data_add_dict_u64(d, "forwarded", fwd);
	rte_tel_data_add_dict_u64(d, "punts", punt);
	rte_tel_data_add_dict_u64(d, "dropped", drop);
	rte_tel_data_add_dict_u64(d, "tx_packets", tx);
	rte_tel_data_add_dict_u64(d, "tx_bytes", txb);
	rte_tel_data_add_dict_u64(d, "tx_dropped", txd);
	rte_tel_data_add_dict_u64(d, "ipackets", p->ipackets);
	rte_tel_data_add_dict_u64(d, "opackets", p->opackets);
	rte_tel_data_add_dict_u64(d, "imissed", p->imissed);
	rte_tel_data_add_dict_u64(d, "ierrors", p->ierrors);
	rte_tel_data_add_dict_u64(d, "oerrors", p->oerrors);
	rte_tel_data_add_dict_u64(d, "rx_nombuf", p->rx_nombuf);
	return 0;
}

static int
tel_drops(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();
	int i;

	if (s == NULL)
		return -ENODEV;
	i = port_of(s, params);
	if (i < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	for (unsigned k = 0; k < LR_DROP_MAX; k++) {
		uint64_t v = 0;

		for (unsigned q = 0; q < s->ports[i].rx_queues && q < LR_MAX_QUEUES; q++)
			v += s->rxq[i][q].drops[k];
		rte_tel_data_add_dict_u64(d, drop_names[k], v);
	}
	return 0;
}

static int
tel_worker(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();
	const struct lr_stats_worker *w;
	char *end;
	unsigned long i;

	if (s == NULL)
		return -ENODEV;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	i = strtoul(params, &end, 10);
	if (*end != '\0' || i >= s->n_workers)
		return -EINVAL;
	w = &s->workers[i];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore", w->lcore_id);
	rte_tel_data_add_dict_u64(d, "rx_queues", w->rx_queues);
	rte_tel_data_add_dict_u64(d, "polls", w->polls);
	rte_tel_data_add_dict_u64(d, "busy_polls", w->busy_polls);
	rte_tel_data_add_dict_u64(d, "busy_cycles", w->busy_cycles);
	rte_tel_data_add_dict_u64(d, "idle_cycles", w->idle_cycles);
	rte_tel_data_add_dict_u64(d, "rx_packets", w->rx_packets);
	rte_tel_data_add_dict_u64(d, "tx_packets", w->tx_packets);
	rte_tel_data_add_dict_u64(d, "drops", w->drops);
	return 0;
}

static int
tel_slow_path(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	const struct lr_stats_shm *s = shm();

	if (s == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
#define LR_SLOW_TEL_(field, help) rte_tel_data_add_dict_u64(d, #field, s->slow.field);
	LR_SLOW_COUNTERS(LR_SLOW_TEL_)
#undef LR_SLOW_TEL_
	return 0;
}

static int
telemetry_init(const struct lr_module_env *env __rte_unused)
{
	static bool registered;
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/linerate/info", tel_info, "Identity, worker count and packet pool use. Takes no parameters" },
		{ "/linerate/ports", tel_ports, "Port names in linerate's port order. Takes no parameters" },
		{ "/linerate/port", tel_port, "Counters of a port, summed over its queues. Parameter: port index or name" },
		{ "/linerate/drops", tel_drops, "Drops of a port by reason. Parameter: port index or name" },
		{ "/linerate/worker", tel_worker, "Counters of a worker lcore. Parameter: worker index" },
		{ "/linerate/slow_path", tel_slow_path, "Slow-path (main lcore) counters. Takes no parameters" },
	};

	if (!registered) {
		for (unsigned i = 0; i < RTE_DIM(cmds); i++)
			if (rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help) != 0)
				return -EINVAL;
		registered = true;
	}
	tel_live = true;
	return 0;
}

static void
telemetry_fini(void)
{
	tel_live = false;
}

static const struct lr_module telemetry_module = {
	.name = "telemetry",
	.order = 900,
	.init = telemetry_init,
	.fini = telemetry_fini,
};

LR_MODULE_REGISTER(telemetry_module)
