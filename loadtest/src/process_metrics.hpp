#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace esr::loadtest {

/// Memory of this process, from /proc/self/status.
struct memory_usage {
  uint64_t resident_bytes = 0;      ///< VmRSS: resident now.
  uint64_t peak_resident_bytes = 0; ///< VmHWM: highest resident so far.
};

/// Returns this process's memory usage; nullopt where /proc is unavailable.
std::optional<memory_usage> read_memory_usage();

/// Returns the bytes this process caused to be written to storage
/// (write_bytes of /proc/self/io); nullopt if unreadable.
std::optional<uint64_t> read_io_write_bytes();

/// Returns the total size of the regular files under `dir` (0 if absent).
uint64_t directory_bytes(const std::string& dir);

} // namespace esr::loadtest
