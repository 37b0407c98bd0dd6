// The saga processor: runs on the subscription thread, one batch at a time,
// in global order. For each event it finds the instance, skips what was
// handled before (position <= the instance's handled position), runs the
// handler (with retries), and collects one atomic write per step: the step
// event + outbox entries + timer records (+ the checkpoint on the batch's
// last write).
//
// Pipelining: a batch's write is submitted asynchronously and the next batch
// is handled while it is in flight (against the instance states the first
// batch left in the cache: optimistic), then the first write is settled
// before the second is submitted: at most one write in flight, and writes in
// batch order. The journal's callback hands the batch's commands and timers
// to the dispatcher as soon as the write is durable (never before) and
// reports it (counters, completion callbacks, notes); the rest (the
// checkpoint in memory, trimming the cache) follows on this thread when the
// write is settled. If a write did not succeed, everything handled after it
// is discarded with the whole cache, and its batch and the current one are
// handled again synchronously from the journal's state (the subscription
// retries the current batch until that succeeds). A write in flight is
// settled by the next batch (the saga's own step events come back through
// the subscription) or, if none comes, by the subscription's idle poll.

#include <condition_variable>
#include <mutex>

#include <caf/send.hpp>

#include "batch_processor.hpp"
#include "esr/persistence/event_filter.hpp"
#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"

