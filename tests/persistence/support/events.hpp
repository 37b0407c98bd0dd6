#pragma once

// Small builders and readers shared by the persistence tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "esr/persistence/journal.hpp"

namespace esr::persistence::test {

/// An event of type `type` carrying `payload` (no metadata, no tags).
event_envelope make_event(std::string type, std::string payload);

/// An atomic write of `events` to `pid`, with an optional expected sequence nr.
atomic_write make_write(std::string pid, std::vector<event_envelope> events,
                        std::optional<uint64_t> expected = std::nullopt);

/// An atomic write of one event "<type>" with payload `payload` to `pid`.
atomic_write single(std::string pid, std::string type, std::string payload);

/// `n` pseudo-random bytes from `seed` (incompressible, so they appear verbatim
/// in LevelDB's files).
std::string random_bytes(size_t n, uint64_t seed);

/// What a replay returned: the sequence numbers visited and the highest.
struct replayed {
  std::vector<uint64_t> seqs;
  std::vector<event_envelope> events;
  uint64_t highest = 0;
};

/// Replays `pid` with the given bounds and collects the result.
caf::expected<replayed> replay_all(journal& j, std::string_view pid, uint64_t from = 1,
                                   uint64_t to = max_seq, uint64_t max = max_seq);

/// What a read_all returned: the events visited and the position examined.
struct read_result {
  std::vector<event_envelope> events;
  uint64_t examined = 0;

  /// The global positions of `events`.
  std::vector<uint64_t> positions() const;
};

/// Calls read_all with the given arguments and collects the result.
caf::expected<read_result> read_all_events(journal& j, uint64_t from = 1,
                                           uint64_t max = max_seq,
                                           const event_filter& f = event_filter::all());

/// Returns a list of sequence numbers from..to (inclusive).
std::vector<uint64_t> range(uint64_t from, uint64_t to);

} // namespace esr::persistence::test
