/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Feature modules: what a feature (ip/, later flow/, upf/, lb/) hands the
 * main lcore so that main.c needs no line of its own for it. A module
 * registers at load time (LR_MODULE_REGISTER); main.c initialises the
 * modules in order after the ports are configured and before the workers
 * start, polls them from the main loop, ticks their timers, and finishes
 * them in reverse order. The feature's stages (stage.h), control messages
 * (ctl.h) and tables (tset.h) are registered by the same files.
 */
#ifndef LR_MODULE_H
#define LR_MODULE_H

#include <rte_common.h>
#include <rte_mempool.h>

#include "args.h"

#define LR_MODULE_MAX 16

/** What a module's init gets. */
struct lr_module_env {
	const struct lr_args *args;
	struct rte_mempool *pool;   /**< the packet pool (slow-path frames) */
	uint16_t n_ports;
};

struct lr_module {
	const char *name;
	int order;                                     /**< init order, lowest first */
	int (*init)(const struct lr_module_env *env);  /**< 0 or -errno (start fails) */
	void (*fini)(void);                            /**< also after a failed init */
	unsigned (*poll)(void);                        /**< each main-loop turn; work done */
	void (*timer)(void);                           /**< about once a second */
	uint32_t held_mbufs;                           /**< mbufs it may keep (the pool grows by it) */
};

void lr_module_register(const struct lr_module *m);

/** Registers module m (a static const struct lr_module) when the program loads. */
#define LR_MODULE_REGISTER(m) \
	RTE_INIT(lr_module_register_##m) { lr_module_register(&(m)); }

/** Mbufs the modules may keep between main-loop turns, all together. */
uint32_t lr_module_held_mbufs(void);

/** Initialises every module in order. @return 0, or the first error. */
int lr_module_init_all(const struct lr_module_env *env);

/** Finishes the initialised modules, in reverse order. */
void lr_module_fini_all(void);

/** Polls every module. @return work done. */
unsigned lr_module_poll_all(void);

/** Ticks every module's timer. */
void lr_module_timer_all(void);

#endif /* LR_MODULE_H */
