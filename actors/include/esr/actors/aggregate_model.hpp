#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/actors/effect.hpp"
#include "esr/persistence/event_envelope.hpp"

namespace esr::actors {

/// Holds one aggregate instance's state, type-erased. Owned by one actor.
class state_holder {
public:
  virtual ~state_holder();
  /// Returns a deep copy.
  virtual std::unique_ptr<state_holder> clone() const = 0;
};

/// When to snapshot and what to keep (per aggregate type). A type with
/// neither every_n_events nor `when` set does not look for snapshots when it
/// recovers (time travel still uses any it finds).
struct snapshot_policy {
  /// Take a snapshot when the version reaches a multiple of this; 0 disables.
  /// Default: 0.
  uint64_t every_n_events = 0;
  /// Also snapshot after an event for which this returns true (given the
  /// state after the event, its event type and sequence number). Default: none.
  std::function<bool(const state_holder&, const std::string& event_type, uint64_t seq)> when;
  /// Snapshots kept per aggregate; older ones are deleted. Default: 2.
  size_t keep = 2;
  /// Delete events covered by the oldest kept snapshot. Default: false (an
  /// unreadable snapshot can then still fall back to a full replay).
  bool delete_events = false;
};

/// What a command handler decided, type-erased (see effect).
struct decision {
  enum class kind { persist, reply, reject };
  kind what = kind::reply;
  std::vector<pending_event> events; ///< For persist.
  std::string reason;                ///< For reject.
  std::any reply;                    ///< For reply.
  /// For persist: computes the reply from the state after the events; empty
  /// means an empty reply.
  std::function<std::any(const state_holder&)> then_reply;
};

/// The type-erased definition of an aggregate type, the interface between
/// aggregate_type<State, Command, Reply> and the runtime. Implementations are
/// immutable once in use and safe to share between threads.
class aggregate_model {
public:
  virtual ~aggregate_model();

  /// The type name: the persistence id's category; contains no '-'.
  virtual const std::string& type_name() const = 0;

  /// Returns a new instance's state (before any event).
  virtual std::unique_ptr<state_holder> make_state() const = 0;

  /// Runs the command handler. Returns the decision; errc::wrong_command_type
  /// if `cmd` is not a Command, errc::handler_failed if the handler threw.
  virtual caf::expected<decision> handle(const state_holder& s, const std::any& cmd) const = 0;

  /// Applies a freshly decided event. Returns an error if no event handler is
  /// registered for its type or the handler threw.
  virtual caf::error apply_pending(state_holder& s, const pending_event& e) const = 0;

  /// Applies a stored event (recovery, time travel): decodes its payload by
  /// event_type. Returns errc::recovery_failed for an unknown type, an
  /// undecodable payload or a throwing handler.
  virtual caf::error apply_stored(state_holder& s,
                                  const persistence::event_envelope& e) const = 0;

  /// The snapshot policy of this type.
  virtual const snapshot_policy& snapshots() const = 0;

  /// Serializes a state for a snapshot; nullopt if the type has no state codec.
  virtual std::optional<std::string> encode_state(const state_holder& s) const = 0;

  /// Decodes a snapshot payload; nullptr if it cannot be decoded.
  virtual std::unique_ptr<state_holder> decode_state(const std::string& bytes) const = 0;

  /// The type name stored with snapshots.
  virtual const std::string& state_type_name() const = 0;

  /// Serializes a reply for deduplication across restarts; nullopt if the
  /// type has no reply codec.
  virtual std::optional<std::string> encode_reply(const std::any& reply) const = 0;

  /// Decodes a stored reply; nullopt if impossible.
  virtual std::optional<std::any> decode_reply(const std::string& bytes) const = 0;

  /// Returns a copy of the state as a std::any holding a State.
  virtual std::any copy_state(const state_holder& s) const = 0;
};

/// Transforms a stored event into zero or more events of the current schema
/// before it is applied (schema evolution; the signature of the runtime's
/// upcasting::upcaster, so `[&reg](auto& e) { return reg.upcast(e); }` fits).
/// Each result keeps the input's sequence number; an empty result drops the
/// event. An error stops the recovery with errc::recovery_failed. An empty
/// function means no upcasting. Must be thread-safe.
using event_upcaster = std::function<caf::expected<std::vector<persistence::event_envelope>>(
  const persistence::event_envelope&)>;

} // namespace esr::actors
