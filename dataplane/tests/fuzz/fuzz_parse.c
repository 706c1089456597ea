/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the frame parser the workers run on every packet
 * (ip/parse.h lr_parse_frame) and the ND option walker the slow path runs
 * on every NS / NA (lr_nd_find_lladdr), on arbitrary bytes. The first
 * byte picks the parser flags, the second how much of the frame sits in
 * the first segment (avail < pkt_len, as in a chained mbuf); the rest is
 * the frame. Checks the contract too: a forwarded or punted frame has its
 * headers inside `avail`, and a drop names a real reason.
 * Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, 1 } };
	uint8_t *frame;
	uint32_t avail, c;
	unsigned flags;
	uint64_t ol;
	size_t len;

	if (size < 2)
		return 0;
	flags = data[0] & (LR_PARSE_HW_IP_CKSUM | LR_PARSE_ALLOW_CLASS_E);
	ol = (data[0] & 0x4) ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : (data[0] & 0x8) ? RTE_MBUF_F_RX_IP_CKSUM_BAD : 0;
	len = size - 2;
	avail = (uint32_t)len;
	if (data[1] & 0x80)  /* a first segment shorter than the frame */
		avail = (uint32_t)(len * (data[1] & 0x7f) / 127);
	/* an exact-size copy: ASan sees any read past what the NIC wrote */
	frame = malloc(avail ? avail : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 2, avail);
	c = lr_parse_frame(frame, avail, (uint32_t)len, &mac, ol, flags);
	switch (LR_PARSE_CLS(c)) {
	case LR_CLS_FWD4:
		if (avail < LR_ETH_HLEN + 20)
			abort();
		break;
	case LR_CLS_FWD6:
		if (avail < LR_ETH_HLEN + LR_IP6_HLEN)
			abort();
		break;
	case LR_CLS_PUNT:
		if (avail < LR_ETH_HLEN)
			abort();
		break;
	default:
		if (LR_PARSE_CLS(c) != LR_CLS_DROP || LR_PARSE_REASON(c) >= LR_DROP_MAX)
			abort();
		break;
	}
	/* ND options after an NS / NA body, as the slow path walks them */
	if (avail > LR_ETH_HLEN + LR_IP6_HLEN + 24) {
		int bad;
		uint32_t off = LR_ETH_HLEN + LR_IP6_HLEN + 24;
		const uint8_t *o = lr_nd_find_lladdr(frame + off, avail - off, data[0] & 1 ? 1 : 2, &bad);

		if (o != NULL && (o < frame + off || o + 6 > frame + avail))
			abort();
	}
	free(frame);
	return 0;
}
