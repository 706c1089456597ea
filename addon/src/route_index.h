/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * RouteIndex: the route table's map from Key to a 32-bit value, built for
 * a million entries: the entries sit in one dense array (iteration and
 * copies are a memcpy) and an open-addressing table of entry numbers with
 * linear probing (load <= 1/2, backward-shift deletion, no tombstones)
 * finds them. No allocation per entry, 24 + 8..16 bytes per route;
 * std::unordered_map spent most of a batch in malloc and rehashing.
 * Not thread-safe: the store locks around it.
 */
#ifndef LR_ADDON_ROUTE_INDEX_H
#define LR_ADDON_ROUTE_INDEX_H

#include <cstdint>
#include <vector>

#include "route_wire.h"

namespace lr::routes {

class RouteIndex {
public:
	struct Slot {
		Key key;
		uint32_t value;
	};

	size_t Size() const { return entries_.size(); }
	const std::vector<Slot> &Entries() const { return entries_; }

	void Reserve(size_t n)
	{
		if (n * 2 > table_.size())
			Rehash(n * 2);
		entries_.reserve(n);
	}

	/** The entry of @p k, or nullptr. */
	Slot *Find(const Key &k)
	{
		if (table_.empty())
			return nullptr;
		for (size_t i = KeyHash()(k) & mask_;; i = (i + 1) & mask_) {
			uint32_t e = table_[i];
			if (e == 0)
				return nullptr;
			if (entries_[e - 1].key == k)
				return &entries_[e - 1];
		}
	}
	const Slot *Find(const Key &k) const { return const_cast<RouteIndex *>(this)->Find(k); }

	/*
	 * A batch walks a million-entry table at random: each Find misses the
	 * cache twice (its slot, then its entry). Loops over a batch call
	 * PrefetchSlot on the key kFar ahead and PrefetchEntry on the key kNear
	 * ahead (whose slot has landed by then), so that Find hits.
	 */
	static constexpr size_t kFar = 16, kNear = 8;

	/** Starts loading the home slot of @p k. */
	void PrefetchSlot(const Key &k) const
	{
		if (!table_.empty())
			__builtin_prefetch(&table_[KeyHash()(k) & mask_]);
	}

	/** Starts loading the entry the home slot of @p k names (after PrefetchSlot). */
	void PrefetchEntry(const Key &k) const
	{
		if (table_.empty())
			return;
		uint32_t e = table_[KeyHash()(k) & mask_];
		if (e != 0)
			__builtin_prefetch(&entries_[e - 1]);
	}

	/** Both prefetches of a loop at index @p i over @p n keys that @p key(j) returns. */
	template <typename F> void PrefetchAhead(size_t i, size_t n, F key) const
	{
		if (i + kFar < n)
			PrefetchSlot(key(i + kFar));
		if (i + kNear < n)
			PrefetchEntry(key(i + kNear));
	}

	/** Adds @p k (absent) with @p v. */
	void Insert(const Key &k, uint32_t v)
	{
		if ((entries_.size() + 1) * 2 > table_.size())
			Rehash(table_.empty() ? 1024 : table_.size() * 2);
		entries_.push_back({k, v});
		Place(uint32_t(entries_.size()));
	}

	/** Removes the entry @p s points at (from Find). */
	void Erase(Slot *s)
	{
		uint32_t e = uint32_t(s - entries_.data()) + 1;
		RemoveSlot(SlotOf(e));
		uint32_t last = uint32_t(entries_.size());
		if (e != last) {
			/* The last entry moves into the hole: repoint its slot. */
			size_t ls = SlotOf(last);
			entries_[e - 1] = entries_[last - 1];
			table_[ls] = e;
		}
		entries_.pop_back();
	}

private:
	size_t SlotOf(uint32_t e) const
	{
		for (size_t i = KeyHash()(entries_[e - 1].key) & mask_;; i = (i + 1) & mask_)
			if (table_[i] == e)
				return i;
	}

	void Place(uint32_t e)
	{
		size_t i = KeyHash()(entries_[e - 1].key) & mask_;
		while (table_[i] != 0)
			i = (i + 1) & mask_;
		table_[i] = e;
	}

	/** Backward-shift deletion: later members of the probe run move up into the hole. */
	void RemoveSlot(size_t hole)
	{
		size_t i = hole;
		for (;;) {
			i = (i + 1) & mask_;
			uint32_t e = table_[i];
			if (e == 0)
				break;
			size_t home = KeyHash()(entries_[e - 1].key) & mask_;
			/* Move e if its home is not in (hole, i] (cyclically). */
			bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
			if (!stays) {
				table_[hole] = e;
				hole = i;
			}
		}
		table_[hole] = 0;
	}

	void Rehash(size_t want)
	{
		size_t cap = 1024;
		while (cap < want)
			cap <<= 1;
		table_.assign(cap, 0);
		mask_ = cap - 1;
		for (uint32_t e = 1; e <= entries_.size(); e++)
			Place(e);
	}

	std::vector<Slot> entries_;
	std::vector<uint32_t> table_; /**< entry number + 1; 0 = empty */
	size_t mask_ = 0;
};

} // namespace lr::routes

#endif /* LR_ADDON_ROUTE_INDEX_H */
