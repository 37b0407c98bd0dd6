#pragma once

#include <memory>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

#include "esr/persistence/storage.hpp"

namespace esr::persistence::detail {

/// An open LevelDB database with the resources it uses, shared by the journal
/// and the snapshot store of one storage. Destroyed when both are gone.
struct leveldb_db {
  leveldb_options opts;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> db; // declared last: closed first

  ~leveldb_db() {
    db.reset();
  }
};

/// Turns a failed LevelDB status into an esr error; `what` names the operation.
caf::error from_status(const leveldb::Status& st, const char* what);

} // namespace esr::persistence::detail
