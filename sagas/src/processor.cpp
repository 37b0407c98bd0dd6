// The saga processor: runs on the subscription thread, one batch at a time,
// in global order. For each event it finds the instance, skips what was
// handled before (position <= the instance's handled position), runs the
// handler (with retries), and collects one atomic write per step: the step
// event + outbox entries + timer records (+ the checkpoint on the batch's
// last write). After the batch is durable it updates its cache and hands
// commands and timeouts to the dispatcher.


#include <caf/send.hpp>

#include "batch_processor.hpp"
#include "esr/runtime/bus/checkpoint_store.hpp"
#include "keys.hpp"

namespace esr::sagas {

using detail::batch_processor;
using detail::batch_work;

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
