/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * GTP-U header parsing (TS 29.281 5.1, 5.2) and the PDU Session Container
 * (TS 38.415 5.5.2): pure inline functions over the bytes of a UDP payload,
 * called by the `upf` stage per packet and by the unit tests. Written for
 * the upf feature only; no DPDK state.
 *
 *  - version 1 and PT = 1, or gtpu_bad_version;
 *  - the 8 mandatory octets, and the 4 optional ones (sequence, N-PDU,
 *    next extension type) when any of E, S, PN is set; the length field
 *    (octets after the mandatory header) within the UDP payload, or
 *    gtpu_bad_length;
 *  - with E, the extension chain: each header's length (4-octet units,
 *    length and next-type octets included) is not 0 and stays within the
 *    message (gtpu_bad_ext; gtpu_bad_container when it is the container);
 *    the PDU Session Container (0x85) yields PDU type, QFI and RQI (PDU
 *    type other than DL 0 / UL 1: gtpu_bad_container); another type whose
 *    two top bits are 1x is comprehension required: gtpu_unknown_ext; 0x
 *    ones are skipped.
 */
#ifndef LR_UPF_GTPU_H
#define LR_UPF_GTPU_H

#include <stdint.h>

#include "lr_common.h"

#define LR_GTPU_HLEN      8
#define LR_GTPU_OPT_LEN   4
#define LR_GTPU_ECHO_REQ  1
#define LR_GTPU_ECHO_REP  2
#define LR_GTPU_GPDU      255
#define LR_GTPU_EXT_PDU_SESSION 0x85
#define LR_GTPU_F_PN 0x01
#define LR_GTPU_F_S  0x02
#define LR_GTPU_F_E  0x04
#define LR_GTPU_RECOVERY_IE 14

/** What the parser found. */
struct lr_gtpu {
	uint8_t type;          /**< message type */
	uint8_t flags;         /**< first octet */
	uint8_t has_qfi;       /**< a PDU Session Container was present */
	uint8_t pdu_type;      /**< its PDU type: 0 DL, 1 UL */
	uint8_t qfi;
	uint8_t rqi;           /**< DL container's RQI bit */
	uint16_t seq;          /**< host order, valid when S */
	uint32_t teid;         /**< host order */
	uint16_t hlen;         /**< octets before the T-PDU (headers, extensions) */
	uint16_t len;          /**< octets of the message (8 + length field) */
};

/**
 * Parses the GTP-U message at p (n octets of UDP payload available).
 * @return LR_DROP_MAX when valid, else the drop reason.
 */
static inline unsigned
lr_gtpu_parse(const uint8_t *p, uint32_t n, struct lr_gtpu *g)
{
	uint32_t len, off;
	uint8_t next;

	if (n < LR_GTPU_HLEN)
		return LR_DROP_GTPU_BAD_LENGTH;
	g->flags = p[0];
	if ((p[0] >> 5) != 1 || !(p[0] & 0x10))
		return LR_DROP_GTPU_BAD_VERSION;
	g->type = p[1];
	len = LR_GTPU_HLEN + ((uint32_t)p[2] << 8 | p[3]);
	if (len > n)
		return LR_DROP_GTPU_BAD_LENGTH;
	g->len = (uint16_t)len;
	g->teid = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	g->has_qfi = 0;
	g->pdu_type = 0;
	g->qfi = 0;
	g->rqi = 0;
	g->seq = 0;
	off = LR_GTPU_HLEN;
	if (p[0] & (LR_GTPU_F_E | LR_GTPU_F_S | LR_GTPU_F_PN)) {
		if (len < LR_GTPU_HLEN + LR_GTPU_OPT_LEN)
			return LR_DROP_GTPU_BAD_LENGTH;
		g->seq = (uint16_t)(p[8] << 8 | p[9]);
		next = (p[0] & LR_GTPU_F_E) ? p[11] : 0;
		off += LR_GTPU_OPT_LEN;
		while (next != 0) {
			uint32_t elen;

			if (off >= len)
				return next == LR_GTPU_EXT_PDU_SESSION ? LR_DROP_GTPU_BAD_CONTAINER
								       : LR_DROP_GTPU_BAD_EXT;
			elen = (uint32_t)p[off] * 4;
			if (elen == 0)
				return LR_DROP_GTPU_BAD_EXT;
			if (off + elen > len)
				return next == LR_GTPU_EXT_PDU_SESSION ? LR_DROP_GTPU_BAD_CONTAINER
								       : LR_DROP_GTPU_BAD_EXT;
			if (next == LR_GTPU_EXT_PDU_SESSION) {
				uint8_t pt = p[off + 1] >> 4;

				if (pt > 1)
					return LR_DROP_GTPU_BAD_CONTAINER;
				g->has_qfi = 1;
				g->pdu_type = pt;
				g->qfi = p[off + 2] & 0x3f;
				g->rqi = pt == 0 ? (p[off + 2] >> 6) & 1 : 0;
			} else if (next & 0x80) {
				return LR_DROP_GTPU_UNKNOWN_EXT;
			}
			next = p[off + elen - 1];
			off += elen;
		}
	}
	g->hlen = (uint16_t)off;
	return LR_DROP_MAX;
}

#endif /* LR_UPF_GTPU_H */
