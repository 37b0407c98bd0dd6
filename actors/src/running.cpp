// Phase 3: running.
//   Before: replaying_events (the state is recovered up to version_).
//   Here:   handle commands in order. Events of the commands handled together
//           (up to options.max_batch stashed ones) go to the journal in one
//           write_async call, one atomic write per command; commands arriving
//           while it is outstanding are stashed. The journal's callback
//           answers the callers once the write is durable (never before), on
//           the journal's thread, and wakes this actor only if it waits for
//           the batch (stashed commands, passivation, a snapshot due, a
//           reload) or the batch did not succeed. Otherwise the actor finds
//           the batch settled when its next message arrives: one message per
//           command less than answering through the actor.
//   After:  on a rejected write (definitely not stored): callers get
//           errc::write_rejected and the actor reloads at once
//           (replaying_snapshot); on a failed write (outcome unknown):
//           errc::write_failed and a restart with backoff (restarting ->
//           replaying_snapshot); on passivate_atom when idle: stop.
#include "aggregate_actor_impl.hpp"

#include <algorithm>

#include <caf/mailbox_element.hpp>
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
    batch b;
    size_t handled = 0;
    while (stash_head_ < stash_.size() && handled < max_batch && !reload_needed_) {
      auto& x = stash_[stash_head_];
      if (x.get_state) {
        if (!b.empty())
          break; // Answer it from committed state only.
        x.rp.deliver(state_copy{spec_.model->copy_state(*state_), version_});
      } else if (!try_handle(x.cmd, x.rp, b)) {
        break;
      }
      ++stash_head_;
      ++handled;
    }
    if (stash_head_ == stash_.size()) {
      std::vector<stashed>{}.swap(stash_); // An idle aggregate keeps no stash memory.
    } else if (stash_head_ > 0) {
      stash_.erase(stash_.begin(), stash_.begin() + static_cast<std::ptrdiff_t>(stash_head_));
    }
    stash_head_ = 0;
    if (!b.empty()) {
      submit(std::move(b));
      if (stash_.empty())
        return;
      // More commands wait for this batch.
      if (!settle_or_wake())
        return; // on_persist_done drains.
      continue;
    }
    if (reload_needed_) {
      restart(false);
      return;
    }
  }
}

bool aggregate_actor::try_handle(command_envelope& cmd, detail::reply_channel& rp, batch& b) {
  // A command that does not write must see committed state: if this batch
  // already writes, it waits for the outcome (return false, nothing done).
  const bool batch_open = !b.empty();
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
  command_reply reply{d->then_reply && cmd.wants_reply ? d->then_reply(*state_) : std::any{},
                      version_};
  if (!cmd.command_id.empty() && !cmd.wants_reply) {
    dedup_.record({cmd.command_id, version_, dedup_window::known::version_only, {}, {}, {}});
  } else if (!cmd.command_id.empty()) {
    if (auto bytes = model.encode_reply(reply.value)) {
      w.events.back().metadata.headers.emplace("esr.reply", to_hex(*bytes)); // UTF-8 safe
      // The encoded reply, not a copy of the value (decoded only if the
      // command comes again).
      dedup_.record({cmd.command_id, version_, dedup_window::known::stored_reply, {}, {},
                     std::move(*bytes)});
    } else {
      dedup_.record({cmd.command_id, version_, dedup_window::known::reply, reply.value, {}, {}});
    }
  }
  b.writes.push_back(std::move(w));
  b.flights.push_back(in_flight{std::move(rp), std::move(reply)});
  return true;
}

void aggregate_actor::submit(batch&& b) {
  writing_ = true;
  auto id = ++batch_seq_;
  // Work that waits for this batch's success: ask the callback to wake us.
  if (snapshot_due_ || reload_needed_ || passivating_)
    wake_.store(true);
  auto self = caf::actor_cast<caf::actor>(this);
  spec_.env->store.events->write_async(
    std::move(b.writes),
    [self, id, flights = std::move(b.flights)](persistence::write_outcomes outcomes) mutable {
      on_batch_decided(self, id, flights, outcomes);
    });
}


void aggregate_actor::on_batch_decided(const caf::actor& self, uint64_t id,
                                       std::vector<in_flight>& flights,
                                       persistence::write_outcomes& outcomes) {
  // Runs on the journal's thread: only settled_, wake_ and the immutable
  // spec_ of the actor are touched here.
  auto* me = static_cast<aggregate_actor*>(caf::actor_cast<caf::abstract_actor*>(self));
  auto sender = caf::actor_cast<caf::strong_actor_ptr>(self);
  persist_done d;
  d.batch = id;
  for (size_t i = 0; i < flights.size(); ++i) {
    if (i < outcomes.size() && outcomes[i]) {
      flights[i].rp.answer(sender, std::move(flights[i].reply));
      continue;
    }
    caf::error cause = i < outcomes.size() ? outcomes[i].error()
                                           : make_error(errc::write_failed, "no outcome");
    const auto& pid = me->spec_.persistence_id;
    if (persistence::is(cause, persistence::errc::concurrency_conflict)
        || persistence::is(cause, persistence::errc::serialization_failed)) {
      d.rejected = true;
      flights[i].rp.answer(sender,
                           make_error(errc::write_rejected, pid, persistence::render(cause)));
    } else {
      d.failed = true;
      if (d.cause.empty())
        d.cause = persistence::render(cause);
      flights[i].rp.answer(sender,
                           make_error(errc::write_failed, pid, persistence::render(cause)));
    }
  }
  if (!d.failed && !d.rejected) {
    // Replies first, then settled_: whatever the actor answers next reaches
    // a caller after this batch's replies. The seq_cst store/load pair with
    // the actor's wake_.store/settled_.load means one side always sees the
    // other: the actor either finds the batch settled or gets woken.
    me->settled_.store(id);
    if (!me->wake_.load())
      return;
  }
  caf::anon_send(self, std::move(d));
}

bool aggregate_actor::write_settled() {
  if (!writing_)
    return true;
  if (settled_.load() < batch_seq_)
    return false;
  settle_write();
  drain(); // Stashed commands go first (this may start the next batch).
  return !writing_;
}

bool aggregate_actor::settle_or_wake() {
  // The seq_cst store/load pair with on_batch_decided's settled_.store /
  // wake_.load: either this sees the batch settled or the callback sees
  // wake_ and sends persist_done.
  wake_.store(true);
  if (settled_.load() < batch_seq_)
    return false;
  settle_write();
  return true;
}

void aggregate_actor::await_write() {
  if (!settle_or_wake())
    return; // on_persist_done continues.
  drain();
  maybe_passivate();
}

void aggregate_actor::settle_write() {
  writing_ = false;
  wake_.store(false, std::memory_order_relaxed);
  restarts_ = 0;
  if (reload_needed_) {
    restart(false);
    return;
  }
  if (snapshot_due_)
    take_snapshot();
}

void aggregate_actor::on_persist_done(persist_done& d) {
  if (d.batch != batch_seq_ || !writing_ || phase_ != phase::running)
    return; // Already settled, or an older batch.
  if (d.failed) {
    spec_.env->warning("write of " + spec_.persistence_id + " failed (outcome unknown: "
                       + d.cause + "), restarting from storage");
    restart(true);
    return;
  }
  if (d.rejected) {
    restart(false);
    return;
  }
  settle_write();
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
  delayed_send(this, delay, restart_atom::value, static_cast<uint64_t>(epoch_));
}

} // namespace esr::actors
