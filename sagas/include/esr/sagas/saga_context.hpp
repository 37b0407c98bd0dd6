#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "esr/persistence/event_envelope.hpp"
#include "esr/sagas/saga_model.hpp"

namespace esr::sagas {

/// What a saga handler sees and does: the instance's state (mutable), and
/// the decisions of the step. Nothing happens until the handler returns
/// successfully; then the new state, the commands (outbox), the timeouts and
/// the runtime's checkpoint are committed in one WriteBatch, and only then
/// are the commands sent. A handler that fails leaves no trace.
///
/// Valid only during the handler call; not thread-safe.
template <class State>
class saga_context {
public:
  /// Compensations by step name (see saga_type::compensation).
  using compensation_map = std::map<std::string, std::function<void(saga_context&)>>;

  saga_context(State& state, const std::string& instance, step_effects& fx,
               const persistence::event_envelope* event,
               const compensation_map* compensations = nullptr)
    : state_(state), instance_(instance), fx_(fx), event_(event),
      compensations_(compensations) {}

  /// The instance's state; changes are kept if the handler succeeds.
  State& state() { return state_; }

  /// The instance's correlation key, e.g. the order id.
  const std::string& instance() const { return instance_; }

  /// The event being handled, or nullptr in a timeout or compensation.
  const persistence::event_envelope* event() const { return event_; }

  /// Sends the Protobuf command `cmd` to aggregate `id` of type `type` after
  /// the step commits, with the deterministic command id
  /// "<saga>/<instance>/<step>/<k>" (so the aggregate applies it once, even
  /// if it is re-sent after a crash). `Command` must be declared with
  /// saga_type::command<Command, ...>() or the step fails.
  template <class Command>
  void send(std::string type, std::string id, const Command& cmd) {
    outgoing_command c;
    c.aggregate_type = std::move(type);
    c.aggregate_id = std::move(id);
    c.command_type = Command::default_instance().GetTypeName();
    cmd.SerializeToString(&c.payload);
    fx_.commands.push_back(std::move(c));
  }

  /// Arms the durable timeout `name` to fire `after` from now (re-arming
  /// replaces an earlier deadline). It survives restarts and fires the
  /// handler declared with saga_type::on_timeout(name, ...).
  void schedule(std::string name, std::chrono::milliseconds after) {
    fx_.schedules.emplace_back(std::move(name), after);
  }

  /// Cancels the timeout `name` (no-op if not armed).
  void cancel(std::string name) { fx_.cancels.push_back(std::move(name)); }

  /// Records that `step` is done, so that compensate() undoes it with the
  /// compensation declared for it (saga_type::compensation).
  void done(std::string step) { fx_.done_steps.push_back(std::move(step)); }

  /// Returns true if `step` is recorded as done and not yet compensated.
  bool is_done(const std::string& step) const {
    for (auto& s : fx_.done_steps)
      if (s == step)
        return true;
    return false;
  }

  /// Runs the compensation of every step recorded as done, newest first
  /// (each typically sends an undoing command), and forgets those steps.
  void compensate() {
    auto steps = std::move(fx_.done_steps);
    fx_.done_steps.clear();
    for (auto i = steps.rbegin(); i != steps.rend(); ++i) {
      if (compensations_ == nullptr)
        continue;
      auto j = compensations_->find(*i);
      if (j == compensations_->end())
        continue;
      note("compensating step '" + *i + "'");
      j->second(*this);
    }
  }

  /// Ends the instance with `outcome` (e.g. "confirmed"); later events for it
  /// are ignored and its pending timeouts are cancelled.
  void complete(std::string outcome) { fx_.completed = std::move(outcome); }

  /// Adds a line to the story the observer reports.
  void note(std::string text) { fx_.notes.push_back(std::move(text)); }

  /// The effects gathered so far (used by the runtime and compensate()).
  step_effects& effects() { return fx_; }

private:
  State& state_;
  const std::string& instance_;
  step_effects& fx_;
  const persistence::event_envelope* event_;
  const compensation_map* compensations_;
};

} // namespace esr::sagas
