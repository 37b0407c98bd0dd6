#pragma once

#include <memory>
#include <string>

#include <leveldb/env.h>

#include "esr/persistence/testing/fault_injection_env.hpp"

namespace esr::persistence::testing::detail {

/// A WritableFile that forwards to a file of the base env and reports every
/// successful Append and Sync to its fault_injection_env, after asking it
/// whether the call is to fail.
class tracked_file final : public leveldb::WritableFile {
public:
  /// Takes ownership of `base`; `env` must outlive this file.
  tracked_file(fault_injection_env* env, std::string fname,
               std::unique_ptr<leveldb::WritableFile> base);

  ~tracked_file() override;

  /// Fails (writing nothing) if an Append failure is armed or the disk is
  /// full; otherwise appends through the base file and counts the bytes.
  leveldb::Status Append(const leveldb::Slice& data) override;

  /// Closes the base file (durability is unchanged: closing is not syncing).
  leveldb::Status Close() override;

  /// Flushes the base file's buffer to the OS (not a sync).
  leveldb::Status Flush() override;

  /// Fails (syncing nothing) if a Sync failure is armed; otherwise syncs the
  /// base file and marks everything appended so far as durable.
  leveldb::Status Sync() override;

private:
  fault_injection_env* env_;
  std::string fname_;
  std::unique_ptr<leveldb::WritableFile> base_;
};

} // namespace esr::persistence::testing::detail
