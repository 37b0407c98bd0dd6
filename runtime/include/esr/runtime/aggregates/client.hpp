#pragma once

#include <any>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include "esr/actors/errc.hpp"
#include "esr/actors/messages.hpp"
#include "esr/actors/time_travel.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::runtime::aggregates {

/// Per-command options.
struct command_options {
  /// Deduplication key (see command_envelope::command_id). Default: none.
  std::string command_id;
  /// Optimistic concurrency: the version the caller expects. Default: none.
  std::optional<uint64_t> expected_version;
  /// Copied into the events' metadata. Default: empty.
  std::string correlation_id;
  /// How long to wait for the answer; 0 waits forever. Default: 0. An
  /// aggregate always answers or stops, and a request to a stopped actor is
  /// answered with an error, so waiting forever only hangs on a stalled
  /// disk; a timeout costs a timer per command (CAF's clock thread). On
  /// timeout the caller gets caf::sec::request_timeout (the command may
  /// still be applied: retry with the same command_id).
  std::chrono::milliseconds timeout{0};
};

/// Builds the envelope of `cmd` for the aggregate `id` of type `type`.
template <class Command>
actors::command_envelope make_command(std::string_view type, std::string_view id, Command cmd,
                                      command_options opts = {}) {
  actors::command_envelope env;
  env.persistence_id.reserve(type.size() + 1 + id.size());
  env.persistence_id.append(type).append(1, '-').append(id);
  env.payload = std::move(cmd);
  env.command_id = std::move(opts.command_id);
  env.expected_version = opts.expected_version;
  env.correlation_id = std::move(opts.correlation_id);
  return env;
}

/// Extracts a Reply from a command_reply; errc::wrong_command_type if the
/// reply holds another type.
template <class Reply>
caf::expected<Reply> reply_cast(actors::command_reply& r) {
  if constexpr (std::is_same_v<Reply, actors::command_reply>) {
    return std::move(r);
  } else {
    if (auto p = std::any_cast<Reply>(&r.value))
      return std::move(*p);
    return actors::make_error(actors::errc::wrong_command_type, "unexpected reply type");
  }
}

/// Converts an options timeout to a CAF duration (0 = infinite).
inline caf::duration to_duration(std::chrono::milliseconds t) {
  return t.count() > 0 ? caf::duration{t} : caf::duration{caf::infinite};
}

/// From an event-based actor: sends `cmd` to aggregate `id` of `type` and
/// calls `f(caf::expected<Reply>)` in `self`'s context once answered. Any
/// number may be in flight, and they reach the aggregate in the order sent.
/// `Reply` may be actors::command_reply to also get the version.
template <class Reply, class Command, class F>
void ask(caf::event_based_actor* self, const aggregate_registry& reg, std::string_view type,
         std::string_view id, Command cmd, F f, command_options opts = {}) {
  auto timeout = to_duration(opts.timeout);
  auto env = make_command(type, id, std::move(cmd), std::move(opts));
  auto on_reply = [f](actors::command_reply& r) mutable { f(reply_cast<Reply>(r)); };
  auto on_error = [f](caf::error& e) mutable { f(caf::expected<Reply>{std::move(e)}); };
  // The request is made inside the callback, the handlers built before it
  // (see aggregate_registry::dispatch: the callback may run under a lock).
  reg.dispatch(env.persistence_id, [&](const caf::actor& dest) {
    self->request(dest, timeout, std::move(env)).then(std::move(on_reply), std::move(on_error));
  });
}

/// From an actor: sends the command `env` to its aggregate as an ordinary
/// message with reply tag `tag` (nonzero); the aggregate answers `self`
/// with an actors::tagged_reply carrying `tag`, which `self`'s behavior must
/// handle. For actors with thousands of commands in flight, which keep
/// their own table of tags: request/then costs CAF 0.17 a linear search of
/// the actor's pending requests per response. Commands reach the aggregate
/// in the order sent. There is no timeout: a command whose aggregate stops
/// before handling it is never answered, so the sender keeps deadlines.
template <class Self>
void send_tagged(Self* self, const aggregate_registry& reg, actors::command_envelope env,
                 uint64_t tag) {
  env.reply_tag = tag;
  reg.dispatch(env.persistence_id,
               [&](const caf::actor& dest) { self->send(dest, std::move(env)); });
}

