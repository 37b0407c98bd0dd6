#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "esr/persistence/durability.hpp"
#include "esr/persistence/journal.hpp"
#include "esr/persistence/snapshot_store.hpp"

namespace leveldb {
class Env;
} // namespace leveldb

namespace esr::persistence {

/// Options of a LevelDB-backed store (the shape of LevelDB's own Options).
struct leveldb_options {
  /// Directory of the database. Required. The stream index is a second
  /// LevelDB database in its subdirectory "index" (see README, on-disk format).
  std::string path;
  /// Create the database if it does not exist. Default: true.
  bool create_if_missing = true;
  /// When writes are durable and acknowledged. Default: sync.
  durability_mode durability = durability_mode::sync;
  /// fsync interval in periodic mode. Default: 10 ms.
  std::chrono::milliseconds sync_interval{10};
  /// Most atomic writes coalesced into one group commit. Default: 4096.
  size_t max_group_writes = 4096;
  /// Largest accepted event or snapshot payload, in bytes. Default: 16 MiB.
  size_t max_payload_bytes = 16u << 20;
  /// Number of shards stream ids are partitioned into (the unit of data that
  /// can later be moved between nodes). Fixed when the store is created; a
  /// mismatch on reopen is errc::incompatible_format. Default: 256.
  uint32_t shard_count = 256;
  /// LevelDB block cache size in bytes. Default: 64 MiB.
  size_t block_cache_bytes = 64u << 20;
  /// Events between two writes of the stream index (see key_codec.hpp): the
  /// index of recent writes is kept in memory and written out in one sorted
  /// batch after this many events, which costs LevelDB far less than one
  /// index entry per write. Opening a store that was not closed re-reads at
  /// most this many events from the log to rebuild it. Default: 131072.
  uint64_t index_flush_events = 131072;
  /// LevelDB memtable size in bytes. Default: 32 MiB.
  size_t write_buffer_bytes = 32u << 20;
  /// Environment for all file I/O; nullptr means leveldb::Env::Default().
  /// Tests pass a fault-injecting Env. Not owned; must outlive the store.
  leveldb::Env* env = nullptr;
};

/// A journal and a snapshot store sharing one database. Both stay valid as
/// long as any copy of this struct (or of either pointer) is alive.
struct storage {
  std::shared_ptr<journal> events;
  std::shared_ptr<snapshot_store> snapshots;
};

/// Opens (or creates) a LevelDB store at `opts.path` and starts its group
/// commit writer. Returns errc::io_error if the database cannot be opened
/// (locked, unreadable), errc::corruption if it is damaged,
/// errc::incompatible_format on a format or shard_count mismatch,
/// errc::invalid_argument for an empty path or zero shard_count.
[[nodiscard]] caf::expected<storage> open_leveldb(const leveldb_options& opts);

/// Creates an empty in-memory store with the same contracts (for tests).
[[nodiscard]] storage open_memory();

} // namespace esr::persistence
