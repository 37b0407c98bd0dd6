#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/persistence/journal.hpp"
#include "esr/persistence/snapshot_store.hpp"

namespace esr::actors {

/// A snapshot that was read and decoded.
struct loaded_snapshot {
  std::unique_ptr<state_holder> state;
  uint64_t sequence_nr = 0;
  std::map<std::string, std::string> headers;
};

/// Returns the newest snapshot of `pid` matching `c` that can be read and
/// decoded; unreadable ones are skipped with a warning through `warn`.
/// Returns nullopt if none is usable, errc::recovery_failed on an I/O error.
caf::expected<std::optional<loaded_snapshot>>
load_usable_snapshot(const aggregate_model& model, persistence::snapshot_store& store,
                     std::string_view pid, const persistence::snapshot_criteria& c,
                     const std::function<void(const std::string&)>& warn);

/// Where a replay step ended.
struct replay_progress {
  uint64_t last_sequence_nr = 0; ///< Sequence number of the last applied event.
  uint64_t highest = 0;          ///< The stream's highest sequence number.
  size_t visited = 0;            ///< Events applied in this step.
  bool stopped_by_time = false;  ///< Stopped at an event newer than max_ts.
};

/// Replays events `from..to` of `pid` (at most `max`, none newer than
/// `max_ts`) into `s`, upcasting each first. `on_event` sees every stored
/// event before upcasting (e.g. to rebuild the dedup window). Returns the
/// progress, or errc::recovery_failed if events are missing (a gap, e.g.
/// deleted events behind an unreadable snapshot), corrupt or inapplicable.
caf::expected<replay_progress>
replay_into(const aggregate_model& model, persistence::journal& j,
            const event_upcaster& upcaster, state_holder& s, std::string_view pid,
            uint64_t from, uint64_t to, uint64_t max,
            int64_t max_ts = std::numeric_limits<int64_t>::max(),
            const std::function<void(const persistence::event_envelope&)>& on_event = {});

} // namespace esr::actors
