/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IP feature as a module (core/module.h): sizes and creates its tables
 * (FIB, next hops, routes, neighbors, addresses), runs the slow path from
 * the main loop and the neighbor timer once a second. Its stages are in
 * stages.c, its control messages next to each table.
 */
#include "addr.h"
#include "fib.h"
#include "icmp.h"
#include "module.h"
#include "neigh.h"
#include "police.h"
#include "worker.h"
#include "nexthop.h"
#include "route.h"
#include "slowpath.h"

static void
ip_fini(void)
{
	lr_neigh_fini();
	lr_route_fini();
	lr_nh_fini();
	lr_fib_fini();
}

static int
ip_init(const struct lr_module_env *env)
{
	const struct lr_args *a = env->args;
	/* --routes4/--routes6 count operator routes: neighbor host routes and
	 * the local and connected routes of addresses come on top */
	uint32_t internal = a->neighbors + 3 * LR_ADDR_MAX;
	int rc;

	if ((rc = lr_fib_init(a->routes4 + internal, a->routes6 + internal)) < 0 ||
	    (rc = lr_nh_init(a->neighbors * 2 + 4096, 65536)) < 0 ||
	    (rc = lr_route_init(a->routes4 + a->routes6 + internal)) < 0 ||
	    (rc = lr_neigh_init(a->neighbors)) < 0)
		return rc;
	lr_addr_init(env->n_ports);
	lr_neigh_set_ports(env->n_ports);
	lr_neigh_configure(&(struct lr_neigh_conf){ .port_max = a->neigh_port_max,
						    .hold = a->neigh_hold,
						    .replies_only = a->neigh_replies_only != 0 });
	lr_slow_init(env->pool);
	lr_icmp_init(env->pool, a->icmp_rate);
	{
		uint32_t rate[LR_PUNT_CLASS_MAX];
		unsigned c;

		for (c = 0; c < LR_PUNT_ERROR; c++)
			rate[c] = a->punt_rate[c];
		rate[LR_PUNT_ERROR] = a->icmp_rate;
		lr_police_init(rate, RTE_MIN(lr_worker_count_lcores(), (unsigned)LR_MAX_WORKERS));
	}
	return 0;
}

static const struct lr_module ip_module = {
	.name = "ip",
	.order = 100,
	.init = ip_init,
	.fini = ip_fini,
	.poll = lr_slow_poll,
	.timer = lr_neigh_timer,
	.held_mbufs = LR_NEIGH_HOLD_TOTAL,
};
LR_MODULE_REGISTER(ip_module)
