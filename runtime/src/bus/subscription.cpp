#include "esr/runtime/bus/subscription.hpp"

#include <algorithm>

#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"

namespace esr::runtime::bus {

using persistence::event_envelope;

subscription::subscription(std::shared_ptr<event_bus> bus, subscription_options opts,
                           batch_handler handler, uint64_t first)
  : bus_(std::move(bus)), opts_(std::move(opts)), handler_(std::move(handler)),
    next_(first) {
  position_.store(first - 1);
  worker_ = std::thread{[this] { run(); }};
}

subscription::~subscription() {
  stop();
}

void subscription::stop() {
  if (!stop_.exchange(true))
    bus_->subscribers_--;
  bus_->wake_all();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    cv_.notify_all();
  }
  if (worker_.joinable())
    worker_.join();
}

caf::error subscription::wait_for(uint64_t p, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{mtx_};
  auto reached = cv_.wait_for(guard, timeout, [&] {
    return position_.load() >= p || !running_.load();
  });
  if (position_.load() >= p)
    return caf::none;
  if (!running_.load())
    return failure_ ? failure_ : make_error(errc::closed, opts_.name);
  static_cast<void>(reached);
  return make_error(errc::timeout, opts_.name, p, position_.load());
}

caf::error subscription::failure() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failure_;
}

subscription::stats subscription::statistics() const {
  stats result;
  result.live_batches = live_batches_.load();
  result.catchup_batches = catchup_batches_.load();
  result.events = events_.load();
  return result;
}

void subscription::fail(caf::error err) {
  std::lock_guard<std::mutex> guard{mtx_};
  failure_ = std::move(err);
  running_.store(false);
  cv_.notify_all();
}

bool subscription::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait_for(guard, d, [this] { return stop_.load(); });
  return !stop_.load();
}

void subscription::read_batch(uint64_t next, event_batch& batch, caf::error& err) {
  auto& j = *bus_->source();
  auto examined = j.read_all(next, opts_.max_batch, opts_.filter,
                             [this, &batch](const event_envelope& e) {
                               if (!opts_.accept || opts_.accept(e))
                                 batch.events.push_back(e);
                               return true;
                             });
  if (!examined) {
    err = std::move(examined.error());
    return;
  }
  batch.first_position = next;
  batch.last_position = std::max(*examined, next - 1);
  batch.live = false;
}

bool subscription::deliver(const event_batch& batch) {
  auto backoff = opts_.retry_backoff;
  caf::error err;
  for (size_t attempt = 0; attempt <= opts_.handler_retries; ++attempt) {
    if (attempt > 0 && !sleep_for(backoff))
      return false;
    if (attempt > 0)
      backoff = std::min(backoff * 2, std::chrono::milliseconds{1000});
    err = handler_(batch);
    if (!err)
      return true;
  }
  fail(make_error(errc::handler_failed, opts_.name, batch.first_position,
                  batch.last_position, render(err)));
  return false;
}

bool subscription::save_checkpoint(uint64_t position) {
  if (!opts_.checkpoints)
    return true;
  auto backoff = opts_.retry_backoff;
  caf::error err;
  for (size_t attempt = 0; attempt <= opts_.handler_retries; ++attempt) {
    if (attempt > 0 && !sleep_for(backoff))
      return false;
    if (attempt > 0)
      backoff = std::min(backoff * 2, std::chrono::milliseconds{1000});
    err = opts_.checkpoints->save(opts_.name, position);
    if (!err)
      return true;
  }
  fail(std::move(err));
  return false;
}

void subscription::run() {
  std::vector<event_bus::group> groups;
  event_batch batch;
  auto& j = *bus_->source();
  size_t read_failures = 0;
  while (!stop_.load()) {
    groups.clear();
    batch.events.clear();
    auto step = bus_->fetch(next_, opts_.max_batch, opts_.idle_poll, stop_, groups);
    if (stop_.load())
      break;
    if (step == event_bus::next_step::live) {
      for (auto& g : groups)
        for (auto& e : *g.events)
          if (e.global_position >= next_ && opts_.filter.matches(e)
              && (!opts_.accept || opts_.accept(e)))
            batch.events.push_back(e);
      batch.first_position = next_;
      batch.last_position = groups.back().last;
      batch.live = true;
    } else if (step == event_bus::next_step::catch_up
               || j.last_position() >= next_) {
      caf::error err;
      read_batch(next_, batch, err);
      if (err) {
        // Corruption or a failing upcaster does not heal by itself: retry a
        // few times (an I/O hiccup might), then stop with the error.
        if (++read_failures > opts_.handler_retries) {
          fail(std::move(err));
          break;
        }
        if (!sleep_for(opts_.retry_backoff))
          break;
        continue;
      }
      read_failures = 0;
      if (batch.last_position < next_) {
        // The journal has nothing newer yet (a commit is in flight).
        if (!sleep_for(std::chrono::milliseconds{1}))
          break;
        continue;
      }
    } else {
      if (opts_.on_idle)
        opts_.on_idle();
      continue; // Idle.
    }
    if (!batch.events.empty()) {
      if (!deliver(batch))
        break;
      events_ += batch.events.size();
    } else if (opts_.on_idle) {
      opts_.on_idle(); // Nothing for the handler in these events.
    }
    if (batch.live)
      ++live_batches_;
    else
      ++catchup_batches_;
    live_.store(batch.live);
    if (!batch.events.empty() && !save_checkpoint(batch.last_position))
      break;
    next_ = batch.last_position + 1;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      position_.store(batch.last_position);
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> guard{mtx_};
  running_.store(false);
  cv_.notify_all();
}

} // namespace esr::runtime::bus
