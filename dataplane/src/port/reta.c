/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RSS of a port, on the main lcore: its hash fields (LR_CTL_RSS_CONF,
 * rte_eth_dev_rss_hash_update / _conf_get, checked against the device's
 * flow_type_rss_offloads first) and its redirection table. The table (lr_ctl.h: LR_CTL_RETA_GET / SET): read
 * and written with rte_eth_dev_rss_reta_query / _update in the device's
 * group-of-64 layout, on the main lcore. A SET is checked whole (the
 * device's reta_size, every masked entry below the port's RX queue count)
 * before the device is touched, and read back after. The workers are not
 * involved: the device steers packets to queues, the queue map
 * (core/rxq.c) says who polls them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ctl.h"
#include "port.h"
#include "status.h"

/* The device's reta_size, or an error status naming its limit. */
static int
reta_size_of(uint16_t port, uint16_t *size, struct lr_ctl_status *st)
{
	struct rte_eth_dev_info info;
	int rc;

	rc = rte_eth_dev_info_get(lr_port_rt[port].dpdk_id, &info);
	if (rc != 0)
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "port %s: dev_info: %s", lr_ports[port].name,
				     rte_strerror(-rc));
	if (info.reta_size == 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0,
				     "port %s: the device (%s) has no RSS redirection table (reta_size 0)",
				     lr_ports[port].name, lr_ports[port].driver);
	if (info.reta_size > LR_RETA_MAX || info.reta_size % LR_RETA_GROUP != 0)
		return lr_status_set(st, LR_ERR_PRECONDITION, 0,
				     "port %s: the device's reta_size %u is not a multiple of %u up to %u",
				     lr_ports[port].name, info.reta_size, LR_RETA_GROUP, LR_RETA_MAX);
	*size = info.reta_size;
	return LR_OK;
}

/* The whole table into out (every mask set). */
static int
reta_read(uint16_t port, uint16_t size, struct lr_reta *out, struct lr_ctl_status *st)
{
	struct rte_eth_rss_reta_entry64 conf[LR_RETA_GROUPS];
	unsigned g, n = size / LR_RETA_GROUP;
	int rc;

	memset(conf, 0, sizeof(conf));
	for (g = 0; g < n; g++)
		conf[g].mask = UINT64_MAX;
	rc = rte_eth_dev_rss_reta_query(lr_port_rt[port].dpdk_id, conf, size);
	if (rc != 0)
		return lr_status_set(st, rc == -ENOTSUP ? LR_ERR_PRECONDITION : LR_ERR_INTERNAL, 0,
				     "port %s: reading the RSS redirection table (%u entries): %s",
				     lr_ports[port].name, size, rte_strerror(-rc));
	memset(out, 0, sizeof(*out));
	out->port_id = port;
	out->reta_size = size;
	out->rx_queues = lr_ports[port].rx_queues;
	for (g = 0; g < n; g++) {
		out->groups[g].mask = UINT64_MAX;
		memcpy(out->groups[g].queues, conf[g].reta, sizeof(out->groups[g].queues));
	}
	return LR_OK;
}

static int
reta_get_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	     struct lr_ctl_status *st)
{
	uint16_t size, port;
	int rc;

	if (h->len < sizeof(*h) + sizeof(uint16_t))
		return lr_status_set(st, LR_ERR_INVALID, 0, "RETA_GET: lr_reta expected");
	memcpy(&port, h + 1, sizeof(port));  /* port_id, the first field */
	if (port >= lr_n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "port_id: no port %u", port);
	rc = reta_size_of(port, &size, st);
	if (rc == LR_OK)
		rc = reta_read(port, size, out, st);
	if (rc != LR_OK)
		return rc;
	*count = 1;
	*payload = sizeof(struct lr_reta);
	return LR_OK;
}

