// The dispatcher actor of a saga runtime: sends outbox commands to the
// aggregates (many in flight), re-sends failed ones with backoff, keeps the
// outbox-done position (every command of the steps at or before it is
// answered; a restart re-sends the commands of the steps after it), and
// runs the live part of durable timeouts (a heap of deadlines and one
// delayed message for the earliest, not one per timeout: a timer in CAF's
// clock costs a lock and a wake-up of its thread).
//
// A step's commands are stored in its step event, not one side key each
// (which cost two random LevelDB keys per command, a put and a delete). A
// command that fails and is retried is written to an outbox side key first,
// so that it no longer holds the outbox-done position back; its key is
// deleted once it is answered.
//
// Commands are not CAF requests: CAF 0.17 searches an actor's pending
// requests linearly for every response, and a request timeout costs a timer
// per command (a lock and a wake-up of CAF's clock thread). Instead, each
// command in flight is kept under a token with its deadline and sent as an
// ordinary message with the token as its reply tag (the aggregate answers
// with a tagged_reply), and one periodic sweep treats the commands past
// their deadline as timed out (re-sent with the same command id, so the
// aggregate does not apply them twice); that also covers a command lost
// with an aggregate that stopped before handling it. An answer that arrives
// after its command timed out finds no token and is ignored.

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <queue>
#include <unordered_map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "esr/actors/errc.hpp"
#include "esr/actors/messages.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"
#include "runtime_impl.hpp"

namespace esr::sagas {

namespace {

/// Orders a priority_queue of timeouts earliest first.
struct later_deadline {
  bool operator()(const timer_item& a, const timer_item& b) const {
    return a.deadline_us > b.deadline_us;
  }
};

struct dispatcher_state {
  std::shared_ptr<saga_runtime::impl> rt;
  std::vector<std::string> deletes; ///< Answered outbox keys not yet deleted.
  bool flush_scheduled = false;
  /// Commands not yet answered (nor stored under an outbox key), by their
  /// step event's global position.
  std::map<uint64_t, uint32_t> open;
  uint64_t handed = 0;       ///< Highest step position handed over.
  uint64_t written_done = 0; ///< The outbox-done position last written here.
  /// Armed timeouts: "<instance>/<name>" -> seq of the arming.
  std::unordered_map<std::string, uint64_t> timers;
  /// Armed timeouts by deadline (earliest on top); a cancelled or re-armed
  /// one stays until its deadline and is then found stale in `timers`.
  std::priority_queue<timer_item, std::vector<timer_item>, later_deadline> deadlines_ahead;
  /// The earliest deadline a tick is scheduled for (INT64_MAX: none).
  int64_t tick_at = std::numeric_limits<int64_t>::max();
  /// Commands waiting for their answer, by request token.
  std::unordered_map<uint64_t, outbox_item> pending;
  /// (deadline in us, token) in sending order; tokens of answered commands
  /// are dropped lazily by the sweep.
  std::deque<std::pair<int64_t, uint64_t>> deadlines;
  uint64_t next_token = 0;
  bool sweep_scheduled = false;
  static inline const char* name = "esr.saga.dispatcher";
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

void note(const saga_runtime::impl& rt, saga_note::kind k, const std::string& instance,
          std::string text) {
  rt.report(k, instance, std::move(text));
}

void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, st.rt->opts.outbox_flush_interval, saga_flush_atom::value);
  }
}

/// Counts a command of the step at `position` out of the open ones and
/// moves the outbox-done position on.
void release(self_ptr self, uint64_t position) {
  auto& st = self->state;
  auto i = st.open.find(position);
  if (i != st.open.end() && --i->second == 0)
    st.open.erase(i);
  auto done = st.open.empty() ? st.handed : st.open.begin()->first - 1;
  if (done > st.rt->outbox_done.load())
    st.rt->outbox_done = done;
  schedule_flush(self);
}

void acked(self_ptr self, const outbox_item& item) {
  auto& st = self->state;
  ++st.rt->acked;
  --st.rt->in_flight;
  if (!item.key.empty()) {
    st.deletes.push_back(item.key);
    schedule_flush(self);
  }
  if (item.position != 0)
    release(self, item.position);
}

