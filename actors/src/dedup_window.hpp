#pragma once

#include <algorithm>
#include <any>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

namespace esr::actors {

class aggregate_model;

/// Returns `bytes` as lowercase hex (binary replies travel in UTF-8 headers).
std::string to_hex(const std::string& bytes);

/// Decodes lowercase hex; nullopt if `hex` is not valid hex.
std::optional<std::string> from_hex(std::string_view hex);

/// Remembers the answers to the most recent command ids of one aggregate so
/// that a retried command is answered, not applied again. Entries come from
/// commands handled live (full reply or error) and from replayed events and
/// snapshots (the stored reply bytes, if the type has a reply codec, or only
/// the version). A ring of at most `capacity` entries; memory is allocated on
/// first use only.
class dedup_window {
public:
  /// How much of the original answer is known.
  enum class known : uint8_t { reply, error, stored_reply, version_only };

  struct entry {
    std::string id;
    uint64_t version = 0;  ///< The aggregate's version after the command.
    known what = known::version_only;
    std::any reply;        ///< For known::reply.
    caf::error error;      ///< For known::error.
    std::string bytes;     ///< For known::stored_reply.
  };

  explicit dedup_window(size_t capacity = 0)
    : capacity_(static_cast<uint32_t>(std::min<size_t>(capacity, UINT32_MAX))) {}

  /// Returns the entry of `id`, or nullptr.
  const entry* find(const std::string& id) const;

  /// Records `e`, replacing an entry with the same id; evicts the oldest
  /// entry when full. No-op if the capacity is 0 or the id is empty.
  void record(entry e);

  /// Forgets everything.
  void clear();

  /// Encodes the entries for a snapshot header, oldest first, one per line:
  /// `id TAB version [TAB hex(reply bytes)] LF`, with the reply encoded by
  /// `model`'s reply codec when it has one. Ids must not contain TAB or LF.
  std::string encode(const aggregate_model& model) const;

  /// Records the entries of `encode()`d `text`: known::stored_reply when a
  /// reply is present, known::version_only otherwise.
  void decode(const std::string& text);

private:
  uint32_t capacity_;
  uint32_t next_ = 0; // Ring position of the next insertion once full.
  std::vector<entry> entries_;
};

} // namespace esr::actors
