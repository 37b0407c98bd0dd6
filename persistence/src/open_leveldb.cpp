#include <algorithm>
#include <string>

#include <leveldb/db.h>
#include <leveldb/env.h>

#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"
#include "key_codec.hpp"
#include "journal_handle.hpp"
#include "leveldb_db.hpp"
#include "leveldb_journal.hpp"
#include "leveldb_snapshot_store.hpp"

namespace esr::persistence {

namespace {

/// The format this release writes (see key_codec.hpp); format "1", "2" and
/// "3" stores are upgraded when the journal opens them.
constexpr const char* format_version = "4";

/// Checks (or, for a new database, writes) the format and shard count.
caf::error check_meta(detail::leveldb_db& h) {
  auto& db = *h.db;
  std::string format;
  std::string shards;
  auto fs = db.Get(leveldb::ReadOptions{}, detail::meta_key("format"), &format);
  auto ss = db.Get(leveldb::ReadOptions{}, detail::meta_key("shard_count"), &shards);
  auto want_shards = std::to_string(h.opts.shard_count);
  if (fs.IsNotFound()) {
    // The index's checkpoint first: a crash before the format record leaves
    // a store without one, which is created again.
    leveldb::WriteOptions wo;
    wo.sync = true;
    auto st = h.index->Put(wo, detail::meta_key("indexed_through"), "0");
    if (!st.ok())
      return detail::from_status(st, "writing the index checkpoint");
    leveldb::WriteBatch batch;
    batch.Put(detail::meta_key("format"), format_version);
    batch.Put(detail::meta_key("shard_count"), want_shards);
    return detail::from_status(db.Write(wo, &batch), "writing the store's format record");
  }
  if (!fs.ok())
    return detail::from_status(fs, "reading the store's format record");
  if (format != format_version && format != "1" && format != "2" && format != "3")
    return make_error(errc::incompatible_format, "unknown store format", format);
  if (!ss.ok() || shards != want_shards)
    return make_error(errc::incompatible_format, "store was created with shard_count",
                      shards, "but opened with", want_shards);
  return caf::none;
}

} // namespace

caf::expected<storage> open_leveldb(const leveldb_options& opts) {
  if (opts.path.empty())
    return make_error(errc::invalid_argument, "leveldb_options.path is empty");
  if (opts.shard_count == 0 || opts.shard_count > 65536)
    return make_error(errc::invalid_argument, "shard_count must be in 1..65536");
  if (opts.max_group_writes == 0)
    return make_error(errc::invalid_argument, "max_group_writes must be positive");
  auto handle = std::make_shared<detail::leveldb_db>();
  handle->opts = opts;
  handle->cache.reset(leveldb::NewLRUCache(opts.block_cache_bytes));
  handle->filter.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options lo;
  lo.create_if_missing = opts.create_if_missing;
  lo.paranoid_checks = true;
  lo.write_buffer_size = opts.write_buffer_bytes;
  lo.block_cache = handle->cache.get();
  lo.filter_policy = handle->filter.get();
  lo.max_file_size = 8u << 20;
  // Each database gets its own background thread, apart from each other
  // and from every other LevelDB database in the process.
  auto* base = opts.env != nullptr ? opts.env : leveldb::Env::Default();
  handle->log_env = std::make_unique<detail::background_env>(base, "esr-ldb-log");
  handle->index_env = std::make_unique<detail::background_env>(base, "esr-ldb-index");
  lo.env = handle->log_env.get();
  leveldb::DB* raw = nullptr;
  auto st = leveldb::DB::Open(lo, opts.path, &raw);
  if (!st.ok())
    return detail::from_status(st, "opening the store");
  handle->db.reset(raw);
  // The stream index (see leveldb_db.hpp): small entries, a small memtable.
  auto io = lo;
  io.create_if_missing = true;
  io.env = handle->index_env.get();
  io.write_buffer_size = std::min<size_t>(opts.write_buffer_bytes, 16u << 20);
  leveldb::DB* raw_index = nullptr;
  st = leveldb::DB::Open(io, opts.path + "/index", &raw_index);
  if (!st.ok())
    return detail::from_status(st, "opening the store's index");
  handle->index.reset(raw_index);
  if (auto err = check_meta(*handle))
    return err;
  auto journal = detail::leveldb_journal::create(handle);
  if (!journal)
    return std::move(journal.error());
  storage result;
  result.events = std::make_shared<detail::journal_handle<detail::leveldb_journal>>(
    std::move(*journal));
  result.snapshots = std::make_shared<detail::leveldb_snapshot_store>(handle);
  return result;
}

} // namespace esr::persistence
