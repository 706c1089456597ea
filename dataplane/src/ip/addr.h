/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Port addresses (ADDR_BATCH / ADDR_DUMP). Each address is answered for in
 * ARP and ND, has a LOCAL host route (traffic to it is punted) and makes
 * its subnet CONNECTED: an on-link (glean) route on its port. Main lcore.
 */
#ifndef LR_ADDR_H
#define LR_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include "lr_ctl.h"

#define LR_ADDR_MAX 1024  /**< addresses over all ports */

void lr_addr_init(uint16_t n_ports);

/** ADDR_BATCH, all-or-nothing. @return enum lr_status. */
int lr_addr_batch(const struct lr_addr *a, uint32_t n, struct lr_ctl_status *st);

/** Copies up to max addresses (op = ADD). @return how many. */
uint32_t lr_addr_dump(struct lr_addr *out, uint32_t max);

/** Number of addresses. */
uint32_t lr_addr_count(void);

/** ip is an address of this port. */
bool lr_addr_is_ours(uint16_t port, uint8_t family, const uint8_t *ip);

/**
 * ip is inside the subnet of one of this port's addresses, or (IPv6) a
 * link-local address: a neighbor that port may learn.
 */
bool lr_addr_on_subnet(uint16_t port, uint8_t family, const uint8_t *ip);

/**
 * Source address for a packet to dst out of port: an address whose subnet
 * holds dst, else the port's first address of that family.
 * @return false when the port has none.
 */
bool lr_addr_pick_src(uint16_t port, uint8_t family, const uint8_t *dst, uint8_t out[16]);

#endif /* LR_ADDR_H */
