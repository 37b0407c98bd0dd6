#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/aggregate_type.hpp"
#include "esr/persistence/storage.hpp"

namespace esr::actors {

/// A point in an aggregate's history: the state includes every event with
/// sequence_nr <= max_sequence_nr and commit time <= max_timestamp_us.
struct as_of {
  uint64_t max_sequence_nr = std::numeric_limits<uint64_t>::max();
  int64_t max_timestamp_us = std::numeric_limits<int64_t>::max();

  /// The state after event `seq`.
  static as_of sequence(uint64_t seq) { return {seq, std::numeric_limits<int64_t>::max()}; }
  /// The state at wall-clock time `us` (microseconds since the epoch).
  static as_of time(int64_t us) { return {std::numeric_limits<uint64_t>::max(), us}; }
  /// The latest state.
  static as_of now() { return {}; }
};

/// A state rebuilt by time travel.
struct rebuilt_state {
  std::unique_ptr<state_holder> state;
  uint64_t version = 0; ///< Sequence number of the last event included (0: none).
};

/// Rebuilds the state of `persistence_id` as of `point` from storage: the
/// newest usable snapshot at or before the point, then the events after it.
/// Does not touch the live actor (reads only). Returns errc::not_found if the
/// stream has no events at all, errc::recovery_failed if the history cannot
/// be read (events deleted before the point and no usable snapshot, corrupt
/// events). Thread-safe; blocks on storage reads.
[[nodiscard]] caf::expected<rebuilt_state>
rebuild_state(const aggregate_model& model, const persistence::storage& store,
              std::string_view persistence_id, as_of point,
              const event_upcaster& upcaster = {},
              const std::function<void(const std::string&)>& warn = {});

/// A typed state with its version.
template <class State>
struct versioned_state {
  State state;
  uint64_t version = 0;
};

/// Typed rebuild_state for the aggregate `id` of `type` ("what was their
/// balance last Friday?"). Errors as for rebuild_state.
template <class State, class Command, class Reply>
[[nodiscard]] caf::expected<versioned_state<State>>
state_at(const aggregate_type<State, Command, Reply>& type,
         const persistence::storage& store, std::string_view id, as_of point,
         const event_upcaster& upcaster = {}) {
  std::string pid = type.type_name();
  pid += '-';
  pid += id;
  auto r = rebuild_state(type, store, pid, point, upcaster);
  if (!r)
    return std::move(r.error());
  return versioned_state<State>{aggregate_type<State, Command, Reply>::state_of(*r->state),
                                r->version};
}

} // namespace esr::actors
