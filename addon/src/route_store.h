/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The desired route table, held by the addon in compact form (1M routes in
 * tens of MB, not a Map of JS objects) and persisted by it:
 *
 *   routes.snap     "LRRS" header {version, seq} + one record of every route;
 *                   replaced atomically (tmp, fsync, rename, fsync dir)
 *   routes.journal  one record per committed batch, fdatasync'd before the
 *                   write is acknowledged
 *
 * A record is {magic "LRRJ", payload length, seq, CRC-32C} + the batch in
 * binary (port names, then per update: op, family, prefix, next hops). Load
 * replays the journal records after the snapshot's seq; a torn or corrupt
 * last record (the crash during the append, never acknowledged) is cut off;
 * a corrupt record before the last is an error. The journal is compacted
 * into a new snapshot when it outgrows max(64 MiB, the snapshot).
 *
 * Writer: the route write path (one batch at a time, under the control
 * plane's write lock), on libuv worker threads; readers (GetRoute,
 * ListRoutes, reconcile) on the JS thread. A shared mutex guards the maps.
 * Next-hop lists are interned: a million routes through one gateway hold
 * one list.
 */
#ifndef LR_ADDON_ROUTE_STORE_H
#define LR_ADDON_ROUTE_STORE_H

#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "route_index.h"
#include "route_wire.h"

namespace lr::routes {

/** One route with its hops (names resolved), as reads return it. */
struct Entry {
	Key key;
	std::vector<Hop> hops; /**< name = index into the names given with it */
};

/** A frozen copy of the table for a long read (ListRoutes, reconcile), in prefix order: later writes do not show. */
struct Snapshot {
	std::vector<RouteIndex::Slot> routes; /**< key, next-hop list id */
	std::vector<std::vector<Hop>> sets;
	std::vector<std::string> names;
	size_t cursor = 0;
};

class Store {
public:
	Store() = default;
	~Store() { Close(); }
	Store(const Store &) = delete;
	Store &operator=(const Store &) = delete;

	size_t Size() const;
	size_t Count(uint8_t family) const;

	/**
	 * Checks @p b against the table (ADD: absent; MODIFY, DELETE: present),
	 * its size against @p max_batch and its ports against @p known (indexed
	 * like b.names), and records the entries MODIFY/DELETE replace in b.old.
	 * False (with why) when the batch must go through the full validation.
	 */
	bool Check(Batch &b, const std::vector<bool> &known, uint32_t max_batch, std::string *why) const;

	/**
	 * Journals @p b (when persistent) and applies it. An error (the journal
	 * write failed) leaves the table as it was.
	 */
	bool Commit(const Batch &b, std::string *err);

	/**
	 * Commit's first half: appends @p b's record to the journal and makes it
	 * durable (fdatasync), without touching the table, so that the write
	 * path runs it while the dataplane applies the batch. An error leaves
	 * the journal as it was. A batch journaled and then refused by the
	 * dataplane is taken back by journaling its inverse (replay nets zero).
	 */
	bool Journal(const Batch &b, std::string *err);

	/** Commit's second half: applies @p b to the table (compacting the journal when it is due). */
	void Apply(const Batch &b);

	/** Applies @p b in memory only (journal replay, a seeded or legacy state). Tolerant: ADD of a present key overwrites, DELETE of an absent one is nothing (a replay may repeat what a snapshot holds). */
	void ApplyMemory(const Batch &b);

	bool Get(const Key &k, Entry *out, std::vector<std::string> *names) const;
	/** A frozen copy; @p sorted: in prefix order (listings), else as stored (reconcile). */
	Snapshot Copy(bool sorted = true) const;

	/** Loads @p dir's routes.snap and routes.journal into the (empty) table and keeps the journal open. */
	bool Load(const std::string &dir, std::string *err);
	/** Writes the table as @p dir's snapshot, empties the journal and keeps it open. */
	bool Compact(const std::string &dir, std::string *err);
	void Close();

	uint64_t Seq() const { return seq_; }
	bool Persistent() const { return fd_ >= 0; }

private:
	struct Set {
		std::vector<Hop> hops;
		uint32_t refs = 0;
	};

	uint16_t StoreName(const std::string &s);
	uint32_t Intern(const Batch &b, const Update &u);
	void Unref(uint32_t set);
	void ApplyLocked(const Batch &b);
	bool CompactLocked(const std::string &dir, std::string *err);
	void Serialize(const Batch &b, std::string &out) const;
	std::string SerializeAll() const;

	mutable std::shared_mutex mu_;
	RouteIndex map_;
	size_t count4_ = 0;
	std::vector<Set> sets_;
	std::vector<uint32_t> free_sets_;
	std::unordered_map<std::string, uint32_t> set_ids_; /**< serialized hops -> set */
	std::vector<std::string> names_;
	std::unordered_map<std::string, uint16_t> name_ids_;

	std::string dir_;
	int fd_ = -1;
	uint64_t seq_ = 0;
	uint64_t journal_bytes_ = 0;
	uint64_t snap_bytes_ = 0;
};

} // namespace lr::routes

#endif /* LR_ADDON_ROUTE_STORE_H */
