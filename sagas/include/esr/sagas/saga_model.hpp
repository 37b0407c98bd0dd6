#pragma once

#include <any>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/event_envelope.hpp"

namespace esr::sagas {

/// A command a saga step sends to an aggregate, already serialized.
struct outgoing_command {
  std::string aggregate_type; ///< Target type, e.g. "inventory".
  std::string aggregate_id;   ///< Target id, e.g. "sku-1".
  std::string command_type;   ///< Protobuf type name of the command.
  std::string payload;        ///< The serialized command.
};

/// Everything one handler call decided besides the new state. Filled through
/// saga_context; read by the runtime, which commits it in one WriteBatch.
struct step_effects {
  std::vector<outgoing_command> commands; ///< Commands for the outbox, in order.
  /// Timeouts to (re)arm: name and delay from now.
  std::vector<std::pair<std::string, std::chrono::milliseconds>> schedules;
  std::vector<std::string> cancels;       ///< Timeouts to cancel, by name.
  std::optional<std::string> completed;   ///< Set when the saga ended (its outcome).
  std::vector<std::string> notes;         ///< Story lines for the observer.
  /// Steps done that have a compensation (in order); handlers append with
  /// saga_context::done(), compensate() consumes them in reverse.
  std::vector<std::string> done_steps;
};

/// What to do with an event that correlates to no existing instance and does
/// not start one (e.g. a payment event for an unknown order).
enum class unknown_instance_policy : uint8_t {
  ignore, ///< Skip it, reporting one note line to the observer.
  park,   ///< Park it in the dead-letter stream (errc::unknown_instance).
};

/// An event the saga takes part in, decoded and correlated.
struct routed_event {
  std::string instance; ///< The correlation key.
  bool starts = false;  ///< True if the event type starts an instance.
  std::any event;       ///< The decoded Protobuf event.
  size_t handler = 0;   ///< Index of the handler (internal to the model).
};

/// The type-erased definition of a saga type: the interface between
/// saga_type<State> and the runtime. Immutable once in use; thread-safe.
class saga_model {
public:
  virtual ~saga_model();

  /// The saga's name; contains no '-' (it names streams and side keys).
  virtual const std::string& name() const = 0;

  /// Decides whether the saga takes part in `e`. Returns nullopt if no
  /// handler is declared for its type, the routed event otherwise, or
  /// errc::corrupt_record if the payload does not decode. An empty
  /// correlation key also yields nullopt.
  virtual caf::expected<std::optional<routed_event>>
  route(const persistence::event_envelope& e) const = 0;

  /// True if route() may return an event for the type `event_type`: false
  /// lets the runtime skip such events without reading them. Default: true.
  virtual bool takes_part_in(const std::string& event_type) const {
    static_cast<void>(event_type);
    return true;
  }

  /// Runs the handler of `r` on `state` (a copy the runtime discards on
  /// error), writing decisions to `fx`. Returns an empty error, or
  /// errc::handler_failed (error returned or exception thrown),
  /// errc::unknown_command (a command type without declaration).
  virtual caf::error handle(std::any& state, const std::string& instance,
                            const routed_event& r, const persistence::event_envelope& e,
                            step_effects& fx) const = 0;

  /// Runs the handler of the timeout `name`. Errors as handle(); a timeout
  /// without a declared handler is errc::handler_failed.
  virtual caf::error handle_timeout(std::any& state, const std::string& instance,
                                    const std::string& name, step_effects& fx) const = 0;

  /// The state of a new instance.
  virtual std::any initial_state() const = 0;

  /// Serializes a state (for the step record).
  virtual std::string encode_state(const std::any& state) const = 0;

  /// Decodes encode_state's output; nullopt if it cannot be decoded.
  virtual std::optional<std::any> decode_state(const std::string& bytes) const = 0;

  /// A one-line rendering of a state, for stories and tools.
  virtual std::string describe_state(const std::any& state) const = 0;

  /// Turns an outbox entry's command back into the aggregate's Command type
  /// (a std::any for command_envelope::payload). errc::unknown_command if the
  /// type was not declared, errc::corrupt_record if the bytes do not decode.
  virtual caf::expected<std::any> decode_command(const std::string& command_type,
                                                 const std::string& payload) const = 0;

  /// The declared policy for events of unknown instances.
  virtual unknown_instance_policy unknown_policy() const = 0;
};

} // namespace esr::sagas
