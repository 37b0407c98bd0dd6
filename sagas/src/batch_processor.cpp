// Routing of each event of a batch to its saga instance: redelivered events
// are skipped, events of stuck instances parked, events of unknown
// instances handled by the declared policy; timeouts and replay requests are
// journal events handled in order like any other.

#include <algorithm>

#include "batch_processor.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"

namespace esr::sagas::detail {

caf::expected<instance_record*> batch_processor::get(const std::string& key) {
  // Records stay in the cache (node-based: the pointer stays valid for the
  // batch; nothing is erased from the cache while a batch is handled).
  auto h = rt_.cache.hash(key);
  if (auto n = rt_.cache.find(key, h)) {
    w_.touched.push_back(key);
    return &n->value;
  }
  auto rec = rt_.load(key, rt_.maybe_parked.count(key) > 0);
  if (!rec)
    return std::move(rec.error());
  w_.touched.push_back(key);
  auto n = rt_.cache.try_emplace(key, h).first;
  n->value = std::move(*rec);
  return &n->value;
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

} // namespace esr::sagas::detail
