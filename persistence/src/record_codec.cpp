#include "record_codec.hpp"

#include <cstring>

#include "crc32c.hpp"
#include "esr/persistence/envelope.pb.h"
#include "esr/persistence/error.hpp"

namespace esr::persistence::detail {

namespace {

bool valid_utf8(std::string_view s) {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  auto end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || end - p <= extra || (c == 0xC0 || c == 0xC1) || c > 0xF4)
      return false;
    for (int i = 1; i <= extra; ++i)
      if ((p[i] & 0xC0) != 0x80)
        return false;
    p += extra + 1;
  }
  return true;
}

/// Appends a record header (format byte, CRC-32C to fill in) to `out`;
/// returns where it starts. The body follows it; end_frame() seals it.
size_t begin_frame(std::string& out) {
  auto header_at = out.size();
  out.push_back(static_cast<char>(record_format));
  out.append(4, '\0');
  return header_at;
}

/// Fills in the CRC-32C of the body after the header at `header_at`.
void end_frame(std::string& out, size_t header_at) {
  auto body_at = header_at + 5;
  uint32_t crc = crc32c(out.data() + body_at, out.size() - body_at);
  for (int i = 0; i < 4; ++i)
    out[header_at + 1 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
}

/// Serializes `m` into `out` behind a record header.
template <class Message>
void frame(const Message& m, std::string& out) {
  auto header_at = begin_frame(out);
  m.AppendToString(&out);
  end_frame(out, header_at);
}

/// Returns the body of a framed record, or an empty view with ok=false.
std::string_view unframe(std::string_view record, bool& ok) {
  ok = false;
  if (record.size() < 5 || static_cast<uint8_t>(record[0]) != record_format)
    return {};
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(record[1 + i])) << (8 * i);
  auto body = record.substr(5);
  ok = crc32c(body.data(), body.size()) == stored;
  return body;
}

/// Checks a framed record and parses its body into `m`; false if the
/// header, the CRC or the body is bad.
template <class Message>
bool parse_framed(std::string_view record, Message& m) {
  bool ok = false;
  auto body = unframe(record, ok);
  return ok && m.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

thread_local pb::EventEnvelope tl_event;
thread_local pb::SideRecord tl_side;
thread_local pb::SnapshotEnvelope tl_snapshot;

} // namespace

bool valid_persistence_id(std::string_view pid) {
  return !pid.empty() && pid.find('\0') == std::string_view::npos && valid_utf8(pid);
}

caf::error validate_event(const event_envelope& e, size_t max_payload) {
  if (e.event_type.empty())
    return make_error(errc::serialization_failed, "event has an empty event_type",
                      e.persistence_id);
  if (e.payload.size() > max_payload)
    return make_error(errc::serialization_failed, "event payload too large",
                      e.persistence_id, e.event_type,
                      static_cast<uint64_t>(e.payload.size()));
  bool ok = valid_utf8(e.event_type) && valid_utf8(e.metadata.correlation_id)
            && valid_utf8(e.metadata.causation_id) && valid_utf8(e.metadata.writer_id);
  for (auto& [k, v] : e.metadata.headers)
    ok = ok && valid_utf8(k) && valid_utf8(v);
  for (auto& t : e.tags)
    ok = ok && valid_utf8(t);
  if (!ok)
    return make_error(errc::serialization_failed, "event has a string that is not UTF-8",
                      e.persistence_id, e.event_type);
  return caf::none;
}

caf::error validate_snapshot(const snapshot_envelope& s, size_t max_payload) {
  if (!valid_persistence_id(s.persistence_id))
    return make_error(errc::serialization_failed, "snapshot has an invalid persistence id");
  if (s.payload.size() > max_payload)
    return make_error(errc::serialization_failed, "snapshot payload too large",
                      s.persistence_id, static_cast<uint64_t>(s.payload.size()));
  bool ok = valid_utf8(s.state_type);
  for (auto& [k, v] : s.headers)
    ok = ok && valid_utf8(k) && valid_utf8(v);
  if (!ok)
    return make_error(errc::serialization_failed, "snapshot has a string that is not UTF-8",
                      s.persistence_id);
  return caf::none;
}