static int
reta_set_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	     struct lr_ctl_status *st)
{
	static struct lr_reta r;  /* main lcore only; 4 KiB off the stack */
	const struct lr_reta *req = &r;
	struct rte_eth_rss_reta_entry64 conf[LR_RETA_GROUPS];
	unsigned g, j, n, set = 0;
	uint16_t size, port;
	int rc;

	if (h->len != sizeof(*h) + sizeof(r))
		return lr_status_set(st, LR_ERR_INVALID, 0, "RETA_SET: one lr_reta of %zu bytes expected", sizeof(r));
	memcpy(&r, h + 1, sizeof(r));
	port = req->port_id;
	if (port >= lr_n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "port_id: no port %u", port);
	rc = reta_size_of(port, &size, st);
	if (rc != LR_OK)
		return rc;
	if (req->reta_size != size)
		return lr_status_set(st, LR_ERR_INVALID, 0, "reta_size: %u, but port %s's table has %u entries",
				     req->reta_size, lr_ports[port].name, size);
	n = size / LR_RETA_GROUP;
	memset(conf, 0, sizeof(conf));
	for (g = 0; g < LR_RETA_GROUPS; g++) {
		if (g >= n && req->groups[g].mask != 0)
			return lr_status_set(st, LR_ERR_INVALID, g, "groups[%u]: beyond the %u groups of a %u-entry table",
					     g, n, size);
		if (g >= n)
			continue;
		conf[g].mask = req->groups[g].mask;
		for (j = 0; j < LR_RETA_GROUP; j++) {
			if (!(req->groups[g].mask & (1ull << j)))
				continue;
			if (req->groups[g].queues[j] >= lr_ports[port].rx_queues)
				return lr_status_set(st, LR_ERR_INVALID, g,
						     "groups[%u].queues[%u]: queue %u, but port %s has %u RX queue(s)",
						     g, j, req->groups[g].queues[j], lr_ports[port].name,
						     lr_ports[port].rx_queues);
			conf[g].reta[j] = req->groups[g].queues[j];
			set++;
		}
	}
	if (set == 0)
		return lr_status_set(st, LR_ERR_INVALID, 0, "groups: no entry masked for writing");
	rc = rte_eth_dev_rss_reta_update(lr_port_rt[port].dpdk_id, conf, size);
	if (rc != 0)
		return lr_status_set(st, rc == -ENOTSUP ? LR_ERR_PRECONDITION : LR_ERR_INTERNAL, 0,
				     "port %s: writing the RSS redirection table: %s", lr_ports[port].name,
				     rte_strerror(-rc));
	rc = reta_read(port, size, out, st);
	if (rc != LR_OK)
		return rc;
	*count = 1;
	*payload = sizeof(struct lr_reta);
	return LR_OK;
}

/* lr_ctl.h's field names are DPDK's bits. */
#define RSS_CHECK_(sym, name, bit) _Static_assert(RTE_ETH_RSS_##sym == LR_RSS_B(bit), "RTE_ETH_RSS_" #sym);
LR_RSS_FIELDS(RSS_CHECK_)
#undef RSS_CHECK_
#define RSS_GROUP_CHECK_(sym, name, mask) _Static_assert(RTE_ETH_RSS_##sym == (mask), "RTE_ETH_RSS_" #sym);
LR_RSS_GROUPS(RSS_GROUP_CHECK_)
#undef RSS_GROUP_CHECK_

/* The name of bit b of rss_hf, NULL when lr_ctl.h names none. */
static const char *
rss_field_name(unsigned b)
{
#define RSS_NAME_(sym, name, bit) if (b == (bit)) return name;
	LR_RSS_FIELDS(RSS_NAME_)
#undef RSS_NAME_
	return NULL;
}

/* "ipv4,ipv4-tcp,..." of mask into buf (bits without a name in hex). */
static const char *
rss_names(uint64_t mask, char *buf, size_t cap)
{
	size_t n = 0;
	unsigned b;

	buf[0] = '\0';
	for (b = 0; b < 64 && n < cap; b++) {
		const char *nm;

		if (!(mask & LR_RSS_B(b)))
			continue;
		nm = rss_field_name(b);
		if (nm != NULL)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", nm);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%sbit%u", n ? "," : "", b);
	}
	if (mask == 0)
		snprintf(buf, cap, "none");
	return buf;
}

/* RSS_CONF: see lr_ctl.h. */
static int
rss_conf_msg(const struct lr_ctl_hdr *h, void *out, uint32_t *count, size_t *payload,
	     struct lr_ctl_status *st)
{
	struct lr_rss_conf req, *rep = out;
	struct rte_eth_rss_conf conf;
	struct rte_eth_dev_info info;
	char names[LR_CTL_MSG_LEN];
	uint16_t pid;
	int rc;

