#pragma once

// The routing state of one shard of an aggregate registry: which aggregates
// of the shard are live, passivating or about to be activated, in LRU order.
// Shared by the shard actor (activation, passivation) and by
// aggregate_registry::dispatch() (senders on any thread, which route commands
// straight to live aggregates), and guarded by one mutex.
//
// Lock discipline: every member is read and written with `mtx` held, by the
// shard actor as well as by dispatch(). Whoever makes an aggregate reachable
// or unreachable for direct sends (install, mark_passivating) enqueues the
// messages that must come first (held commands; passivate_atom after the
// mark) before releasing the lock, and dispatch() enqueues a direct command
// before releasing it, so the lock orders those mailbox enqueues.
//
// Per-sender order: a command dispatch()ed to the shard (aggregate absent or
// passivating) is counted in its entry's `queued` until the shard routes it;
// an entry with queued > 0 is not sent to directly. So a sender's later
// command never overtakes an earlier one still waiting in the shard's
// mailbox.

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>

#include "esr/util/string_table.hpp"

namespace esr::runtime::aggregates {

struct shard_table {
  /// A message the shard keeps until a passivating aggregate has stopped.
  struct held {
    caf::message msg;
    caf::response_promise rp;
  };

  /// One aggregate of the shard, in one of three states:
  ///  - live: `actor` set, not passivating, in `lru`, counted in `live`;
  ///  - passivating: `actor` set (stopping when idle), not in `lru`;
  ///  - placeholder: no `actor`; exists only while queued > 0 (commands on
  ///    their way through the shard, which activates it for them).
  struct entry {
    caf::actor actor;
    uint64_t last_tick = 0;
    bool passivating = false;
    /// Commands dispatch()ed to the shard and not yet routed by it (fits in
    /// the padding after `passivating`: the entry does not grow).
    uint32_t queued = 0;
    std::list<const std::string*>::iterator lru; ///< Valid while live.
    std::unique_ptr<std::vector<held>> held_msgs; ///< While passivating.
  };

  using entry_map = esr::util::string_table<entry>;

  // -- used by dispatch() (REQUIRES: mtx held) --------------------------------

  /// Returns the actor to send a command for `pid` to directly after touching
  /// it, if the aggregate is live, not passivating and has no command queued
  /// at the shard. Otherwise returns nullptr and counts one command queued at
  /// the shard for `pid` (adding a placeholder entry if absent) unless the
  /// shard has stopped; the caller must then send exactly one command for
  /// `pid` to the shard.
  /// `h` is entry_map::hash(pid).
  const caf::actor* direct_route(std::string_view pid, uint64_t h);

  // -- used by the shard actor (REQUIRES: mtx held) ---------------------------

  /// Makes `e` the most recently used, at the current tick. REQUIRES: live.
  void touch(entry& e);

  /// The shard routes a command for `e`: one fewer queued (never below 0;
  /// a command sent to the shard without dispatch() was never counted).
  static void routed(entry& e);

  /// Makes `agg` the live incarnation of `pid` (creating or reusing its
  /// entry), most recently used. REQUIRES: no live or passivating actor.
  entry& install(const std::string& pid, caf::actor agg);

  /// Marks `e` passivating and takes it out of the LRU list. Returns false if
  /// it already was (nothing changed). The caller sends passivate_atom to
  /// e.actor before releasing the lock.
  bool mark_passivating(entry& e);

  /// Forgets the incarnation of `n`, if any (it stopped, or never started):
  /// erases the entry, or keeps it as a placeholder while commands for it
  /// are queued at the shard. Drops held messages (take them first).
  void retire(entry_map::node* n);

  std::mutex mtx;
  entry_map entries;
  /// Keys of live entries (stable node keys), least recently used first.
  std::list<const std::string*> lru;
  size_t live = 0;   ///< Live entries.
  uint64_t tick = 0; ///< Passivation ticks so far.
  bool closed = false; ///< The shard stopped: everything goes to it (errors).
};

} // namespace esr::runtime::aggregates
