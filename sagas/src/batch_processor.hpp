#pragma once

// The saga processor's per-batch machinery (internal). batch_processor.cpp
// routes each event (start, redelivery, stuck, unknown instance, timeout,
// replay request); step.cpp turns a handler call into one atomic write (step
// event + outbox + timer records) or parks the event; processor.cpp commits
// a batch's writes and hands commands and timeouts to the dispatcher.

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime_impl.hpp"

namespace esr::sagas::detail {

using persistence::atomic_write;
using persistence::event_envelope;

/// Runs a handler on a state copy, filling the effects.
using handler_call = std::function<caf::error(std::any& state, step_effects& fx)>;

/// What to do once one write of a batch is durable.
struct post_commit {
  std::string instance;
  bool step = false;                    ///< The write records a step.
  bool parked = false;                  ///< The write parks an event.
  std::optional<std::string> completed; ///< The step ended the instance.
  std::vector<outbox_item> items;
  std::vector<timer_item> arms;
  std::vector<std::string> disarms;
  std::vector<saga_note> notes;
};

/// The work of one batch.
struct batch_work {
  /// The instances the batch looked at. Their records are changed in place
  /// in the runtime's cache; if the batch fails, these are dropped from it
  /// (and reloaded from the journal when next needed).
  std::vector<std::string> touched;
  std::vector<atomic_write> writes;
  std::vector<post_commit> posts;
  std::vector<saga_note> notes; ///< Notes without a write (ignored events).
};

/// Handles the events of one batch; a member-like helper with access to impl.
class batch_processor {
public:
  batch_processor(saga_runtime::impl& rt, batch_work& w) : rt_(rt), w_(w) {}

  /// Handles `e`: records a step, parks it, skips it or notes it as ignored.
  /// Returns an empty error, or a journal / errc::corrupt_record error (the
  /// batch is then retried).
  caf::error handle(const event_envelope& e);

  /// Re-handles the parked events of an instance (a ReplayRequested event).
  caf::error replay(const event_envelope& e, const std::string& instance);

private:
  caf::expected<instance_record*> get(const std::string& key);

  /// Runs `fn` with retries and records a step, or parks `e` (step.cpp).
  void step(instance_record& rec, const std::string& instance, const event_envelope& e,
            const std::string& source_type, const std::string& fired_timer,
            std::vector<persistence::side_write> extra, const handler_call& fn);

  /// Parks `e` in the dead-letter stream of `instance` (step.cpp).
  void park(instance_record* rec, const std::string& instance, const event_envelope& e,
            const std::string& error, uint32_t attempts);

  void note(saga_note::kind k, const std::string& instance, std::string text) {
    saga_note n;
    n.what = k;
    n.saga = rt_.name;
    n.instance = instance;
    n.text = std::move(text);
    w_.notes.push_back(std::move(n));
  }

  saga_runtime::impl& rt_;
  batch_work& w_;
};

/// Makes the envelope of a saga record `m` for `stream`.
template <class Msg>
event_envelope make_envelope(std::string stream, const Msg& m, const std::string& corr,
                             std::string causation) {
  static const std::string type = Msg::default_instance().GetTypeName();
  event_envelope env;
  env.persistence_id = std::move(stream);
  env.event_type = type;
  m.SerializeToString(&env.payload);
  env.metadata.correlation_id = corr;
  env.metadata.causation_id = std::move(causation);
  return env;
}

/// "<stream>#<sequence_nr>" of `e`.
inline std::string causation_of(const event_envelope& e) {
  return e.persistence_id + "#" + std::to_string(e.sequence_nr);
}

} // namespace esr::sagas::detail
