/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Address helpers shared by the table modules and the slow path:
 * prefix masking, classification and formatting of the control protocol's
 * 16-byte addresses (IPv4 in the first 4 bytes). Header-only, pure.
 */
#ifndef LR_IPADDR_H
#define LR_IPADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lr_common.h"

#define LR_IP_STRLEN 48  /* "ffff:...:ffff/128" + NUL */

static inline unsigned
lr_ip_len(uint8_t family)
{
	return family == LR_AF_INET ? 4 : 16;
}

static inline unsigned
lr_ip_maxplen(uint8_t family)
{
	return family == LR_AF_INET ? 32 : 128;
}

/** out = addr with the bits past plen cleared (all 16 bytes written). */
static inline void
lr_ip_mask(uint8_t family, const uint8_t *addr, uint8_t plen, uint8_t out[16])
{
	unsigned i, len = lr_ip_len(family);

	memset(out, 0, 16);
	for (i = 0; i < len; i++) {
		if (plen >= 8 * (i + 1))
			out[i] = addr[i];
		else if (plen > 8 * i)
			out[i] = addr[i] & (uint8_t)(0xff << (8 - (plen - 8 * i)));
	}
}

static inline bool
lr_ip_host_bits_set(uint8_t family, const uint8_t *addr, uint8_t plen)
{
	uint8_t m[16];

	lr_ip_mask(family, addr, plen, m);
	return memcmp(m, addr, lr_ip_len(family)) != 0;
}

static inline bool
lr_ip_in_prefix(uint8_t family, const uint8_t *addr, const uint8_t *prefix, uint8_t plen)
{
	uint8_t a[16], p[16];

	lr_ip_mask(family, addr, plen, a);
	lr_ip_mask(family, prefix, plen, p);
	return memcmp(a, p, 16) == 0;
}

static inline bool
lr_ip_is_zero(uint8_t family, const uint8_t *addr)
{
	static const uint8_t z[16];

	return memcmp(addr, z, lr_ip_len(family)) == 0;
}

static inline bool
lr_ip_is_multicast(uint8_t family, const uint8_t *addr)
{
	return family == LR_AF_INET ? (addr[0] & 0xf0) == 0xe0 : addr[0] == 0xff;
}

static inline bool
lr_ip_is_loopback(uint8_t family, const uint8_t *addr)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return family == LR_AF_INET ? addr[0] == 127 : memcmp(addr, lo6, 16) == 0;
}

static inline bool
lr_ip_is_bcast4(const uint8_t *addr)
{
	return addr[0] == 0xff && addr[1] == 0xff && addr[2] == 0xff && addr[3] == 0xff;
}

/** Usable as a unicast host address (gateway, neighbor, port address). */
static inline bool
lr_ip_is_unicast_host(uint8_t family, const uint8_t *addr)
{
	if (lr_ip_is_zero(family, addr) || lr_ip_is_multicast(family, addr) ||
	    lr_ip_is_loopback(family, addr))
		return false;
	return family != LR_AF_INET || !lr_ip_is_bcast4(addr);
}

/** "10.0.0.1" or "2001:db8::1"; with plen >= 0 adds "/plen". Returns buf. */
static inline const char *
lr_ip_fmt(uint8_t family, const uint8_t *addr, int plen, char *buf, size_t len)
{
	size_t n;

	if (inet_ntop(family == LR_AF_INET ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	n = strlen(buf);
	if (plen >= 0 && n < len)
		snprintf(buf + n, len - n, "/%u", (unsigned)plen & 0xff);
	return buf;
}

#endif /* LR_IPADDR_H */