/// A job for the client's pump actor, which routes it with
/// aggregate_registry::dispatch().
struct client_job {
  actors::command_envelope cmd;
  bool get_state = false;
  caf::duration timeout;
  std::function<void(caf::expected<actors::command_reply>)> done_cmd;
  std::function<void(caf::expected<actors::state_copy>)> done_state;
};

} // namespace esr::runtime::aggregates

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::runtime::aggregates::client_job)

namespace esr::runtime::aggregates {

/// Sends commands to aggregates from code that is not an actor, with many
/// commands in flight: a callback form, a future form and a blocking call.
/// Commands to one aggregate reach it in the order they were sent.
/// Thread-safe; callbacks run on a CAF scheduler thread, so they must not
/// block. Destroying the client abandons commands in flight (their
/// callbacks may not run).
class aggregate_client {
public:
  /// Creates a client of `reg`.
  explicit aggregate_client(aggregate_registry reg);
  ~aggregate_client();
  aggregate_client(const aggregate_client&) = delete;
  aggregate_client& operator=(const aggregate_client&) = delete;

  /// Sends `cmd` and calls `done(caf::expected<Reply>)` once answered: the
  /// reply, or the aggregate's error (errc::rejected with the reason,
  /// errc::wrong_expected_version, errc::write_failed, ...).
  template <class Reply, class Command, class F>
  void send(std::string_view type, std::string_view id, Command cmd, F done,
            command_options opts = {}) {
    auto timeout = to_duration(opts.timeout);
    auto env = make_command(type, id, std::move(cmd), std::move(opts));
    submit_command(std::move(env), timeout,
                   [done](caf::expected<actors::command_reply> r) mutable {
                     if (!r)
                       done(caf::expected<Reply>{std::move(r.error())});
                     else
                       done(reply_cast<Reply>(*r));
                   });
  }

  /// Sends `cmd`; the future holds the reply or the error.
  template <class Reply, class Command>
  std::future<caf::expected<Reply>> async(std::string_view type, std::string_view id,
                                          Command cmd, command_options opts = {}) {
    auto p = std::make_shared<std::promise<caf::expected<Reply>>>();
    auto result = p->get_future();
    send<Reply>(type, id, std::move(cmd),
                [p](caf::expected<Reply> r) { p->set_value(std::move(r)); }, std::move(opts));
    return result;
  }

  /// Sends `cmd` and blocks until answered. Must not be called from inside
  /// an actor (it would block a scheduler thread).
  template <class Reply, class Command>
  caf::expected<Reply> call(std::string_view type, std::string_view id, Command cmd,
                            command_options opts = {}) {
    return async<Reply>(type, id, std::move(cmd), std::move(opts)).get();
  }

  /// Returns a copy of the live state of aggregate `id` of `type` (activating
  /// it if passivated), blocking. errc::wrong_command_type if it is no State.
  template <class State>
  caf::expected<actors::versioned_state<State>> live_state(std::string_view type,
                                                           std::string_view id) {
    auto r = fetch_state(std::string{type} + "-" + std::string{id});
    if (!r)
      return std::move(r.error());
    if (auto p = std::any_cast<State>(&r->state))
      return actors::versioned_state<State>{std::move(*p), r->version};
    return actors::make_error(actors::errc::wrong_command_type, "unexpected state type");
  }

  /// Time travel: the state of aggregate `id` of `type` as of `point`,
  /// rebuilt from storage (with the registry's upcaster) without touching
  /// the live actor. Errors as actors::rebuild_state.
  template <class State, class Command, class Reply>
  caf::expected<actors::versioned_state<State>>
  state_at(const actors::aggregate_type<State, Command, Reply>& type, std::string_view id,
           actors::as_of point) const {
    return actors::state_at(type, reg_.storage(), id, point,
                            reg_.options().aggregate.upcaster);
  }

  /// Returns the registry.
  const aggregate_registry& registry() const { return reg_; }

private:
  void submit_command(actors::command_envelope env, caf::duration timeout,
                      std::function<void(caf::expected<actors::command_reply>)> done);
  caf::expected<actors::state_copy> fetch_state(std::string pid);

  /// The pump actor for `pid`: always the same one for one aggregate.
  const caf::actor& pump_for(std::string_view pid) const;

  aggregate_registry reg_;
  /// Pump actors, which issue the requests. Several, because CAF 0.17
  /// searches an actor's pending requests linearly for every response: one
  /// pump with 10,000 commands in flight spent most of its time there.
  std::vector<caf::actor> pumps_;
};

} // namespace esr::runtime::aggregates
