/* SPDX-License-Identifier: BSD-3-Clause */
#include "route_store.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lr::routes {

namespace {

constexpr uint32_t kRecMagic = 0x4a52524c;  /* "LRRJ" little-endian */
constexpr uint32_t kSnapMagic = 0x5352524c; /* "LRRS" */
constexpr uint32_t kSnapVersion = 1;
constexpr uint64_t kCompactBytes = 64ull << 20;

struct RecHeader {
	uint32_t magic;
	uint32_t len; /**< payload bytes */
	uint64_t seq;
	uint32_t crc; /**< CRC-32C of the payload */
	uint32_t pad;
};

struct SnapHeader {
	uint32_t magic;
	uint32_t version;
	uint64_t seq;
};

uint32_t Crc32c(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static std::once_flag once;
	std::call_once(once, [] {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	});
	uint32_t c = ~0u;
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

template <typename T> void Put(std::string &out, T v) { out.append(reinterpret_cast<const char *>(&v), sizeof(v)); }

/** Bounded reader of a record payload. */
struct In {
	const uint8_t *p, *end;
	bool ok = true;
	template <typename T> T Get()
	{
		T v{};
		if (size_t(end - p) < sizeof(T)) {
			ok = false;
			return v;
		}
		memcpy(&v, p, sizeof(T));
		p += sizeof(T);
		return v;
	}
	void Bytes(void *dst, size_t n)
	{
		if (size_t(end - p) < n) {
			ok = false;
			return;
		}
		memcpy(dst, p, n);
		p += n;
	}
};

void PutHop(std::string &out, uint16_t name, const Hop &h)
{
	Put<uint16_t>(out, name);
	Put<uint16_t>(out, h.weight);
	Put<uint8_t>(out, h.has_via);
	if (h.has_via)
		out.append(reinterpret_cast<const char *>(h.via), h.has_via == 4 ? 4 : 16);
}

void PutKey(std::string &out, const Key &k, uint8_t op, uint8_t n_hops)
{
	Put<uint8_t>(out, op);
	Put<uint8_t>(out, k.family);
	Put<uint8_t>(out, k.plen);
	Put<uint8_t>(out, n_hops);
	out.append(reinterpret_cast<const char *>(k.addr), k.family == 4 ? 4 : 16);
}

void PutNames(std::string &out, const std::vector<std::string> &names)
{
	Put<uint16_t>(out, uint16_t(names.size()));
	for (const std::string &s : names) {
		Put<uint16_t>(out, uint16_t(s.size()));
		out.append(s);
	}
}

/** A payload back into a batch; false if it does not parse. */
bool Deserialize(const uint8_t *p, size_t n, Batch *b)
{
	b->Clear();
	In in{p, p + n};
	uint16_t n_names = in.Get<uint16_t>();
	for (uint16_t i = 0; i < n_names && in.ok; i++) {
		uint16_t len = in.Get<uint16_t>();
		std::string s(len, '\0');
		in.Bytes(s.data(), len);
		b->names.push_back(std::move(s));
	}
	uint32_t count = in.Get<uint32_t>();
	if (!in.ok || count > n)
		return false;
	b->updates.reserve(count);
	for (uint32_t i = 0; i < count && in.ok; i++) {
		Update u{};
		u.op = in.Get<uint8_t>();
		u.key.family = in.Get<uint8_t>();
		u.key.plen = in.Get<uint8_t>();
		u.n_hops = in.Get<uint8_t>();
		if ((u.key.family != 4 && u.key.family != 6) || u.op < kAdd || u.op > kDel)
			return false;
		in.Bytes(u.key.addr, u.key.family == 4 ? 4 : 16);
		u.hop0 = uint32_t(b->hops.size());
		for (uint8_t j = 0; j < u.n_hops && in.ok; j++) {
			Hop h{};
			h.name = in.Get<uint16_t>();
			h.weight = in.Get<uint16_t>();
			h.has_via = in.Get<uint8_t>();
			if (h.name >= b->names.size() || (h.has_via != 0 && h.has_via != 4 && h.has_via != 6))
				return false;
			if (h.has_via)
				in.Bytes(h.via, h.has_via == 4 ? 4 : 16);
			b->hops.push_back(h);
		}
		b->updates.push_back(u);
	}
	return in.ok && in.p == in.end;
}

bool ReadFile(const std::string &path, std::string *out, bool *exists, std::string *err)
{
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*exists = false;
		if (errno == ENOENT)
			return true;
		*err = path + ": " + strerror(errno);
		return false;
	}
	*exists = true;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		*err = path + ": " + strerror(errno);
		close(fd);
		return false;
	}
	out->resize(size_t(st.st_size));
	size_t off = 0;
	while (off < out->size()) {
		ssize_t r = read(fd, out->data() + off, out->size() - off);
		if (r <= 0) {
			*err = path + ": " + (r < 0 ? strerror(errno) : "short read");
			close(fd);
			return false;
		}
		off += size_t(r);
	}
	close(fd);
	return true;
}

