// Phase 3: running.
//   Before: replaying_events (the state is recovered up to version_).
//   Here:   handle commands in order. Events of the commands handled together
//           (up to options.max_batch stashed ones) go to the journal in one
//           write_async call, one atomic write per command; commands arriving
//           while it is outstanding are stashed. Replies are sent only once
//           the write is durable.
//   After:  on a rejected write (definitely not stored): answer
//           errc::write_rejected and reload at once (replaying_snapshot); on
//           a failed write (outcome unknown): answer errc::write_failed and
//           restart with backoff (restarting -> replaying_snapshot); on
//           passivate_atom when idle: stop.
#include "aggregate_actor_impl.hpp"

#include <algorithm>

#include <caf/send.hpp>

#include "esr/actors/errc.hpp"
#include "esr/persistence/error.hpp"

namespace esr::actors {

void aggregate_actor::enter_running() {
  if (has_permit_) {
    has_permit_ = false;
    spec_.env->limiter->release();
  }
  phase_ = phase::running;
  if (auto& f = spec_.env->options.on_recovered)
    f(spec_.persistence_id, snapshot_seq_, version_);
  drain();
  maybe_passivate();
}

void aggregate_actor::drain() {
  auto max_batch = std::max<size_t>(1, spec_.env->options.max_batch);
  while (phase_ == phase::running && !writing_ && stash_head_ < stash_.size()) {
    std::vector<persistence::atomic_write> writes;
    size_t handled = 0;
    while (stash_head_ < stash_.size() && handled < max_batch && !reload_needed_) {
      auto& x = stash_[stash_head_];
      if (x.get_state) {
        if (!writes.empty())
          break; // Answer it from committed state only.
        x.rp.deliver(state_copy{spec_.model->copy_state(*state_), version_});
      } else if (!try_handle(x.cmd, x.rp, writes)) {
        break;
      }
      ++stash_head_;
      ++handled;
    }
    if (stash_head_ == stash_.size()) {
      stash_.clear();
      if (stash_.capacity() > 16)
        stash_.shrink_to_fit();
    } else if (stash_head_ > 0) {
      stash_.erase(stash_.begin(), stash_.begin() + static_cast<std::ptrdiff_t>(stash_head_));
    }
    stash_head_ = 0;
    if (!writes.empty()) {
      submit(std::move(writes));
      return;
    }
    if (reload_needed_) {
      restart(false);
      return;
    }
  }
}

bool aggregate_actor::try_handle(command_envelope& cmd, caf::response_promise& rp,
                                 std::vector<persistence::atomic_write>& writes) {
  // A command that does not write must see committed state: if this batch
  // already writes, it waits for the outcome (return false, nothing done).
  const bool batch_open = !writes.empty();
  auto& model = *spec_.model;
  auto& pid = spec_.persistence_id;
  if (!cmd.command_id.empty()) {
    if (auto e = dedup_.find(cmd.command_id)) {
      if (batch_open)
        return false;
      switch (e->what) {
        case dedup_window::known::reply:
          rp.deliver(command_reply{e->reply, e->version});
          return true;
        case dedup_window::known::error:
          rp.deliver(e->error);
          return true;
        case dedup_window::known::stored_reply:
          if (auto r = model.decode_reply(e->bytes)) {
            rp.deliver(command_reply{std::move(*r), e->version});
            return true;
          }
          break;
        case dedup_window::known::version_only:
          break;
      }
      rp.deliver(make_error(errc::duplicate_command, pid, cmd.command_id, e->version));
      return true;
    }
  }
  if (cmd.expected_version && *cmd.expected_version != version_) {
    if (batch_open)
      return false;
    rp.deliver(make_error(errc::wrong_expected_version, pid, *cmd.expected_version, version_));
    return true;
  }
  auto d = model.handle(*state_, cmd.payload);
  if (!d || d->what != decision::kind::persist || d->events.empty()) {
    if (batch_open)
      return false;
    if (!d) {
      rp.deliver(std::move(d.error()));
      return true;
    }
    if (d->what == decision::kind::reject) {
      auto err = make_error(errc::rejected, d->reason);
      dedup_.record({cmd.command_id, version_, dedup_window::known::error, {}, err, {}});
      rp.deliver(std::move(err));
      return true;
    }
    command_reply reply{d->what == decision::kind::reply ? std::move(d->reply)
                        : d->then_reply                  ? d->then_reply(*state_)
                                                         : std::any{},
                        version_};
    if (!cmd.command_id.empty())
      dedup_.record({cmd.command_id, version_, dedup_window::known::reply, reply.value, {}, {}});
    rp.deliver(std::move(reply));
    return true;
  }
  persistence::atomic_write w;
  w.persistence_id = pid;
  w.expected_sequence_nr = version_;
  w.events.reserve(d->events.size());
  auto seq = version_;
  for (auto& pe : d->events) {
    if (auto err = model.apply_pending(*state_, pe)) {
      // The state may hold part of this command: reload it from storage.
      reload_needed_ = true;
      rp.deliver(std::move(err));
      return true;
    }
    ++seq;
    if (snapshot_due_after(pe.event_type, seq))
      snapshot_due_ = true;
    persistence::event_envelope env;
    env.persistence_id = pid;
    env.event_type = std::move(pe.event_type);
    env.payload = std::move(pe.payload);
    env.metadata.correlation_id = cmd.correlation_id;
    env.metadata.causation_id = cmd.command_id;
    env.tags = std::move(pe.tags);
    w.events.push_back(std::move(env));
  }
  version_ = seq;
  command_reply reply{d->then_reply ? d->then_reply(*state_) : std::any{}, version_};
  if (!cmd.command_id.empty()) {
    if (auto bytes = model.encode_reply(reply.value))
      w.events.back().metadata.headers.emplace("esr.reply", to_hex(*bytes)); // UTF-8 safe
    dedup_.record({cmd.command_id, version_, dedup_window::known::reply, reply.value, {}, {}});
  }
  writes.push_back(std::move(w));
  in_flight_.push_back(in_flight{std::move(rp), std::move(reply)});
  return true;
}

void aggregate_actor::submit(std::vector<persistence::atomic_write>&& writes) {
  writing_ = true;
  auto self = caf::actor_cast<caf::actor>(this);
  auto epoch = epoch_;
  spec_.env->store.events->write_async(
    std::move(writes), [self, epoch](persistence::write_outcomes outcomes) {
      caf::anon_send(self, persist_done{epoch, std::move(outcomes)});
    });
}

void aggregate_actor::on_persist_done(persist_done& d) {
  if (d.epoch != epoch_ || !writing_)
    return;
  writing_ = false;
  auto batch = std::move(in_flight_);
  in_flight_.clear();
  bool rejected = false;
  bool failed = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i < d.outcomes.size() && d.outcomes[i]) {
      batch[i].rp.deliver(std::move(batch[i].reply));
      continue;
    }
    caf::error cause = i < d.outcomes.size() ? d.outcomes[i].error()
                                             : make_error(errc::write_failed, "no outcome");
    using persistence::errc;
    if (persistence::is(cause, errc::concurrency_conflict)
        || persistence::is(cause, errc::serialization_failed)) {
      rejected = true;
      batch[i].rp.deliver(make_error(actors::errc::write_rejected, spec_.persistence_id,
                                     persistence::render(cause)));
    } else {
      failed = true;
      batch[i].rp.deliver(make_error(actors::errc::write_failed, spec_.persistence_id,
                                     persistence::render(cause)));
    }
  }
  if (failed) {
    spec_.env->warning("write of " + spec_.persistence_id
                       + " failed (outcome unknown), restarting from storage");
    restart(true);
    return;
  }
  if (rejected || reload_needed_) {
    restart(false);
    return;
  }
  restarts_ = 0;
  if (snapshot_due_)
    take_snapshot();
  drain();
  maybe_passivate();
}

void aggregate_actor::restart(bool with_backoff) {
  ++epoch_;
  writing_ = false;
  snapshot_due_ = false;
  reload_needed_ = false;
  if (!with_backoff) {
    enter_replaying_snapshot();
    return;
  }
  phase_ = phase::restarting;
  auto& opts = spec_.env->options;
  auto delay = opts.min_restart_backoff * (1 << std::min<uint32_t>(restarts_, 16));
  if (delay > opts.max_restart_backoff)
    delay = opts.max_restart_backoff;
  ++restarts_;
  delayed_send(this, delay, restart_atom::value, epoch_);
}

} // namespace esr::actors
