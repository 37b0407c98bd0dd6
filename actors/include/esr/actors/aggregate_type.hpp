#pragma once

#include <any>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <utility>
#include <variant>
#include <optional>

#include <google/protobuf/message_lite.h>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/effect.hpp"
#include "esr/actors/errc.hpp"

namespace esr::actors {

namespace detail {

template <class T>
struct variant_alternatives {
  /// Converts an alternative held by `x` into T (T is no variant: never).
  static std::optional<T> from(const std::any&) { return std::nullopt; }
};

template <class... Ts>
struct variant_alternatives<std::variant<Ts...>> {
  /// Converts `x` holding one of Ts into the variant.
  static std::optional<std::variant<Ts...>> from(const std::any& x) {
    std::optional<std::variant<Ts...>> result;
    ((result ? void() : [&] {
       if (auto p = std::any_cast<Ts>(&x))
         result = std::variant<Ts...>{*p};
     }()),
     ...);
    return result;
  }
};

} // namespace detail

/// Defines an aggregate type: a State, a Command type (often a std::variant
/// of commands; then callers may also send a bare alternative), a Reply type, a command handler returning an effect, and one
/// event handler per Protobuf event type. Shaped like Akka's
/// EventSourcedBehavior:
///
/// ~~~
/// auto account = std::make_shared<aggregate_type<balance, command, reply>>("account");
/// account->on_command([](const balance& s, const command& c) -> account_type::effect {
///   ...
///   return effect::persist(Deposited{...}).then_reply([](const balance& s) { ... });
/// });
/// account->on_event<Deposited>([](balance& s, const Deposited& e) { s.value += e.amount(); });
/// ~~~
///
/// Configure it completely before handing it to a registry; afterwards it is
/// immutable and shared between threads. Handlers must be deterministic and
/// free of side effects: they run again on recovery and may be re-evaluated.
template <class State, class Command, class Reply>
class aggregate_type final : public aggregate_model {
public:
  using state_type = State;
  using command_type = Command;
  using reply_type = Reply;
  using effect = esr::actors::effect<State, Reply>;

  /// Creates a type named `name` (must not contain '-') whose instances start
  /// in `initial`.
  explicit aggregate_type(std::string name, State initial = State{})
    : name_(std::move(name)), initial_(std::move(initial)) {
    if constexpr (std::is_base_of_v<google::protobuf::MessageLite, State>) {
      state_type_name_ = State::default_instance().GetTypeName();
      encode_state_ = [](const State& s) { return s.SerializeAsString(); };
      decode_state_ = [](const std::string& b) -> std::optional<State> {
        State s;
        if (!s.ParseFromString(b))
          return std::nullopt;
        return s;
      };
    }
    if constexpr (std::is_base_of_v<google::protobuf::MessageLite, Reply>) {
      encode_reply_ = [](const Reply& r) { return r.SerializeAsString(); };
      decode_reply_ = [](const std::string& b) -> std::optional<Reply> {
        Reply r;
        if (!r.ParseFromString(b))
          return std::nullopt;
        return r;
      };
    }
  }

  /// Sets the command handler: (state, command) -> effect.
  template <class F>
  aggregate_type& on_command(F f) {
    command_handler_ = std::move(f);
    return *this;
  }

  /// Registers the event handler of the Protobuf message type `Event`:
  /// either `void(State&, const Event&)` (mutates) or
  /// `State(State, const Event&)` (returns the new state).
  template <class Event, class F>
  aggregate_type& on_event(F f) {
    std::function<void(State&, const Event&)> g;
    if constexpr (std::is_invocable_v<F, State&, const Event&>
                  && std::is_void_v<std::invoke_result_t<F, State&, const Event&>>)
      g = std::move(f);
    else
      g = [f](State& s, const Event& e) { s = f(std::move(s), e); };
    live_[std::type_index(typeid(Event))] = [g](State& s, const std::any& e) {
      g(s, std::any_cast<const Event&>(e));
    };
    stored_[Event::default_instance().GetTypeName()] = [g](State& s, const std::string& b) {
      Event e;
      if (!e.ParseFromString(b))
        return false;
      g(s, e);
      return true;
    };
    return *this;
  }

  /// Snapshots every `n` events (0 disables).
  aggregate_type& snapshot_every(uint64_t n) {
    policy_.every_n_events = n;
    return *this;
  }

  /// Also snapshots after events for which `pred(state, event_type, seq)` holds.
  template <class F>
  aggregate_type& snapshot_when(F pred) {
    policy_.when = [pred](const state_holder& s, const std::string& t, uint64_t seq) {
      return pred(static_cast<const holder&>(s).value, t, seq);
    };
    return *this;
  }

  /// Keeps the newest `n` snapshots (at least 1).
  aggregate_type& keep_snapshots(size_t n) {
    policy_.keep = n < 1 ? 1 : n;
    return *this;
  }

  /// Deletes the events covered by the oldest kept snapshot when snapshotting.
  aggregate_type& delete_events_on_snapshot(bool on = true) {
    policy_.delete_events = on;
    return *this;
  }

  /// Sets how states are (de)serialized for snapshots (Protobuf states need
  /// none). `decode` returns nullopt for unreadable bytes.
  aggregate_type& state_codec(std::string type_name,
                              std::function<std::string(const State&)> encode,
                              std::function<std::optional<State>(const std::string&)> decode) {
    state_type_name_ = std::move(type_name);
    encode_state_ = std::move(encode);
    decode_state_ = std::move(decode);
    return *this;
  }

