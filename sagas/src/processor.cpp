// The saga processor: runs on the subscription thread, one batch at a time,
// in global order. For each event it finds the instance, skips what was
// handled before (position <= the instance's handled position), runs the
// handler (with retries), and collects one atomic write per step: the step
// event + outbox entries + timer records (+ the checkpoint on the batch's
// last write). After the batch is durable it updates its cache and hands
// commands and timeouts to the dispatcher.

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/send.hpp>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"
#include "runtime_impl.hpp"

namespace esr::sagas {

namespace {

using persistence::atomic_write;
using persistence::event_envelope;

/// What to do once a write is durable.
struct post_commit {
  std::string instance;
  bool step = false;                    ///< The write records a step.
  bool parked = false;                  ///< The write parks an event.
  std::optional<std::string> completed; ///< The step ended the instance.
  std::vector<outbox_item> items;
  std::vector<timer_item> arms;
  std::vector<std::string> disarms;
  std::vector<saga_note> notes;
};

/// The work of one batch.
struct batch_work {
  std::unordered_map<std::string, instance_record> records;
  std::vector<atomic_write> writes;
  std::vector<post_commit> posts;
  std::vector<saga_note> notes; ///< Notes without a write (ignored events).
};

template <class Msg>
event_envelope make_envelope(std::string stream, const Msg& m, const std::string& corr,
                             std::string causation) {
  event_envelope env;
  env.persistence_id = std::move(stream);
  env.event_type = Msg::default_instance().GetTypeName();
  m.SerializeToString(&env.payload);
  env.metadata.correlation_id = corr;
  env.metadata.causation_id = std::move(causation);
  return env;
}

std::string causation_of(const event_envelope& e) {
  return e.persistence_id + "#" + std::to_string(e.sequence_nr);
}

/// Handles the events of one batch; a member-like helper with access to impl.
class batch_processor {
public:
  batch_processor(saga_runtime::impl& rt, batch_work& w) : rt_(rt), w_(w) {}

  caf::error handle(const event_envelope& e);

  /// Re-handles the parked events of an instance (a ReplayRequested event).
  caf::error replay(const event_envelope& e, const std::string& instance);

private:
  caf::expected<instance_record*> get(const std::string& key);

  /// Runs `fn` with retries and records a step, or parks `e`.
  template <class F>
  void step(instance_record& rec, const std::string& instance, const event_envelope& e,
            const std::string& source_type, const std::string& fired_timer,
            std::vector<persistence::side_write> extra, F fn);

  void park(instance_record* rec, const std::string& instance, const event_envelope& e,
            const std::string& error, uint32_t attempts);

  void note(saga_note::kind k, const std::string& instance, std::string text) {
    saga_note n;
    n.what = k;
    n.saga = rt_.name;
    n.instance = instance;
    n.text = std::move(text);
    w_.notes.push_back(std::move(n));
  }

