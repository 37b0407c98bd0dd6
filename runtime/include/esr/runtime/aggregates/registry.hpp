#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/aggregate_options.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/function_ref.hpp"

namespace esr::runtime::aggregates {

/// Options of an aggregate registry.
struct registry_options {
  /// Number of shard actors; a persistence id belongs to shard
  /// stable_hash(id) % shards (the unit a cluster will move). Default: 16.
  size_t shards = 16;
  /// Passivate an aggregate after this long without a command; 0 never.
  /// Default: 2 minutes.
  std::chrono::milliseconds idle_timeout{120000};
  /// Most live aggregates in total (split evenly over the shards); beyond
  /// it the least recently used are passivated. Default: 1,000,000.
  size_t max_live = 1000000;
  /// How often shards look for idle aggregates. Default: 1 s.
  std::chrono::milliseconds passivation_interval{1000};
  /// Most aggregates recovering at the same time. Default: 64.
  size_t max_concurrent_recoveries = 64;
  /// Options of every aggregate actor (stash, dedup, backoff, upcaster).
  actors::aggregate_options aggregate;
};

/// Passivates every live aggregate of a shard (answers the number asked).
using passivate_all_atom = caf::atom_constant<caf::atom("esr_pasall")>;
/// Asks a shard for its number of live aggregates (answers a uint64_t).
using live_count_atom = caf::atom_constant<caf::atom("esr_live")>;

/// Returns the stable 64-bit FNV-1a hash of `s` (same on every node).
uint64_t stable_hash(std::string_view s);

/// Where aggregate_registry::dispatch() has a message sent.
enum class dispatch_target : uint8_t {
  aggregate, ///< The live aggregate itself: send the message as is.
  shard,     ///< Its shard, which activates it or holds the message.
};

/// The aggregates of a set of types as virtual actors: the actor of an
/// aggregate is spawned on its first command, recovered from storage, and
/// passivated when idle or least recently used; the next command
/// reactivates it. Senders use dispatch(), which sends a command straight
/// to a live aggregate and otherwise to its shard; the shard routes it with
/// delegation. Either way the aggregate answers the requester directly.
///
/// A shard actor accepts:
///  - actors::command_envelope: answered by the aggregate with
///    actors::command_reply or an error; errc::unknown_aggregate_type or
///    errc::invalid_argument (malformed persistence id) from the shard;
///  - (actors::get_state_atom, std::string persistence_id): a state_copy;
///  - passivate_all_atom, live_count_atom (tools, tests, benchmarks).
///
/// A value type: copies share the shards. Thread-safe.
class aggregate_registry {
public:
  /// Spawns the shards of a registry serving `types` from `store`. Returns
  /// errc::invalid_argument if a type name is empty, contains '-', or is
  /// registered twice, or if shards is 0.
  [[nodiscard]] static caf::expected<aggregate_registry>
  start(caf::actor_system& sys, persistence::storage store,
        std::vector<std::shared_ptr<const actors::aggregate_model>> types,
        registry_options opts = {});

  /// Returns the shard responsible for `persistence_id`. Messages sent to it
  /// are routed correctly, but prefer dispatch() (one hop fewer); commands
  /// from one sender keep their order only if they all go one way.
  const caf::actor& shard_for(std::string_view persistence_id) const;

  /// Routes one message for aggregate `persistence_id`: calls `send(dest,
  /// target)` exactly once, where dest is the live aggregate (target
  /// aggregate, which is touched as by a command through the shard) or else
  /// its shard (target shard: the aggregate is not activated yet, is
  /// passivating, or commands for it are still waiting at the shard).
  /// `send` must send exactly one message for `persistence_id` to `dest`,
  /// before it returns (e.g. `self->request(dest, ...)`): a command_envelope
  /// as is; a state query as actors::get_state_atom to an aggregate but as
  /// (actors::get_state_atom, persistence_id) to a shard.
  ///
  /// For target aggregate, `send` runs with the shard's table locked, so it
  /// must be short, must not block and must not call dispatch(); for target
  /// shard it runs after the lock is released. `persistence_id` is not read
  /// once `send` is called (send may move the string it views).
  ///
  /// Guarantees: no command is lost or bounced by passivation (the shard
  /// marks an aggregate passivating under the same lock and only then sends
  /// it passivate_atom, so a direct command is in its mailbox before
  /// passivate_atom, and an aggregate stops only when idle after that; later
  /// commands go to the shard, which holds them for the next incarnation);
  /// one sender's messages for one aggregate arrive in the order sent; never
  /// two live incarnations of one id. An aggregate that stopped for another
  /// reason (failed recovery) answers caf::sec::request_receiver_down, as
  /// through the shard. Thread-safe; dispatch() itself allocates nothing
  /// once the aggregate is live (one hash, one lookup, one LRU splice).
  void dispatch(std::string_view persistence_id,
                function_ref<void(const caf::actor& dest, dispatch_target target)> send) const;

  /// As above for a message that is the same for both targets (commands):
  /// calls `send(dest)` exactly once.
  void dispatch(std::string_view persistence_id,
                function_ref<void(const caf::actor& dest)> send) const {
    dispatch(persistence_id, [send](const caf::actor& dest, dispatch_target) { send(dest); });
  }

  /// Returns every shard, in shard-number order.
  const std::vector<caf::actor>& shards() const;

  /// Returns the storage the aggregates use.
  const persistence::storage& storage() const;

  /// Returns the options the registry was started with.
  const registry_options& options() const;

  /// Returns the actor system the shards run in.
  caf::actor_system& system() const;

  /// Stops every shard and its aggregates (pending commands get errors).
  void stop();

private:
  struct impl;
  explicit aggregate_registry(std::shared_ptr<impl> p) : impl_(std::move(p)) {}
  std::shared_ptr<impl> impl_;
};

} // namespace esr::runtime::aggregates
