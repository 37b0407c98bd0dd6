#pragma once

#include <any>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "esr/sagas/error.hpp"
#include "esr/sagas/saga_context.hpp"
#include "esr/sagas/saga_model.hpp"

namespace esr::sagas {

/// Defines a choreographed saga over a Protobuf State: the events that start
/// an instance, how each event is correlated to an instance (a key taken
/// from the event), the handler each event runs (turning events into
/// commands for aggregates), the timeouts and the compensations. The end
/// condition is a handler calling ctx.complete().
///
/// ~~~
/// auto s = std::make_shared<saga_type<FulfilmentState>>("order_fulfilment");
/// s->starts_with<OrderPlaced>([](auto& e) { return e.order_id(); },
///                             [](auto& ctx, const OrderPlaced& e) { ... });
/// s->on<StockReserved>([](auto& e) { return e.order_id(); }, ...);
/// s->on_timeout("payment", [](auto& ctx) { ctx.compensate(); ... });
/// s->compensation("stock", [](auto& ctx) { ctx.send("inventory", ...); });
/// s->command<ReserveStock, inventory_command>();
/// ~~~
///
/// Handlers are `void(saga_context<State>&, const Event&)` or return a
/// caf::error (non-empty = failure; so is an exception). They must depend
/// only on the state and the event: a failed step is retried. Configure the
/// type completely before starting a runtime; afterwards it is immutable and
/// may be shared between threads.
template <class State>
class saga_type final : public saga_model {
public:
  using context = saga_context<State>;

  /// Creates a saga named `name` (must not contain '-' or '/') whose
  /// instances start in `initial`.
  explicit saga_type(std::string name, State initial = State{})
    : name_(std::move(name)), initial_(std::move(initial)) {}

  /// Declares that `Event` starts an instance keyed `key(event)` (if none
  /// exists yet) and runs `f` for it.
  template <class Event, class Key, class F>
  saga_type& starts_with(Key key, F f) {
    return add<Event>(std::move(key), std::move(f), true);
  }

  /// Declares that `Event` is handled by `f` for the existing instance keyed
  /// `key(event)`; events for unknown instances follow the policy.
  template <class Event, class Key, class F>
  saga_type& on(Key key, F f) {
    return add<Event>(std::move(key), std::move(f), false);
  }

  /// Declares the handler of the timeout `name`: `void(context&)`.
  template <class F>
  saga_type& on_timeout(std::string name, F f) {
    timeouts_[std::move(name)] = wrap<>(std::move(f));
    return *this;
  }

  /// Declares the compensation of step `step` (see saga_context::done and
  /// compensate): `void(context&)`, typically sending an undoing command.
  template <class F>
  saga_type& compensation(std::string step, F f) {
    compensations_[std::move(step)] = std::move(f);
    return *this;
  }

  /// Declares that handlers send the Protobuf command `Command` to
  /// aggregates whose Command type is `AggregateCommand` (often a
  /// std::variant holding `Command`).
  template <class Command, class AggregateCommand>
  saga_type& command() {
    commands_[Command::default_instance().GetTypeName()] =
      [](const std::string& bytes) -> caf::expected<std::any> {
      Command c;
      if (!c.ParseFromString(bytes))
        return make_error(errc::corrupt_record, "undecodable command",
                          Command::default_instance().GetTypeName());
      return std::any{AggregateCommand{std::move(c)}};
    };
    return *this;
  }

  /// Sets how states are rendered in stories and instance_info (a one-line
  /// `std::string(const State&)`). Default: Protobuf's ShortDebugString.
  saga_type& describe(std::function<std::string(const State&)> f) {
    describe_ = std::move(f);
    return *this;
  }

  /// Sets the policy for events of unknown instances. Default: ignore.
  saga_type& unknown_instances(unknown_instance_policy p) {
    policy_ = p;
    return *this;
  }

  // -- saga_model -------------------------------------------------------------

  const std::string& name() const override { return name_; }

  caf::expected<std::optional<routed_event>>
  route(const persistence::event_envelope& e) const override {
    auto i = by_type_.find(e.event_type);
    if (i == by_type_.end())
      return std::optional<routed_event>{};
    auto& h = handlers_[i->second];
    return h.route(e.payload, i->second);
  }

  bool takes_part_in(const std::string& event_type) const override {
    return by_type_.count(event_type) > 0;
  }

