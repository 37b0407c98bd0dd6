// The dispatcher actor of a saga runtime: sends outbox commands to the
// aggregates (many requests in flight), re-sends failed ones with backoff,
// collects answered entries for deletion, and runs the live part of durable
// timeouts with delayed messages.

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "esr/actors/errc.hpp"
#include "esr/actors/messages.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"
#include "runtime_impl.hpp"

namespace esr::sagas {

namespace {

struct dispatcher_state {
  std::shared_ptr<saga_runtime::impl> rt;
  std::vector<std::string> deletes; ///< Answered outbox keys not yet deleted.
  bool flush_scheduled = false;
  /// Armed timeouts: "<instance>/<name>" -> seq of the arming.
  std::unordered_map<std::string, uint64_t> timers;
  static inline const char* name = "esr.saga.dispatcher";
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

void note(const saga_runtime::impl& rt, saga_note::kind k, const std::string& instance,
          std::string text) {
  rt.report(k, instance, std::move(text));
}

void acked(self_ptr self, const outbox_item& item) {
  auto& st = self->state;
  ++st.rt->acked;
  st.deletes.push_back(item.key);
  --st.rt->in_flight;
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, st.rt->opts.outbox_flush_interval, saga_flush_atom::value);
  }
}

std::string short_type(const std::string& t) {
  auto pos = t.rfind('.');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

void send_one(self_ptr self, outbox_item item) {
  auto& rt = *self->state.rt;
  auto& e = item.entry;
  auto cmd = rt.model->decode_command(e.command_type(), e.payload());
  if (!cmd) {
    note(rt, saga_note::kind::parked, e.correlation_id(),
         "dropping undeliverable command " + e.command_id() + ": " + render(cmd.error()));
    acked(self, item);
    return;
  }
  actors::command_envelope env;
  env.persistence_id = e.persistence_id();
  env.payload = std::move(*cmd);
  env.command_id = e.command_id();
  env.correlation_id = e.correlation_id();
  ++rt.sent;
  ++item.attempt;
  if (rt.opts.observer)
    note(rt, saga_note::kind::command, e.correlation_id(),
         std::string{item.resent ? "re-sending " : "sending "} + short_type(e.command_type())
           + " to " + e.persistence_id() + " [" + e.command_id() + "]"
           + (item.attempt > 1 ? " (attempt " + std::to_string(item.attempt) + ")" : ""));
  auto on_reply = [self, item](actors::command_reply& r) {
    // (An aggregate answers a retried command id with its stored reply.)
    auto& rt = *self->state.rt;
    if (rt.opts.observer)
      note(rt, saga_note::kind::reply, item.entry.correlation_id(),
           item.entry.persistence_id() + " accepted " + short_type(item.entry.command_type())
             + " (version " + std::to_string(r.version) + ")");
    acked(self, item);
  };
  auto on_error = [self, item = std::move(item)](caf::error& err) mutable {
    auto& rt = *self->state.rt;
    if (actors::is(err, actors::errc::duplicate_command)) {
      // Applied before a restart of the aggregate; only the reply is lost.
      note(rt, saga_note::kind::reply, item.entry.correlation_id(),
           item.entry.persistence_id() + " had applied " + item.entry.command_id()
             + " already");
      acked(self, item);
      return;
    }
    if (actors::is(err, actors::errc::rejected)
        || actors::is(err, actors::errc::wrong_command_type)
        || actors::is(err, actors::errc::unknown_aggregate_type)
        || actors::is(err, actors::errc::invalid_argument)) {
      // Definitely not applied, and retrying cannot change that.
      note(rt, saga_note::kind::reply, item.entry.correlation_id(),
           item.entry.persistence_id() + " rejected "
             + short_type(item.entry.command_type()) + ": " + render(err));
      acked(self, item);
      return;
    }
    auto backoff = rt.opts.command_backoff;
    for (uint32_t i = 1; i < item.attempt && backoff < rt.opts.max_command_backoff; ++i)
      backoff *= 2;
    backoff = std::min(backoff, rt.opts.max_command_backoff);
    note(rt, saga_note::kind::reply, item.entry.correlation_id(),
         "command " + item.entry.command_id() + " failed (" + render(err)
           + "), retrying in " + std::to_string(backoff.count()) + " ms");
    self->delayed_send(self, backoff, saga_retry_atom::value, std::move(item));
  };
  // The request is made inside the callback, the handlers built before it
  // (see aggregate_registry::dispatch: the callback may run under a lock).
  rt.reg.dispatch(env.persistence_id, [&](const caf::actor& dest) {
    self->request(dest, caf::duration{rt.opts.command_timeout}, std::move(env))
      .then(std::move(on_reply), std::move(on_error));
  });
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.deletes.empty())
    return;
  persistence::atomic_write w;
  w.persistence_id = keys::checkpoint_name(st.rt->name);
  for (auto& k : st.deletes)
    w.side_writes.push_back({std::move(k), std::nullopt});
  st.deletes.clear();
  std::vector<persistence::atomic_write> ws;
  ws.push_back(std::move(w));
  // A failed deletion only means the command is re-sent (deduplicated) after
  // the next restart.
  auto rt = st.rt;
  ++rt->flushing;
  rt->journal->write_async(std::move(ws), [rt](persistence::write_outcomes) { --rt->flushing; });
}

void fire(self_ptr self, timer_item t) {
  auto& st = self->state;
  auto key = t.instance + "/" + t.name;
  auto i = st.timers.find(key);
  if (i == st.timers.end() || i->second != t.seq)
    return; // Cancelled or re-armed.
  st.timers.erase(i);
  auto& rt = *st.rt;
  note(rt, saga_note::kind::timeout, t.instance, "timeout '" + t.name + "' fired");
  pb::TimeoutFired tf;
  tf.set_saga(rt.name);
  tf.set_instance(t.instance);
  tf.set_name(t.name);
  tf.set_seq(t.seq);
  persistence::atomic_write w;
  w.persistence_id = keys::timer_stream(rt.name, t.instance);
  persistence::event_envelope env;
  env.persistence_id = w.persistence_id;
  env.event_type = pb::TimeoutFired::default_instance().GetTypeName();
  tf.SerializeToString(&env.payload);
  env.metadata.correlation_id = t.instance;
  w.events.push_back(std::move(env));
  std::vector<persistence::atomic_write> ws;
  ws.push_back(std::move(w));
  auto me = caf::actor_cast<caf::actor>(self);
  rt.journal->write_async(std::move(ws), [me, t](persistence::write_outcomes out) mutable {
    if (out.size() == 1 && out[0])
      return;
    // Not stored: try again shortly.
    t.deadline_us = persistence::now_us() + 100000;
    caf::anon_send(me, saga_arm_atom::value, std::move(t));
  });
}

caf::behavior dispatcher(self_ptr self, std::shared_ptr<saga_runtime::impl> rt) {
  self->state.rt = std::move(rt);
  return {
    [self](saga_dispatch_atom, outbox_batch& items) {
      for (auto& item : *items)
        send_one(self, std::move(item));
    },
    [self](saga_retry_atom, outbox_item& item) { send_one(self, std::move(item)); },
    [self](saga_flush_atom) { flush(self); },
    [self](saga_drain_atom) -> std::vector<std::string> {
      auto result = std::move(self->state.deletes);
      self->state.deletes.clear();
      return result;
    },
    [self](saga_arm_atom, timer_item& t) {
      self->state.timers[t.instance + "/" + t.name] = t.seq;
      auto delay_us = std::max<int64_t>(0, t.deadline_us - persistence::now_us());
      self->delayed_send(self, std::chrono::microseconds{delay_us}, saga_fire_atom::value,
                         std::move(t));
    },
    [self](saga_disarm_atom, const std::string& instance, const std::string& name) {
      self->state.timers.erase(instance + "/" + name);
    },
    [self](saga_fire_atom, timer_item& t) { fire(self, std::move(t)); },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<saga_runtime::impl> rt) {
  return sys.spawn(dispatcher, std::move(rt));
}

} // namespace esr::sagas
