#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace esr::persistence {

/// A snapshot of an aggregate's state as stored in a snapshot store.
struct snapshot_envelope {
  std::string persistence_id;
  uint64_t sequence_nr = 0;    ///< The state includes every event up to here.
  int64_t timestamp_us = 0;    ///< When it was taken; 0 on save means "now".
  std::string state_type;      ///< Type name of the payload.
  uint32_t schema_version = 1;
  std::string payload;         ///< Serialized state.
  std::map<std::string, std::string> headers;

  friend bool operator==(const snapshot_envelope& x, const snapshot_envelope& y) {
    return x.persistence_id == y.persistence_id && x.sequence_nr == y.sequence_nr
           && x.timestamp_us == y.timestamp_us && x.state_type == y.state_type
           && x.schema_version == y.schema_version && x.payload == y.payload
           && x.headers == y.headers;
  }
};

/// Where a snapshot is, without its payload.
struct snapshot_metadata {
  std::string persistence_id;
  uint64_t sequence_nr = 0;
  int64_t timestamp_us = 0;
};

/// Selects snapshots by bounds, all inclusive (Akka's SnapshotSelectionCriteria).
struct snapshot_criteria {
  uint64_t max_sequence_nr = std::numeric_limits<uint64_t>::max();
  int64_t max_timestamp_us = std::numeric_limits<int64_t>::max();
  uint64_t min_sequence_nr = 0;
  int64_t min_timestamp_us = 0;

  /// Matches every snapshot.
  static snapshot_criteria latest() { return {}; }

  /// Matches snapshots at or below `seq`.
  static snapshot_criteria up_to(uint64_t seq) {
    snapshot_criteria c;
    c.max_sequence_nr = seq;
    return c;
  }

  /// Returns true if a snapshot at (`seq`, `ts`) lies within the bounds.
  bool matches(uint64_t seq, int64_t ts) const {
    return seq <= max_sequence_nr && seq >= min_sequence_nr
           && ts <= max_timestamp_us && ts >= min_timestamp_us;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_envelope& x) {
  return f(x.persistence_id, x.sequence_nr, x.timestamp_us, x.state_type,
           x.schema_version, x.payload, x.headers);
}

} // namespace esr::persistence