/// Writes `item` to its outbox side key before it is retried; once that is
/// durable its step no longer holds the outbox-done position back.
void spill(self_ptr self, outbox_item& item) {
  if (!item.key.empty() || item.position == 0)
    return;
  auto& rt = *self->state.rt;
  item.key = keys::outbox_key(rt.name, item.entry.correlation_id(), item.step, item.index);
  auto position = item.position;
  item.position = 0; // released once the key is durable, not when answered
  persistence::atomic_write w;
  w.persistence_id = keys::checkpoint_name(rt.name);
  w.side_writes.push_back({item.key, item.entry.SerializeAsString()});
  std::vector<persistence::atomic_write> ws;
  ws.push_back(std::move(w));
  auto me = caf::actor_cast<caf::actor>(self);
  rt.journal->write_async(std::move(ws), [me, position](persistence::write_outcomes out) {
    // Not stored: the step keeps holding the position back, and a restart
    // re-sends the command from the step event.
    if (out.size() == 1 && out[0])
      caf::anon_send(me, saga_spilled_atom::value, position);
  });
}

std::string short_type(const std::string& t) {
  auto pos = t.rfind('.');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

void on_reply(self_ptr self, uint64_t token, actors::command_reply& r);
void on_error(self_ptr self, uint64_t token, caf::error err);
void failed(self_ptr self, outbox_item item, caf::error err);

/// How often the dispatcher checks for commands past their timeout: a tenth
/// of the timeout, within 10 ms .. 1 s.
std::chrono::milliseconds sweep_interval(const saga_runtime::impl& rt) {
  return std::clamp(rt.opts.command_timeout / 10, std::chrono::milliseconds{10},
                    std::chrono::milliseconds{1000});
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
  // Only whether it was applied matters here (a duplicate after a restart
  // counts as applied): no reply value is made, sent or stored.
  env.wants_reply = false;
  ++rt.sent;
  ++item.attempt;
  if (rt.opts.observer)
    note(rt, saga_note::kind::command, e.correlation_id(),
         std::string{item.resent ? "re-sending " : "sending "} + short_type(e.command_type())
           + " to " + e.persistence_id() + " [" + e.command_id() + "]"
           + (item.attempt > 1 ? " (attempt " + std::to_string(item.attempt) + ")" : ""));
  auto& st = self->state;
  auto token = ++st.next_token;
  auto timeout_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      rt.opts.command_timeout)
                      .count();
  st.deadlines.emplace_back(persistence::now_us() + timeout_us, token);
  st.pending.emplace(token, std::move(item));
  // Sent as an ordinary message tagged with the token: the answer is a
  // tagged_reply. Only the send happens inside the callback (it may run
  // under a lock, see aggregate_registry::dispatch).
  env.reply_tag = token;
  rt.reg.dispatch(env.persistence_id,
                  [&](const caf::actor& dest) { self->send(dest, std::move(env)); });
  if (!st.sweep_scheduled) {
    st.sweep_scheduled = true;
    self->delayed_send(self, sweep_interval(rt), saga_sweep_atom::value);
  }
}

/// Takes the command of `token` out of the pending ones; false if it is no
/// longer pending (it timed out and was re-sent under a new token).
bool take_pending(self_ptr self, uint64_t token, outbox_item& out) {
  auto& pending = self->state.pending;
  auto i = pending.find(token);
  if (i == pending.end())
    return false;
  out = std::move(i->second);
  pending.erase(i);
  return true;
}

void on_reply(self_ptr self, uint64_t token, actors::command_reply& r) {
  outbox_item item;
  if (!take_pending(self, token, item))
    return; // Answered after its timeout: the re-sent copy gets its own answer.
  // (An aggregate answers a retried command id with its stored reply.)
  auto& rt = *self->state.rt;
  if (rt.opts.observer)
    note(rt, saga_note::kind::reply, item.entry.correlation_id(),
         item.entry.persistence_id() + " accepted " + short_type(item.entry.command_type())
           + " (version " + std::to_string(r.version) + ")");
  acked(self, item);
}

void on_error(self_ptr self, uint64_t token, caf::error err) {
  outbox_item item;
  if (!take_pending(self, token, item))
    return;
  failed(self, std::move(item), std::move(err));
}

void failed(self_ptr self, outbox_item item, caf::error err) {
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
         item.entry.persistence_id() + " rejected " + short_type(item.entry.command_type())
           + ": " + render(err));
    acked(self, item);
    return;
  }
  spill(self, item);
  auto backoff = rt.opts.command_backoff;
  for (uint32_t i = 1; i < item.attempt && backoff < rt.opts.max_command_backoff; ++i)
    backoff *= 2;
  backoff = std::min(backoff, rt.opts.max_command_backoff);
  note(rt, saga_note::kind::reply, item.entry.correlation_id(),
       "command " + item.entry.command_id() + " failed (" + render(err) + "), retrying in "
         + std::to_string(backoff.count()) + " ms");
  self->delayed_send(self, backoff, saga_retry_atom::value, std::move(item));
}

