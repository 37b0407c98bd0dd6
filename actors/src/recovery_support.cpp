#include "recovery_support.hpp"

#include <limits>

#include "esr/actors/errc.hpp"
#include "esr/persistence/error.hpp"

namespace esr::actors {

caf::expected<std::optional<loaded_snapshot>>
load_usable_snapshot(const aggregate_model& model, persistence::snapshot_store& store,
                     std::string_view pid, const persistence::snapshot_criteria& c,
                     const std::function<void(const std::string&)>& warn) {
  // Common case first: the newest snapshot is readable (one scan).
  uint64_t skip_from = std::numeric_limits<uint64_t>::max();
  auto newest = store.load(pid, c);
  if (newest) {
    if (!*newest)
      return std::optional<loaded_snapshot>{};
    auto& env = **newest;
    if (env.state_type == model.state_type_name()) {
      if (auto state = model.decode_state(env.payload)) {
        loaded_snapshot result;
        result.state = std::move(state);
        result.sequence_nr = env.sequence_nr;
        result.headers = std::move(env.headers);
        return std::optional<loaded_snapshot>{std::move(result)};
      }
    }
    warn("undecodable snapshot of " + std::string{pid} + " at "
         + std::to_string(env.sequence_nr) + " (type " + env.state_type
         + "), falling back to an older one");
    skip_from = env.sequence_nr;
  } else if (!persistence::is(newest.error(), persistence::errc::corruption)) {
    return make_error(errc::recovery_failed, std::string{pid}, "cannot load snapshot",
                      persistence::render(newest.error()));
  }
  // Fall back past unreadable snapshots, newest first.
  auto listed = store.list(pid, c);
  if (!listed)
    return make_error(errc::recovery_failed, std::string{pid}, "cannot list snapshots",
                      persistence::render(listed.error()));
  // Newest first; each unreadable one falls back to the next older one.
  for (auto& meta : *listed) {
    if (meta.sequence_nr >= skip_from)
      continue;
    auto crit = c;
    crit.max_sequence_nr = meta.sequence_nr;
    crit.min_sequence_nr = meta.sequence_nr;
    auto loaded = store.load(pid, crit);
    if (!loaded) {
      if (persistence::is(loaded.error(), persistence::errc::corruption)) {
        warn("unreadable snapshot of " + std::string{pid} + " at "
             + std::to_string(meta.sequence_nr) + " (" + persistence::render(loaded.error())
             + "), falling back to an older one");
        continue;
      }
      return make_error(errc::recovery_failed, std::string{pid}, "cannot load snapshot",
                        persistence::render(loaded.error()));
    }
    if (!*loaded)
      continue; // Deleted meanwhile.
    auto& env = **loaded;
    auto state = model.decode_state(env.payload);
    if (!state || env.state_type != model.state_type_name()) {
      warn("undecodable snapshot of " + std::string{pid} + " at "
           + std::to_string(env.sequence_nr) + " (type " + env.state_type
           + "), falling back to an older one");
      continue;
    }
    loaded_snapshot result;
    result.state = std::move(state);
    result.sequence_nr = env.sequence_nr;
    result.headers = std::move(env.headers);
    return std::optional<loaded_snapshot>{std::move(result)};
  }
  return std::optional<loaded_snapshot>{};
}

caf::expected<replay_progress>
replay_into(const aggregate_model& model, persistence::journal& j,
            const event_upcaster& upcaster, state_holder& s, std::string_view pid,
            uint64_t from, uint64_t to, uint64_t max, int64_t max_ts,
            const std::function<void(const persistence::event_envelope&)>& on_event) {
  replay_progress progress;
  progress.last_sequence_nr = from - 1;
  caf::error failure;
  auto visit = [&](const persistence::event_envelope& e) {
    // Pieces of one event split by an upcasting journal share its number.
    auto split_piece = progress.visited > 0 && e.sequence_nr == progress.last_sequence_nr;
    if (e.sequence_nr != progress.last_sequence_nr + 1 && !split_piece) {
      failure = make_error(errc::recovery_failed, std::string{pid}, "events missing before",
                           e.sequence_nr);
      return false;
    }
    if (e.timestamp_us > max_ts) {
      progress.stopped_by_time = true;
      return false;
    }
    if (on_event)
      on_event(e);
    if (upcaster) {
      auto ups = upcaster(e);
      if (!ups) {
        failure = make_error(errc::recovery_failed, std::string{pid}, e.sequence_nr,
                             "upcaster failed", persistence::render(ups.error()));
        return false;
      }
      for (auto& u : *ups)
        if (auto err = model.apply_stored(s, u)) {
          failure = std::move(err);
          return false;
        }
    } else if (auto err = model.apply_stored(s, e)) {
      failure = std::move(err);
      return false;
    }
    progress.last_sequence_nr = e.sequence_nr;
    ++progress.visited;
    return true;
  };
  auto highest = j.replay(pid, from, to, max, visit);
  if (failure)
    return failure;
  if (!highest)
    return make_error(errc::recovery_failed, std::string{pid}, "cannot read events",
                      persistence::render(highest.error()));
  progress.highest = *highest;
  // Events that should follow but were not returned (deleted) are a gap too.
  auto wanted_end = std::min(to, progress.highest);
  if (!progress.stopped_by_time && progress.visited < max
      && progress.last_sequence_nr < wanted_end)
    return make_error(errc::recovery_failed, std::string{pid}, "events missing after",
                      progress.last_sequence_nr);
  return progress;
}

} // namespace esr::actors