	if (h->len != sizeof(*h) + sizeof(req))
		return lr_status_set(st, LR_ERR_INVALID, 0, "RSS_CONF: one lr_rss_conf of %zu bytes expected", sizeof(req));
	memcpy(&req, h + 1, sizeof(req));
	if (req.port_id >= lr_n_ports)
		return lr_status_set(st, LR_ERR_NOT_FOUND, 0, "port_id: no port %u (%u ports)", req.port_id, lr_n_ports);
	pid = lr_port_rt[req.port_id].dpdk_id;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "port %s: dev_info: %s", lr_ports[req.port_id].name,
				     rte_strerror(-rc));
	if (req.set) {
		uint64_t extra = req.rss_hf & ~info.flow_type_rss_offloads;

		if (info.flow_type_rss_offloads == 0)
			return lr_status_set(st, LR_ERR_PRECONDITION, 0,
					     "port %s: the device (%s) hashes on no RSS field (flow_type_rss_offloads 0)",
					     lr_ports[req.port_id].name, lr_ports[req.port_id].driver);
		if (req.rss_hf == 0)
			return lr_status_set(st, LR_ERR_INVALID, 0, "rss_hf: no field");
		if (extra != 0)
			return lr_status_set(st, LR_ERR_INVALID, 0, "rss_hf: port %s (%s) cannot hash on %s; it supports %s",
					     lr_ports[req.port_id].name, lr_ports[req.port_id].driver,
					     rss_field_name((unsigned)__builtin_ctzll(extra)) ?: "that bit",
					     rss_names(info.flow_type_rss_offloads, names, 120));
		if (lr_ports[req.port_id].rx_queues < 2)
			return lr_status_set(st, LR_ERR_PRECONDITION, 0,
					     "port %s has 1 RX queue: RSS is off; give it 2 or more first",
					     lr_ports[req.port_id].name);
		memset(&conf, 0, sizeof(conf));
		conf.rss_hf = req.rss_hf;
		rc = rte_eth_dev_rss_hash_update(pid, &conf);
		if (rc != 0)
			return lr_status_set(st, rc == -ENOTSUP ? LR_ERR_PRECONDITION : LR_ERR_INVALID, 0,
					     "port %s: the device refused the RSS hash fields %s: %s", lr_ports[req.port_id].name,
					     rss_names(req.rss_hf, names, 120), rte_strerror(-rc));
		lr_ports[req.port_id].rss_hf = req.rss_hf;
	}
	memset(rep, 0, sizeof(*rep));
	rep->port_id = req.port_id;
	rep->rx_queues = lr_ports[req.port_id].rx_queues;
	rep->supported = info.flow_type_rss_offloads;
	rep->rss_hf_default = lr_port_rss_default(&info);
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_rss_hash_conf_get(pid, &conf);
	if (rc == 0)
		rep->rss_hf = conf.rss_hf;
	else if (rc != -ENOTSUP)
		return lr_status_set(st, LR_ERR_INTERNAL, 0, "port %s: reading the RSS hash fields: %s",
				     lr_ports[req.port_id].name, rte_strerror(-rc));
	/* -ENOTSUP: the device has no RSS (af_packet, memif): rss_hf 0. */
	*count = 1;
	*payload = sizeof(*rep);
	return LR_OK;
}

static const struct lr_ctl_handler rss_conf_handler = {
	.type = LR_CTL_RSS_CONF, .shape = LR_CTL_CALL, .reply_max = sizeof(struct lr_rss_conf), .call = rss_conf_msg,
};
LR_CTL_REGISTER(rss_conf_handler)

static const struct lr_ctl_handler reta_get_handler = {
	.type = LR_CTL_RETA_GET, .shape = LR_CTL_CALL, .reply_max = sizeof(struct lr_reta), .call = reta_get_msg,
};
LR_CTL_REGISTER(reta_get_handler)

static const struct lr_ctl_handler reta_set_handler = {
	.type = LR_CTL_RETA_SET, .shape = LR_CTL_CALL, .reply_max = sizeof(struct lr_reta), .call = reta_set_msg,
};
LR_CTL_REGISTER(reta_set_handler)
