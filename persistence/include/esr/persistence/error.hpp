#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace caf {
class actor_system_config;
} // namespace caf

namespace esr::persistence {

/// Error codes of the persistence module (CAF category `esr_pers`).
/// DO NOT CHANGE THESE ENUM VALUES: they cross process boundaries.
enum class errc : uint8_t {
  /// The write's expected sequence number did not match the stream: another
  /// writer got there first. Rejected: nothing was stored.
  concurrency_conflict = 1,
  /// An event or snapshot could not be serialized or is invalid (empty type,
  /// too large, malformed strings). Rejected: nothing of that write was stored.
  serialization_failed = 2,
  /// A stored record failed its checksum or could not be decoded. The context
  /// names the stream and sequence number. No data is returned for it.
  corruption = 3,
  /// The storage engine reported an I/O error (disk full, EIO, failed fsync).
  /// Failed: the outcome of the write is unknown.
  io_error = 4,
  /// An argument violated a documented precondition.
  invalid_argument = 5,
  /// The store was closed or is shutting down; nothing was done.
  closed = 6,
  /// The on-disk data was written by an incompatible format or configuration.
  incompatible_format = 7,
};

/// The CAF error category atom of this module.
inline constexpr caf::atom_value error_category = caf::atom("esr_pers");

/// Returns a human-readable name for `x`, e.g. "concurrency_conflict".
std::string to_string(errc x);

/// Makes a CAF error of category `esr_pers`; `xs` become its context (e.g. a
/// stream name and a sequence number) and are rendered with the error.
template <class... Ts>
caf::error make_error(errc x, Ts&&... xs) {
  return caf::error{static_cast<uint8_t>(x), error_category,
                    caf::make_message(std::forward<Ts>(xs)...)};
}

/// Returns true if `err` is the persistence error `x`.
inline bool is(const caf::error& err, errc x) {
  return err.category() == error_category
         && err.code() == static_cast<uint8_t>(x);
}

/// Renders an error of one of esr's categories as "<prefix>.<name>" followed
/// by ": <context>" when it has one (e.g. "esr_agg.rejected: (\"overdraft\")").
/// Every module's renderer uses it, so all esr errors read alike.
std::string render_code(const char* prefix, const std::string& name,
                        const caf::message& context);

/// Renders any error readably (for esr's own categories: "esr_pers.corruption:
/// (\"account-1\", 7)"), without needing an actor system.
std::string render(const caf::error& err);

/// Registers the renderer of this category with a CAF actor system config so
/// `actor_system::render(err)` and CAF's logs show readable names.
void register_errors(caf::actor_system_config& cfg);

} // namespace esr::persistence
