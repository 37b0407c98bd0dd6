#include "esr/persistence/snapshot_store.hpp"

namespace esr::persistence {

snapshot_store::~snapshot_store() = default;

void snapshot_store::save_async(snapshot_envelope s, std::function<void(caf::error)> done) {
  done(save(s));
}

caf::error snapshot_store::retain_latest(std::string_view persistence_id, size_t n) {
  auto all = list(persistence_id, snapshot_criteria::latest());
  if (!all)
    return std::move(all.error());
  for (size_t i = n; i < all->size(); ++i)
    if (auto err = remove(persistence_id, (*all)[i].sequence_nr))
      return err;
  return caf::none;
}

} // namespace esr::persistence
