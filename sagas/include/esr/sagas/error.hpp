#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace caf {
class actor_system_config;
} // namespace caf

namespace esr::sagas {

/// Error codes of the saga module (CAF category `esr_saga`).
/// DO NOT CHANGE THESE ENUM VALUES: they are stored in dead letters.
enum class errc : uint8_t {
  /// An argument violated a documented precondition (empty saga name, a name
  /// containing '-', no start event declared). Nothing was done.
  invalid_argument = 1,
  /// A saga handler returned an error or threw; the context holds the saga,
  /// the instance and the reason. The step stored nothing.
  handler_failed = 2,
  /// A stored saga record (step, outbox entry, timer, dead letter) could not
  /// be decoded; the context names the record.
  corrupt_record = 3,
  /// A handler sent a command type no `command<>()` declaration covers.
  unknown_command = 4,
  /// The event belongs to no existing instance and is not a start event; the
  /// unknown-instance policy parked it.
  unknown_instance = 5,
  /// The requested instance or parked event does not exist.
  not_found = 6,
  /// The runtime was stopped; nothing was done.
  stopped = 7,
  /// A wait ended before the awaited condition held.
  timeout = 8,
};

/// The CAF error category atom of this module.
inline constexpr caf::atom_value error_category = caf::atom("esr_saga");

/// Returns a human-readable name for `x`, e.g. "handler_failed".
std::string to_string(errc x);

/// Makes a CAF error of category `esr_saga`; `xs` become its context.
template <class... Ts>
caf::error make_error(errc x, Ts&&... xs) {
  return caf::error{static_cast<uint8_t>(x), error_category,
                    caf::make_message(std::forward<Ts>(xs)...)};
}

/// Returns true if `err` is the saga error `x`.
inline bool is(const caf::error& err, errc x) {
  return err.category() == error_category && err.code() == static_cast<uint8_t>(x);
}

/// Renders any error readably ("esr_saga.handler_failed: (...)"), also the
/// errors of the other esr modules, without an actor system.
std::string render(const caf::error& err);

/// Registers the renderer of this category (and of the other esr modules)
/// with `cfg`.
void register_errors(caf::actor_system_config& cfg);

} // namespace esr::sagas
