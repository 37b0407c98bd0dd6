#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/persistence/storage.hpp"
#include "workload.hpp"

namespace esr::loadtest {

/// Aggregate types by name.
using type_list = std::vector<std::shared_ptr<const actors::aggregate_model>>;

/// Timing of the end-of-run recovery.
struct recovery_figures {
  bool through_runtime = false; ///< --restart: a fresh registry recovered them.
  double open_s = 0;            ///< Reopening the LevelDB store.
  double scan_s = 0;            ///< Finding the aggregates in the global log.
  double recover_s = 0;         ///< Recovering every aggregate's state.
  uint64_t aggregates = 0;      ///< Aggregates recovered.
  double aggregates_per_s() const { return recover_s > 0 ? aggregates / recover_s : 0; }
};

/// Options for recover_and_verify.
struct recovery_options {
  persistence::leveldb_options store; ///< The data directory, reopened.
  bool through_runtime = false;       ///< Recover via a new registry (--restart).
  size_t shards = 16;                 ///< Registry shards (through_runtime).
  size_t threads = 0;                 ///< CAF scheduler threads, 0: default.
  size_t in_flight = 512;             ///< Recoveries requested at once (through_runtime).
};

/// Reopens the store (no other handle may be open), finds every aggregate of
/// `types` in the global log, rebuilds each one's state from storage (its
/// snapshot and events), hands it to `w.add_state`, and returns the timing.
/// through_runtime starts a fresh actor system and registry and activates
/// every aggregate with a get_state request, as a restarted application
/// would; otherwise states are rebuilt with actors::rebuild_state. Returns the
/// store's open error, a read error, or the first aggregate that could not be
/// recovered (errc::recovery_failed...).
[[nodiscard]] caf::expected<recovery_figures>
recover_and_verify(const recovery_options& opts, const type_list& types, workload& w);

} // namespace esr::loadtest
