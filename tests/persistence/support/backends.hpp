#pragma once

// The storage implementations the typed conformance suites run against. Each
// backend owns whatever a store needs (a temp dir, a fault-injecting Env) and
// opens the store on demand, so a test can close and reopen it.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "esr/persistence/storage.hpp"
#include "esr/persistence/testing/fault_injection_env.hpp"
#include "support/temp_dir.hpp"

namespace esr::persistence::test {

/// A LevelDB store in a fresh temp dir, doing all I/O through a
/// fault_injection_env (no fault armed unless a test arms one).
class leveldb_backend {
public:
  /// True: the store lives on disk and survives reopening for real.
  static constexpr bool on_disk = true;

  leveldb_backend();

  /// Opens the store with options() (the previous one must be closed).
  caf::expected<storage> open();

  /// The options open() uses; tests may change durability etc. before it.
  leveldb_options& options() { return opts_; }

  /// Largest payload the store accepts (set small so oversize tests are cheap).
  size_t max_payload_bytes() const { return opts_.max_payload_bytes; }

  /// The fault-injecting Env all I/O goes through.
  testing::fault_injection_env& env() { return *env_; }

  /// The directory of the database.
  const std::string& path() const { return opts_.path; }

private:
  temp_dir dir_;
  std::unique_ptr<testing::fault_injection_env> env_;
  leveldb_options opts_;
};

/// The in-memory store. "Reopening" returns the same store: its data lives
/// as long as the backend.
class memory_backend {
public:
  /// False: there is nothing on disk to reopen, corrupt or crash.
  static constexpr bool on_disk = false;

  /// Returns the backend's store (creating it on the first call).
  caf::expected<storage> open();

  /// The in-memory store's payload limit (the LevelDB default, 16 MiB).
  static constexpr size_t max_payload_bytes() { return 16u << 20; }

private:
  std::optional<storage> store_;
};

/// The backends of every typed suite.
using all_backends = ::testing::Types<leveldb_backend, memory_backend>;

/// Names the typed instances "leveldb" and "memory".
struct backend_names {
  template <class T>
  static std::string GetName(int) {
    return T::on_disk ? "leveldb" : "memory";
  }
};

} // namespace esr::persistence::test
