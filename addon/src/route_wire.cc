/* SPDX-License-Identifier: BSD-3-Clause */
#include "route_wire.h"

#include "route_index.h"


#include <arpa/inet.h>

namespace lr::routes {

namespace {

/* Mirrors of the control plane's limits (control/src/services/guard.ts, model/net.ts). */
constexpr size_t kMaxString = 256; /* longer: the guard's message */
constexpr size_t kMaxText = 64;    /* an address or prefix longer than this is refused */

/** A bounded protobuf reader; any error leaves ok = false for good. */
struct Reader {
	const uint8_t *p;
	const uint8_t *end;
	bool ok = true;

	bool Done() const { return p >= end; }

	uint64_t Varint()
	{
		uint64_t v = 0;
		for (int shift = 0; shift < 64; shift += 7) {
			if (p >= end) {
				ok = false;
				return 0;
			}
			uint8_t b = *p++;
			v |= uint64_t(b & 0x7f) << shift;
			if (!(b & 0x80))
				return v;
		}
		ok = false;
		return 0;
	}

	/** A length-delimited field's body as a sub-reader. */
	Reader Sub()
	{
		uint64_t n = Varint();
		if (!ok || n > uint64_t(end - p)) {
			ok = false;
			return Reader{end, end, false};
		}
		Reader r{p, p + n};
		p += n;
		return r;
	}

	std::string_view Str()
	{
		Reader r = Sub();
		if (!r.ok) {
			ok = false;
			return {};
		}
		return std::string_view(reinterpret_cast<const char *>(r.p), size_t(r.end - r.p));
	}

	/** Skips a field of an unknown number (what protobufjs does); groups are not for us. */
	void Skip(uint32_t wire)
	{
		switch (wire) {
		case 0:
			Varint();
			break;
		case 1:
			Advance(8);
			break;
		case 2:
			Sub();
			break;
		case 5:
			Advance(4);
			break;
		default:
			ok = false;
		}
	}

	void Advance(size_t n)
	{
		if (size_t(end - p) < n)
			ok = false;
		else
			p += n;
	}

