// Recovery phase 2: replaying_events.
//   Before: replaying_snapshot (the state holds the snapshot, or is initial).
//   Here:   replay the events after the snapshot in chunks of
//           options.replay_chunk, upcasting each, rebuilding the dedup window
//           from the command ids in the events' metadata. Between chunks the
//           actor yields (a replay_next_atom to itself); commands are stashed.
//   After:  running; or, if an event is missing, corrupt or inapplicable, the
//           actor answers every stashed command with errc::recovery_failed and
//           stops with that error.
#include "aggregate_actor_impl.hpp"

#include "esr/actors/errc.hpp"
#include "recovery_support.hpp"

namespace esr::actors {

void aggregate_actor::enter_replaying_events(uint64_t from) {
  phase_ = phase::replaying_events;
  replay_next_ = from;
  replay_step(); // The first chunk inline: most aggregates finish here.
}

void aggregate_actor::replay_step() {
  auto& env = *spec_.env;
  auto chunk = env.options.replay_chunk == 0 ? 4096 : env.options.replay_chunk;
  auto on_event = [this](const persistence::event_envelope& e) {
    auto& id = e.metadata.causation_id;
    if (id.empty())
      return;
    dedup_window::entry entry;
    entry.id = id;
    entry.version = e.sequence_nr;
    if (auto i = e.metadata.headers.find("esr.reply"); i != e.metadata.headers.end()) {
      if (auto bytes = from_hex(i->second)) {
        entry.what = dedup_window::known::stored_reply;
        entry.bytes = std::move(*bytes);
      }
    }
    dedup_.record(std::move(entry));
  };
  auto progress = replay_into(*spec_.model, *env.store.events, env.options.upcaster, *state_,
                              spec_.persistence_id, replay_next_, persistence::max_seq,
                              chunk, std::numeric_limits<int64_t>::max(), on_event);
  if (!progress) {
    fail_recovery(std::move(progress.error()));
    return;
  }
  version_ = progress->last_sequence_nr;
  replay_next_ = version_ + 1;
  if (progress->visited == chunk && version_ < progress->highest) {
    send(this, replay_next_atom::value, static_cast<uint64_t>(epoch_));
    return;
  }
  enter_running();
}

void aggregate_actor::fail_recovery(caf::error err) {
  if (has_permit_) {
    has_permit_ = false;
    spec_.env->limiter->release();
  }
  spec_.env->warning("recovery of " + spec_.persistence_id + " failed: " + render(err));
  // Answer what waits and what arrives until the stop message is handled;
  // quitting here would bounce the message being handled without an answer.
  phase_ = phase::failed;
  failure_ = err;
  answer_stash_with(err);
  send(this, stop_atom::value);
}

} // namespace esr::actors
