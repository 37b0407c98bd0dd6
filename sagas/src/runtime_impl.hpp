#pragma once

// Internals of saga_runtime shared by the processor (processor.cpp), the
// dispatcher actor (dispatcher.cpp) and the public facade (saga_runtime.cpp).

#include <any>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "esr/sagas/saga_runtime.hpp"
#include "esr/util/string_table.hpp"
#include "esr/sagas/saga_records.pb.h"

namespace esr::sagas {

/// A command of the outbox, as the dispatcher handles it: either part of a
/// step event (`position`, the step's global position) or stored under an
/// outbox side key (`key`, deleted once answered).
struct outbox_item {
  std::string key;       ///< Its outbox side key, if it has one.
  uint64_t position = 0; ///< Its step event's global position (0: none).
  uint64_t step = 0;     ///< Its step (the instance's sequence number) ...
  uint32_t index = 0;    ///< ... and its place among the step's commands.
  pb::OutboxEntry entry;
  uint32_t attempt = 0; ///< Deliveries tried so far.
  bool resent = false;  ///< True if found in the outbox at start.
};

/// A timeout to arm in the dispatcher.
struct timer_item {
  std::string instance;
  std::string name;
  uint64_t seq = 0;
  int64_t deadline_us = 0;
};

/// A change to the armed timeouts: arm `timer`, or (disarm) cancel the
/// timeout `timer.name` of `timer.instance`.
struct timer_change {
  bool disarm = false;
  timer_item timer;
};

/// What a durable step batch hands to the dispatcher, in one message.
struct dispatch_work {
  std::vector<outbox_item> items;   ///< Commands to send.
  std::vector<timer_change> timers; ///< Timeout changes, in step order.
};

using outbox_batch = std::shared_ptr<dispatch_work>;

/// Sends a batch of outbox items and applies its timeout changes (outbox_batch).
using saga_dispatch_atom = caf::atom_constant<caf::atom("sg_disp")>;
/// Re-sends one outbox item after a backoff (outbox_item).
using saga_retry_atom = caf::atom_constant<caf::atom("sg_retry")>;
/// Writes the collected outbox deletions and the outbox-done position.
using saga_flush_atom = caf::atom_constant<caf::atom("sg_flush")>;
/// A failing command's outbox side key is durable (the step's position).
using saga_spilled_atom = caf::atom_constant<caf::atom("sg_spill")>;
/// Hands over the collected outbox deletions (answers vector<string>).
using saga_drain_atom = caf::atom_constant<caf::atom("sg_drain")>;
/// Arms a timeout (timer_item).
using saga_arm_atom = caf::atom_constant<caf::atom("sg_arm")>;
/// The earliest armed timeout may be due (its deadline, in us).
using saga_tick_atom = caf::atom_constant<caf::atom("sg_tick")>;
/// The dispatcher's periodic check for commands answered too late.
using saga_sweep_atom = caf::atom_constant<caf::atom("sg_sweep")>;

/// One instance as the processor keeps it in memory.
struct instance_record {
  bool exists = false;       ///< False until its first step (or if never started).
  uint64_t version = 0;      ///< Its stream's highest sequence number.
  bool completed = false;
  std::string outcome;
  std::any state;
  uint64_t last_position = 0; ///< Highest global position handled.
  std::vector<pb::PendingTimer> timers;
  std::vector<std::string> done_steps;
  std::vector<std::string> parked; ///< Its parked side keys (stuck if any).
};

namespace detail {
struct batch_work;
} // namespace detail

struct saga_runtime::impl {
  std::shared_ptr<const saga_model> model;
  std::shared_ptr<persistence::journal> journal;
  std::shared_ptr<runtime::bus::event_bus> bus;
  runtime::aggregates::aggregate_registry reg;
  saga_options opts;
  caf::actor_system* sys = nullptr;
  std::string name; ///< model->name(), cached.

  std::unique_ptr<runtime::bus::subscription> sub;
  caf::actor dispatcher;

  // Processor state, touched only by the subscription thread.
  esr::util::string_table<instance_record> cache;
  uint64_t last_checkpoint = 0; ///< The last checkpoint written.

