/* SPDX-License-Identifier: BSD-3-Clause */
/* Slow-path parsing helpers: ICMPv6 checksum, ND options (see parse.h). */
#include "parse.h"

uint16_t
lr_icmp6_cksum(const struct rte_ipv6_hdr *ip, const void *icmp, uint32_t len)
{
	uint32_t sum = rte_ipv6_phdr_cksum(ip, 0);

	sum += rte_raw_cksum(icmp, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool
lr_icmp6_cksum_ok(const struct rte_ipv6_hdr *ip, const void *icmp, uint32_t len)
{
	/* Summing over the checksum field itself gives all ones. */
	return lr_icmp6_cksum(ip, icmp, len) == 0;
}

const uint8_t *
lr_nd_find_lladdr(const uint8_t *opts, uint32_t len, uint8_t type, int *bad)
{
	const uint8_t *found = NULL;
	uint32_t off = 0;

	*bad = 0;
	while (off + 2 <= len) {
		uint32_t olen = opts[off + 1] * 8u;

		if (olen == 0 || off + olen > len) {
			*bad = -1;
			return NULL;
		}
		if (opts[off] == type && olen >= 8 && found == NULL)
			found = opts + off + 2;
		off += olen;
	}
	return found;
}
