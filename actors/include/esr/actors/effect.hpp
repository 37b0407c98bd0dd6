#pragma once

#include <any>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace esr::actors {

/// One event an effect persists, already serialized. `event` holds the typed
/// event (a Protobuf message) so it is applied without being parsed again.
struct pending_event {
  std::string event_type;        ///< The message's full type name.
  std::string payload;           ///< The serialized message.
  std::any event;                ///< The typed event.
  std::vector<std::string> tags; ///< Tags stored with the event.
};

/// Makes a pending_event from a Protobuf message `e`.
template <class Event>
pending_event make_pending_event(Event e) {
  static const std::string type_name = Event::default_instance().GetTypeName();
  pending_event result;
  result.event_type = type_name;
  e.SerializeToString(&result.payload);
  result.event = std::move(e);
  return result;
}

/// What a command handler decides (the shape of Akka's Effect): persist
/// events then reply, reject with a reason, or reply without persisting.
/// Built with the static factories; a value type.
template <class State, class Reply>
class effect {
public:
  enum class kind { persist, reply, reject };

  /// Persists `es` (Protobuf messages, one or more) atomically; they are
  /// applied to the state once handled. Reply with then_reply, otherwise the
  /// caller gets an empty reply with the new version.
  template <class... Events>
  static effect persist(Events... es) {
    effect result{kind::persist};
    result.events_.reserve(sizeof...(Events));
    (result.events_.push_back(make_pending_event(std::move(es))), ...);
    return result;
  }

  /// Persists every event of `es` atomically (none: behaves like reply).
  template <class Event>
  static effect persist_all(std::vector<Event> es) {
    effect result{kind::persist};
    for (auto& e : es)
      result.events_.push_back(make_pending_event(std::move(e)));
    return result;
  }

  /// Rejects the command: nothing is stored, the caller gets
  /// errc::rejected with `reason`.
  static effect reject(std::string reason) {
    effect result{kind::reject};
    result.reason_ = std::move(reason);
    return result;
  }

  /// Replies `r` without persisting anything.
  static effect reply(Reply r) {
    effect result{kind::reply};
    result.reply_ = std::move(r);
    return result;
  }

  /// After the events are stored and applied, replies `f(new_state)`.
  template <class F>
  effect then_reply(F f) && {
    then_reply_ = std::move(f);
    return std::move(*this);
  }

  /// Adds `tag` to every event of this effect (for tag subscriptions).
  effect tagged(std::string tag) && {
    for (auto& e : events_)
      e.tags.push_back(tag);
    return std::move(*this);
  }

  // -- accessors used by the runtime ------------------------------------------

  kind what() const { return kind_; }
  std::vector<pending_event>& events() { return events_; }
  const std::string& reason() const { return reason_; }
  std::optional<Reply>& reply_value() { return reply_; }
  const std::function<Reply(const State&)>& reply_fn() const { return then_reply_; }

private:
  explicit effect(kind k) : kind_(k) {}
  kind kind_;
  std::vector<pending_event> events_;
  std::string reason_;
  std::optional<Reply> reply_;
  std::function<Reply(const State&)> then_reply_;
};

} // namespace esr::actors