namespace {

// Protobuf's wire format written straight from an event_envelope: the bytes
// pb::EventEnvelope would serialize (proto3: fields holding their default
// are left out), without copying every field into a message first.

void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

void put_uint(std::string& out, uint32_t field, uint64_t v) {
  if (v == 0)
    return;
  put_varint(out, uint64_t{field} << 3); // wire type 0: varint
  put_varint(out, v);
}

void put_len(std::string& out, uint32_t field, std::string_view s) {
  put_varint(out, (uint64_t{field} << 3) | 2); // wire type 2: length-delimited
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

void put_string(std::string& out, uint32_t field, std::string_view s) {
  if (!s.empty())
    put_len(out, field, s);
}

} // namespace

void encode_event(const event_envelope& e, std::string& out) {
  auto header_at = begin_frame(out);
  put_string(out, 1, e.persistence_id);
  put_uint(out, 2, e.sequence_nr);
  put_string(out, 4, e.event_type);
  put_uint(out, 5, e.schema_version);
  put_string(out, 6, e.payload);
  put_uint(out, 7, static_cast<uint64_t>(e.timestamp_us));
  auto& md = e.metadata;
  if (!md.correlation_id.empty() || !md.causation_id.empty() || !md.writer_id.empty()
      || !md.headers.empty()) {
    thread_local std::string meta, entry;
    meta.clear();
    put_string(meta, 1, md.correlation_id);
    put_string(meta, 2, md.causation_id);
    put_string(meta, 3, md.writer_id);
    for (auto& [k, v] : md.headers) {
      entry.clear();
      put_len(entry, 1, k); // map entries carry both fields
      put_len(entry, 2, v);
      put_len(meta, 4, entry);
    }
    put_len(out, 8, meta);
  }
  for (auto& t : e.tags)
    put_len(out, 9, t);
  end_frame(out, header_at);
}

bool decode_event(std::string_view record, event_envelope& out) {
  auto& m = tl_event;
  if (!parse_framed(record, m))
    return false;
  out.persistence_id.assign(m.persistence_id());
  out.sequence_nr = m.sequence_nr();
  out.event_type.assign(m.event_type());
  out.schema_version = m.schema_version();
  out.payload.assign(m.payload());
  out.timestamp_us = m.timestamp_us();
  auto& md = m.metadata();
  out.metadata.correlation_id.assign(md.correlation_id());
  out.metadata.causation_id.assign(md.causation_id());
  out.metadata.writer_id.assign(md.writer_id());
  out.metadata.headers.clear();
  for (auto& [k, v] : md.headers())
    out.metadata.headers.emplace(k, v);
  out.tags.resize(static_cast<size_t>(m.tags_size()));
  for (int i = 0; i < m.tags_size(); ++i)
    out.tags[static_cast<size_t>(i)].assign(m.tags(i));
  return true;
}

void encode_snapshot(const snapshot_envelope& s, std::string& out) {
  auto& m = tl_snapshot;
  m.Clear();
  m.set_persistence_id(s.persistence_id);
  m.set_sequence_nr(s.sequence_nr);
  m.set_timestamp_us(s.timestamp_us);
  m.set_state_type(s.state_type);
  m.set_schema_version(s.schema_version);
  m.set_payload(s.payload);
  for (auto& [k, v] : s.headers)
    (*m.mutable_headers())[k] = v;
  frame(m, out);
}

void encode_side_record(const std::vector<const side_write*>& writes, std::string& out) {
  auto& m = tl_side;
  m.Clear();
  for (auto* w : writes) {
    auto* e = m.add_writes();
    e->set_key(w->key);
    if (w->value)
      e->set_value(*w->value);
    else
      e->set_deleted(true);
  }
  frame(m, out);
}

bool decode_side_record(std::string_view record,
                        const std::function<void(const std::string&, const std::string*)>& f) {
  auto& m = tl_side;
  if (!parse_framed(record, m))
    return false;
  for (auto& e : m.writes())
    f(e.key(), e.deleted() ? nullptr : &e.value());
  return true;
}

bool decode_snapshot(std::string_view record, snapshot_envelope& out) {
  auto& m = tl_snapshot;
  if (!parse_framed(record, m))
    return false;
  out.persistence_id = m.persistence_id();
  out.sequence_nr = m.sequence_nr();
  out.timestamp_us = m.timestamp_us();
  out.state_type = m.state_type();
  out.schema_version = m.schema_version();
  out.payload = m.payload();
  out.headers.clear();
  for (auto& [k, v] : m.headers())
    out.headers.emplace(k, v);
  return true;
}

} // namespace esr::persistence::detail