	/** Next tag: field number and wire type; false at the end or on error. */
	bool Tag(uint32_t *field, uint32_t *wire)
	{
		if (!ok || p >= end)
			return false;
		uint64_t t = Varint();
		if (!ok || t >> 32 || (t >> 3) == 0) {
			ok = false;
			return false;
		}
		*field = uint32_t(t >> 3);
		*wire = uint32_t(t & 7);
		return true;
	}
};

bool ParseDec(std::string_view s, unsigned max, unsigned *out)
{
	/* 0 or [1-9][0-9]{0,2}: no sign, no leading zero (net.ts's FOUR_PART and prefix length). */
	if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + unsigned(c - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool ParseIp4(std::string_view s, uint8_t addr[4])
{
	/* One pass: four parts of 0 or [1-9][0-9]{0,2}, at most 255, three dots. */
	size_t i = 0, n = s.size();
	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + unsigned(s[i++] - '0');
		size_t len = i - start;
		if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
			return false;
		addr[part] = uint8_t(v);
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

/** One NextHop message of an INSERT/MODIFY route of family @p family. */
bool DecodeHop(Reader r, Batch *b, Hop *h, std::string *why)
{
	std::string_view port, via;
	uint64_t weight = 0;
	bool has_port = false, has_via = false, has_weight = false;
	uint32_t f, w;
	while (r.Tag(&f, &w)) {
		if (f == 1 && w == 2 && !has_port) {
			port = r.Str();
			has_port = true;
		} else if (f == 2 && w == 2 && !has_via) {
			via = r.Str();
			has_via = true;
		} else if (f == 3 && w == 0 && !has_weight) {
			weight = r.Varint();
			has_weight = true;
		} else if (f <= 3) {
			*why = "next hop field repeated or of another wire type";
			return false;
		} else {
			r.Skip(w);
		}
	}
	if (!r.ok) {
		*why = "malformed next hop";
		return false;
	}
	if (port.empty() || port.size() > kMaxString || via.size() > kMaxString || weight > 65535) {
		*why = "next hop port, via or weight out of bounds";
		return false;
	}
	h->name = b->Name(port);
	h->weight = weight > 1 ? uint16_t(weight) : 0;
	h->has_via = 0;
	memset(h->via, 0, sizeof(h->via));
	if (!via.empty()) {
		uint8_t vf;
		if (!ParseIp(via, &vf, h->via) || BadGateway(vf, h->via)) {
			*why = "gateway refused";
			return false;
		}
		h->has_via = vf; /* its family: checked against the prefix's once that is known */
	}
	return true;
}

/**
 * One Route message: its prefix, and for INSERT/MODIFY its next hops
 * (a DELETE reads the prefix only, as the full path does).
 */
bool DecodeRoute(Reader r, uint8_t op, uint32_t max_ecmp, Batch *b, Update *u, std::string *why)
{
	std::string_view prefix;
	bool has_prefix = false;
	uint32_t first = uint32_t(b->hops.size());
	uint32_t n = 0;
	uint32_t f, w;
	while (r.Tag(&f, &w)) {
		if (f == 1 && w == 2 && !has_prefix) {
			prefix = r.Str();
			has_prefix = true;
		} else if (f == 2 && w == 2) {
			Reader hr = r.Sub();
			if (!r.ok)
				break;
			if (op == kDel)
				continue; /* not read: the full path ignores a delete's next hops */
			if (++n > max_ecmp) {
				*why = "too many next hops";
				return false;
			}
			b->hops.emplace_back();
			if (!DecodeHop(hr, b, &b->hops.back(), why))
				return false;
		} else if ((f == 3 && w == 0) || (f == 4 && w == 0)) {
			r.Varint(); /* connected, family: output only */
		} else if (f <= 4) {
			*why = "route field repeated or of another wire type";
			return false;
		} else {
			r.Skip(w);
		}
	}
	if (!r.ok) {
		*why = "malformed route";
		return false;
	}
	if (prefix.size() > kMaxString || !ParsePrefix(prefix, &u->key)) {
		*why = "prefix refused";
		return false;
	}
	if (op != kDel && n == 0) {
		*why = "no next hop";
		return false;
	}
	/* The hops were parsed before the prefix (wire order is free): family, then duplicates. */
	for (uint32_t i = first; i < first + n; i++) {
		const Hop &h = b->hops[i];
		if (h.has_via && h.has_via != u->key.family) {
			*why = "gateway of the other family";
			return false;
		}
		for (uint32_t j = first; j < i; j++) {
			const Hop &o = b->hops[j];
			if (o.name == h.name && o.has_via == h.has_via && memcmp(o.via, h.via, 16) == 0) {
				*why = "duplicate next hop";
				return false;
			}
		}
	}
	u->op = op;
	u->n_hops = uint8_t(n);
	u->hop0 = first;
	return true;
}

} // namespace

uint16_t Batch::Name(std::string_view s)
{
	/* A batch names a handful of ports: a linear scan beats a map. */
	for (size_t i = 0; i < names.size(); i++)
		if (names[i] == s)
			return uint16_t(i);
	names.emplace_back(s);
	return uint16_t(names.size() - 1);
}

bool ParseIp(std::string_view s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (s.empty() || s.size() > kMaxText)
		return false;
	if (s.find(':') == std::string_view::npos) {
		*family = 4;
		return ParseIp4(s, addr);
	}
	if (s.find('%') != std::string_view::npos)
		return false; /* zones are refused */
	char buf[kMaxText + 1];
	memcpy(buf, s.data(), s.size());
	buf[s.size()] = '\0';
	*family = 6;
	return inet_pton(AF_INET6, buf, addr) == 1;
}

bool ParsePrefix(std::string_view s, Key *k)
{
	if (s.size() > kMaxText)
		return false;
	size_t slash = s.find('/');
	if (slash == std::string_view::npos)
		return false;
	if (!ParseIp(s.substr(0, slash), &k->family, k->addr))
		return false;
	unsigned len;
	if (!ParseDec(s.substr(slash + 1), k->family == 4 ? 32 : 128, &len))
		return false;
	k->plen = uint8_t(len);
	unsigned bytes = k->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t mask = keep == 0 ? 0 : uint8_t(0xff << (8 - keep));
		if (k->addr[i] & ~mask)
			return false; /* host bits */
	}
	return true;
}

bool BadGateway(uint8_t family, const uint8_t a[16])
{
	if (family == 4) {
		if (a[0] == 0 || a[0] == 127 || (a[0] >= 224 && a[0] < 240))
			return true;
		return a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
	}
	if (a[0] == 0xff)
		return true;
	for (int i = 0; i < 15; i++)
		if (a[i])
			return false;
	return a[15] <= 1; /* :: and ::1 */
}

size_t FormatIp(uint8_t family, const uint8_t a[16], char *buf)
{
	if (family == 4)
		return size_t(snprintf(buf, 48, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]));
	/* RFC 5952 as ipaddr.js writes it: the first longest run of >= 2 zero groups is "::". */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = uint16_t(a[2 * i] << 8 | a[2 * i + 1]);
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			buf[n++] = ':';
			if (i == 0)
				buf[n++] = ':';
			i += best_len - 1;
			continue;
		}
		n += size_t(snprintf(buf + n, 48 - n, "%x", g[i]));
		if (i < 7)
			buf[n++] = ':';
	}
	buf[n] = '\0';
	return n;
}

