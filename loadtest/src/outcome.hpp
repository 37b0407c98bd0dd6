#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace esr::loadtest {

/// How a failed command is counted.
enum class error_kind : uint8_t {
  /// Optimistic concurrency: wrong expected version or a journal write
  /// rejected by a concurrency check. Not stored.
  conflict,
  /// The command handler said no (e.g. an overdraft). Not stored; the
  /// aggregate answered, so the command counts as handled.
  rejected,
  /// The runtime could not take the command (stash full, write failed,
  /// recovery failed, aggregate or shard down, ...).
  unavailable,
  /// No answer within the per-command timeout; the outcome is unknown.
  timeout,
};

/// Returns "conflict", "rejected", "unavailable" or "timeout".
const char* to_string(error_kind x);

/// Classifies the error a command was answered with.
error_kind classify(const caf::error& err);

/// Returns true if the command that failed with `err` was definitely not
/// stored (false: its outcome is unknown, e.g. a timeout or failed write).
bool definitely_not_applied(const caf::error& err);

/// Counts of failed commands by kind.
struct error_counts {
  uint64_t conflict = 0;
  uint64_t rejected = 0;
  uint64_t unavailable = 0;
  uint64_t timeout = 0;

  /// Counts one error of kind `k`.
  void add(error_kind k);
  /// Adds the counts of `other`.
  void merge(const error_counts& other);
  /// Sum of every kind.
  uint64_t total() const { return conflict + rejected + unavailable + timeout; }
  /// Sum of the kinds that mean the runtime failed to handle a command
  /// (everything but rejected).
  uint64_t failures() const { return conflict + unavailable + timeout; }
};

} // namespace esr::loadtest