namespace esr::sagas {

using detail::batch_processor;
using detail::batch_work;
using persistence::event_envelope;

namespace {

/// Clears the processor's busy flag when a batch is left.
struct clear_busy {
  std::atomic<bool>& b;
  ~clear_busy() { b = false; }
};

} // namespace

/// A batch whose write is in flight.
struct saga_runtime::impl::inflight_batch {
  uint64_t first_position = 0; ///< Its events are re-read if the write fails.
  uint64_t last_position = 0;
  batch_work work; ///< Its writes were moved out; posts and notes remain.
  std::mutex mtx;
  std::condition_variable cv;
  bool decided = false;
  persistence::write_outcomes outcomes;
};

caf::error saga_runtime::impl::handle_batch(const std::vector<event_envelope>& events,
                                            uint64_t last_position, batch_work& work) {
  batch_processor proc{*this, work};
  for (auto& e : events)
    if (auto err = proc.handle(e))
      return err;
  if (work.writes.empty()) {
    if (last_position < last_checkpoint + 10000)
      return caf::none;
    persistence::atomic_write w;
    w.persistence_id = keys::checkpoint_name(name);
    work.writes.push_back(std::move(w));
    work.posts.emplace_back();
  }
  auto& last = work.writes.back().side_writes;
  last.push_back(runtime::bus::checkpoint_side_write(keys::checkpoint_name(name), last_position));
  // Always beside the checkpoint: a store with a checkpoint and no
  // outbox-done position was written before steps carried their commands.
  last.push_back({keys::outbox_done_key(name), std::to_string(outbox_done.load())});
  return caf::none;
}

void saga_runtime::impl::hand_over(batch_work& work, const persistence::write_outcomes& outcomes) {
  auto out = std::make_shared<dispatch_work>();
  for (size_t i = 0; i < work.posts.size() && i < outcomes.size(); ++i) {
    if (!outcomes[i])
      continue;
    auto& post = work.posts[i];
    for (auto& it : post.items) {
      it.position = outcomes[i]->first_global_position; // the step event
      out->items.push_back(std::move(it));
    }
    post.items.clear();
    for (auto& t : post.arms)
      out->timers.push_back(timer_change{false, std::move(t)});
    post.arms.clear();
    for (auto& d : post.disarms)
      out->timers.push_back(timer_change{true, timer_item{post.instance, std::move(d), 0, 0}});
    post.disarms.clear();
  }
  if (!out->items.empty() || !out->timers.empty()) {
    in_flight += static_cast<int64_t>(out->items.size());
    caf::anon_send(dispatcher, saga_dispatch_atom::value, std::move(out));
  }
}

void saga_runtime::impl::report_batch(batch_work& work,
                                      const persistence::write_outcomes& outcomes) {
  if (opts.observer)
    for (auto& n : work.notes)
      opts.observer(n);
  for (size_t i = 0; i < work.posts.size() && i < outcomes.size(); ++i) {
    if (!outcomes[i])
      continue;
    auto& post = work.posts[i];
    if (post.step)
      ++steps;
    if (post.parked)
      ++parked_n;
    if (post.completed) {
      ++completed;
      if (opts.on_completed)
        opts.on_completed(post.instance, *post.completed);
    }
    if (opts.observer)
      for (auto& n : post.notes)
        opts.observer(n);
  }
}

caf::error saga_runtime::impl::finish(uint64_t last_position,
                                      const persistence::write_outcomes& outcomes,
                                      size_t writes) {
  for (size_t i = 0; i < writes; ++i)
    if (i >= outcomes.size())
      return make_error(errc::corrupt_record, "no write outcome");
    else if (!outcomes[i])
      return outcomes[i].error();
  last_checkpoint = last_position;
  if (cache.size() > opts.finished_cache) {
    // Not the records a later batch changed (handled, not yet durable: a
    // reload would miss that step); theirs are past this checkpoint.
    cache.erase_if([this](const std::string&, const instance_record& r) {
      return r.completed && r.parked.empty() && r.last_position <= last_checkpoint;
    });
  }
  return caf::none;
}

void saga_runtime::impl::forget_records(batch_work& work) {
  for (auto& key : work.touched)
    cache.erase(key);
  work.touched.clear();
}

bool saga_runtime::impl::finish_without_write(batch_work& work) {
  if (!work.writes.empty())
    return false;
  report_batch(work, {}); // Its notes; it has no writes.
  return true;
}

caf::error saga_runtime::impl::redo_failed_batch() {
  // Re-read from where the subscription reads (same filter: all events), so
  // a batch's events are not copied on the chance that its write fails.
  std::vector<event_envelope> events;
  auto to = redo_last_position;
  auto read = bus->source()->read_all(redo_first_position, to - redo_first_position + 1,
                                      persistence::event_filter::all(),
                                      [&](const event_envelope& e) {
                                        if (e.global_position > to)
                                          return false;
                                        events.push_back(e);
                                        return true;
                                      });
  auto err = read ? process_sync(events, to) : std::move(read.error());
  if (err) {
    cache.clear();
    return err; // Stays pending: tried again at the next batch or idle poll.
  }
  redo_first_position = 0;
  return caf::none;
}

caf::error saga_runtime::impl::redo_then(const runtime::bus::event_batch& batch) {
  if (auto err = redo_failed_batch())
    return err; // The subscription retries `batch`.
  return process_sync(batch.events, batch.last_position);
}

caf::error saga_runtime::impl::process_sync(const std::vector<event_envelope>& events,
                                            uint64_t last_position) {
  batch_work work;
  if (auto err = handle_batch(events, last_position, work))
    return err;
  if (finish_without_write(work))
    return caf::none;
  auto writes = work.writes.size();
  auto outcomes = journal->write(std::move(work.writes));
  hand_over(work, outcomes);
  report_batch(work, outcomes);
  if (auto err = finish(last_position, outcomes, writes)) {
    // Instances whose step did not commit (and, to be safe, every instance
    // of the batch) are reloaded from the journal when next needed.
    forget_records(work);
    return err;
  }
  return caf::none;
}

caf::error saga_runtime::impl::settle_inflight() {
  if (!inflight)
    return caf::none;
  auto b = std::move(inflight);
  {
    std::unique_lock<std::mutex> guard{b->mtx};
    b->cv.wait(guard, [&] { return b->decided; });
  }
  if (auto err = finish(b->last_position, b->outcomes, b->work.posts.size())) {
    // Its states (and those of any batch handled since) were cached before
    // they were durable: forget them all and handle its events again.
    cache.clear();
    redo_first_position = b->first_position;
    redo_last_position = b->last_position;
    return err;
  }
  return caf::none;
}

void saga_runtime::impl::on_idle() {
  // No batch came: finish a write that has been decided (a step batch whose
  // write failed is redone now, not when the next event happens to arrive).
  if (inflight) {
    std::lock_guard<std::mutex> guard{inflight->mtx};
    if (!inflight->decided)
      return;
  }
  if (!inflight && !redo_pending())
    return;
  busy = true;
  clear_busy guard{busy};
  static_cast<void>(settle_inflight()); // A failure makes a redo pending.
  if (redo_pending())
    static_cast<void>(redo_failed_batch());
}

caf::error saga_runtime::impl::process(const runtime::bus::event_batch& batch) {
  busy = true;
  clear_busy guard{busy};
  if (redo_pending()) // A write failed: its batch first, then this one.
    return redo_then(batch);
  batch_work work;
  auto handled = handle_batch(batch.events, batch.last_position, work);
  // The previous batch's write must be decided before this one's is
  // submitted (and before an error is returned: a retry reloads states from
  // the journal, which must hold that write's outcome).
  if (settle_inflight()) // Failed: `work` was handled on lost states.
    return redo_then(batch);
  if (handled) {
    forget_records(work);
    return handled;
  }
  if (finish_without_write(work))
    return caf::none;
  auto b = std::make_shared<inflight_batch>();
  b->first_position = batch.first_position;
  b->last_position = batch.last_position;
  auto writes = std::move(work.writes);
  work.writes.clear();
  // The states stay in the cache, changed: the next batch is handled
  // against them (optimistic).
  b->work = std::move(work);
  *writing = true;
  auto self = weak_self;
  auto flag = writing;
  journal->write_async(std::move(writes), [self, b, flag](persistence::write_outcomes out) {
    // On the journal's thread: commands and timers leave once durable, and
    // completions are reported (not when the processor settles the batch,
    // which may wait for the next one).
    if (auto rt = self.lock()) {
      rt->hand_over(b->work, out);
      rt->report_batch(b->work, out);
    }
    {
      std::lock_guard<std::mutex> guard{b->mtx};
      b->outcomes = std::move(out);
      b->decided = true;
    }
    b->cv.notify_all();
    *flag = false; // last, holding no reference to the runtime
  });
  inflight = std::move(b);
  return caf::none;
}

} // namespace esr::sagas