  saga_runtime::impl& rt_;
  batch_work& w_;
};

caf::expected<instance_record*> batch_processor::get(const std::string& key) {
  auto i = w_.records.find(key);
  if (i != w_.records.end())
    return &i->second;
  auto j = rt_.cache.find(key);
  if (j != rt_.cache.end()) {
    // Moved out for the batch; put back (or dropped on failure) by process().
    auto rec = std::move(j->second);
    rt_.cache.erase(j);
    return &w_.records.emplace(key, std::move(rec)).first->second;
  }
  auto rec = rt_.load(key);
  if (!rec)
    return std::move(rec.error());
  return &w_.records.emplace(key, std::move(*rec)).first->second;
}

template <class F>
void batch_processor::step(instance_record& rec, const std::string& instance,
                           const event_envelope& e, const std::string& source_type,
                           const std::string& fired_timer,
                           std::vector<persistence::side_write> extra, F fn) {
  std::any state;
  step_effects fx;
  caf::error err;
  uint32_t attempts = 0;
  auto backoff = rt_.opts.handler_backoff;
  for (size_t a = 0; a < std::max<size_t>(1, rt_.opts.handler_attempts); ++a) {
    if (a > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    ++attempts;
    state = rec.exists ? rec.state : rt_.model->initial_state();
    fx = step_effects{};
    fx.done_steps = rec.done_steps;
    err = fn(state, fx);
    if (!err)
      break;
  }
  if (err) {
    park(&rec, instance, e, render(err), attempts);
    return;
  }
  auto& saga = rt_.name;
  auto step_no = rec.version + 1;
  auto now = persistence::now_us();
  pb::SagaStep s;
  s.set_source_position(e.global_position);
  s.set_source_stream(e.persistence_id);
  s.set_source_sequence_nr(e.sequence_nr);
  s.set_source_type(source_type);
  s.set_state(rt_.model->encode_state(state));
  s.set_completed(fx.completed.has_value());
  if (fx.completed)
    s.set_outcome(*fx.completed);
  s.set_last_position(std::max(rec.last_position, e.global_position));
  for (auto& d : fx.done_steps)
    s.add_done_steps(d);
  post_commit post;
  post.instance = instance;
  post.step = true;
  post.completed = fx.completed;
  auto story = static_cast<bool>(rt_.opts.observer);
  atomic_write w;
  w.persistence_id = keys::instance_stream(saga, instance);
  w.expected_sequence_nr = rec.version;
  w.side_writes = std::move(extra);
  // Timers: drop the fired, cancelled and re-armed ones, then add new ones.
  auto is_named = [](const std::vector<std::string>& xs, const std::string& n) {
    return std::find(xs.begin(), xs.end(), n) != xs.end();
  };
  std::vector<std::string> rearmed;
  for (auto& sc : fx.schedules)
    rearmed.push_back(sc.first);
  std::vector<pb::PendingTimer> timers;
  for (auto& t : rec.timers) {
    bool fired = t.name() == fired_timer;
    bool cancelled = is_named(fx.cancels, t.name()) || fx.completed.has_value();
    if (!fired && !cancelled && !is_named(rearmed, t.name())) {
      timers.push_back(t);
      continue;
    }
    if (!is_named(rearmed, t.name()) || fx.completed) {
      w.side_writes.push_back({keys::timer_key(saga, instance, t.name()), std::nullopt});
      if (!fired) {
        post.disarms.push_back(t.name());
        if (story)
          post.notes.push_back(saga_note{saga_note::kind::timeout, saga, instance,
                                         "timeout '" + t.name() + "' cancelled", {}});
      }
    }
  }
  if (!fx.completed) {
    for (auto& sc : fx.schedules) {
      pb::PendingTimer t;
      t.set_name(sc.first);
      t.set_seq(step_no);
      t.set_deadline_us(now + std::chrono::duration_cast<std::chrono::microseconds>(sc.second).count());
      pb::TimerRecord tr;
      tr.set_instance(instance);
      tr.set_name(t.name());
      tr.set_seq(t.seq());
      tr.set_deadline_us(t.deadline_us());
      w.side_writes.push_back({keys::timer_key(saga, instance, t.name()), tr.SerializeAsString()});
      post.arms.push_back(timer_item{instance, t.name(), t.seq(), t.deadline_us()});
      if (story)
        post.notes.push_back(saga_note{saga_note::kind::timeout, saga, instance,
                                       "timeout '" + t.name() + "' armed for "
                                         + std::to_string(sc.second.count()) + " ms",
                                       {}});
      timers.push_back(std::move(t));
    }
  }
  for (auto& t : timers)
    *s.add_timers() = t;
  // Outbox.
  for (size_t k = 0; k < fx.commands.size(); ++k) {
    auto& c = fx.commands[k];
    outbox_item item;
    item.key = keys::outbox_key(saga, instance, step_no, k);
    item.entry.set_persistence_id(c.aggregate_type + "-" + c.aggregate_id);
    item.entry.set_command_type(c.command_type);
    item.entry.set_payload(c.payload);
    item.entry.set_command_id(keys::command_id(saga, instance, step_no, k));
    item.entry.set_correlation_id(instance);
    s.add_command_ids(item.entry.command_id());
    w.side_writes.push_back({item.key, item.entry.SerializeAsString()});
    post.items.push_back(std::move(item));
  }
  w.events.push_back(make_envelope(w.persistence_id, s, instance, causation_of(e)));
  // Notes: the handled event with the new state, the handler's lines, the end.
  if (story) {
    saga_note ev{saga_note::kind::event, saga, instance,
                 source_type + " from " + e.persistence_id, rt_.model->describe_state(state)};
    post.notes.insert(post.notes.begin(), std::move(ev));
    for (auto& line : fx.notes)
      post.notes.push_back(saga_note{saga_note::kind::info, saga, instance, line, {}});
    if (fx.completed)
      post.notes.push_back(
        saga_note{saga_note::kind::completed, saga, instance, *fx.completed, {}});
  }
  // The record after the step.
  rec.exists = true;
  rec.version = step_no;
  rec.completed = fx.completed.has_value();
  rec.outcome = fx.completed ? *fx.completed : std::string{};
  rec.state = std::move(state);
  rec.last_position = s.last_position();
  rec.timers = std::move(timers);
  rec.done_steps = std::move(fx.done_steps);
  w_.writes.push_back(std::move(w));
  w_.posts.push_back(std::move(post));
}

void batch_processor::park(instance_record* rec, const std::string& instance,
                           const event_envelope& e, const std::string& error,
                           uint32_t attempts) {
  auto& saga = rt_.name;
  auto key = keys::parked_key(saga, instance, e.global_position);
  if (rec != nullptr
      && std::find(rec->parked.begin(), rec->parked.end(), key) != rec->parked.end())
    return; // Parked before (redelivery after a crash).
  if (rec == nullptr) {
    auto existing = rt_.journal->get_side(key);
    if (existing && *existing)
      return;
  }
  pb::DeadLetter dl;
  dl.set_saga(saga);
  dl.set_instance(instance);
  dl.set_error(error);
  dl.set_attempts(attempts);
  dl.set_persistence_id(e.persistence_id);
  dl.set_sequence_nr(e.sequence_nr);
  dl.set_global_position(e.global_position);
  dl.set_event_type(e.event_type);
  dl.set_payload(e.payload);
  dl.set_correlation_id(e.metadata.correlation_id);
  dl.set_timestamp_us(e.timestamp_us);
  atomic_write w;
  w.persistence_id = keys::dlq_stream(saga, instance);
  w.events.push_back(make_envelope(w.persistence_id, dl, instance, causation_of(e)));
  w.side_writes.push_back({key, dl.SerializeAsString()});
  if (rec != nullptr)
    rec->parked.push_back(key);
  post_commit post;
  post.instance = instance;
  post.parked = true;
  post.notes.push_back(saga_note{saga_note::kind::parked, saga, instance,
                                 e.event_type + " from " + e.persistence_id
                                   + " parked as a dead letter: " + error,
                                 {}});
  w_.writes.push_back(std::move(w));
  w_.posts.push_back(std::move(post));
}

caf::error batch_processor::handle(const event_envelope& e) {
  static const std::string timeout_type = pb::TimeoutFired::default_instance().GetTypeName();
  static const std::string replay_type = pb::ReplayRequested::default_instance().GetTypeName();
  if (e.event_type == timeout_type) {
    pb::TimeoutFired tf;
    if (!tf.ParseFromString(e.payload))
      return make_error(errc::corrupt_record, "TimeoutFired", e.persistence_id, e.sequence_nr);
    if (tf.saga() != rt_.name)
      return caf::none;
    auto rec = get(tf.instance());
    if (!rec)
      return std::move(rec.error());
    auto& r = **rec;
    if (!r.exists || r.completed || e.global_position <= r.last_position) {
      ++rt_.skipped;
      return caf::none;
    }
    auto t = std::find_if(r.timers.begin(), r.timers.end(), [&](const pb::PendingTimer& x) {
      return x.name() == tf.name() && x.seq() == tf.seq();
    });
    if (t == r.timers.end()) {
      note(saga_note::kind::ignored, tf.instance(), "stale timeout '" + tf.name() + "' ignored");
      return caf::none;
    }
    if (!r.parked.empty()) {
      park(&r, tf.instance(), e, "instance is stuck", 0);
      return caf::none;
    }
    auto name = tf.name();
    auto& inst = tf.instance();
    step(r, inst, e, "timeout '" + name + "'", name, {},
         [&](std::any& st, step_effects& fx) {
           return rt_.model->handle_timeout(st, inst, name, fx);
         });
    return caf::none;
  }
  if (e.event_type == replay_type) {
    pb::ReplayRequested rr;
    if (!rr.ParseFromString(e.payload))
      return make_error(errc::corrupt_record, "ReplayRequested", e.persistence_id);
    if (rr.saga() != rt_.name)
      return caf::none;
    return replay(e, rr.instance());
  }
  auto routed = rt_.model->route(e);
  if (!routed) {
    park(nullptr, "", e, render(routed.error()), 0);
    return caf::none;
  }
  if (!*routed)
    return caf::none;
  auto& ev = **routed;
  auto rec = get(ev.instance);
  if (!rec)
    return std::move(rec.error());
  auto& r = **rec;
  if (!r.exists && !ev.starts) {
    if (rt_.model->unknown_policy() == unknown_instance_policy::park)
      park(&r, ev.instance, e, render(make_error(errc::unknown_instance, ev.instance)), 0);
    else
      note(saga_note::kind::ignored, ev.instance,
           e.event_type + " from " + e.persistence_id + " ignored: no saga instance '"
             + ev.instance + "'");
    return caf::none;
  }
  if (e.global_position <= r.last_position) {
    ++rt_.skipped;
    return caf::none;
  }
  if (r.completed) {
    note(saga_note::kind::ignored, ev.instance,
         e.event_type + " ignored: the saga already ended (" + r.outcome + ")");
    return caf::none;
  }
  if (!r.parked.empty()) {
    park(&r, ev.instance, e, "instance is stuck", 0);
    return caf::none;
  }
  step(r, ev.instance, e, e.event_type, {}, {}, [&](std::any& st, step_effects& fx) {
    return rt_.model->handle(st, ev.instance, ev, e, fx);
  });
  return caf::none;
}

caf::error batch_processor::replay(const event_envelope& req, const std::string& instance) {
  auto rec = get(instance);
  if (!rec)
    return std::move(rec.error());
  auto& r = **rec;
  auto keys = std::move(r.parked);
  r.parked.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!r.parked.empty()) { // An earlier one failed again: keep the order.
      r.parked.push_back(keys[i]);
      continue;
    }
    auto bytes = rt_.journal->get_side(keys[i]);
    if (!bytes)
      return std::move(bytes.error());
    pb::DeadLetter dl;
    if (!*bytes || !dl.ParseFromString(**bytes))
      continue; // Gone (replayed before a crash) or unreadable.
    event_envelope e;
    e.persistence_id = dl.persistence_id();
    e.sequence_nr = dl.sequence_nr();
    e.global_position = dl.global_position();
    e.event_type = dl.event_type();
    e.payload = dl.payload();
    e.metadata.correlation_id = dl.correlation_id();
    e.timestamp_us = dl.timestamp_us();
    auto routed = rt_.model->route(e);
    if (!routed || !*routed || (!r.exists && !(*routed)->starts)) {
      r.parked.push_back(keys[i]); // Still cannot be handled.
      note(saga_note::kind::parked, instance, e.event_type + " stays parked");
      continue;
    }
    auto& ev = **routed;
    std::vector<persistence::side_write> extra;
    extra.push_back({keys[i], std::nullopt});
    if (r.completed) {
      atomic_write w; // Nothing to do but forget it.
      w.persistence_id = keys::dlq_stream(rt_.name, instance);
      w.side_writes = std::move(extra);
      w_.writes.push_back(std::move(w));
      w_.posts.emplace_back();
      w_.posts.back().instance = instance;
      continue;
    }
    note(saga_note::kind::info, instance, "replaying parked " + e.event_type);
    step(r, instance, e, e.event_type, {}, std::move(extra),
         [&](std::any& st, step_effects& fx) {
           return rt_.model->handle(st, instance, ev, e, fx);
         });
  }
  (void) req;
  return caf::none;
}

} // namespace

