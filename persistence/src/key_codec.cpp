#include "key_codec.hpp"

namespace esr::persistence::detail {

void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void put_be16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t stable_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint16_t shard_of(std::string_view persistence_id, uint32_t shard_count) {
  return static_cast<uint16_t>(stable_hash(persistence_id) % shard_count);
}

namespace {

std::string tagged(char tag, size_t reserve) {
  std::string k;
  k.reserve(reserve + 1);
  k.push_back(tag);
  return k;
}

} // namespace

std::string meta_key(std::string_view name) {
  auto k = tagged(meta_tag, name.size());
  k.append(name);
  return k;
}

std::string name_key(uint16_t shard, std::string_view persistence_id) {
  auto k = tagged(name_tag, 2 + persistence_id.size());
  put_be16(k, shard);
  k.append(persistence_id);
  return k;
}

std::string id_key(uint64_t stream_id) {
  auto k = tagged(id_tag, 8);
  put_be64(k, stream_id);
  return k;
}

std::string event_key(uint64_t stream_id, uint64_t seq) {
  auto k = tagged(event_tag, 16);
  put_be64(k, stream_id);
  put_be64(k, seq);
  return k;
}

std::string stream_index_prefix(uint64_t stream_id) {
  auto k = tagged(event_tag, 8);
  put_be64(k, stream_id);
  return k;
}

void append_index_run(std::string& value, uint64_t first_seq, uint64_t first_position) {
  put_be64(value, first_seq);
  put_be64(value, first_position);
}

std::string global_key(uint64_t position) {
  auto k = tagged(global_tag, 8);
  put_be64(k, position);
  return k;
}

std::string side_record_key(uint64_t position, uint64_t side_seq) {
  auto k = tagged(global_tag, 16);
  put_be64(k, position);
  put_be64(k, side_seq);
  return k;
}

std::string deleted_key(uint64_t stream_id) {
  auto k = tagged(deleted_tag, 8);
  put_be64(k, stream_id);
  return k;
}

std::string snapshot_prefix(uint16_t shard, std::string_view persistence_id) {
  auto k = tagged(snapshot_tag, 3 + persistence_id.size() + 8);
  put_be16(k, shard);
  k.append(persistence_id);
  k.push_back('\0');
  return k;
}

std::string snapshot_key(uint16_t shard, std::string_view persistence_id, uint64_t seq) {
  auto k = snapshot_prefix(shard, persistence_id);
  put_be64(k, seq);
  return k;
}

std::string side_key(std::string_view user_key) {
  auto k = tagged(side_tag, user_key.size());
  k.append(user_key);
  return k;
}

uint64_t trailing_seq(std::string_view key) {
  return key.size() >= 8 ? get_be64(key.data() + key.size() - 8) : 0;
}

} // namespace esr::persistence::detail
