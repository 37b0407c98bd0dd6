// Recovery phase 1: replaying_snapshot.
//   Before: the actor was spawned (first message) or restarted after a failed
//           write (running -> restarting -> here).
//   Here:   wait for a recovery permit, then load the newest usable snapshot
//           (falling back to older ones past unreadable ones). Types without
//           a snapshot policy skip the lookup.
//   After:  replaying_events, starting after the snapshot (or at 1).
#include "aggregate_actor_impl.hpp"

#include "recovery_support.hpp"

namespace esr::actors {

void aggregate_actor::enter_replaying_snapshot() {
  phase_ = phase::replaying_snapshot;
  if (has_permit_ || spec_.env->limiter == nullptr
      || spec_.env->limiter->acquire_or_wait(caf::actor_cast<caf::actor>(this)))
    load_snapshot();
  // else: recovery_permit_atom arrives later and calls load_snapshot().
}

void aggregate_actor::load_snapshot() {
  has_permit_ = spec_.env->limiter != nullptr;
  state_ = spec_.model->make_state();
  version_ = 0;
  dedup_.clear();
  auto& env = *spec_.env;
  auto& policy = spec_.model->snapshots();
  if (policy.every_n_events == 0 && !policy.when) {
    // A type that never snapshots reads none: one storage seek less per
    // activation.
    snapshot_seq_ = 0;
    enter_replaying_events(1);
    return;
  }
  auto warn = [&env](const std::string& msg) { env.warning(msg); };
  auto snap = load_usable_snapshot(*spec_.model, *env.store.snapshots, spec_.persistence_id,
                                   persistence::snapshot_criteria::latest(), warn);
  if (!snap) {
    fail_recovery(std::move(snap.error()));
    return;
  }
  if (*snap) {
    auto& s = **snap;
    state_ = std::move(s.state);
    version_ = s.sequence_nr;
    if (auto i = s.headers.find("esr.command_ids"); i != s.headers.end())
      dedup_.decode(i->second);
  }
  snapshot_seq_ = version_;
  enter_replaying_events(version_ + 1);
}

} // namespace esr::actors