bool WriteAll(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t w = write(fd, s.data() + off, s.size() - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		off += size_t(w);
	}
	return true;
}

std::string Record(uint64_t seq, const std::string &payload)
{
	RecHeader h{kRecMagic, uint32_t(payload.size()), seq,
		    Crc32c(reinterpret_cast<const uint8_t *>(payload.data()), payload.size()), 0};
	std::string out(reinterpret_cast<const char *>(&h), sizeof(h));
	out += payload;
	return out;
}

} // namespace

size_t Store::Size() const
{
	std::shared_lock lock(mu_);
	return map_.Size();
}

size_t Store::Count(uint8_t family) const
{
	std::shared_lock lock(mu_);
	return family == 4 ? count4_ : map_.Size() - count4_;
}

bool Store::Check(Batch &b, const std::vector<bool> &known, uint32_t max_batch, std::string *why) const
{
	if (b.updates.empty() || b.updates.size() > max_batch) {
		*why = "batch size";
		return false;
	}
	for (const Hop &h : b.hops) {
		if (h.name >= known.size() || !known[h.name]) {
			*why = "unknown port";
			return false;
		}
	}
	std::shared_lock lock(mu_);
	b.old.assign(b.updates.size(), Update{});
	b.old_hops.clear();
	const size_t n = b.updates.size();
	for (size_t i = 0; i < n; i++) {
		const Update &u = b.updates[i];
		map_.PrefetchAhead(i, n, [&b](size_t j) -> const Key & { return b.updates[j].key; });
		const RouteIndex::Slot *it = map_.Find(u.key);
		if ((u.op == kAdd) != (it == nullptr)) {
			*why = u.op == kAdd ? "prefix present" : "prefix absent";
			return false;
		}
		Update &o = b.old[i];
		o.key = u.key;
		o.hop0 = uint32_t(b.old_hops.size());
		if (it == nullptr)
			continue;
		const std::vector<Hop> &hops = sets_[it->value].hops;
		o.op = kAdd;
		o.n_hops = uint8_t(hops.size());
		for (Hop h : hops) {
			h.name = b.Name(names_[h.name]);
			b.old_hops.push_back(h);
		}
	}
	return true;
}

uint16_t Store::StoreName(const std::string &s)
{
	auto it = name_ids_.find(s);
	if (it != name_ids_.end())
		return it->second;
	names_.push_back(s);
	uint16_t id = uint16_t(names_.size() - 1);
	name_ids_.emplace(s, id);
	return id;
}

uint32_t Store::Intern(const Batch &b, const Update &u)
{
	std::string key;
	std::vector<Hop> hops(u.n_hops);
	for (uint8_t j = 0; j < u.n_hops; j++) {
		Hop h = b.hops[u.hop0 + j];
		h.name = StoreName(b.names[h.name]);
		hops[j] = h;
		PutHop(key, h.name, h);
	}
	auto it = set_ids_.find(key);
	if (it != set_ids_.end()) {
		sets_[it->second].refs++;
		return it->second;
	}
	uint32_t id;
	if (!free_sets_.empty()) {
		id = free_sets_.back();
		free_sets_.pop_back();
	} else {
		id = uint32_t(sets_.size());
		sets_.emplace_back();
	}
	sets_[id].hops = std::move(hops);
	sets_[id].refs = 1;
	set_ids_.emplace(std::move(key), id);
	return id;
}

void Store::Unref(uint32_t id)
{
	Set &s = sets_[id];
	if (--s.refs > 0)
		return;
	std::string key;
	for (const Hop &h : s.hops)
		PutHop(key, h.name, h);
	set_ids_.erase(key);
	s.hops.clear();
	free_sets_.push_back(id);
}