std::string FormatPrefix(const Key &k)
{
	char buf[56];
	size_t n = FormatIp(k.family, k.addr, buf);
	n += size_t(snprintf(buf + n, sizeof(buf) - n, "/%u", k.plen));
	return std::string(buf, n);
}

bool Decode(Method m, const uint8_t *p, size_t n, uint32_t max_ecmp, Batch *b, std::string *why)
{
	b->Clear();
	Reader r{p, p + n};
	/* An update is >= 10 bytes on the wire: a bound for the reservations. */
	b->updates.reserve(n / 24 + 16);
	b->hops.reserve(n / 24 + 16);
	RouteIndex seen; /* a prefix at most once per batch */
	seen.Reserve(n / 24 + 16);
	uint32_t f, w;
	while (r.Tag(&f, &w)) {
		if (f != 1) {
			r.Skip(w);
			continue;
		}
		if (w != 2) {
			*why = "list field of another wire type";
			return false;
		}
		Update u{};
		if (m == Method::kDelete) {
			std::string_view s = r.Str();
			if (!r.ok || s.size() > kMaxString || !ParsePrefix(s, &u.key)) {
				*why = "prefix refused";
				return false;
			}
			u.op = kDel;
			u.hop0 = uint32_t(b->hops.size());
		} else if (m == Method::kAdd) {
			Reader rr = r.Sub();
			if (!r.ok) {
				*why = "malformed message";
				return false;
			}
			if (!DecodeRoute(rr, kAdd, max_ecmp, b, &u, why))
				return false;
		} else {
			Reader ur = r.Sub();
			if (!r.ok)
				break;
			uint64_t type = 0;
			bool has_type = false, has_route = false;
			Reader route{nullptr, nullptr};
			uint32_t uf, uw;
			while (ur.Tag(&uf, &uw)) {
				if (uf == 1 && uw == 0 && !has_type) {
					type = ur.Varint();
					has_type = true;
				} else if (uf == 2 && uw == 2 && !has_route) {
					route = ur.Sub();
					has_route = true;
				} else if (uf <= 2) {
					*why = "update field repeated or of another wire type";
					return false;
				} else {
					ur.Skip(uw);
				}
			}
			if (!ur.ok || !has_route || type < kAdd || type > kDel) {
				*why = "update without a valid type or route";
				return false;
			}
			if (!DecodeRoute(route, uint8_t(type), max_ecmp, b, &u, why))
				return false;
		}
		if (seen.Find(u.key) != nullptr) {
			*why = "a prefix appears twice";
			return false;
		}
		seen.Insert(u.key, uint32_t(b->updates.size()));
		b->updates.push_back(u);
	}
	if (!r.ok) {
		*why = "malformed message";
		return false;
	}
	return true;
}

/* ---- encoding ---- */

void PutVarint(std::string &out, uint64_t v)
{
	while (v >= 0x80) {
		out.push_back(char(v | 0x80));
		v >>= 7;
	}
	out.push_back(char(v));
}

void PutTag(std::string &out, uint32_t field, uint32_t wire) { PutVarint(out, uint64_t(field) << 3 | wire); }

void PutBytes(std::string &out, uint32_t field, const void *p, size_t n)
{
	PutTag(out, field, 2);
	PutVarint(out, n);
	out.append(static_cast<const char *>(p), n);
}

void EncodeRoute(std::string &out, const Key &k, const Hop *hops, size_t n, const std::vector<std::string> &names)
{
	char buf[56];
	size_t len = FormatIp(k.family, k.addr, buf);
	len += size_t(snprintf(buf + len, sizeof(buf) - len, "/%u", k.plen));
	PutBytes(out, 1, buf, len);
	for (size_t i = 0; i < n; i++) {
		const Hop &h = hops[i];
		std::string nh;
		const std::string &port = names[h.name];
		PutBytes(nh, 1, port.data(), port.size());
		if (h.has_via) {
			char via[48];
			size_t vl = FormatIp(k.family, h.via, via);
			PutBytes(nh, 2, via, vl);
		}
		if (h.weight > 1) {
			PutTag(nh, 3, 0);
			PutVarint(nh, h.weight);
		}
		PutBytes(out, 2, nh.data(), nh.size());
	}
	PutTag(out, 4, 0);
	PutVarint(out, k.family);
}

} // namespace lr::routes
