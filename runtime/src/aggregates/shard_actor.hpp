#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include "esr/actors/aggregate_actor.hpp"
#include "esr/actors/messages.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "shard_table.hpp"

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

/// One shard of a registry: spawns aggregates on demand, routes the commands
/// that come to it by delegation, and passivates aggregates (idle timeout,
/// max live, LRU). Senders route commands for live aggregates around it with
/// aggregate_registry::dispatch(), through the shard_table both share (see
/// shard_table.hpp for the lock discipline). A passivating aggregate's
/// commands are held until it has stopped, then a new incarnation is spawned
/// for them: never two live writers for one id.
class shard_actor final : public caf::event_based_actor {
public:
  /// Creates a shard that keeps its routing state in `table` (empty, shared
  /// with the registry's dispatch()).
  shard_actor(caf::actor_config& cfg, shard_config conf, std::shared_ptr<shard_table> table);

  caf::behavior make_behavior() override;

  /// Marks the table closed: dispatch() sends everything here (to fail).
  void on_exit() override;

private:
  using entry = shard_table::entry;

  caf::expected<caf::actor> spawn_for(const std::string& pid);
  void route(const std::string& pid, caf::message msg);
  void passivate(entry& e);                     // REQUIRES: table_->mtx held.
  void enforce_max_live(const std::string* keep); // REQUIRES: table_->mtx held.
  void on_down(const std::string& pid, const caf::actor_addr& who);
  void on_tick();
  uint64_t passivate_all();

  shard_config conf_;
  std::shared_ptr<shard_table> table_;
};

} // namespace esr::runtime::aggregates
