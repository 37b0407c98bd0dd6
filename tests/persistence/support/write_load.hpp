#pragma once

// Concurrent write load for the LevelDB-only tests: many write_async calls in
// flight at once, so the group-commit writer coalesces them.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "esr/persistence/journal.hpp"

namespace esr::persistence::test {

/// One atomic write of a load: its stream and the payloads of its events.
struct load_write {
  std::string persistence_id;
  std::vector<std::string> payloads;
  uint64_t last_sequence_nr = 0; ///< From the acknowledgement; 0 if it failed.
  caf::error error;              ///< Why it failed; empty if acknowledged.
};

/// What a write load sent and what came back.
struct load_outcome {
  std::vector<load_write> writes;

  size_t acked() const;
  size_t failed() const;
  /// Returns true if every failed write failed with `code`.
  bool all_failures_are(uint8_t code) const;
};

/// Issues `calls` write_async calls at once, each holding one to three atomic
/// writes of one to three events, spread over 8 streams "<prefix>-<i>", and
/// waits for every callback. Payloads are unique in the process ("<prefix>/<write>/<k>")
/// and padded to at least `payload_bytes`.
load_outcome run_write_load(journal& j, const std::string& prefix, size_t calls,
                            size_t payload_bytes = 100);

/// Checks the journal against `o`: every acknowledged event is stored at the
/// sequence number its acknowledgement named; every failed write is stored
/// whole (contiguously) or not at all; the streams hold nothing else. Returns
/// a description of the first violation, or an empty string.
std::string verify_load(journal& j, const load_outcome& o);

} // namespace esr::persistence::test
