#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esr::persistence {

/// When a write counts as durable and is acknowledged.
enum class durability_mode : uint8_t {
  /// One fsync per group commit; a write is acknowledged after the fsync that
  /// covers it. Acknowledged writes survive power loss. The default.
  sync = 0,
  /// Groups are written without fsync; an fsync runs every sync_interval and
  /// writes are acknowledged after the fsync that covers them. Survives power
  /// loss; trades latency (up to one interval) for fewer fsyncs.
  periodic = 1,
  /// No fsync: acknowledged once the OS has the data. Survives a process
  /// crash (kill -9) but not power loss or an OS crash.
  none = 2,
};

/// Returns "sync", "periodic" or "none".
std::string to_string(durability_mode x);

/// Parses "sync", "periodic" or "none"; nullopt for anything else.
std::optional<durability_mode> parse_durability_mode(std::string_view s);

} // namespace esr::persistence