  /// Sets how replies are (de)serialized, so that a command retried after a
  /// restart gets its original reply (Protobuf replies need none).
  aggregate_type& reply_codec(std::function<std::string(const Reply&)> encode,
                              std::function<std::optional<Reply>(const std::string&)> decode) {
    encode_reply_ = std::move(encode);
    decode_reply_ = std::move(decode);
    return *this;
  }

  /// Returns the initial state.
  const State& initial_state() const { return initial_; }

  // -- aggregate_model --------------------------------------------------------

  const std::string& type_name() const override { return name_; }

  std::unique_ptr<state_holder> make_state() const override {
    return std::make_unique<holder>(initial_);
  }

  caf::expected<decision> handle(const state_holder& s, const std::any& cmd) const override {
    auto c = std::any_cast<Command>(&cmd);
    std::optional<Command> converted;
    if (c == nullptr) {
      // A variant Command also accepts one of its alternatives.
      converted = detail::variant_alternatives<Command>::from(cmd);
      if (!converted)
        return make_error(errc::wrong_command_type, name_);
      c = &*converted;
    }
    try {
      auto eff = command_handler_(static_cast<const holder&>(s).value, *c);
      decision d;
      switch (eff.what()) {
        case effect::kind::persist:
          d.what = decision::kind::persist;
          d.events = std::move(eff.events());
          if (auto& f = eff.reply_fn())
            d.then_reply = [f](const state_holder& x) {
              return std::any{f(static_cast<const holder&>(x).value)};
            };
          break;
        case effect::kind::reply:
          d.what = decision::kind::reply;
          d.reply = std::move(*eff.reply_value());
          break;
        case effect::kind::reject:
          d.what = decision::kind::reject;
          d.reason = eff.reason();
          break;
      }
      return d;
    } catch (const std::exception& e) {
      return make_error(errc::handler_failed, name_, std::string{e.what()});
    }
  }

  caf::error apply_pending(state_holder& s, const pending_event& e) const override {
    auto i = live_.find(std::type_index(e.event.type()));
    if (i == live_.end())
      return make_error(errc::handler_failed, name_, "no event handler", e.event_type);
    try {
      i->second(static_cast<holder&>(s).value, e.event);
    } catch (const std::exception& ex) {
      return make_error(errc::handler_failed, name_, e.event_type, std::string{ex.what()});
    }
    return caf::none;
  }

  caf::error apply_stored(state_holder& s,
                          const persistence::event_envelope& e) const override {
    auto i = stored_.find(e.event_type);
    if (i == stored_.end())
      return make_error(errc::recovery_failed, e.persistence_id, e.sequence_nr,
                        "unknown event type", e.event_type);
    try {
      if (!i->second(static_cast<holder&>(s).value, e.payload))
        return make_error(errc::recovery_failed, e.persistence_id, e.sequence_nr,
                          "undecodable event", e.event_type);
    } catch (const std::exception& ex) {
      return make_error(errc::recovery_failed, e.persistence_id, e.sequence_nr,
                        std::string{ex.what()});
    }
    return caf::none;
  }

  const snapshot_policy& snapshots() const override { return policy_; }

  std::optional<std::string> encode_state(const state_holder& s) const override {
    if (!encode_state_)
      return std::nullopt;
    return encode_state_(static_cast<const holder&>(s).value);
  }

  std::unique_ptr<state_holder> decode_state(const std::string& bytes) const override {
    if (!decode_state_)
      return nullptr;
    auto s = decode_state_(bytes);
    if (!s)
      return nullptr;
    return std::make_unique<holder>(std::move(*s));
  }

  const std::string& state_type_name() const override { return state_type_name_; }

  std::optional<std::string> encode_reply(const std::any& r) const override {
    auto p = std::any_cast<Reply>(&r);
    if (!encode_reply_ || p == nullptr)
      return std::nullopt;
    return encode_reply_(*p);
  }

  std::optional<std::any> decode_reply(const std::string& bytes) const override {
    if (!decode_reply_)
      return std::nullopt;
    auto r = decode_reply_(bytes);
    if (!r)
      return std::nullopt;
    return std::any{std::move(*r)};
  }

  std::any copy_state(const state_holder& s) const override {
    return std::any{static_cast<const holder&>(s).value};
  }

  /// Returns the State inside a holder made by this type.
  static const State& state_of(const state_holder& s) {
    return static_cast<const holder&>(s).value;
  }

private:
  struct holder final : state_holder {
    explicit holder(State x) : value(std::move(x)) {}
    std::unique_ptr<state_holder> clone() const override {
      return std::make_unique<holder>(value);
    }
    State value;
  };

  std::string name_;
  State initial_;
  std::function<effect(const State&, const Command&)> command_handler_;
  std::unordered_map<std::type_index, std::function<void(State&, const std::any&)>> live_;
  std::unordered_map<std::string, std::function<bool(State&, const std::string&)>> stored_;
  snapshot_policy policy_;
  std::string state_type_name_ = "state";
  std::function<std::string(const State&)> encode_state_;
  std::function<std::optional<State>(const std::string&)> decode_state_;
  std::function<std::string(const Reply&)> encode_reply_;
  std::function<std::optional<Reply>(const std::string&)> decode_reply_;
};

} // namespace esr::actors
