#pragma once

#include <memory>
#include <mutex>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include "esr/persistence/storage.hpp"

namespace esr::persistence::detail {

/// An open LevelDB database with the resources it uses, shared by the journal
/// and the snapshot store of one storage. Destroyed when both are gone.
struct leveldb_db {
  leveldb_options opts;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
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
    std::lock_guard<std::mutex> guard{write_mutex_};
    if (write_failed_)
      return leveldb::Status::IOError("an earlier write to the store failed; reopen it");
    auto st = db->Write(wo, batch);
    if (!st.ok())
      write_failed_ = true;
    return st;
  }

private:
  std::mutex write_mutex_;
  bool write_failed_ = false;
};

/// Turns a failed LevelDB status into an esr error; `what` names the operation.
caf::error from_status(const leveldb::Status& st, const char* what);

} // namespace esr::persistence::detail
