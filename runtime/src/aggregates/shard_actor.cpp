#include "shard_actor.hpp"

#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/send.hpp>

#include "esr/actors/errc.hpp"
#include "esr/persistence/event_envelope.hpp"

namespace esr::runtime::aggregates {

using lock = std::unique_lock<std::mutex>;

shard_actor::shard_actor(caf::actor_config& cfg, shard_config conf,
                         std::shared_ptr<shard_table> table)
  : caf::event_based_actor(cfg), conf_(std::move(conf)), table_(std::move(table)) {
  // nop
}

caf::behavior shard_actor::make_behavior() {
  set_exit_handler([this](caf::exit_msg& msg) {
    {
      lock guard{table_->mtx};
      table_->entries.for_each([&](const std::string&, shard_table::entry& e) {
        if (e.actor)
          send_exit(e.actor, msg.reason);
      });
      table_->entries.clear();
      table_->lru.clear();
      table_->live = 0;
      table_->closed = true;
    }
    quit(msg.reason);
  });
  if (conf_.idle_timeout.count() > 0)
    delayed_send(this, conf_.interval, passivation_tick_atom::value);
  return {
    [this](actors::command_envelope& cmd) {
      auto pid = cmd.persistence_id;
      route(pid, current_mailbox_element()->move_content_to_message());
    },
    [this](actors::get_state_atom, std::string& pid) {
      route(pid, caf::make_message(actors::get_state_atom::value));
    },
    [this](aggregate_down_atom, std::string& pid, caf::actor_addr& who) {
      on_down(pid, who);
    },
    [this](passivation_tick_atom) {
      on_tick();
      delayed_send(this, conf_.interval, passivation_tick_atom::value);
    },
    [this](passivate_all_atom) { return passivate_all(); },
    [this](live_count_atom) {
      lock guard{table_->mtx};
      return static_cast<uint64_t>(table_->live);
    },
  };
}

void shard_actor::on_exit() {
  lock guard{table_->mtx};
  table_->closed = true;
}

caf::expected<caf::actor> shard_actor::spawn_for(const std::string& pid) {
  auto category = persistence::category_of(pid);
  if (category.size() + 1 >= pid.size() || category.empty())
    return actors::make_error(actors::errc::invalid_argument, "malformed persistence id", pid);
  auto t = conf_.types->find(std::string{category});
  if (t == conf_.types->end())
    return actors::make_error(actors::errc::unknown_aggregate_type, std::string{category});
  auto agg = actors::spawn_aggregate(system(),
                                     actors::aggregate_spec{t->second, conf_.env, pid});
  // Tell this shard when the aggregate stops (passivated or failed).
  auto me = caf::actor_cast<caf::actor_addr>(this);
  auto who = agg.address();
  agg->attach_functor([me, pid, who] {
    if (auto shard = caf::actor_cast<caf::actor>(me))
      caf::anon_send(shard, aggregate_down_atom::value, pid, who);
  });
  return agg;
}

void shard_actor::route(const std::string& pid, caf::message msg) {
  auto& t = *table_;
  lock guard{t.mtx};
  if (auto n = t.entries.find(pid)) {
    auto& e = n->value;
    shard_table::routed(e);
    if (e.passivating) {
      if (!e.held_msgs)
        e.held_msgs = std::make_unique<std::vector<shard_table::held>>();
      e.held_msgs->push_back(shard_table::held{std::move(msg), make_response_promise()});
      return;
    }
    if (e.actor) {
      t.touch(e);
      delegate(e.actor, std::move(msg));
      return;
    }
  }
  // Absent or a placeholder: activate it. Spawning needs no lock, and only
  // this actor adds incarnations; meanwhile dispatch() keeps sending here.
  guard.unlock();
  auto agg = spawn_for(pid);
  guard.lock();
  if (!agg) {
    if (auto n = t.entries.find(pid))
      t.retire(n);
    guard.unlock();
    auto rp = make_response_promise();
    actors::answer_with_error(msg, rp, std::move(agg.error()));
    return;
  }
  auto& e = t.install(pid, std::move(*agg));
  enforce_max_live(*e.lru);
  // Before the unlock: no direct command may overtake this one.
  delegate(e.actor, std::move(msg));
}

void shard_actor::passivate(entry& e) {
  // Marked under the lock before passivate_atom is sent, so every command
  // dispatch() sent directly is ahead of passivate_atom in the mailbox.
  if (table_->mark_passivating(e))
    send(e.actor, actors::passivate_atom::value);
}

void shard_actor::enforce_max_live(const std::string* keep) {
  auto& t = *table_;
  if (conf_.max_live == 0)
    return;
  while (t.live > conf_.max_live && !t.lru.empty()) {
    auto oldest = t.lru.front();
    if (keep != nullptr && oldest == keep)
      break;
    passivate(t.entries.find(*oldest)->value);
  }
}

void shard_actor::on_down(const std::string& pid, const caf::actor_addr& who) {
  auto& t = *table_;
  lock guard{t.mtx};
  auto n = t.entries.find(pid);
  if (n == nullptr || n->value.actor.address() != who)
    return; // An older incarnation.
  auto held_msgs = std::move(n->value.held_msgs);
  if (!held_msgs || held_msgs->empty()) {
    t.retire(n); // Passivated, or failed while live.
    return;
  }
  // Commands arrived while it stopped: a new incarnation recovers for them.
  // The entry stays passivating (so commands keep coming here) until the new
  // incarnation has been sent the held ones, under the lock.
  guard.unlock();
  auto agg = spawn_for(pid);
  guard.lock();
  if (!agg) {
    t.retire(t.entries.find(pid)); // Still there: only this actor erases.
    guard.unlock();
    for (auto& h : *held_msgs)
      actors::answer_with_error(h.msg, h.rp, agg.error());
    return;
  }
  auto& e = t.install(pid, std::move(*agg));
  enforce_max_live(*e.lru);
  for (auto& h : *held_msgs)
    h.rp.delegate(e.actor, std::move(h.msg));
}

void shard_actor::on_tick() {
  auto& t = *table_;
  lock guard{t.mtx};
  ++t.tick;
  auto interval = conf_.interval.count() > 0 ? conf_.interval.count() : 1;
  auto idle_ticks = static_cast<uint64_t>(conf_.idle_timeout.count() / interval);
  if (idle_ticks == 0)
    idle_ticks = 1;
  while (!t.lru.empty()) {
    auto& e = t.entries.find(*t.lru.front())->value;
    if (t.tick - e.last_tick < idle_ticks)
      break;
    passivate(e);
  }
}

uint64_t shard_actor::passivate_all() {
  auto& t = *table_;
  lock guard{t.mtx};
  uint64_t n = 0;
  while (!t.lru.empty()) {
    passivate(t.entries.find(*t.lru.front())->value);
    ++n;
  }
  return n;
}

} // namespace esr::runtime::aggregates
