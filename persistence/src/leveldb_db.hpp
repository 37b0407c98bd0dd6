#pragma once

#include <memory>
#include <mutex>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include "background_env.hpp"
#include "esr/persistence/storage.hpp"

namespace esr::persistence::detail {

/// The open LevelDB databases of one storage with the resources they use,
/// shared by the journal and the snapshot store. Destroyed when both are
/// gone. Two databases (see key_codec.hpp): `db` holds the global log and
/// everything written with it; `index`, in the subdirectory "index", holds
/// the stream index, which is derived from the log, and deletion markers.
/// Kept apart, the log's keys only ever grow, so LevelDB moves its files
/// down the levels instead of merging them with the index's random keys.
struct leveldb_db {
  leveldb_options opts;
  /// Background threads of the two databases (see background_env.hpp);
  /// declared before them: they outlive the databases.
  std::unique_ptr<background_env> log_env;
  std::unique_ptr<background_env> index_env;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> index;
  std::unique_ptr<leveldb::DB> db; // declared last: closed first

  /// Write options for writes outside group commit (snapshots, deletions):
  /// synced unless the durability mode is none.
  leveldb::WriteOptions durable_write() const {
    leveldb::WriteOptions wo;
    wo.sync = opts.durability != durability_mode::none;
    return wo;
  }

  /// Applies `batch` (every write of the journal and the snapshot store goes
  /// through here). After the first failed write, every later one fails with
  /// an IOError until the store is reopened: LevelDB's log writer advances
  /// past a record whose Append failed, so a later record would land out of
  /// step with the file and make the log unreadable on reopen ("bad record
  /// length"), taking acknowledged writes with it. Thread-safe.
  leveldb::Status write(const leveldb::WriteOptions& wo, leveldb::WriteBatch* batch) {
    return log_latch_.write(*db, wo, batch);
  }

  /// As write(), to the index database (with its own failure latch).
  leveldb::Status write_index(const leveldb::WriteOptions& wo, leveldb::WriteBatch* batch) {
    return index_latch_.write(*index, wo, batch);
  }

private:
  /// Writes to one database until the first failure, then refuses.
  struct latch {
    std::mutex mtx;
    bool failed = false;

    leveldb::Status write(leveldb::DB& to, const leveldb::WriteOptions& wo,
                          leveldb::WriteBatch* batch) {
      std::lock_guard<std::mutex> guard{mtx};
      if (failed)
        return leveldb::Status::IOError("an earlier write to the store failed; reopen it");
      auto st = to.Write(wo, batch);
      if (!st.ok())
        failed = true;
      return st;
    }
  };

  latch log_latch_;
  latch index_latch_;
};

/// Turns a failed LevelDB status into an esr error; `what` names the operation.
caf::error from_status(const leveldb::Status& st, const char* what);

} // namespace esr::persistence::detail
