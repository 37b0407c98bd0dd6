#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "esr/runtime/aggregates/registry.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/saga_model.hpp"
#include "esr/sagas/saga_options.hpp"

namespace esr::sagas {

/// The stored view of one saga instance.
struct instance_info {
  std::string instance;            ///< The correlation key.
  uint64_t version = 0;            ///< Steps recorded (its stream's highest sequence number).
  bool completed = false;          ///< True once it ended.
  bool stuck = false;              ///< True while it has parked events.
  std::string outcome;             ///< The outcome given at completion.
  std::string state;               ///< describe_state() of its state.
  std::vector<std::string> timers; ///< Names of pending timeouts.
};

/// A parked event (see dead letters).
struct dead_letter_info {
  std::string instance;         ///< Correlation key ("" if none).
  std::string error;            ///< Why it was parked.
  uint32_t attempts = 0;        ///< Handler attempts made.
  std::string persistence_id;   ///< The event's stream...
  uint64_t sequence_nr = 0;
  uint64_t global_position = 0;
  std::string event_type;
};

/// Counters of a runtime.
struct saga_stats {
  uint64_t steps = 0;           ///< Steps committed.
  uint64_t commands_sent = 0;   ///< Command deliveries attempted (incl. re-sends).
  uint64_t commands_acked = 0;  ///< Commands answered (ok or rejected).
  uint64_t completed = 0;       ///< Instances that ended in this run.
  uint64_t parked = 0;          ///< Events parked in this run.
  uint64_t skipped = 0;         ///< Redelivered events recognised as handled.
};

/// Runs one saga type: a durable subscription to the event bus feeds a saga
/// processor (one thread, in global order) that correlates each event to an
/// instance, runs its handler and commits, in ONE WriteBatch, the step event
/// of the instance's stream "saga.<name>-<instance>" (its new state, the
/// highest global position handled, pending timeouts, the commands it sends:
/// the outbox), its timer records and the runtime's checkpoint. After the
/// commit a CAF dispatcher actor sends the commands to the aggregates
/// (deterministic command ids) and moves the outbox-done position on as they
/// are answered (a failing command is kept under an outbox key while it is
/// retried); on start, it re-sends the commands of the steps after that
/// position and those under outbox keys, and re-arms the stored timeouts
/// (CAF delayed messages). A fired timeout is appended to
/// the journal ("saga.<name>.timers-<instance>") and handled in order like
/// any event. Redelivered events (at or below an instance's handled position)
/// are skipped, so each event is handled once in effect across crashes.
///
/// Thread-safety: every member function may be called from any thread.
class saga_runtime {
public:
  /// Starts the saga `model` on `bus`, sending commands through `reg` (whose
  /// storage must be the bus's journal). Resumes after the stored checkpoint.
  /// Returns errc::invalid_argument for a name that is empty or holds '-' or
  /// '/', a bus or journal error if the checkpoint, outbox or timers cannot
  /// be read.
  [[nodiscard]] static caf::expected<std::unique_ptr<saga_runtime>>
  start(caf::actor_system& sys, std::shared_ptr<runtime::bus::event_bus> bus,
        runtime::aggregates::aggregate_registry reg, std::shared_ptr<const saga_model> model,
        saga_options opts = {});

  /// Stops (see stop()).
  ~saga_runtime();

  saga_runtime(const saga_runtime&) = delete;
  saga_runtime& operator=(const saga_runtime&) = delete;

  /// Stops the subscription after the batch in progress, writes the pending
  /// outbox deletions and stops the dispatcher. Commands still in flight are
  /// re-sent by the next start. Idempotent.
  void stop();

  /// Reads instance `key` from the journal. Returns nullopt if it never
  /// started, errc::corrupt_record or a journal error.
  [[nodiscard]] caf::expected<std::optional<instance_info>> instance(const std::string& key) const;

  /// Reads the State of instance `key` (nullopt if it never started).
  /// Errors as instance().
  [[nodiscard]] caf::expected<std::optional<std::any>> state_of(const std::string& key) const;

  /// Lists the parked events, oldest first per instance.
  [[nodiscard]] caf::expected<std::vector<dead_letter_info>> parked() const;

  /// Asks the processor to re-handle the parked events of `key` in order (by
  /// appending a ReplayRequested event, so the request is itself durable).
  /// Those that succeed are removed; the instance is no longer stuck once
  /// none is left. Returns errc::not_found if `key` has no parked events.
  [[nodiscard]] caf::error replay_parked(const std::string& key);

  /// Blocks until every committed event was handled and no command is
  /// waiting for its answer (or `timeout` passes: errc::timeout; or the
  /// subscription failed: its error).
  [[nodiscard]] caf::error wait_idle(std::chrono::milliseconds timeout) const;

  /// The counters since start.
  saga_stats stats() const;

  /// The saga's definition.
  const saga_model& model() const;

  /// The runtime's internals (src/runtime_impl.hpp); public only so that
  /// the processor and the dispatcher actor can share it. Not an API.
  struct impl;

private:
  explicit saga_runtime(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

} // namespace esr::sagas
