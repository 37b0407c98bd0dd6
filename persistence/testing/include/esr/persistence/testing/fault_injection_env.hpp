#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <leveldb/env.h>
#include <leveldb/status.h>

namespace esr::persistence::testing {

namespace detail {
class tracked_file;
} // namespace detail

/// The file operations a fault_injection_env can make fail.
enum class file_op : uint8_t {
  append = 0, ///< WritableFile::Append of a file opened through the env.
  sync = 1,   ///< WritableFile::Sync of a file opened through the env.
  create = 2, ///< Env::NewWritableFile and Env::NewAppendableFile.
};

/// A leveldb::Env that forwards every call to a base Env and lets a test
/// inject I/O errors, simulate a full disk, and simulate a power loss that
/// loses every byte not covered by a successful Sync. Modelled on LevelDB's
/// own fault-injection test env (db/fault_injection_test.cc).
///
/// Every file opened for writing through this env is tracked: its size and its
/// size at the last successful Sync. A synced file counts as durable together
/// with its directory entry (LevelDB syncs the directory of its manifest).
/// Files that existed before they were opened through this env, or that were
/// never opened for writing through it, are not tracked and count as durable.
///
/// Thread-safety: every member function may be called from any thread, also
/// while a database uses the env.
class fault_injection_env final : public leveldb::EnvWrapper {
public:
  /// Wraps `base` (not owned; must outlive this env). No fault is armed.
  explicit fault_injection_env(leveldb::Env* base = leveldb::Env::Default());

  ~fault_injection_env() override;

  // -- injecting errors ------------------------------------------------------

  /// Makes the next `n` calls of `op` fail with an IOError, replacing any
  /// count armed before. A failing call does not reach the base env: an
  /// Append writes nothing, a Sync syncs nothing, a create creates nothing.
  void fail_next(file_op op, size_t n = 1);

  /// Makes every call of `op` fail with an IOError until heal().
  void fail_always(file_op op);

  /// Simulates a full disk (`full` = true): every Append fails with the
  /// IOError "No space left on device" and writes nothing; creating and
  /// syncing files still works. `full` = false ends it.
  void set_disk_full(bool full);

  /// Disarms every injected failure and ends a simulated full disk.
  void heal();

  /// Returns how many calls of `op` failed by injection (including full-disk
  /// Appends) since this env was constructed.
  size_t injected_failures(file_op op) const;

  // -- simulating a crash ----------------------------------------------------

  /// Makes every tracked file look as after a power loss: truncates it to its
  /// last synced size plus `keep_fraction` (0..1) of its unsynced tail, which
  /// tears the last write when 0 < keep_fraction < 1. A file that was never
  /// synced and would keep no byte is deleted. Afterwards the files count as
  /// synced at their new size. Returns the first error of the base env.
  /// REQUIRES: no database that uses this env is open; 0 <= keep_fraction <= 1.
  [[nodiscard]] leveldb::Status drop_unsynced_data(double keep_fraction = 0.0);

  /// Returns the bytes appended but not yet synced, over all tracked files.
  uint64_t unsynced_bytes() const;

  /// Returns the number of files tracked (opened for writing and still there).
  size_t tracked_files() const;

  // -- leveldb::Env ----------------------------------------------------------

  /// Creates the file through the base env and tracks it from size 0.
  /// Fails with IOError if file_op::create is armed.
  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;

  /// Opens the file for appending and tracks it; its current size counts as
  /// synced. Fails with IOError if file_op::create is armed.
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;

  /// Removes the file and stops tracking it.
  leveldb::Status RemoveFile(const std::string& fname) override;

  /// Renames the file; a tracked file keeps its state under the new name.
  leveldb::Status RenameFile(const std::string& src,
                             const std::string& target_name) override;

private:
  friend class detail::tracked_file;

  /// What the env knows about one file opened for writing.
  struct file_state {
    uint64_t size = 0;        ///< Bytes appended successfully.
    uint64_t synced_size = 0; ///< `size` at the last successful Sync.
    bool ever_synced = false; ///< True after the first successful Sync.
  };

  /// Armed failures of one operation.
  struct fault {
    size_t remaining = 0; ///< Calls still to fail.
    bool always = false;  ///< Fail every call.
    size_t injected = 0;  ///< Calls failed so far.
  };

  /// Returns an IOError and counts it if a failure of `op` is armed (or, for
  /// Append, the disk is full); OK otherwise. Consumes one armed failure.
  leveldb::Status take_fault(file_op op, const std::string& fname);

  /// Records that `n` bytes were appended to `fname`.
  void on_appended(const std::string& fname, uint64_t n);

  /// Records a successful Sync of `fname`.
  void on_synced(const std::string& fname);

  /// Truncates `fname` to `size` bytes through the base env.
  leveldb::Status truncate(const std::string& fname, uint64_t size);

  mutable std::mutex mtx_;
  std::array<fault, 3> faults_;
  bool disk_full_ = false;
  std::map<std::string, file_state> files_;
};

} // namespace esr::persistence::testing
