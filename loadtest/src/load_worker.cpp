#include "load_worker.hpp"

#include <chrono>

namespace esr::loadtest {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

load_worker::load_worker(caf::actor_config& cfg, std::shared_ptr<worker_config> conf)
  : caf::event_based_actor(cfg), conf_(std::move(conf)), rng_(conf_->seed) {
  if (conf_->rate > 0)
    period_ns_ = static_cast<int64_t>(1e9 / conf_->rate);
  if (period_ns_ < 1 && conf_->rate > 0)
    period_ns_ = 1;
}

caf::behavior load_worker::make_behavior() {
  return {
    [this](go_atom) {
      if (conf_->rate > 0) {
        next_due_ns_ = now_ns();
        on_tick();
        return;
      }
      for (size_t i = 0; i < conf_->in_flight; ++i)
        if (!send_one(now_ns()))
          break;
    },
    [this](tick_atom) { on_tick(); },
    [this](sample_atom) {
      sample_.outstanding = outstanding_;
      auto result = std::move(sample_);
      sample_ = worker_sample{};
      sample_.last_completion_ns = result.last_completion_ns;
      return result;
    },
    [this](stop_atom) -> caf::result<uint64_t> {
      stopping_ = true;
      dropped_ += backlog_.size();
      backlog_.clear();
      if (outstanding_ == 0)
        return dropped_;
      stop_rp_ = make_response_promise();
      return stop_rp_;
    },
  };
}

void load_worker::on_tick() {
  if (stopping_)
    return;
  auto now = now_ns();
  while (next_due_ns_ <= now) {
    due(next_due_ns_);
    next_due_ns_ += period_ns_;
  }
  delayed_send(this, std::chrono::milliseconds{1}, tick_atom::value);
}

void load_worker::due(int64_t intended_ns) {
  if (outstanding_ < conf_->max_outstanding)
    send_one(intended_ns);
  else
    backlog_.push_back(intended_ns);
}

bool load_worker::send_one(int64_t intended_ns) {
  if (stopping_)
    return false;
  bool measured = conf_->control->measuring.load(std::memory_order_acquire);
  if (measured && conf_->control->budget.fetch_sub(1, std::memory_order_relaxed) <= 0)
    return false;
  auto key = conf_->keys->next(rng_);
  auto cmd = conf_->generator->next(key, rng_);
  auto tag = cmd.tag;
  ++outstanding_;
  // The request is made inside the callback (see aggregate_registry::dispatch).
  conf_->registry.dispatch(cmd.envelope.persistence_id, [&](const caf::actor& dest) {
    request(dest, conf_->timeout, std::move(cmd.envelope))
      .then(
        [this, intended_ns, measured, tag](actors::command_reply& r) {
          on_done(intended_ns, measured, tag,
                  caf::expected<actors::command_reply>{std::move(r)});
        },
        [this, intended_ns, measured, tag](caf::error& e) {
          on_done(intended_ns, measured, tag,
                  caf::expected<actors::command_reply>{std::move(e)});
        });
  });
  return true;
}

void load_worker::on_done(int64_t intended_ns, bool measured, command_tag tag,
                          caf::expected<actors::command_reply> outcome) {
  auto now = now_ns();
  --outstanding_;
  conf_->generator->completed(tag, outcome);
  if (!measured) {
    ++sample_.warmup;
  } else {
    sample_.last_completion_ns = now;
    auto latency = static_cast<uint64_t>(now > intended_ns ? now - intended_ns : 0);
    if (outcome) {
      ++sample_.acknowledged;
      sample_.latency.record(latency);
    } else {
      auto k = classify(outcome.error());
      sample_.errors.add(k);
      if (k == error_kind::rejected)
        sample_.latency.record(latency);
    }
  }
  if (stopping_) {
    if (outstanding_ == 0 && stop_rp_.pending())
      stop_rp_.deliver(dropped_);
    return;
  }
  if (conf_->rate > 0) {
    if (!backlog_.empty()) {
      auto t = backlog_.front();
      backlog_.pop_front();
      send_one(t);
    }
  } else {
    send_one(now);
  }
}

} // namespace esr::loadtest
