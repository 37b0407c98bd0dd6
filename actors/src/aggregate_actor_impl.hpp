#pragma once

// The aggregate actor. Its lifecycle is a state machine whose phases live in
// one file each:
//   replaying_snapshot.cpp  (spawn / restart)        -> replaying_events
//   replaying_events.cpp    (replaying_snapshot)     -> running
//   running.cpp             (replaying_events)       -> restarting | passivated
// plus snapshotting.cpp (snapshots after successful writes) and this actor's
// message dispatch and stash in aggregate_actor.cpp.

#include <any>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "reply_channel.hpp"

#include "dedup_window.hpp"
#include "esr/actors/aggregate_actor.hpp"
#include "esr/actors/messages.hpp"
#include "esr/persistence/journal.hpp"

namespace esr::actors {

/// Sent by the journal's completer thread to wake the aggregate once a batch
/// it waits for is decided. Replies were already sent to the callers.
struct persist_done {
  uint64_t batch = 0;  ///< The batch (aggregate_actor::batch_seq_) decided.
  bool failed = false; ///< Outcome unknown: restart with backoff.
  bool rejected = false; ///< Definitely not stored: reload at once.
  std::string cause;   ///< Why, for the log (failed or rejected only).
};

using replay_next_atom = caf::atom_constant<caf::atom("esr_replay")>;
using restart_atom = caf::atom_constant<caf::atom("esr_rstrt")>;
using stop_atom = caf::atom_constant<caf::atom("esr_stop")>;

class aggregate_actor final : public caf::event_based_actor {
public:
  enum class phase : uint8_t {
    replaying_snapshot, // waiting for a recovery permit or loading the snapshot
    replaying_events,
    running,
    restarting,         // waiting out a backoff after a failed write
    failed,             // recovery failed: answers failure_, then stops
  };

  aggregate_actor(caf::actor_config& cfg, aggregate_spec spec);

  caf::behavior make_behavior() override;

  /// Returns a recovery permit still held (killed during recovery) and
  /// answers every waiting command with an error.
  void on_exit() override;

private:
  /// A command waiting in the stash.
  struct stashed {
    command_envelope cmd;
    detail::reply_channel rp;
    bool get_state = false; // A get_state_atom request instead of a command.
  };

  /// A command whose events are being written.
  struct in_flight {
    detail::reply_channel rp;
    command_reply reply;
  };

  /// The commands handled together and their writes (one per command).
  struct batch {
    std::vector<persistence::atomic_write> writes;
    std::vector<in_flight> flights;
    bool empty() const { return writes.empty(); }
  };

  // -- aggregate_actor.cpp: dispatch and stash ---------------------------------
  void on_command(command_envelope&& cmd);
  void on_get_state();
  void stash(stashed&& x);
  void answer_stash_with(const caf::error& err);
  void maybe_passivate();

  // -- replaying_snapshot.cpp --------------------------------------------------
  void enter_replaying_snapshot();
  void load_snapshot();

  // -- replaying_events.cpp ----------------------------------------------------
  void enter_replaying_events(uint64_t from);
  void replay_step();
  void fail_recovery(caf::error err);

  // -- running.cpp -------------------------------------------------------------
  void enter_running();
  void drain();
  bool try_handle(command_envelope& cmd, detail::reply_channel& rp, batch& b);
  void submit(batch&& b);
  // True if no batch is outstanding; settles (then drains the stash after)
  // a batch the journal has already decided.
  bool write_settled();
  // Asks to be woken when the outstanding batch succeeds; settles it now and
  // returns true if it already has.
  bool settle_or_wake();
  // settle_or_wake(), then drain and passivate if it settled.
  void await_write();
  void settle_write();
  void on_persist_done(persist_done& d);
  void restart(bool with_backoff);
  // Runs on the journal's thread once batch `id` of `self` is decided.
  static void on_batch_decided(const caf::actor& self, uint64_t id,
                               std::vector<in_flight>& flights,
                               persistence::write_outcomes& outcomes);

  // -- snapshotting.cpp --------------------------------------------------------
  bool snapshot_due_after(const std::string& event_type, uint64_t seq) const;
  void take_snapshot();

  // Members are ordered by size: this object is allocated once per live
  // aggregate, and allocators round it up to a size class (the bench's
  // "bytes per idle aggregate" goal is 2 KiB).
  aggregate_spec spec_;
  std::unique_ptr<state_holder> state_;
  uint64_t version_ = 0;      // Highest sequence number included in state_.
  uint64_t replay_next_ = 0;  // Next sequence number to replay.
  uint64_t snapshot_seq_ = 0; // Snapshot the last recovery started from.
  caf::error failure_;        // Why the recovery failed (phase failed).
  std::vector<stashed> stash_;
  dedup_window dedup_;
  // Write batches. The journal's callback answers the callers itself and
  // wakes this actor only when it waits (wake_) or the batch did not
  // succeed; otherwise the actor sees settled_ when it next runs.
  uint64_t batch_seq_ = 0;           // Id of the latest submitted batch.
  std::atomic<uint64_t> settled_{0}; // Id of the latest batch that succeeded.
  uint32_t epoch_ = 0;        // Incarnation; bumped by every restart.
  uint32_t restarts_ = 0;     // Consecutive failed writes, for the backoff.
  uint32_t stash_head_ = 0;   // First stash_ entry not yet handled.
  phase phase_ = phase::replaying_snapshot;
  bool has_permit_ = false;
  bool writing_ = false;      // Batch batch_seq_ is outstanding (unless settled_).
  bool passivating_ = false;
  bool snapshot_due_ = false;
  bool reload_needed_ = false; // The state is suspect; reload after the write.
  std::atomic<bool> wake_{false};    // Send persist_done on success too.
};

} // namespace esr::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::actors::persist_done)