void Store::ApplyLocked(const Batch &b)
{
	/* Consecutive updates through the same next hops (the common case) share one lookup. */
	const Update *prev = nullptr;
	uint32_t prev_set = 0;
	map_.Reserve(map_.Size() + b.updates.size());
	const size_t n = b.updates.size();
	for (size_t i = 0; i < n; i++) {
		const Update &u = b.updates[i];
		map_.PrefetchAhead(i, n, [&b](size_t j) -> const Key & { return b.updates[j].key; });
		if (u.op == kDel) {
			RouteIndex::Slot *it = map_.Find(u.key);
			if (it == nullptr)
				continue; /* a replay only: Check saw it present */
			Unref(it->value);
			map_.Erase(it);
			if (u.key.family == 4)
				count4_--;
			continue;
		}
		bool same = prev != nullptr && prev->n_hops == u.n_hops;
		for (uint8_t j = 0; same && j < u.n_hops; j++) {
			const Hop &x = b.hops[prev->hop0 + j], &y = b.hops[u.hop0 + j];
			same = x.name == y.name && x.weight == y.weight && x.has_via == y.has_via &&
			       memcmp(x.via, y.via, 16) == 0;
		}
		uint32_t set;
		if (same) {
			set = prev_set;
			sets_[set].refs++;
		} else {
			set = Intern(b, u);
		}
		prev = &u;
		prev_set = set;
		RouteIndex::Slot *it = map_.Find(u.key);
		if (it != nullptr) {
			Unref(it->value);
			it->value = set;
		} else {
			map_.Insert(u.key, set);
			if (u.key.family == 4)
				count4_++;
		}
	}
}

void Store::ApplyMemory(const Batch &b)
{
	std::unique_lock lock(mu_);
	ApplyLocked(b);
}

void Store::Serialize(const Batch &b, std::string &out) const
{
	PutNames(out, b.names);
	Put<uint32_t>(out, uint32_t(b.updates.size()));
	for (const Update &u : b.updates) {
		uint8_t n = u.op == kDel ? 0 : u.n_hops;
		PutKey(out, u.key, u.op, n);
		for (uint8_t j = 0; j < n; j++)
			PutHop(out, b.hops[u.hop0 + j].name, b.hops[u.hop0 + j]);
	}
}

std::string Store::SerializeAll() const
{
	std::string out;
	out.reserve(map_.Size() * 32 + 64);
	PutNames(out, names_);
	Put<uint32_t>(out, uint32_t(map_.Size()));
	for (const auto &[key, set] : map_.Entries()) {
		const std::vector<Hop> &hops = sets_[set].hops;
		PutKey(out, key, kAdd, uint8_t(hops.size()));
		for (const Hop &h : hops)
			PutHop(out, h.name, h);
	}
	return out;
}

bool Store::Journal(const Batch &b, std::string *err)
{
	if (fd_ < 0)
		return true;
	std::string payload;
	payload.reserve(64 + b.updates.size() * 32);
	Serialize(b, payload);
	std::string rec = Record(seq_ + 1, payload);
	if (!WriteAll(fd_, rec) || fdatasync(fd_) != 0) {
		*err = std::string("route journal write failed: ") + strerror(errno);
		/* Cut off what reached the file: the batch was not acknowledged. */
		if (ftruncate(fd_, off_t(journal_bytes_)) != 0) {
			*err += "; and cannot cut it off";
			Close(); /* no more writes on a journal of unknown content */
		}
		return false;
	}
	seq_++;
	journal_bytes_ += rec.size();
	return true;
}

void Store::Apply(const Batch &b)
{
	std::unique_lock lock(mu_);
	ApplyLocked(b);
	if (fd_ >= 0 && journal_bytes_ > std::max(kCompactBytes, snap_bytes_)) {
		std::string cerr;
		CompactLocked(dir_, &cerr); /* on failure the journal keeps growing; Load still works */
	}
}

bool Store::Commit(const Batch &b, std::string *err)
{
	if (!Journal(b, err))
		return false;
	Apply(b);
	return true;
}

bool Store::Get(const Key &k, Entry *out, std::vector<std::string> *names) const
{
	std::shared_lock lock(mu_);
	const RouteIndex::Slot *it = map_.Find(k);
	if (it == nullptr)
		return false;
	out->key = k;
	out->hops = sets_[it->value].hops;
	*names = names_;
	return true;
}

Snapshot Store::Copy(bool sorted) const
{
	std::shared_lock lock(mu_);
	Snapshot s;
	s.routes = map_.Entries();
	s.sets.reserve(sets_.size());
	for (const Set &set : sets_)
		s.sets.push_back(set.hops);
	s.names = names_;
	lock.unlock();
	if (!sorted)
		return s;
	/* In prefix order (IPv4 first), as `ip route` and VPP's FIB show them: stable across deletes. */
	std::sort(s.routes.begin(), s.routes.end(), [](const RouteIndex::Slot &a, const RouteIndex::Slot &b) {
		if (a.key.family != b.key.family)
			return a.key.family < b.key.family;
		int c = memcmp(a.key.addr, b.key.addr, 16);
		return c != 0 ? c < 0 : a.key.plen < b.key.plen;
	});
	return s;
}

