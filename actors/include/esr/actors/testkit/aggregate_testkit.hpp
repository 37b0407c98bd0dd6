#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "esr/actors/aggregate_actor.hpp"
#include "esr/actors/aggregate_type.hpp"
#include "esr/actors/errc.hpp"
#include "esr/actors/messages.hpp"
#include "esr/actors/testkit/faulty_journal.hpp"
#include "esr/persistence/storage.hpp"

namespace esr::actors::testkit {

/// A fixture for testing an aggregate type through its real actor, in the
/// shape given / when / then:
///
/// ~~~
/// aggregate_testkit kit{account_type};
/// kit.given(AccountOpened{...}, Deposited{...});
/// auto out = kit.when(withdraw{30});
/// EXPECT_EQ(out.reply->balance, 70);
/// EXPECT_EQ(out.event<Withdrawn>(0).amount(), 30);
/// EXPECT_TRUE(kit.restart_and_compare());
/// ~~~
///
/// It owns an actor system and, unless given one, an in-memory store whose
/// journal is a faulty_journal, so tests can make the next write fail
/// (outcome unknown) or be rejected. Not thread-safe; use from one thread.
template <class State, class Command, class Reply>
class aggregate_testkit {
public:
  using type = aggregate_type<State, Command, Reply>;

  /// What `when` observed.
  struct outcome {
    caf::expected<Reply> reply{caf::error{}}; ///< The reply, or the error.
    uint64_t version = 0;                     ///< The version after the command.
    std::vector<persistence::event_envelope> events; ///< Stored by the command.
    State state;                              ///< The live state afterwards.

    /// Decodes events[i] as the Protobuf message E; a default E if the type
    /// differs or i is out of range.
    template <class E>
    E event(size_t i) const {
      E e;
      if (i < events.size() && events[i].event_type == E::default_instance().GetTypeName())
        e.ParseFromString(events[i].payload);
      return e;
    }
  };

  /// Tests aggregate `id` of `t` on a fresh in-memory store.
  explicit aggregate_testkit(std::shared_ptr<type> t, std::string id = "test",
                             aggregate_options opts = {})
    : aggregate_testkit(std::move(t), persistence::open_memory(), std::move(id),
                        std::move(opts)) {
    // nop
  }

  /// Tests aggregate `id` of `t` on `store` (e.g. LevelDB); the journal is
  /// wrapped in a faulty_journal.
  aggregate_testkit(std::shared_ptr<type> t, persistence::storage store, std::string id,
                    aggregate_options opts = {})
    : type_(std::move(t)), sys_(init_config(cfg_)) {
    faulty_ = std::make_shared<faulty_journal>(store.events);
    store.events = faulty_;
    auto env = std::make_shared<aggregate_env>();
    env->store = std::move(store);
    env->options = std::move(opts);
    env_ = std::move(env);
    pid_ = type_->type_name() + "-" + id;
    start();
  }

  ~aggregate_testkit() { stop(); }

  /// Stores `es` (Protobuf events) as if earlier commands had persisted
  /// them, then restarts the actor so that it recovers them.
  template <class... Events>
  aggregate_testkit& given(Events... es) {
    persistence::atomic_write w;
    w.persistence_id = pid_;
    (w.events.push_back(to_envelope(make_pending_event(std::move(es)))), ...);
    auto r = env_->store.events->write(std::move(w));
    if (!r)
      throw std::runtime_error("given: write failed: " + render(r.error()));
    restart();
    return *this;
  }

  /// Sends `cmd` (with optional command id and expected version) and
  /// returns the reply, the events it stored and the state afterwards.
  outcome when(Command cmd, std::string command_id = {},
               std::optional<uint64_t> expected_version = std::nullopt) {
    auto before = current().version;
    command_envelope env;
    env.persistence_id = pid_;
    env.payload = std::move(cmd);
    env.command_id = std::move(command_id);
    env.expected_version = expected_version;
    outcome out;
    caf::scoped_actor self{sys_};
    self->request(actor_, caf::infinite, std::move(env))
      .receive([&](command_reply& r) { out.reply = reply_of(r); },
               [&](caf::error& e) { out.reply = std::move(e); });
    auto now = current();
    out.version = now.version;
    out.state = std::move(now.state);
    if (out.version > before) {
      auto evs = env_->store.events->read_stream(pid_, before + 1, out.version);
      if (evs)
        out.events = std::move(*evs);
    }
    return out;
  }