/// Times out the commands past their deadline and drops the answered ones
/// from the front of the deadline queue.
void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  auto now = persistence::now_us();
  while (!st.deadlines.empty()) {
    auto [deadline, token] = st.deadlines.front();
    auto i = st.pending.find(token);
    if (i != st.pending.end() && deadline > now)
      break; // The oldest command still waits, within its time.
    st.deadlines.pop_front();
    if (i == st.pending.end())
      continue; // Answered.
    auto item = std::move(i->second);
    st.pending.erase(i);
    failed(self, std::move(item), caf::make_error(caf::sec::request_timeout));
  }
  if (!st.deadlines.empty()) {
    st.sweep_scheduled = true;
    self->delayed_send(self, sweep_interval(*st.rt), saga_sweep_atom::value);
  }
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  auto done = st.rt->outbox_done.load();
  if (st.deletes.empty() && done <= st.written_done)
    return;
  persistence::atomic_write w;
  w.persistence_id = keys::checkpoint_name(st.rt->name);
  for (auto& k : st.deletes)
    w.side_writes.push_back({std::move(k), std::nullopt});
  st.deletes.clear();
  if (done > st.written_done) {
    // Also written with each step batch's checkpoint; this covers the time
    // after the last batch.
    w.side_writes.push_back({keys::outbox_done_key(st.rt->name), std::to_string(done)});
    st.written_done = done;
  }
  std::vector<persistence::atomic_write> ws;
  ws.push_back(std::move(w));
  // A failed deletion only means the command is re-sent (deduplicated) after
  // the next restart.
  auto rt = st.rt;
  auto flushing = rt->flushing;
  ++*flushing;
  rt->journal->write_async(std::move(ws),
                           [flushing](persistence::write_outcomes) { --*flushing; });
}

/// Schedules a tick for the earliest armed timeout unless one is scheduled
/// for it already (or earlier). One delayed message per tick, not per
/// timeout: arming is a push onto a heap.
void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (st.deadlines_ahead.empty())
    return;
  auto next = st.deadlines_ahead.top().deadline_us;
  if (next >= st.tick_at)
    return;
  st.tick_at = next;
  auto delay_us = std::max<int64_t>(0, next - persistence::now_us());
  self->delayed_send(self, std::chrono::microseconds{delay_us}, saga_tick_atom::value, next);
}

void arm(self_ptr self, timer_item t) {
  auto& st = self->state;
  st.timers[t.instance + "/" + t.name] = t.seq;
  st.deadlines_ahead.push(std::move(t));
  schedule_tick(self);
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

/// Fires the timeouts that are due; `at` is the deadline the tick was
/// scheduled for.
void tick(self_ptr self, int64_t at) {
  auto& st = self->state;
  if (at == st.tick_at)
    st.tick_at = std::numeric_limits<int64_t>::max();
  auto now = persistence::now_us();
  while (!st.deadlines_ahead.empty() && st.deadlines_ahead.top().deadline_us <= now) {
    auto t = st.deadlines_ahead.top();
    st.deadlines_ahead.pop();
    fire(self, std::move(t));
  }
  schedule_tick(self);
}

caf::behavior dispatcher(self_ptr self, std::shared_ptr<saga_runtime::impl> rt) {
  self->state.rt = std::move(rt);
  self->state.handed = self->state.rt->outbox_done.load();
  self->state.written_done = self->state.handed;
  return {
    [self](saga_dispatch_atom, outbox_batch& work) {
      auto& st = self->state;
      for (auto& c : work->timers) {
        if (c.disarm)
          st.timers.erase(c.timer.instance + "/" + c.timer.name);
        else
          arm(self, std::move(c.timer));
      }
      for (auto& item : work->items) {
        if (item.position != 0) {
          ++st.open[item.position];
          st.handed = std::max(st.handed, item.position);
        }
        send_one(self, std::move(item));
      }
    },
    [self](saga_spilled_atom, uint64_t position) { release(self, position); },
    [self](saga_retry_atom, outbox_item& item) { send_one(self, std::move(item)); },
    [self](saga_flush_atom) { flush(self); },
    [self](saga_drain_atom) -> std::vector<std::string> {
      auto result = std::move(self->state.deletes);
      self->state.deletes.clear();
      return result;
    },
    [self](saga_arm_atom, timer_item& t) { arm(self, std::move(t)); },
    [self](saga_tick_atom, int64_t at) { tick(self, at); },
    [self](saga_sweep_atom) { sweep(self); },
    [self](actors::tagged_reply& r) {
      if (r.error)
        on_error(self, r.tag, std::move(r.error));
      else
        on_reply(self, r.tag, r.reply);
    },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<saga_runtime::impl> rt) {
  return sys.spawn(dispatcher, std::move(rt));
}

} // namespace esr::sagas