bool Store::Load(const std::string &dir, std::string *err)
{
	std::unique_lock lock(mu_);
	Close();
	dir_ = dir;
	std::string snap_path = dir + "/routes.snap", journal_path = dir + "/routes.journal";
	std::string data;
	bool exists = false;
	Batch b;
	if (!ReadFile(snap_path, &data, &exists, err))
		return false;
	seq_ = 0;
	if (exists) {
		SnapHeader sh;
		RecHeader rh;
		if (data.size() < sizeof(sh) + sizeof(rh)) {
			*err = snap_path + ": too short";
			return false;
		}
		memcpy(&sh, data.data(), sizeof(sh));
		memcpy(&rh, data.data() + sizeof(sh), sizeof(rh));
		const uint8_t *payload = reinterpret_cast<const uint8_t *>(data.data()) + sizeof(sh) + sizeof(rh);
		if (sh.magic != kSnapMagic || sh.version != kSnapVersion || rh.magic != kRecMagic ||
		    rh.len != data.size() - sizeof(sh) - sizeof(rh) || Crc32c(payload, rh.len) != rh.crc ||
		    !Deserialize(payload, rh.len, &b)) {
			*err = snap_path + ": not a version 1 linerate route snapshot, or corrupt";
			return false;
		}
		ApplyLocked(b);
		seq_ = sh.seq;
		snap_bytes_ = data.size();
	}
	if (!ReadFile(journal_path, &data, &exists, err))
		return false;
	size_t off = 0;
	while (off < data.size()) {
		RecHeader rh;
		bool whole = data.size() - off >= sizeof(rh);
		if (whole)
			memcpy(&rh, data.data() + off, sizeof(rh));
		whole = whole && rh.magic == kRecMagic && data.size() - off - sizeof(rh) >= rh.len;
		const uint8_t *payload = reinterpret_cast<const uint8_t *>(data.data()) + off + sizeof(rh);
		bool good = whole && Crc32c(payload, rh.len) == rh.crc && Deserialize(payload, rh.len, &b);
		bool last = !whole || off + sizeof(rh) + rh.len == data.size();
		if (!good) {
			if (!last) {
				*err = journal_path + ": corrupt record at byte " + std::to_string(off);
				return false;
			}
			/* The torn append of a batch that was never acknowledged. */
			if (truncate(journal_path.c_str(), off_t(off)) != 0) {
				*err = journal_path + ": cannot cut off a torn record: " + strerror(errno);
				return false;
			}
			data.resize(off);
			break;
		}
		if (rh.seq > seq_) {
			if (rh.seq != seq_ + 1) {
				*err = journal_path + ": seq " + std::to_string(rh.seq) + " after " + std::to_string(seq_);
				return false;
			}
			ApplyLocked(b);
			seq_ = rh.seq;
		}
		off += sizeof(rh) + rh.len;
	}
	fd_ = open(journal_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd_ < 0) {
		*err = journal_path + ": " + strerror(errno);
		return false;
	}
	journal_bytes_ = data.size();
	return true;
}

bool Store::Compact(const std::string &dir, std::string *err)
{
	std::unique_lock lock(mu_);
	return CompactLocked(dir, err);
}

bool Store::CompactLocked(const std::string &dir, std::string *err)
{
	std::string tmp = dir + "/routes.snap.tmp", snap = dir + "/routes.snap";
	std::string payload = SerializeAll();
	SnapHeader sh{kSnapMagic, kSnapVersion, seq_};
	std::string out(reinterpret_cast<const char *>(&sh), sizeof(sh));
	out += Record(seq_, payload);
	int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || !WriteAll(fd, out) || fsync(fd) != 0) {
		*err = tmp + ": " + strerror(errno);
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	if (rename(tmp.c_str(), snap.c_str()) != 0) {
		*err = snap + ": " + strerror(errno);
		return false;
	}
	int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	snap_bytes_ = out.size();
	/* The snapshot covers every record: start an empty journal (records <= seq are skipped anyway). */
	if (fd_ >= 0 && dir != dir_) {
		close(fd_);
		fd_ = -1;
	}
	dir_ = dir;
	std::string journal = dir + "/routes.journal";
	if (fd_ < 0) {
		fd_ = open(journal.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd_ < 0) {
			*err = journal + ": " + strerror(errno);
			return false;
		}
	}
	if (ftruncate(fd_, 0) != 0 || fsync(fd_) != 0) {
		*err = journal + ": " + strerror(errno);
		return false;
	}
	journal_bytes_ = 0;
	return true;
}

void Store::Close()
{
	if (fd_ >= 0)
		close(fd_);
	fd_ = -1;
}

} // namespace lr::routes