  /// Sends `cmd` with command id `command_id` and
  /// command_envelope::wants_reply = false; returns the answer (its value is
  /// empty for a command that persisted events) or the error.
  caf::expected<command_reply> when_without_reply(Command cmd, std::string command_id) {
    command_envelope env;
    env.persistence_id = pid_;
    env.payload = std::move(cmd);
    env.command_id = std::move(command_id);
    env.wants_reply = false;
    caf::expected<command_reply> out{caf::error{}};
    caf::scoped_actor self{sys_};
    self->request(actor_, caf::infinite, std::move(env))
      .receive([&](command_reply& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  /// Returns the live state.
  State state() { return current().state; }

  /// Returns the live version (highest sequence number).
  uint64_t version() { return current().version; }

  /// Stops the actor and starts a new incarnation that recovers from
  /// storage; returns its state.
  State restart() {
    stop_actor();
    start();
    return state();
  }

  /// Restarts and returns true if the recovered state and version equal the
  /// ones before the restart. Requires State to have operator==.
  bool restart_and_compare() {
    auto before = current();
    restart();
    auto after = current();
    return before.version == after.version && before.state == after.state;
  }

  /// Makes the next write fail with an I/O error (outcome unknown); if
  /// `store_anyway`, the events are stored although the failure is reported.
  void fail_next_write(bool store_anyway = false) {
    faulty_->fail_next_write(persistence::errc::io_error, store_anyway);
  }

  /// Makes the next write be rejected (nothing stored).
  void reject_next_write() {
    faulty_->fail_next_write(persistence::errc::serialization_failed);
  }

  /// The persistence id under test.
  const std::string& persistence_id() const { return pid_; }
  /// The storage (journal wrapped in the faulty_journal).
  const persistence::storage& storage() const { return env_->store; }
  /// The faulty journal.
  faulty_journal& journal() { return *faulty_; }
  /// The actor system.
  caf::actor_system& system() { return sys_; }

private:
  struct live {
    State state;
    uint64_t version = 0;
  };

  static caf::actor_system_config& init_config(caf::actor_system_config& cfg) {
    register_errors(cfg);
    return cfg;
  }

  static caf::expected<Reply> reply_of(command_reply& r) {
    if (auto p = std::any_cast<Reply>(&r.value))
      return std::move(*p);
    return make_error(errc::wrong_command_type, "empty or unexpected reply");
  }

  persistence::event_envelope to_envelope(pending_event pe) {
    persistence::event_envelope e;
    e.persistence_id = pid_;
    e.event_type = std::move(pe.event_type);
    e.payload = std::move(pe.payload);
    e.tags = std::move(pe.tags);
    return e;
  }

  live current() {
    live result{type_->initial_state(), 0};
    caf::scoped_actor self{sys_};
    self->request(actor_, caf::infinite, get_state_atom::value)
      .receive(
        [&](state_copy& s) {
          result.state = std::any_cast<State>(s.state);
          result.version = s.version;
        },
        [&](caf::error& e) {
          throw std::runtime_error("aggregate_testkit: no state: " + render(e));
        });
    return result;
  }

  void start() { actor_ = spawn_aggregate(sys_, aggregate_spec{type_, env_, pid_}); }

  void stop_actor() {
    if (!actor_)
      return;
    caf::scoped_actor self{sys_};
    caf::anon_send_exit(actor_, caf::exit_reason::kill);
    self->wait_for(actor_);
    actor_ = nullptr;
  }

  void stop() { stop_actor(); }

  std::shared_ptr<type> type_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::shared_ptr<faulty_journal> faulty_;
  std::shared_ptr<const aggregate_env> env_;
  std::string pid_;
  caf::actor actor_;
};

} // namespace esr::actors::testkit