  std::atomic<int64_t> in_flight{0};   ///< Commands sent and not yet answered.
  /// The dispatcher's outbox-done position (see keys.hpp): every command of
  /// the steps at or before it is answered or stored under an outbox key.
  std::atomic<uint64_t> outbox_done{0};
  std::atomic<bool> busy{false};       ///< The processor is inside a batch.
  /// Side-only writes of the dispatcher in flight (outbox keys and the
  /// outbox-done position). Shared with their callbacks, which hold no
  /// reference to the runtime: stop() waits for this to reach 0, and the
  /// last reference to the runtime (and its journal) must not be dropped on
  /// the journal's own thread, where closing the store cannot be waited for.
  std::shared_ptr<std::atomic<int64_t>> flushing = std::make_shared<std::atomic<int64_t>>(0);
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> steps{0}, sent{0}, acked{0}, completed{0}, parked_n{0}, skipped{0};
  std::mutex stop_mtx;

  impl(runtime::aggregates::aggregate_registry r) : reg(std::move(r)) {}

  /// Reports a note to the observer, if any.
  void report(saga_note::kind k, const std::string& instance, std::string text,
              std::string state = {}) const;

  /// Loads instance `key` from the journal (exists == false if it never
  /// started), and its parked keys unless `may_be_parked` is false.
  /// Errors: journal errors, errc::corrupt_record.
  caf::expected<instance_record> load(const std::string& key, bool may_be_parked = true) const;

  /// Instances that may have parked events (a superset: every instance ever
  /// parked since start, and those found parked at start). The processor
  /// looks for an instance's parked keys only if it is here: a side-key scan
  /// per new instance cost a LevelDB iterator over every level.
  std::unordered_set<std::string> maybe_parked;

  /// The processor: handles one batch of the subscription (processor.cpp).
  caf::error process(const runtime::bus::event_batch& batch);

  // -- processor.cpp: pipelined batches (touched by the subscription thread;
  //    `writing` and hand_over() also by the journal's callback) -------------
  struct inflight_batch;
  /// Handles `events` into `work` (one write per step, the checkpoint on the
  /// last write).
  caf::error handle_batch(const std::vector<persistence::event_envelope>& events,
                          uint64_t last_position, detail::batch_work& work);
  /// Gives the dispatcher the commands and timer changes of the writes that
  /// succeeded. Thread-safe (runs on the journal's callback).
  void hand_over(detail::batch_work& work, const persistence::write_outcomes& outcomes);
  /// Reports a decided batch: its notes without a write, then for each
  /// write that succeeded its counters, completion callback and notes.
  /// Thread-safe (runs on the journal's callback).
  void report_batch(detail::batch_work& work, const persistence::write_outcomes& outcomes);
  /// The first error of a decided batch's `writes` writes, if any; else
  /// moves the checkpoint on and trims finished instances from the cache.
  caf::error finish(uint64_t last_position, const persistence::write_outcomes& outcomes,
                    size_t writes);
  /// Drops the batch's instance states from the cache: a failed batch
  /// changed them, and they are reloaded from the journal when next needed.
  void forget_records(detail::batch_work& work);
  /// If `work` has nothing to write: reports its notes, caches its states
  /// and returns true.
  bool finish_without_write(detail::batch_work& work);
  /// Re-reads the events of the batch whose write failed from the bus's
  /// source and handles them, blocking until durable; on an error the redo
  /// stays pending (and the cache is cleared).
  caf::error redo_failed_batch();
  /// redo_failed_batch(), then `batch`, each durable before the next.
  caf::error redo_then(const runtime::bus::event_batch& batch);
  /// A batch whose write failed waits to be handled again.
  bool redo_pending() const { return redo_first_position != 0; }
  /// Handles and writes `events`, blocking until durable.
  caf::error process_sync(const std::vector<persistence::event_envelope>& events,
                          uint64_t last_position);
  /// The subscription found no new event: settles a decided write in flight
  /// and redoes a failed batch.
  void on_idle();
  /// Waits for the write in flight and finishes it; on a failed write
  /// clears the cache, makes its positions the pending redo and returns the
  /// error.
  caf::error settle_inflight();

  std::shared_ptr<inflight_batch> inflight;  ///< The batch whose write is in flight.
  uint64_t redo_first_position = 0; ///< Positions of a batch to handle again
  uint64_t redo_last_position = 0;  ///< (0: none).
  /// A batch's write is in flight; shared with its callback, which clears it
  /// last, after dropping its reference to the runtime (see `flushing`).
  std::shared_ptr<std::atomic<bool>> writing = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<impl> weak_self;   ///< For the journal's callbacks.
};

/// Spawns the dispatcher of `rt` (sends outbox commands, runs timeouts).
caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<saga_runtime::impl> rt);

} // namespace esr::sagas

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::sagas::outbox_item)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::sagas::outbox_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::sagas::timer_item)
