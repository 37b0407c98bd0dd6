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

namespace esr::actors {

/// Error codes of the aggregate module (CAF category `esr_agg`).
/// DO NOT CHANGE THESE ENUM VALUES: they cross process boundaries.
enum class errc : uint8_t {
  /// No aggregate type of that name is registered. Nothing was done.
  unknown_aggregate_type = 1,
  /// The command handler rejected the command; the context holds the reason.
  /// Nothing was stored; the aggregate goes on.
  rejected = 2,
  /// The command's expected version differs from the aggregate's version;
  /// the context holds (expected, actual). Nothing was stored.
  wrong_expected_version = 3,
  /// The aggregate's stash (commands waiting for recovery or a persist) is
  /// full. The command was dropped unhandled; retry later.
  stash_overflow = 4,
  /// The journal refused the write (concurrency conflict or an invalid
  /// event). Definitely not stored; the aggregate reloads and goes on.
  write_rejected = 5,
  /// The write failed (I/O error, store closed): its outcome is unknown. The
  /// aggregate restarts from storage with backoff; retry with the same
  /// command id to get exactly-once effect.
  write_failed = 6,
  /// The aggregate could not rebuild its state (unreadable snapshot and no
  /// events to fall back on, corrupt event, unknown event type). The
  /// aggregate stops; the context says why.
  recovery_failed = 7,
  /// The command's payload is not of the aggregate type's command type.
  wrong_command_type = 8,
  /// A retried command id was handled before the last restart and its
  /// original reply was not stored (the type has no reply codec). The
  /// command's events are stored; the context holds the sequence number.
  duplicate_command = 9,
  /// The command handler raised an exception; nothing was stored.
  handler_failed = 10,
  /// An invalid argument (empty id, an id of a type containing '-').
  invalid_argument = 11,
  /// The requested state (time travel) does not exist: no event at or
  /// before the given point.
  not_found = 12,
};

/// The CAF error category atom of this module.
inline constexpr caf::atom_value error_category = caf::atom("esr_agg");

/// Returns a human-readable name for `x`, e.g. "stash_overflow".
std::string to_string(errc x);

/// Makes a CAF error of category `esr_agg`; `xs` become its context.
template <class... Ts>
caf::error make_error(errc x, Ts&&... xs) {
  return caf::error{static_cast<uint8_t>(x), error_category,
                    caf::make_message(std::forward<Ts>(xs)...)};
}

/// Returns true if `err` is the aggregate error `x`.
inline bool is(const caf::error& err, errc x) {
  return err.category() == error_category && err.code() == static_cast<uint8_t>(x);
}

/// Renders any error readably ("esr_agg.rejected: (\"insufficient funds\")"),
/// also errors of the persistence module, without an actor system.
std::string render(const caf::error& err);

/// Registers the renderers of this module and of esr::persistence with `cfg`.
void register_errors(caf::actor_system_config& cfg);

} // namespace esr::actors