  caf::error handle(std::any& state, const std::string& instance, const routed_event& r,
                    const persistence::event_envelope& e, step_effects& fx) const override {
    auto& s = *std::any_cast<State>(&state);
    context ctx{s, instance, fx, &e, &compensations_};
    return finish(handlers_[r.handler].run(ctx, r.event), instance, fx);
  }

  caf::error handle_timeout(std::any& state, const std::string& instance,
                            const std::string& name, step_effects& fx) const override {
    auto i = timeouts_.find(name);
    if (i == timeouts_.end())
      return make_error(errc::handler_failed, name_, instance, "no handler for timeout " + name);
    auto& s = *std::any_cast<State>(&state);
    context ctx{s, instance, fx, nullptr, &compensations_};
    return finish(i->second(ctx, std::any{}), instance, fx);
  }

  std::any initial_state() const override { return std::any{initial_}; }

  std::string encode_state(const std::any& state) const override {
    return std::any_cast<const State&>(state).SerializeAsString();
  }

  std::optional<std::any> decode_state(const std::string& bytes) const override {
    State s;
    if (!s.ParseFromString(bytes))
      return std::nullopt;
    return std::any{std::move(s)};
  }

  std::string describe_state(const std::any& state) const override {
    auto& s = std::any_cast<const State&>(state);
    return describe_ ? describe_(s) : s.ShortDebugString();
  }

  caf::expected<std::any> decode_command(const std::string& type,
                                         const std::string& payload) const override {
    auto i = commands_.find(type);
    if (i == commands_.end())
      return make_error(errc::unknown_command, type);
    return i->second(payload);
  }

  unknown_instance_policy unknown_policy() const override { return policy_; }

private:
  using runner = std::function<caf::error(context&, const std::any&)>;

  struct handler_entry {
    std::function<caf::expected<std::optional<routed_event>>(const std::string&, size_t)> route;
    runner run;
  };

  template <class Event = void, class F>
  static runner wrap(F f) {
    return [f](context& ctx, const std::any& ev) -> caf::error {
      auto call = [&]() -> caf::error {
        if constexpr (std::is_void_v<Event>) {
          if constexpr (std::is_void_v<std::invoke_result_t<F, context&>>) {
            f(ctx);
            return caf::none;
          } else {
            return f(ctx);
          }
        } else {
          auto& e = std::any_cast<const Event&>(ev);
          if constexpr (std::is_void_v<std::invoke_result_t<F, context&, const Event&>>) {
            f(ctx, e);
            return caf::none;
          } else {
            return f(ctx, e);
          }
        }
      };
      try {
        return call();
      } catch (const std::exception& ex) {
        return make_error(errc::handler_failed, std::string{ex.what()});
      }
    };
  }

  template <class Event, class Key, class F>
  saga_type& add(Key key, F f, bool starts) {
    handler_entry h;
    h.route = [key, starts](const std::string& bytes,
                            size_t index) -> caf::expected<std::optional<routed_event>> {
      Event e;
      if (!e.ParseFromString(bytes))
        return make_error(errc::corrupt_record, "undecodable event",
                          Event::default_instance().GetTypeName());
      routed_event r;
      r.instance = key(e);
      if (r.instance.empty())
        return std::optional<routed_event>{};
      r.starts = starts;
      r.handler = index;
      r.event = std::move(e);
      return std::optional<routed_event>{std::move(r)};
    };
    h.run = wrap<Event>(std::move(f));
    by_type_[Event::default_instance().GetTypeName()] = handlers_.size();
    handlers_.push_back(std::move(h));
    return *this;
  }

  caf::error finish(caf::error err, const std::string& instance, step_effects& fx) const {
    if (err) {
      if (is(err, errc::handler_failed))
        return err;
      return make_error(errc::handler_failed, name_, instance, render(err));
    }
    for (auto& c : fx.commands)
      if (commands_.count(c.command_type) == 0)
        return make_error(errc::unknown_command, name_, instance, c.command_type);
    return caf::none;
  }

  std::string name_;
  State initial_;
  std::vector<handler_entry> handlers_;
  std::unordered_map<std::string, size_t> by_type_;
  std::map<std::string, runner> timeouts_;
  typename context::compensation_map compensations_;
  std::unordered_map<std::string, std::function<caf::expected<std::any>(const std::string&)>>
    commands_;
  unknown_instance_policy policy_ = unknown_instance_policy::ignore;
  std::function<std::string(const State&)> describe_;
};

} // namespace esr::sagas
