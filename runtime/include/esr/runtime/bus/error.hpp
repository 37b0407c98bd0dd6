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

namespace esr::runtime::bus {

/// Error codes of esr's read side: the event bus, subscriptions, checkpoints,
/// projections, view stores and upcasters (CAF category `esr_bus`).
/// DO NOT CHANGE THESE ENUM VALUES: they cross process boundaries.
enum class errc : uint8_t {
  /// An argument violated a documented precondition (empty name, NUL byte in
  /// a view name, missing handler). Nothing was done.
  invalid_argument = 1,
  /// An upcaster failed or returned an invalid envelope (empty event type, a
  /// chain that does not terminate). The context names the event. The read
  /// that met it returns this error and no data for that event.
  upcast_failed = 2,
  /// The checkpoint or view store reported an I/O error. Failed: the outcome
  /// of a write is unknown (it either committed whole or not at all).
  store_io_error = 3,
  /// A stored checkpoint or view record could not be decoded.
  store_corruption = 4,
  /// A subscription or projection handler kept failing after its retries; the
  /// subscription stopped. The context holds the handler's last error.
  handler_failed = 5,
  /// The bus, subscription or store was stopped or closed; nothing was done.
  closed = 6,
  /// A wait ended before the awaited position was reached.
  timeout = 7,
};

/// The CAF error category atom of the read side.
inline constexpr caf::atom_value error_category = caf::atom("esr_bus");

/// Returns a human-readable name for `x`, e.g. "upcast_failed".
std::string to_string(errc x);

/// Makes a CAF error of category `esr_bus` with `xs` as its context.
template <class... Ts>
caf::error make_error(errc x, Ts&&... xs) {
  return caf::error{static_cast<uint8_t>(x), error_category,
                    caf::make_message(std::forward<Ts>(xs)...)};
}

/// Returns true if `err` is the read-side error `x`.
inline bool is(const caf::error& err, errc x) {
  return err.category() == error_category && err.code() == static_cast<uint8_t>(x);
}

/// Renders any error readably without an actor system: read-side errors as
/// "esr_bus.upcast_failed: (...)", persistence errors via the persistence
/// renderer, others via CAF.
std::string render(const caf::error& err);

/// Registers the renderer of this category with a CAF actor system config.
void register_errors(caf::actor_system_config& cfg);

} // namespace esr::runtime::bus
