/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The route write path's own representation and its wire formats: a route
 * batch (keys, next hops, port names) decoded straight from the protobuf
 * bytes of RouteService.Write / AddRoutes / DeleteRoutes, the textual
 * forms the API uses (strict IPv4, IPv6, CIDR), and the protobuf encoding
 * of Route messages for reads. Pure C++ (no Node-API): the decoder runs on
 * a libuv worker thread.
 *
 * The decoder is the fast path only. It accepts exactly the requests that
 * the control plane's full validation (control/src/tables/route.ts) would
 * accept and that carry nothing unusual; for anything else (a malformed
 * message, an over-long string, a host bit, a duplicate, a bad gateway...)
 * it says no, and the caller runs the full validation, whose error message
 * names the field. So no error text is duplicated here, and an accepted
 * batch means the same as it would through the full path.
 */
#ifndef LR_ADDON_ROUTE_WIRE_H
#define LR_ADDON_ROUTE_WIRE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace lr::routes {

/** A route's key: family (4, 6), prefix length, address with host bits zero (IPv4 in bytes 0..3). */
struct Key {
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];

	bool operator==(const Key &o) const
	{
		return family == o.family && plen == o.plen && memcmp(addr, o.addr, 16) == 0;
	}
};

struct KeyHash {
	size_t operator()(const Key &k) const
	{
		uint64_t a, b;
		memcpy(&a, k.addr, 8);
		memcpy(&b, k.addr + 8, 8);
		uint64_t h = (a ^ (uint64_t(k.family) << 56 | uint64_t(k.plen) << 48)) * 0x9e3779b97f4a7c15ull;
		h ^= (b + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2)) * 0xbf58476d1ce4e5b9ull;
		return size_t(h ^ (h >> 31));
	}
};

/** One next hop; `name` indexes the port names of the batch or store that holds it. */
struct Hop {
	uint16_t name;
	uint16_t weight;  /**< 0: default (1), as the model stores it */
	uint8_t has_via;  /**< 0: on-link; else the gateway's family (4, 6) */
	uint8_t via[16];
};

/** Update ops, as RouteUpdate.Type numbers them. */
enum Op : uint8_t { kAdd = 1, kMod = 2, kDel = 3 };

struct Update {
	Key key;
	uint8_t op;
	uint8_t n_hops;
	uint32_t hop0; /**< first hop in Batch::hops */
};

/** Which request the bytes are. */
enum class Method { kWrite, kAdd, kDelete };

/**
 * A decoded write: updates in request order, their next hops, and the
 * port names those hops use. `old_*` is filled by Store::Check for MODIFY
 * and DELETE (the entry each replaces), so that the batch can be undone.
 */
struct Batch {
	std::vector<std::string> names;
	std::vector<Update> updates;
	std::vector<Hop> hops;
	std::vector<Update> old;      /**< aligned with updates; n_hops 0 for an add */
	std::vector<Hop> old_hops;

	/** Index of port name @p s in names (added if new). */
	uint16_t Name(std::string_view s);
	void Clear()
	{
		names.clear();
		updates.clear();
		hops.clear();
		old.clear();
		old_hops.clear();
	}
};

/**
 * Decodes a request's protobuf bytes into @p out. Returns false (and why,
 * for the log) when the request is not for the fast path; @p out is then
 * unspecified.
 */
bool Decode(Method m, const uint8_t *p, size_t n, uint32_t max_ecmp, Batch *out, std::string *why);

/** Strict textual forms, as control/src/model/net.ts accepts them. */
bool ParseIp(std::string_view s, uint8_t *family, uint8_t addr[16]);
/** "addr/len" with no host bit set. */
bool ParsePrefix(std::string_view s, Key *k);
/** Whether a gateway address is one the API refuses (unspecified, loopback, multicast, broadcast). */
bool BadGateway(uint8_t family, const uint8_t addr[16]);

/** Canonical text (IPv4 dotted quad, IPv6 RFC 5952); @p buf holds 48 bytes. Returns the length. */
size_t FormatIp(uint8_t family, const uint8_t addr[16], char *buf);
std::string FormatPrefix(const Key &k);

/* ---- protobuf encoding of reads ---- */

void PutVarint(std::string &out, uint64_t v);
void PutTag(std::string &out, uint32_t field, uint32_t wire);
void PutBytes(std::string &out, uint32_t field, const void *p, size_t n);

/**
 * Appends one linerate.v1.Route message body (prefix, next hops, family)
 * for @p k with @p n hops whose names are in @p names.
 */
void EncodeRoute(std::string &out, const Key &k, const Hop *hops, size_t n, const std::vector<std::string> &names);

} // namespace lr::routes

#endif /* LR_ADDON_ROUTE_WIRE_H */
