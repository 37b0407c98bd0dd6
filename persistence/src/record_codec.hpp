#pragma once

// Framing of stored records (see key_codec.hpp for the grammar):
//   record := format:u8(=1) crc32c:fixed32le(body) body
// with body a Protobuf EventEnvelope or SnapshotEnvelope (envelope.proto).

#include <cstddef>
#include <functional>
#include <vector>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "esr/persistence/event_envelope.hpp"
#include "esr/persistence/journal.hpp"
#include "esr/persistence/snapshot_envelope.hpp"

namespace esr::persistence::detail {

/// The record format byte written today.
inline constexpr uint8_t record_format = 1;

/// Checks that `e` can be stored: non-empty event type, payload within
/// `max_payload`, valid UTF-8 in every string field. Returns
/// errc::serialization_failed naming the problem otherwise.
caf::error validate_event(const event_envelope& e, size_t max_payload);

/// Checks a snapshot likewise (non-empty persistence id, no NUL in it).
caf::error validate_snapshot(const snapshot_envelope& s, size_t max_payload);

/// Returns true if `persistence_id` is usable as a stream name: non-empty,
/// valid UTF-8, no NUL bytes.
bool valid_persistence_id(std::string_view persistence_id);

/// Appends the record of `e` to `out` (every field but global_position,
/// which is the record's key).
void encode_event(const event_envelope& e, std::string& out);

/// Decodes a record into `out` (reusing its string capacity); leaves
/// out.global_position alone. Returns false if the frame, checksum or body is
/// invalid.
bool decode_event(std::string_view record, event_envelope& out);

/// Appends the side record of `writes` (one group's side writes, in write
/// order) to `out`.
void encode_side_record(const std::vector<const side_write*>& writes, std::string& out);

/// Decodes a side record, calling `f(key, value)` for each of its writes in
/// order (`value` nullptr for a deletion). Returns false if it is invalid
/// (then `f` was not called).
bool decode_side_record(std::string_view record,
                        const std::function<void(const std::string&, const std::string*)>& f);

/// Appends the record of `s` to `out`.
void encode_snapshot(const snapshot_envelope& s, std::string& out);

/// Decodes a snapshot record. Returns false if it is invalid.
bool decode_snapshot(std::string_view record, snapshot_envelope& out);

} // namespace esr::persistence::detail
