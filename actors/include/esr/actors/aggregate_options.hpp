#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/recovery_limiter.hpp"
#include "esr/persistence/storage.hpp"

namespace esr::actors {

/// Runtime options shared by every aggregate actor of a registry.
struct aggregate_options {
  /// Most commands waiting (during recovery or while a persist is in
  /// flight); beyond it commands fail with errc::stash_overflow. Default: 1000.
  size_t stash_capacity = 1000;
  /// Most stashed commands whose events go to the journal in one write_async
  /// call (one atomic write per command). Default: 64.
  size_t max_batch = 64;
  /// Number of recent command ids remembered per aggregate for
  /// deduplication (0 disables). Default: 32.
  size_t dedup_window = 32;
  /// Events replayed per step of the replaying_events phase; the actor
  /// yields to its mailbox between steps. Default: 4096.
  size_t replay_chunk = 4096;
  /// First delay before a restart after a failed write; doubles per
  /// consecutive failure up to max_restart_backoff. Default: 50 ms.
  std::chrono::milliseconds min_restart_backoff{50};
  /// Largest restart delay. Default: 5 s.
  std::chrono::milliseconds max_restart_backoff{5000};
  /// Applied to every stored event before it is applied on recovery (schema
  /// evolution). Default: none.
  event_upcaster upcaster;
  /// Called by an aggregate when it finished recovering, with its
  /// persistence id, the sequence number of the snapshot it started from (0:
  /// none) and its recovered version. Runs in the aggregate's actor: keep it
  /// short and thread-safe. Default: none.
  std::function<void(const std::string& pid, uint64_t snapshot_seq, uint64_t version)>
    on_recovered;
  /// Receives warnings (unreadable snapshot, failed snapshot save). Default
  /// (empty): printed to stderr.
  std::function<void(const std::string&)> warn;
};

/// Everything a registry's aggregates share. Immutable after creation.
struct aggregate_env {
  persistence::storage store;                 ///< Journal and snapshot store.
  std::shared_ptr<recovery_limiter> limiter;  ///< Concurrent recovery bound.
  aggregate_options options;

  /// Reports a warning through options.warn or stderr.
  void warning(const std::string& msg) const;
};

} // namespace esr::actors
