#include "esr/actors/time_travel.hpp"

#include <cstdio>

#include "esr/actors/errc.hpp"
#include "esr/persistence/error.hpp"
#include "recovery_support.hpp"

namespace esr::actors {

caf::expected<rebuilt_state>
rebuild_state(const aggregate_model& model, const persistence::storage& store,
              std::string_view persistence_id, as_of point, const event_upcaster& upcaster,
              const std::function<void(const std::string&)>& warn) {
  auto highest = store.events->highest_sequence_nr(persistence_id);
  if (!highest)
    return make_error(errc::recovery_failed, std::string{persistence_id},
                      persistence::render(highest.error()));
  if (*highest == 0)
    return make_error(errc::not_found, std::string{persistence_id});
  auto say = [&warn](const std::string& msg) {
    if (warn)
      warn(msg);
    else
      std::fprintf(stderr, "esr warning: %s\n", msg.c_str());
  };
  persistence::snapshot_criteria crit;
  crit.max_sequence_nr = point.max_sequence_nr;
  crit.max_timestamp_us = point.max_timestamp_us;
  auto snap = load_usable_snapshot(model, *store.snapshots, persistence_id, crit, say);
  if (!snap)
    return std::move(snap.error());
  rebuilt_state result;
  if (*snap) {
    result.state = std::move((*snap)->state);
    result.version = (*snap)->sequence_nr;
  } else {
    result.state = model.make_state();
  }
  if (result.version >= point.max_sequence_nr)
    return result;
  auto progress = replay_into(model, *store.events, upcaster, *result.state, persistence_id,
                              result.version + 1, point.max_sequence_nr, persistence::max_seq,
                              point.max_timestamp_us);
  if (!progress)
    return std::move(progress.error());
  result.version = progress->last_sequence_nr;
  return result;
}

} // namespace esr::actors
