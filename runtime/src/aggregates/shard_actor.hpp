#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "esr/actors/aggregate_actor.hpp"
#include "esr/actors/messages.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::runtime::aggregates {

/// The types a registry serves, by name. Immutable once shared.
using type_map = std::unordered_map<std::string, std::shared_ptr<const actors::aggregate_model>>;

/// What every shard of a registry shares.
struct shard_config {
  std::shared_ptr<const type_map> types;
  std::shared_ptr<const actors::aggregate_env> env;
  size_t max_live = 0;                   ///< Per shard.
  std::chrono::milliseconds idle_timeout;
  std::chrono::milliseconds interval;
};

/// Sent to a shard when one of its aggregates terminated.
using aggregate_down_atom = caf::atom_constant<caf::atom("esr_aggdwn")>;
/// The shard's passivation timer.
using passivation_tick_atom = caf::atom_constant<caf::atom("esr_ptick")>;

/// One shard of a registry: spawns aggregates on demand, routes commands to
/// them by delegation, and passivates them (idle timeout, max live, LRU).
/// A passivating aggregate's commands are held until it has stopped, then a
/// new incarnation is spawned for them: never two live writers for one id.
class shard_actor final : public caf::event_based_actor {
public:
  shard_actor(caf::actor_config& cfg, shard_config conf);

  caf::behavior make_behavior() override;

private:
  struct held {
    caf::message msg;
    caf::response_promise rp;
  };

  struct entry {
    caf::actor actor;
    uint64_t last_tick = 0;
    bool passivating = false;
    std::list<const std::string*>::iterator lru; ///< Valid unless passivating.
    std::unique_ptr<std::vector<held>> held_msgs; ///< While passivating.
  };

  entry* activate(const std::string& pid, caf::error& err);
  void route(const std::string& pid, caf::message msg);
  void touch(entry& e);
  void passivate(const std::string& pid, entry& e);
  void on_down(const std::string& pid, const caf::actor_addr& who);
  void on_tick();
  void enforce_max_live(const std::string* keep);

  shard_config conf_;
  std::unordered_map<std::string, entry> entries_;
  /// Keys of entries_ (stable node keys), least recently used first.
  std::list<const std::string*> lru_;
  size_t live_ = 0;            ///< Entries not passivating.
  uint64_t tick_ = 0;
};

} // namespace esr::runtime::aggregates
