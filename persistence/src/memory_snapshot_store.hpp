#pragma once

#include <map>
#include <mutex>
#include <string>

#include "esr/persistence/snapshot_store.hpp"

namespace esr::persistence::detail {

/// The in-memory snapshot store, with the same contracts as the LevelDB one.
class memory_snapshot_store final : public snapshot_store {
public:
  caf::error save(const snapshot_envelope& s) override;
  caf::expected<std::optional<snapshot_envelope>>
  load(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::expected<std::vector<snapshot_metadata>>
  list(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::error remove(std::string_view persistence_id, uint64_t sequence_nr) override;
  caf::error remove(std::string_view persistence_id, const snapshot_criteria& c) override;

private:
  std::mutex mutex_;
  /// persistence id -> sequence number -> snapshot
  std::map<std::string, std::map<uint64_t, snapshot_envelope>, std::less<>> data_;
};

} // namespace esr::persistence::detail
