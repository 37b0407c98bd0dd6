#include "esr/runtime/aggregates/registry.hpp"

#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "esr/actors/errc.hpp"
#include "shard_actor.hpp"
#include "shard_table.hpp"

namespace esr::runtime::aggregates {

struct aggregate_registry::impl {
  caf::actor_system* sys = nullptr;
  persistence::storage store;
  registry_options opts;
  std::vector<caf::actor> shards;
  /// The routing table of each shard, in the same order as `shards`.
  std::vector<std::shared_ptr<shard_table>> tables;
};

uint64_t stable_hash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

caf::expected<aggregate_registry>
aggregate_registry::start(caf::actor_system& sys, persistence::storage store,
                          std::vector<std::shared_ptr<const actors::aggregate_model>> types,
                          registry_options opts) {
  using actors::errc;
  if (opts.shards == 0)
    return actors::make_error(errc::invalid_argument, "shards must be > 0");
  auto tm = std::make_shared<type_map>();
  for (auto& t : types) {
    if (t == nullptr || t->type_name().empty()
        || t->type_name().find('-') != std::string::npos)
      return actors::make_error(errc::invalid_argument, "bad aggregate type name",
                                t ? t->type_name() : std::string{});
    if (!tm->emplace(t->type_name(), t).second)
      return actors::make_error(errc::invalid_argument, "aggregate type registered twice",
                                t->type_name());
  }
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = store;
  env->limiter = std::make_shared<actors::recovery_limiter>(opts.max_concurrent_recoveries);
  env->options = opts.aggregate;
  shard_config conf;
  conf.types = tm;
  conf.env = env;
  conf.max_live = (opts.max_live + opts.shards - 1) / opts.shards;
  conf.idle_timeout = opts.idle_timeout;
  conf.interval = opts.passivation_interval.count() > 0 ? opts.passivation_interval
                                                        : std::chrono::milliseconds{1000};
  auto p = std::make_shared<impl>();
  p->sys = &sys;
  p->store = std::move(store);
  p->opts = std::move(opts);
  for (size_t i = 0; i < p->opts.shards; ++i) {
    p->tables.push_back(std::make_shared<shard_table>());
    p->shards.push_back(sys.spawn<shard_actor>(conf, p->tables.back()));
  }
  return aggregate_registry{std::move(p)};
}

const caf::actor& aggregate_registry::shard_for(std::string_view persistence_id) const {
  return impl_->shards[stable_hash(persistence_id) % impl_->shards.size()];
}

void aggregate_registry::dispatch(
  std::string_view persistence_id,
  function_ref<void(const caf::actor& dest, dispatch_target target)> send) const {
  // One hash per command: it picks both the shard and its table.
  auto n = stable_hash(persistence_id) % impl_->shards.size();
  auto& table = *impl_->tables[n];
  {
    auto h = shard_table::entry_map::hash(persistence_id); // outside the lock
    std::lock_guard<std::mutex> guard{table.mtx};
    if (auto agg = table.direct_route(persistence_id, h)) {
      // Enqueued under the lock: see dispatch() in registry.hpp and
      // shard_table.hpp for why this cannot be bounced or reordered.
      send(*agg, dispatch_target::aggregate);
      return;
    }
  }
  // Counted as queued at the shard (under the lock), so no later command for
  // this id is sent around the shard until the shard has routed this one;
  // sending it after the unlock is therefore safe and keeps the lock short.
  send(impl_->shards[n], dispatch_target::shard);
}

const std::vector<caf::actor>& aggregate_registry::shards() const {
  return impl_->shards;
}

const persistence::storage& aggregate_registry::storage() const {
  return impl_->store;
}

const registry_options& aggregate_registry::options() const {
  return impl_->opts;
}

caf::actor_system& aggregate_registry::system() const {
  return *impl_->sys;
}

void aggregate_registry::stop() {
  for (auto& s : impl_->shards)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
}

} // namespace esr::runtime::aggregates
