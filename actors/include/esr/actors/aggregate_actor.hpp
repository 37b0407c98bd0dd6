#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/aggregate_options.hpp"

namespace esr::actors {

/// What an aggregate actor needs to run.
struct aggregate_spec {
  std::shared_ptr<const aggregate_model> model; ///< Its type. Required.
  std::shared_ptr<const aggregate_env> env;     ///< Storage, limiter, options. Required.
  std::string persistence_id;                   ///< "<type>-<id>". Required.
};

/// Spawns the actor of one aggregate instance (lazily: it starts recovering
/// on its first message). It answers command_envelope with command_reply or
/// an error (errc), get_state_atom with state_copy, and quits on
/// passivate_atom once idle. Recovery runs through the phases
/// replaying_snapshot -> replaying_events -> running; commands arriving
/// meanwhile or while a persist is in flight are stashed and handled in order.
/// A failed write restarts the recovery after a backoff; a failed recovery
/// answers every waiting command with errc::recovery_failed and quits with
/// that error. Replies to persisted commands are sent by the journal's
/// callback once the write is durable, so if the actor is stopped (killed),
/// commands whose write is in flight still get the write's real outcome;
/// stashed ones get caf::sec::request_receiver_down (not handled, safe to
/// retry). Usually spawned by the runtime's registry.
caf::actor spawn_aggregate(caf::actor_system& sys, aggregate_spec spec);

} // namespace esr::actors
