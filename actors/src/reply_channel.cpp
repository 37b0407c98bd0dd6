#include "reply_channel.hpp"

#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>

namespace esr::actors {

namespace detail {

void reply_channel::send_tagged(const caf::strong_actor_ptr& to, uint64_t tag,
                                command_reply x) {
  if (to)
    to->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                          tagged_reply{tag, caf::error{}, std::move(x)}),
                nullptr);
}

void reply_channel::send_tagged(const caf::strong_actor_ptr& to, uint64_t tag, caf::error x) {
  if (to)
    to->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                          tagged_reply{tag, std::move(x), command_reply{}}),
                nullptr);
}

void reply_channel::answer(const caf::strong_actor_ptr& self, command_reply&& x) {
  if (tag_ != 0)
    send_tagged(rp_.source(), tag_, std::move(x));
  else
    answer_request(self, caf::make_message(std::move(x)));
}

void reply_channel::answer(const caf::strong_actor_ptr& self, caf::error&& x) {
  if (tag_ != 0)
    send_tagged(rp_.source(), tag_, std::move(x));
  else
    answer_request(self, caf::make_message(std::move(x)));
}

void reply_channel::answer_request(const caf::strong_actor_ptr& self, caf::message msg) {
  if (!rp_.pending())
    return; // Sent without a sender: nobody to answer.
  auto stages = rp_.stages();
  if (!stages.empty()) {
    auto next = std::move(stages.back());
    stages.pop_back();
    next->enqueue(caf::make_mailbox_element(rp_.source(), rp_.id(), std::move(stages),
                                            std::move(msg)),
                  nullptr);
    return;
  }
  rp_.source()->enqueue(caf::make_mailbox_element(self, rp_.id().response_id(), {},
                                                  std::move(msg)),
                        nullptr);
}

} // namespace detail

void answer_with_error(const caf::message& msg, caf::response_promise& rp, caf::error err) {
  if (!rp.id().is_request() && msg.match_elements<command_envelope>()) {
    auto tag = msg.get_as<command_envelope>(0).reply_tag;
    if (tag != 0) {
      detail::reply_channel::send_tagged(rp.source(), tag, std::move(err));
      return;
    }
  }
  rp.deliver(std::move(err));
}

} // namespace esr::actors
