#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/journal.hpp"

namespace leveldb {
class Env;
} // namespace leveldb

namespace esr::runtime::bus {

/// Durable positions of named subscriptions. A checkpoint is the global
/// position up to which a subscription has processed the log; after a
/// restart it resumes at checkpoint + 1.
///
/// Thread-safety: every member function may be called from any thread.
class checkpoint_store {
public:
  virtual ~checkpoint_store();

  /// Returns the stored position of `name`, nullopt if none was saved, or
  /// errc::store_io_error / errc::store_corruption.
  [[nodiscard]] virtual caf::expected<std::optional<uint64_t>>
  load(std::string_view name) = 0;

  /// Stores `position` for `name` durably (replacing any older value).
  /// Returns an empty error on success, errc::invalid_argument for an empty
  /// name, errc::store_io_error if the write failed (outcome unknown).
  [[nodiscard]] virtual caf::error save(std::string_view name, uint64_t position) = 0;

  /// Deletes the checkpoint of `name` (no error if there is none).
  [[nodiscard]] virtual caf::error remove(std::string_view name) = 0;
};

/// Creates a checkpoint store in memory (lost with the process; for tests).
std::shared_ptr<checkpoint_store> make_memory_checkpoint_store();

/// Options of a LevelDB checkpoint store.
struct leveldb_checkpoint_options {
  /// Directory of the database (its own LevelDB database). Required.
  std::string path;
  /// fsync each save, so a saved checkpoint survives power loss; without it,
  /// saves survive a process crash (kill -9) only. Default: true.
  bool sync = true;
  /// Environment for file I/O; nullptr means leveldb::Env::Default(). Not
  /// owned; must outlive the store.
  leveldb::Env* env = nullptr;
};

/// Opens (or creates) a LevelDB checkpoint store. Returns
/// errc::invalid_argument for an empty path, errc::store_io_error if the
/// database cannot be opened (e.g. locked by another process).
[[nodiscard]] caf::expected<std::shared_ptr<checkpoint_store>>
open_leveldb_checkpoint_store(const leveldb_checkpoint_options& opts);

/// Creates a checkpoint store kept in `j`'s side keys (see side_write), so a
/// writer can commit its checkpoint atomically with its events by adding
/// checkpoint_side_write() to its atomic_write (what sagas do).
std::shared_ptr<checkpoint_store>
make_journal_checkpoint_store(std::shared_ptr<persistence::journal> j);

/// Returns the side write that stores `position` as the checkpoint of `name`
/// in a journal checkpoint store. REQUIRES: `name` not empty.
persistence::side_write checkpoint_side_write(std::string_view name, uint64_t position);

/// Encodes a position as 8 big-endian bytes (the value format of every
/// checkpoint store and of view store checkpoints).
std::string encode_position(uint64_t position);

/// Decodes encode_position's output; nullopt unless `bytes` has 8 bytes.
std::optional<uint64_t> decode_position(std::string_view bytes);

} // namespace esr::runtime::bus
