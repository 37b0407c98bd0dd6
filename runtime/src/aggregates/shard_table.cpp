#include "shard_table.hpp"

namespace esr::runtime::aggregates {

const caf::actor* shard_table::direct_route(std::string_view pid, uint64_t h) {
  if (closed)
    return nullptr;
  auto n = entries.find(pid, h);
  if (n == nullptr) {
    // The shard will activate it; until it has, later commands follow this
    // one through the shard.
    n = entries.try_emplace(pid, h).first;
  } else if (n->value.actor && !n->value.passivating && n->value.queued == 0) {
    touch(n->value);
    return &n->value.actor;
  }
  ++n->value.queued; // 2^32 commands would not fit in any mailbox.
  return nullptr;
}

void shard_table::touch(entry& e) {
  e.last_tick = tick;
  lru.splice(lru.end(), lru, e.lru);
}

void shard_table::routed(entry& e) {
  if (e.queued > 0)
    --e.queued;
}

shard_table::entry& shard_table::install(const std::string& pid, caf::actor agg) {
  auto n = entries.try_emplace(pid).first;
  auto& e = n->value;
  e.actor = std::move(agg);
  e.passivating = false;
  e.last_tick = tick;
  e.lru = lru.insert(lru.end(), &n->key);
  ++live;
  return e;
}

bool shard_table::mark_passivating(entry& e) {
  if (e.passivating || !e.actor)
    return false;
  e.passivating = true;
  lru.erase(e.lru);
  --live;
  return true;
}

void shard_table::retire(entry_map::node* n) {
  auto& e = n->value;
  if (e.actor && !e.passivating) {
    lru.erase(e.lru);
    --live;
  }
  if (e.queued == 0) {
    entries.erase(n->key);
    return;
  }
  e.actor = caf::actor{};
  e.passivating = false;
  e.held_msgs.reset();
}

} // namespace esr::runtime::aggregates
