#include "load_worker.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include <caf/sec.hpp>

#include "esr/runtime/aggregates/client.hpp"

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
    [this](actors::tagged_reply& r) { on_reply(r); },
    [this](sweep_atom) { sweep(); },
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
  ++outstanding_;
  auto reply_tag = ++next_tag_;
  auto timeout = conf_->timeout.count();
  pending_.emplace(reply_tag, pending{intended_ns, timeout > 0 ? now_ns() + timeout : INT64_MAX,
                                      cmd.tag, measured});
  runtime::aggregates::send_tagged(this, conf_->registry, std::move(cmd.envelope), reply_tag);
  if (timeout > 0)
    schedule_sweep();
  return true;
}

void load_worker::schedule_sweep() {
  if (sweep_scheduled_)
    return;
  sweep_scheduled_ = true;
  // A tenth of the timeout, within 10 ms .. 1 s: how late a timeout fires.
  auto every = std::clamp<int64_t>(conf_->timeout.count() / 10, 10'000'000, 1'000'000'000);
  delayed_send(this, std::chrono::nanoseconds{every}, sweep_atom::value);
}

void load_worker::on_reply(actors::tagged_reply& r) {
  auto i = pending_.find(r.tag);
  if (i == pending_.end())
    return; // Answered after its timeout.
  auto p = i->second;
  pending_.erase(i);
  if (r.error)
    on_done(p.intended_ns, p.measured, p.tag,
            caf::expected<actors::command_reply>{std::move(r.error)});
  else
    on_done(p.intended_ns, p.measured, p.tag,
            caf::expected<actors::command_reply>{std::move(r.reply)});
}

void load_worker::sweep() {
  sweep_scheduled_ = false;
  auto now = now_ns();
  std::vector<pending> expired;
  for (auto i = pending_.begin(); i != pending_.end();) {
    if (i->second.deadline_ns <= now) {
      expired.push_back(i->second);
      i = pending_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& p : expired)
    on_done(p.intended_ns, p.measured, p.tag,
            caf::expected<actors::command_reply>{caf::make_error(caf::sec::request_timeout)});
  if (!pending_.empty())
    schedule_sweep();
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
