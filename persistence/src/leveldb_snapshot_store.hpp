#pragma once

#include <memory>

#include "esr/persistence/snapshot_store.hpp"
#include "leveldb_db.hpp"

namespace esr::persistence::detail {

/// The LevelDB snapshot store: one record per (stream, sequence number) under
/// snapshot_key (see key_codec.hpp), written with sync unless durability is
/// none. Newest-first lookups iterate the stream's key range backwards.
class leveldb_snapshot_store final : public snapshot_store {
public:
  explicit leveldb_snapshot_store(std::shared_ptr<leveldb_db> db);

  caf::error save(const snapshot_envelope& s) override;
  caf::expected<std::optional<snapshot_envelope>>
  load(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::expected<std::vector<snapshot_metadata>>
  list(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::error remove(std::string_view persistence_id, uint64_t sequence_nr) override;
  caf::error remove(std::string_view persistence_id, const snapshot_criteria& c) override;

private:
  /// Visits the stream's snapshots newest first with seq <= max_seq; the
  /// visitor gets the key, the seq and the raw record; return false to stop.
  caf::error scan_newest_first(
    std::string_view pid, uint64_t max_seq,
    const std::function<bool(const std::string& key, uint64_t seq, std::string_view record)>& f);

  std::shared_ptr<leveldb_db> db_;
};

} // namespace esr::persistence::detail
