/* SPDX-License-Identifier: BSD-3-Clause */
/* Test harness (see lrtest.h). */
#include "lrtest.h"

int lrt_failures;

#define MAX_HOOKS 8
static void (*hooks[MAX_HOOKS])(void);
static int n_hooks;

static void
run_hooks(void)
{
	while (n_hooks > 0)
		hooks[--n_hooks]();
}

void
lrt_on_cleanup(void (*fn)(void))
{
	static int registered;

	if (!registered) {
		atexit(run_hooks);
		registered = 1;
	}
	if (n_hooks < MAX_HOOKS)
		hooks[n_hooks++] = fn;
}

static void
on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "watchdog: test took too long\n");
	exit(1);  /* runs the cleanup hooks */
}

void
lrt_watchdog(unsigned seconds)
{
	signal(SIGALRM, on_alarm);
	alarm(seconds);
}

int
lrt_finish(const char *name)
{
	if (lrt_failures != 0) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, lrt_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}
