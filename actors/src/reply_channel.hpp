#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include <caf/actor_control_block.hpp>
#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "esr/actors/messages.hpp"

namespace esr::actors::detail {

/// Where the answer to one command goes: the requester's response promise,
/// or, for a command sent as an ordinary message with a reply tag, a
/// tagged_reply to its sender (see command_envelope::reply_tag).
class reply_channel {
public:
  reply_channel() = default;

  /// `tag` 0: answer through `rp`.
  reply_channel(caf::response_promise rp, uint64_t tag) : rp_(std::move(rp)), tag_(tag) {
  }

  /// Answers with `x` (command_reply, caf::error, or for untagged requests
  /// any reply type). In the actor's context.
  template <class T>
  void deliver(T&& x) {
    using value = std::decay_t<T>;
    if constexpr (std::is_same_v<value, command_reply> || std::is_same_v<value, caf::error>) {
      if (tag_ != 0) {
        send_tagged(rp_.source(), tag_, std::forward<T>(x));
        return;
      }
    }
    rp_.deliver(std::forward<T>(x));
  }

  /// Answers with `x` from any thread, as `self`.
  void answer(const caf::strong_actor_ptr& self, command_reply&& x);
  void answer(const caf::strong_actor_ptr& self, caf::error&& x);

  /// Sends a tagged_reply to `to` (nothing if `to` is null). Any thread.
  static void send_tagged(const caf::strong_actor_ptr& to, uint64_t tag, command_reply x);
  static void send_tagged(const caf::strong_actor_ptr& to, uint64_t tag, caf::error x);

private:
  /// Answers the request behind rp_ with `msg` from any thread, as `self`
  /// (response_promise::deliver may only run in its actor's context).
  void answer_request(const caf::strong_actor_ptr& self, caf::message msg);

  caf::response_promise rp_;
  uint64_t tag_ = 0;
};

} // namespace esr::actors::detail
