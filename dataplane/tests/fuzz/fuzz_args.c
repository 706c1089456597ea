/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the dataplane's command line (core/args.c), which is
 * what `linerate serve` turns a config file into. The input is split at
 * NUL bytes into argv; every parse must end in 0, 1 (help) or -1 with an
 * error message, never a crash, an overflow or a silent empty error.
 * Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[64];
	char err[256];
	struct lr_args *a;
	int argc = 1, rc;
	size_t i, start = 0;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	a = malloc(sizeof(*a));
	if (buf == NULL || a == NULL) {
		free(buf);
		free(a);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"linerate-dp";
	for (i = 0; i <= size && argc < 63; i++)
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	err[0] = '\0';
	rc = lr_args_parse(argc, argv, a, err, sizeof(err));
	if (rc < -1 || rc > 1 || (rc == -1 && err[0] == '\0'))
		abort();
	if (rc == 0 && (a->n_ports > LR_MAX_PORTS || strnlen(a->ctl_path, sizeof(a->ctl_path)) == sizeof(a->ctl_path)))
		abort();
	free(a);
	free(buf);
	return 0;
}
