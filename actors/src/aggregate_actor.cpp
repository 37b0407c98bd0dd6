#include "aggregate_actor_impl.hpp"

#include <cstdio>

#include <caf/actor_system.hpp>
#include <caf/sec.hpp>

#include "esr/actors/errc.hpp"

namespace esr::actors {

state_holder::~state_holder() = default;

aggregate_model::~aggregate_model() = default;

void aggregate_env::warning(const std::string& msg) const {
  if (options.warn)
    options.warn(msg);
  else
    std::fprintf(stderr, "esr warning: %s\n", msg.c_str());
}

caf::actor spawn_aggregate(caf::actor_system& sys, aggregate_spec spec) {
  return sys.spawn<aggregate_actor, caf::lazy_init>(std::move(spec));
}

aggregate_actor::aggregate_actor(caf::actor_config& cfg, aggregate_spec spec)
  : caf::event_based_actor(cfg),
    spec_(std::move(spec)),
    dedup_(spec_.env->options.dedup_window) {
  // nop
}

caf::behavior aggregate_actor::make_behavior() {
  enter_replaying_snapshot();
  return {
    [this](command_envelope& cmd) { on_command(std::move(cmd)); },
    [this](get_state_atom) { on_get_state(); },
    [this](passivate_atom) {
      passivating_ = true;
      maybe_passivate();
    },
    [this](recovery_permit_atom) { load_snapshot(); },
    [this](replay_next_atom, uint64_t epoch) {
      if (epoch == epoch_ && phase_ == phase::replaying_events)
        replay_step();
    },
    [this](persist_done& d) { on_persist_done(d); },
    [this](stop_atom) { quit(failure_); },
    [this](restart_atom, uint64_t epoch) {
      if (epoch == epoch_ && phase_ == phase::restarting)
        enter_replaying_snapshot();
    },
  };
}

void aggregate_actor::on_exit() {
  if (has_permit_) {
    has_permit_ = false;
    spec_.env->limiter->release();
  }
  // Nobody waits forever on a stopped aggregate: stashed commands were not
  // handled (safe to retry). Commands whose write is in flight are answered
  // by the journal's callback with the write's real outcome.
  answer_stash_with(caf::make_error(caf::sec::request_receiver_down));
}

void aggregate_actor::on_command(command_envelope&& cmd) {
  // A tag counts only for an ordinary message: a request gets its response.
  auto tag = current_message_id().is_request() ? 0 : cmd.reply_tag;
  detail::reply_channel rp{make_response_promise(), tag};
  if (write_settled() && phase_ == phase::running && stash_head_ == stash_.size()) {
    // Fast path: nothing waits, handle at once.
    batch b;
    if (!try_handle(cmd, rp, b)) {
      // Cannot happen with an empty batch; keep the order safe anyway.
      stash(stashed{std::move(cmd), std::move(rp), false});
      return;
    }
    if (!b.empty())
      submit(std::move(b));
    else if (reload_needed_)
      restart(false);
    maybe_passivate();
    return;
  }
  stash(stashed{std::move(cmd), std::move(rp), false});
  if (writing_)
    await_write();
}

void aggregate_actor::on_get_state() {
  detail::reply_channel rp{make_response_promise(), 0};
  if (write_settled() && phase_ == phase::running && stash_head_ == stash_.size()) {
    rp.deliver(state_copy{spec_.model->copy_state(*state_), version_});
    return;
  }
  stash(stashed{command_envelope{}, std::move(rp), true});
  if (writing_)
    await_write();
}

void aggregate_actor::stash(stashed&& x) {
  if (phase_ == phase::failed) {
    x.rp.deliver(failure_);
    return;
  }
  if (stash_.size() - stash_head_ >= spec_.env->options.stash_capacity) {
    x.rp.deliver(make_error(errc::stash_overflow, spec_.persistence_id,
                            static_cast<uint64_t>(spec_.env->options.stash_capacity)));
    return;
  }
  stash_.push_back(std::move(x));
}

void aggregate_actor::answer_stash_with(const caf::error& err) {
  for (auto i = stash_head_; i < stash_.size(); ++i)
    stash_[i].rp.deliver(err);
  stash_.clear();
  stash_.shrink_to_fit();
  stash_head_ = 0;
}

void aggregate_actor::maybe_passivate() {
  if (!passivating_ || phase_ != phase::running || stash_head_ != stash_.size())
    return;
  if (writing_ && (!settle_or_wake() || phase_ != phase::running))
    return; // Woken later (on_persist_done calls this again), or reloading.
  quit();
}

} // namespace esr::actors
