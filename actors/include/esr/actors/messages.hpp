#pragma once

#include <any>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

namespace esr::actors {

/// A command on its way to an aggregate. Travels inside one process only
/// (the payload is a std::any); a future remote transport will serialize the
/// payload with the type's codec.
struct command_envelope {
  /// Target stream, "<type>-<id>", e.g. "account-42".
  std::string persistence_id;
  /// The command, of the aggregate type's Command type.
  std::any payload;
  /// Deduplication key; empty disables deduplication. A command whose id the
  /// aggregate handled within its window is answered with the original reply
  /// and not applied again. Sagas pass deterministic ids.
  std::string command_id;
  /// If set, the command is refused with errc::wrong_expected_version unless
  /// the aggregate's version (its highest sequence number) equals it.
  std::optional<uint64_t> expected_version;
  /// Copied into the metadata of the events the command causes.
  std::string correlation_id;
  /// For a command sent as an ordinary message (send, not request): if
  /// nonzero, the aggregate answers the sender with a tagged_reply carrying
  /// this tag, as an ordinary message. Ignored for requests.
  ///
  /// Why: CAF 0.17 keeps an actor's pending requests in a vector searched
  /// linearly for every response, so one actor with thousands of requests
  /// in flight spends most of its time there. Tagged commands let such a
  /// sender (the client pump, the saga dispatcher, load generators) keep its
  /// own table. An ordinary message is not answered if the aggregate dies
  /// before handling it: tagged senders need their own timeouts.
  uint64_t reply_tag = 0;
  /// If false, the sender only needs to know whether a command that
  /// persists events was applied: its answer carries no reply value, and no
  /// reply is stored with its events, so a duplicate of `command_id` is
  /// answered with errc::duplicate_command (naming the version) instead of
  /// the original reply. Saves making, encoding and storing a reply nobody
  /// reads (the saga dispatcher's commands). Default: true.
  bool wants_reply = true;
};

/// The answer to a command that was handled (persisted or replied).
struct command_reply {
  /// The Reply value (of the aggregate type's Reply type); empty if the
  /// effect did not produce a reply.
  std::any value;
  /// The aggregate's version after the command (its highest sequence number).
  uint64_t version = 0;
};

/// The answer to a command sent with a reply tag (see
/// command_envelope::reply_tag).
struct tagged_reply {
  uint64_t tag = 0;
  /// Set if the command failed: the error a request would have got.
  caf::error error;
  /// The answer, if `error` is empty.
  command_reply reply;
};

/// Answers the message `msg` that an actor is handling, whose response
/// promise is `rp`, with `err`: as a tagged_reply if `msg` is a
/// command_envelope with a reply tag sent as an ordinary message, otherwise
/// through `rp`. For actors that route commands (shards) and fail to.
void answer_with_error(const caf::message& msg, caf::response_promise& rp, caf::error err);

/// A copy of an aggregate's live state (see get_state_atom).
struct state_copy {
  std::any state;       ///< A copy of the State.
  uint64_t version = 0; ///< The sequence number the state includes.
};

/// Asks an aggregate to stop when idle (sent by its shard).
using passivate_atom = caf::atom_constant<caf::atom("esr_pass")>;
/// Asks an aggregate for a state_copy of its live state (tests, tools).
using get_state_atom = caf::atom_constant<caf::atom("esr_getst")>;

} // namespace esr::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::actors::command_envelope)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::actors::command_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::actors::tagged_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::actors::state_copy)
