#include "shard_table.hpp"

namespace esr::runtime::aggregates {

const caf::actor* shard_table::direct_route(const std::string& pid) {
  if (closed)
    return nullptr;
  auto i = entries.find(pid);
  if (i == entries.end()) {
    // The shard will activate it; until it has, later commands follow this
    // one through the shard.
    i = entries.try_emplace(pid).first;
  } else if (i->second.actor && !i->second.passivating && i->second.queued == 0) {
    touch(i->second);
    return &i->second.actor;
  }
  ++i->second.queued; // 2^32 commands would not fit in any mailbox.
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
  auto pos = entries.try_emplace(pid).first;
  auto& e = pos->second;
  e.actor = std::move(agg);
  e.passivating = false;
  e.last_tick = tick;
  e.lru = lru.insert(lru.end(), &pos->first);
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

void shard_table::retire(entry_map::iterator i) {
  auto& e = i->second;
  if (e.actor && !e.passivating) {
    lru.erase(e.lru);
    --live;
  }
  if (e.queued == 0) {
    entries.erase(i);
    return;
  }
  e.actor = caf::actor{};
  e.passivating = false;
  e.held_msgs.reset();
}

} // namespace esr::runtime::aggregates
