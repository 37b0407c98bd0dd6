// Snapshots, taken in the running phase after a successful write when the
// type's snapshot_policy says so. Saving is asynchronous; retention (keep-N)
// and the optional deletion of covered events follow the save. A failed save
// is only a warning: the events are the source of truth.
#include "aggregate_actor_impl.hpp"

#include "esr/persistence/error.hpp"

namespace esr::actors {

bool aggregate_actor::snapshot_due_after(const std::string& event_type, uint64_t seq) const {
  auto& policy = spec_.model->snapshots();
  if (policy.every_n_events > 0 && seq % policy.every_n_events == 0)
    return true;
  return policy.when && policy.when(*state_, event_type, seq);
}

void aggregate_actor::take_snapshot() {
  snapshot_due_ = false;
  auto& model = *spec_.model;
  auto bytes = model.encode_state(*state_);
  if (!bytes) {
    spec_.env->warning("aggregate type " + model.type_name()
                       + " has a snapshot policy but no state codec");
    return;
  }
  persistence::snapshot_envelope snap;
  snap.persistence_id = spec_.persistence_id;
  snap.sequence_nr = version_;
  snap.state_type = model.state_type_name();
  snap.payload = std::move(*bytes);
  auto ids = dedup_.encode(model);
  if (!ids.empty())
    snap.headers.emplace("esr.command_ids", std::move(ids));
  auto env = spec_.env;
  auto pid = spec_.persistence_id;
  auto keep = model.snapshots().keep;
  auto delete_events = model.snapshots().delete_events;
  env->store.snapshots->save_async(std::move(snap), [env, pid, keep,
                                                     delete_events](caf::error err) {
    if (err) {
      env->warning("snapshot of " + pid + " not saved: " + persistence::render(err));
      return;
    }
    auto& store = *env->store.snapshots;
    if (auto e = store.retain_latest(pid, keep))
      env->warning("snapshot retention of " + pid + " failed: " + persistence::render(e));
    if (!delete_events)
      return;
    auto kept = store.list(pid, persistence::snapshot_criteria::latest());
    if (!kept || kept->empty())
      return;
    if (auto e = env->store.events->delete_up_to(pid, kept->back().sequence_nr))
      env->warning("deleting events of " + pid + " failed: " + persistence::render(e));
  });
}

} // namespace esr::actors
