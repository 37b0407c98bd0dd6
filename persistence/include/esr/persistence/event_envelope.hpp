#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace esr::persistence {

/// Causality and tracing information of an event (see envelope.proto).
struct event_metadata {
  std::string correlation_id;  ///< Shared by every message of one workflow.
  std::string causation_id;    ///< Id of the message that caused the event.
  std::string writer_id;       ///< Id of the writer (actor incarnation, process).
  std::map<std::string, std::string> headers; ///< Free-form application headers.

  friend bool operator==(const event_metadata& x, const event_metadata& y) {
    return x.correlation_id == y.correlation_id && x.causation_id == y.causation_id
           && x.writer_id == y.writer_id && x.headers == y.headers;
  }
};

/// One event as stored in and read from a journal. On write, the journal
/// assigns `sequence_nr` and `global_position` (the values given are ignored)
/// and, when `timestamp_us` is 0, sets it to the time of the write call.
struct event_envelope {
  std::string persistence_id;   ///< Stream name, "<category>-<id>".
  uint64_t sequence_nr = 0;     ///< 1-based position inside the stream.
  uint64_t global_position = 0; ///< 1-based position in the store's commit order.
  std::string event_type;       ///< Type name of the payload; must not be empty.
  uint32_t schema_version = 1;  ///< Version of the payload's schema.
  std::string payload;          ///< Serialized event (usually Protobuf bytes).
  int64_t timestamp_us = 0;     ///< Commit time, microseconds since the epoch.
  event_metadata metadata;
  std::vector<std::string> tags; ///< Tags for tag reads and subscriptions.

  friend bool operator==(const event_envelope& x, const event_envelope& y) {
    return x.persistence_id == y.persistence_id && x.sequence_nr == y.sequence_nr
           && x.global_position == y.global_position && x.event_type == y.event_type
           && x.schema_version == y.schema_version && x.payload == y.payload
           && x.timestamp_us == y.timestamp_us && x.metadata == y.metadata
           && x.tags == y.tags;
  }
};

/// CAF inspection, so envelopes can travel in messages and be printed.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_metadata& x) {
  return f(x.correlation_id, x.causation_id, x.writer_id, x.headers);
}

/// CAF inspection, so envelopes can travel in messages and be printed.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_envelope& x) {
  return f(x.persistence_id, x.sequence_nr, x.global_position, x.event_type,
           x.schema_version, x.payload, x.timestamp_us, x.metadata, x.tags);
}

/// Returns the category of a stream: the part of `persistence_id` before its
/// first '-' ("account-42" -> "account"), or the whole id if it has no '-'.
inline std::string_view category_of(std::string_view persistence_id) {
  auto pos = persistence_id.find('-');
  return pos == std::string_view::npos ? persistence_id
                                       : persistence_id.substr(0, pos);
}

/// Returns the current wall-clock time in microseconds since the Unix epoch.
int64_t now_us();

} // namespace esr::persistence