caf::error saga_runtime::impl::process(const runtime::bus::event_batch& batch) {
  busy = true;
  struct clear_busy {
    std::atomic<bool>& b;
    ~clear_busy() { b = false; }
  } guard{busy};
  batch_work work;
  batch_processor proc{*this, work};
  for (auto& e : batch.events)
    if (auto err = proc.handle(e))
      return err;
  for (auto& n : work.notes)
    if (opts.observer)
      opts.observer(n);
  if (work.writes.empty()) {
    if (batch.last_position < last_checkpoint + 10000)
      return caf::none;
    persistence::atomic_write w;
    w.persistence_id = keys::checkpoint_name(name);
    work.writes.push_back(std::move(w));
    work.posts.emplace_back();
  }
  work.writes.back().side_writes.push_back(
    runtime::bus::checkpoint_side_write(keys::checkpoint_name(name), batch.last_position));
  auto outcomes = journal->write(std::move(work.writes));
  caf::error failure;
  std::vector<std::string> failed;
  auto items = std::make_shared<std::vector<outbox_item>>();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    auto& post = work.posts[i];
    if (!outcomes[i]) {
      failure = outcomes[i].error();
      failed.push_back(post.instance);
      continue;
    }
    if (post.step)
      ++steps;
    if (post.parked)
      ++parked_n;
    if (post.completed) {
      ++completed;
      if (opts.on_completed)
        opts.on_completed(post.instance, *post.completed);
    }
    for (auto& it : post.items)
      items->push_back(std::move(it));
    for (auto& t : post.arms)
      caf::anon_send(dispatcher, saga_arm_atom::value, std::move(t));
    for (auto& d : post.disarms)
      caf::anon_send(dispatcher, saga_disarm_atom::value, post.instance, d);
    if (opts.observer)
      for (auto& n : post.notes)
        opts.observer(n);
  }
  if (!items->empty()) {
    in_flight += static_cast<int64_t>(items->size());
    caf::anon_send(dispatcher, saga_dispatch_atom::value, std::move(items));
  }
  if (failure) {
    for (auto& f : failed)
      cache.erase(f);
    for (auto& kv : work.records)
      cache.erase(kv.first);
    return failure;
  }
  last_checkpoint = batch.last_position;
  size_t finished = 0;
  for (auto& kv : work.records) {
    auto& rec = kv.second;
    if (rec.completed) {
      rec.state.reset(); // Finished: only the status is needed.
      rec.timers.clear();
      rec.done_steps.clear();
    }
    cache[kv.first] = std::move(rec);
  }
  if (cache.size() > opts.finished_cache) {
    for (auto i = cache.begin(); i != cache.end();) {
      if (i->second.completed && i->second.parked.empty()) {
        i = cache.erase(i);
        ++finished;
      } else {
        ++i;
      }
    }
  }
  (void) finished;
  return caf::none;
}

} // namespace esr::sagas
