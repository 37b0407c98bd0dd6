#include "shard_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/send.hpp>

#include "esr/actors/errc.hpp"
#include "esr/persistence/event_envelope.hpp"

namespace esr::runtime::aggregates {

shard_actor::shard_actor(caf::actor_config& cfg, shard_config conf)
  : caf::event_based_actor(cfg), conf_(std::move(conf)) {
  // nop
}

caf::behavior shard_actor::make_behavior() {
  set_exit_handler([this](caf::exit_msg& msg) {
    for (auto& kv : entries_)
      send_exit(kv.second.actor, msg.reason);
    entries_.clear();
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
    [this](passivate_all_atom) {
      uint64_t n = 0;
      while (!lru_.empty()) {
        auto i = entries_.find(*lru_.front());
        passivate(i->first, i->second);
        ++n;
      }
      return n;
    },
    [this](live_count_atom) { return static_cast<uint64_t>(live_); },
  };
}

shard_actor::entry* shard_actor::activate(const std::string& pid, caf::error& err) {
  auto category = persistence::category_of(pid);
  if (category.size() + 1 >= pid.size() || category.empty()) {
    err = actors::make_error(actors::errc::invalid_argument, "malformed persistence id", pid);
    return nullptr;
  }
  auto t = conf_.types->find(std::string{category});
  if (t == conf_.types->end()) {
    err = actors::make_error(actors::errc::unknown_aggregate_type, std::string{category});
    return nullptr;
  }
  auto agg = actors::spawn_aggregate(system(),
                                     actors::aggregate_spec{t->second, conf_.env, pid});
  // Tell this shard when the aggregate stops (passivated or failed).
  auto me = caf::actor_cast<caf::actor_addr>(this);
  auto who = agg.address();
  agg->attach_functor([me, pid, who] {
    if (auto shard = caf::actor_cast<caf::actor>(me))
      caf::anon_send(shard, aggregate_down_atom::value, pid, who);
  });
  auto [pos, added] = entries_.try_emplace(pid);
  static_cast<void>(added);
  auto& e = pos->second;
  e.actor = std::move(agg);
  e.passivating = false;
  e.last_tick = tick_;
  e.lru = lru_.insert(lru_.end(), &pos->first);
  ++live_;
  enforce_max_live(&pos->first);
  return &e;
}

void shard_actor::route(const std::string& pid, caf::message msg) {
  auto i = entries_.find(pid);
  entry* e;
  if (i == entries_.end()) {
    caf::error err;
    e = activate(pid, err);
    if (e == nullptr) {
      make_response_promise().deliver(std::move(err));
      return;
    }
  } else {
    e = &i->second;
    if (e->passivating) {
      if (!e->held_msgs)
        e->held_msgs = std::make_unique<std::vector<held>>();
      e->held_msgs->push_back(held{std::move(msg), make_response_promise()});
      return;
    }
    touch(*e);
  }
  delegate(e->actor, std::move(msg));
}

void shard_actor::touch(entry& e) {
  e.last_tick = tick_;
  lru_.splice(lru_.end(), lru_, e.lru);
}

void shard_actor::passivate(const std::string& pid, entry& e) {
  static_cast<void>(pid);
  if (e.passivating)
    return;
  e.passivating = true;
  lru_.erase(e.lru);
  --live_;
  send(e.actor, actors::passivate_atom::value);
}

void shard_actor::on_down(const std::string& pid, const caf::actor_addr& who) {
  auto i = entries_.find(pid);
  if (i == entries_.end() || i->second.actor.address() != who)
    return; // An older incarnation.
  auto& e = i->second;
  if (!e.passivating) { // It failed while live.
    lru_.erase(e.lru);
    --live_;
  }
  auto held_msgs = std::move(e.held_msgs);
  entries_.erase(i);
  if (!held_msgs || held_msgs->empty())
    return;
  // Commands arrived while it stopped: a new incarnation recovers for them.
  caf::error err;
  auto ne = activate(pid, err);
  for (auto& h : *held_msgs) {
    if (ne == nullptr)
      h.rp.deliver(err);
    else
      h.rp.delegate(ne->actor, std::move(h.msg));
  }
}

void shard_actor::on_tick() {
  ++tick_;
  auto interval = conf_.interval.count() > 0 ? conf_.interval.count() : 1;
  auto idle_ticks = static_cast<uint64_t>(conf_.idle_timeout.count() / interval);
  if (idle_ticks == 0)
    idle_ticks = 1;
  while (!lru_.empty()) {
    auto i = entries_.find(*lru_.front());
    if (tick_ - i->second.last_tick < idle_ticks)
      break;
    passivate(i->first, i->second);
  }
}

void shard_actor::enforce_max_live(const std::string* keep) {
  if (conf_.max_live == 0)
    return;
  while (live_ > conf_.max_live && !lru_.empty()) {
    auto oldest = lru_.front();
    if (keep != nullptr && oldest == keep)
      break;
    auto i = entries_.find(*oldest);
    passivate(i->first, i->second);
  }
}

} // namespace esr::runtime::aggregates
