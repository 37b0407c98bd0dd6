#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace leveldb {
class Cache;
class DB;
class Env;
} // namespace leveldb

namespace esr::runtime::projections {

class view_store;

/// Options of a LevelDB view store.
struct view_store_options {
  /// Directory of the view database (separate from the journal's). Required.
  std::string path;
  /// Create the database if it does not exist. Default: true.
  bool create_if_missing = true;
  /// fsync every commit. Without it a commit survives a process crash (kill
  /// -9) but the newest commits may be lost on power loss; view and
  /// checkpoint still stay consistent (they are one WriteBatch), the view
  /// then re-applies the lost events. Default: false.
  bool sync = false;
  /// LevelDB block cache size in bytes. Default: 8 MiB (LevelDB's default).
  size_t block_cache_bytes = 8u << 20;
  /// LevelDB memtable size in bytes; larger means fewer flushes and
  /// compactions under a steady stream of view updates. Default: 16 MiB.
  size_t write_buffer_bytes = 16u << 20;
  /// Environment for file I/O; nullptr means leveldb::Env::Default(). Not
  /// owned; must outlive the store.
  leveldb::Env* env = nullptr;
};

/// Pending changes to one view: read-your-writes on top of the store, then
/// committed as one WriteBatch together with the view's checkpoint.
/// Not thread-safe; used by one projection handler at a time.
class view_txn {
public:
  view_txn(std::shared_ptr<const view_store> store, std::string view);

  /// The view this transaction writes.
  const std::string& view() const { return view_; }

  /// Returns the value of `key`: the pending write if any, else the stored
  /// one; nullopt if absent or erased. Returns bus::errc::store_io_error or
  /// store_corruption on read failure.
  [[nodiscard]] caf::expected<std::optional<std::string>> get(std::string_view key) const;

  /// Sets `key` to `value` (pending until commit).
  void put(std::string_view key, std::string value);

  /// Deletes `key` (pending until commit).
  void erase(std::string_view key);

  /// Discards every pending change.
  void clear() { pending_.clear(); }

  /// Number of pending changes.
  size_t size() const { return pending_.size(); }

private:
  friend class view_store;
  std::shared_ptr<const view_store> store_;
  std::string view_;
  std::map<std::string, std::optional<std::string>, std::less<>> pending_;
};

/// A LevelDB database of views (read models). Each view is a named key space
/// with its own checkpoint: commit() writes a view's changes and its new
/// checkpoint in one WriteBatch, so a projection applying each event exactly
/// once across crashes needs nothing else. Aliases name the view readers use
/// (e.g. "orders" -> "orders.v2"), so a rebuilt view can replace an old one
/// atomically.
///
/// Thread-safety: every member function may be called from any thread.
class view_store : public std::enable_shared_from_this<view_store> {
public:
  /// Opens (or creates) the store. Returns bus::errc::invalid_argument for an
  /// empty path, bus::errc::store_io_error if it cannot be opened (locked).
  [[nodiscard]] static caf::expected<std::shared_ptr<view_store>>
  open(const view_store_options& opts);

  ~view_store();

  view_store(const view_store&) = delete;
  view_store& operator=(const view_store&) = delete;

  /// Returns the stored value of `key` in `view`, nullopt if absent, or
  /// bus::errc::store_io_error.
  [[nodiscard]] caf::expected<std::optional<std::string>>
  get(std::string_view view, std::string_view key) const;

  /// Visits the entries of `view` whose keys start with `prefix`, in key
  /// order, from one consistent snapshot; `f` returns false to stop.
  [[nodiscard]] caf::error
  scan(std::string_view view, std::string_view prefix,
       const std::function<bool(std::string_view key, std::string_view value)>& f) const;

  /// Returns the checkpoint of `view`: the global position up to which its
  /// projection has applied the log; nullopt if it never committed.
  [[nodiscard]] caf::expected<std::optional<uint64_t>> checkpoint(std::string_view view) const;

  /// Starts a transaction on `view`. REQUIRES: `view` holds no NUL byte.
  view_txn begin(std::string view) const;

  /// Commits `txn`'s changes and sets its view's checkpoint to `position`,
  /// in one WriteBatch (all or nothing). Clears `txn` on success. Returns
  /// bus::errc::store_io_error if the write failed (then either all of it or
  /// none of it is stored).
  [[nodiscard]] caf::error commit(view_txn& txn, uint64_t position);

  /// Deletes every entry and the checkpoint of `view` (aliases to it stay).
  [[nodiscard]] caf::error drop_view(std::string_view view);

  /// Points `alias` at `view` (one durable write; readers switch at once).
  [[nodiscard]] caf::error set_alias(std::string_view alias, std::string_view view);

  /// Returns the view `alias` points at, nullopt if unset.
  [[nodiscard]] caf::expected<std::optional<std::string>> alias(std::string_view alias) const;

  /// Returns the view named by `alias`, or `alias` itself if no such alias
  /// exists (so a reader may name a view directly).
  [[nodiscard]] caf::expected<std::string> resolve(std::string_view alias) const;

private:
  view_store(std::unique_ptr<leveldb::Cache> cache, std::unique_ptr<leveldb::DB> db,
             view_store_options opts);

  std::unique_ptr<leveldb::Cache> cache_; ///< Outlives db_ (declared first).
  std::unique_ptr<leveldb::DB> db_;
  view_store_options opts_;
};

/// Reads the view an alias points at, resolving the alias on every call so
/// that readers follow a switch to a rebuilt view. Cheap to copy.
class view_reader {
public:
  view_reader(std::shared_ptr<const view_store> store, std::string alias)
    : store_(std::move(store)), alias_(std::move(alias)) {}

  /// As view_store::get on the view `alias` currently names.
  [[nodiscard]] caf::expected<std::optional<std::string>> get(std::string_view key) const;

  /// As view_store::scan on the view `alias` currently names.
  [[nodiscard]] caf::error
  scan(std::string_view prefix,
       const std::function<bool(std::string_view, std::string_view)>& f) const;

  /// The view currently read.
  [[nodiscard]] caf::expected<std::string> current_view() const;

private:
  std::shared_ptr<const view_store> store_;
  std::string alias_;
};

} // namespace esr::runtime::projections
