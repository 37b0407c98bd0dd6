#include "memory_snapshot_store.hpp"

#include "esr/persistence/storage.hpp"
#include "memory_journal.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

caf::error memory_snapshot_store::save(const snapshot_envelope& s) {
  if (auto err = validate_snapshot(s, 16u << 20))
    return err;
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = data_[s.persistence_id][s.sequence_nr];
  slot = s;
  if (slot.timestamp_us == 0)
    slot.timestamp_us = now_us();
  return caf::none;
}

caf::expected<std::optional<snapshot_envelope>>
memory_snapshot_store::load(std::string_view pid, const snapshot_criteria& c) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = data_.find(pid);
  if (i == data_.end())
    return std::optional<snapshot_envelope>{};
  for (auto j = i->second.rbegin(); j != i->second.rend(); ++j)
    if (c.matches(j->first, j->second.timestamp_us))
      return std::optional<snapshot_envelope>{j->second};
  return std::optional<snapshot_envelope>{};
}

caf::expected<std::vector<snapshot_metadata>>
memory_snapshot_store::list(std::string_view pid, const snapshot_criteria& c) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<snapshot_metadata> result;
  auto i = data_.find(pid);
  if (i == data_.end())
    return result;
  for (auto j = i->second.rbegin(); j != i->second.rend(); ++j)
    if (c.matches(j->first, j->second.timestamp_us))
      result.push_back(snapshot_metadata{j->second.persistence_id, j->first,
                                         j->second.timestamp_us});
  return result;
}

caf::error memory_snapshot_store::remove(std::string_view pid, uint64_t sequence_nr) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = data_.find(pid);
  if (i != data_.end())
    i->second.erase(sequence_nr);
  return caf::none;
}

caf::error memory_snapshot_store::remove(std::string_view pid, const snapshot_criteria& c) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = data_.find(pid);
  if (i == data_.end())
    return caf::none;
  for (auto j = i->second.begin(); j != i->second.end();) {
    if (c.matches(j->first, j->second.timestamp_us))
      j = i->second.erase(j);
    else
      ++j;
  }
  return caf::none;
}

} // namespace esr::persistence::detail

namespace esr::persistence {

storage open_memory() {
  return storage{std::make_shared<detail::memory_journal>(),
                 std::make_shared<detail::memory_snapshot_store>()};
}

} // namespace esr::persistence
