/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Minimal test harness for the dataplane's C tests: checks that count
 * failures, cleanup hooks that run on exit, on a fatal check and on the
 * watchdog alarm, so a failing test still removes what it created.
 */
#ifndef LR_TEST_H
#define LR_TEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int lrt_failures;

/** Registers fn to run once at exit (normal, fatal check, watchdog). */
void lrt_on_cleanup(void (*fn)(void));

/** Fails the whole test after seconds. */
void lrt_watchdog(unsigned seconds);

/** Prints the verdict. @return process exit code. */
int lrt_finish(const char *name);

#define CHECK(cond) do {                                                        \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			lrt_failures++;                                         \
		}                                                               \
	} while (0)

#define CHECK_EQ(a, b) do {                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);             \
		if (a_ != b_) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);            \
			lrt_failures++;                                         \
		}                                                               \
	} while (0)

#define CHECK_STR_HAS(s, sub) do {                                              \
		if (strstr((s), (sub)) == NULL) {                               \
			fprintf(stderr, "%s:%d: CHECK failed: \"%s\" contains \"%s\"\n", \
				__FILE__, __LINE__, (s), (sub));                \
			lrt_failures++;                                         \
		}                                                               \
	} while (0)

/** A check the rest of the test depends on: stop here. */
#define REQUIRE(cond) do {                                                      \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                \
		}                                                               \
	} while (0)

#endif /* LR_TEST_H */
