#include "esr/runtime/bus/event_bus.hpp"

#include <algorithm>

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::bus {

using persistence::event_envelope;

event_bus::event_bus(std::shared_ptr<persistence::journal> j, bus_options opts)
  : journal_(std::move(j)), opts_(opts) {
  // nop
}

std::shared_ptr<event_bus> event_bus::make(std::shared_ptr<persistence::journal> j,
                                           bus_options opts) {
  std::shared_ptr<event_bus> result{new event_bus(std::move(j), opts)};
  auto* self = result.get();
  result->listener_token_ = result->journal_->add_shared_commit_listener(
    [self](const persistence::event_group& events) { self->on_commit(events); });
  return result;
}

event_bus::~event_bus() {
  journal_->remove_commit_listener(listener_token_);
}

caf::expected<std::unique_ptr<subscription>>
event_bus::subscribe(subscription_options opts, batch_handler h) {
  if (!h)
    return make_error(errc::invalid_argument, "subscription without handler", opts.name);
  if (opts.checkpoints && opts.name.empty())
    return make_error(errc::invalid_argument, "checkpointed subscription without name");
  if (opts.max_batch == 0)
    opts.max_batch = 1;
  // Count the subscriber first so that no commit after the start is dropped.
  ++subscribers_;
  uint64_t first = opts.start.resolve(journal_->last_position());
  if (opts.checkpoints) {
    auto cp = opts.checkpoints->load(opts.name);
    if (!cp) {
      --subscribers_;
      return std::move(cp.error());
    }
    if (*cp)
      first = **cp + 1;
  }
  std::unique_ptr<subscription> result{
    new subscription(shared_from_this(), std::move(opts), std::move(h), first)};
  return result;
}

void event_bus::on_commit(const persistence::event_group& events) {
  if (!events || events->empty())
    return;
  if (subscribers_.load() == 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    buffer_.clear();
    buffered_events_ = 0;
    return;
  }
  group g;
  g.events = events; // shared with the journal: no copy
  g.first = events->front().global_position;
  g.last = events->back().global_position;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // The buffer holds a contiguous range of positions; after a hole (a group
    // the listener never saw), start over: older readers use the journal.
    if (!buffer_.empty() && g.first != buffer_.back().last + 1) {
      buffer_.clear();
      buffered_events_ = 0;
    }
    buffered_events_ += g.events->size();
    buffer_.emplace_back(std::move(g));
    while (buffer_.size() > 1 && buffered_events_ > opts_.live_buffer_events) {
      buffered_events_ -= buffer_.front().events->size();
      buffer_.pop_front();
    }
  }
  cv_.notify_all();
}

event_bus::next_step event_bus::fetch(uint64_t next, size_t max_events,
                                      std::chrono::milliseconds wait,
                                      const std::atomic<bool>& stop,
                                      std::vector<group>& out) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto step = [&] {
    if (!buffer_.empty() && next >= buffer_.front().first)
      return next > buffer_.back().last ? next_step::idle : next_step::live;
    return next > journal_->last_position() ? next_step::idle : next_step::catch_up;
  };
  auto s = step();
  if (s == next_step::idle) {
    cv_.wait_for(guard, wait, [&] { return stop.load() || step() != next_step::idle; });
    s = step();
  }
  if (s != next_step::live)
    return s;
  // Find the group holding `next` (groups are sorted by position).
  auto i = std::upper_bound(buffer_.begin(), buffer_.end(), next,
                            [](uint64_t p, const group& g) { return p < g.first; });
  --i; // Valid: next >= buffer_.front().first.
  size_t n = 0;
  for (; i != buffer_.end() && n < max_events; ++i) {
    n += i->events->size();
    out.push_back(*i);
  }
  return next_step::live;
}

void event_bus::wake_all() {
  { std::lock_guard<std::mutex> guard{mtx_}; }
  cv_.notify_all();
}

} // namespace esr::runtime::bus
