// One step of a saga instance: the handler runs (with retries) on a copy of
// the state; its effects become ONE atomic write - the SagaStep event of the
// instance's stream (expected sequence number = the instance's version),
// which carries its commands (the outbox), and its timer records as side
// writes - or, if it keeps failing, the event is parked in the dead-letter
// stream.

#include <algorithm>
#include <chrono>
#include <thread>

#include "batch_processor.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"

namespace esr::sagas::detail {

void batch_processor::step(instance_record& rec, const std::string& instance,
                           const event_envelope& e, const std::string& source_type,
                           const std::string& fired_timer,
                           std::vector<persistence::side_write> extra, const handler_call& fn) {
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
  // Outbox: the commands travel in the step event itself (no side key per
  // command; see keys.hpp's outbox_done).
  for (size_t k = 0; k < fx.commands.size(); ++k) {
    auto& c = fx.commands[k];
    auto& entry = *s.add_commands();
    entry.set_persistence_id(c.aggregate_type + "-" + c.aggregate_id);
    entry.set_command_type(std::move(c.command_type));
    entry.set_payload(std::move(c.payload));
    entry.set_command_id(keys::command_id(saga, instance, step_no, k));
    entry.set_correlation_id(instance);
  }
  w.events.push_back(make_envelope(w.persistence_id, s, instance, causation_of(e)));
  // The step event is encoded: its commands move on to the dispatcher.
  post.items.reserve(static_cast<size_t>(s.commands_size()));
  for (int k = 0; k < s.commands_size(); ++k) {
    outbox_item item;
    item.step = step_no;
    item.index = static_cast<uint32_t>(k);
    item.entry.Swap(s.mutable_commands(k));
    post.items.push_back(std::move(item));
  }
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
  rec.last_position = s.last_position();
  if (fx.completed) { // Finished: only the status is needed.
    rec.state.reset();
    rec.timers.clear();
    rec.done_steps.clear();
  } else {
    rec.state = std::move(state);
    rec.timers = std::move(timers);
    rec.done_steps = std::move(fx.done_steps);
  }
  w_.writes.push_back(std::move(w));
  w_.posts.push_back(std::move(post));
}

void batch_processor::park(instance_record* rec, const std::string& instance,
                           const event_envelope& e, const std::string& error,
                           uint32_t attempts) {
  auto& saga = rt_.name;
  auto key = keys::parked_key(saga, instance, e.global_position);
  rt_.maybe_parked.insert(instance);
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

} // namespace esr::sagas::detail
