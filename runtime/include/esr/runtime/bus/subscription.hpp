#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/error.hpp>

#include "esr/persistence/event_envelope.hpp"
#include "esr/persistence/event_filter.hpp"
#include "esr/runtime/bus/checkpoint_store.hpp"

namespace esr::runtime::bus {

class event_bus;

/// Where a subscription starts reading the global log (positions are 1-based).
class start_position {
public:
  /// From the first event ever committed.
  static start_position beginning() { return start_position{1, false}; }
  /// From the first event committed after subscribe() returns... or a little
  /// earlier: every event newer than the journal's last_position() at
  /// subscribe time.
  static start_position now() { return start_position{0, true}; }
  /// From the event after global position `p` (after(0) == beginning()).
  static start_position after(uint64_t p) { return start_position{p + 1, false}; }

  /// The first position to read, given the journal's current last position.
  uint64_t resolve(uint64_t last_position) const {
    return at_end_ ? last_position + 1 : first_;
  }

private:
  start_position(uint64_t first, bool at_end) : first_(first), at_end_(at_end) {}
  uint64_t first_;
  bool at_end_;
};

/// Events handed to a subscription's handler: the matching events of the
/// global positions [first_position, last_position], in commit order.
struct event_batch {
  std::vector<persistence::event_envelope> events; ///< Never empty when delivered.
  uint64_t first_position = 0; ///< First global position this batch covers.
  uint64_t last_position = 0;  ///< Last one; the subscription resumes after it.
  bool live = false;           ///< True if taken from the live buffer, false if read from the journal.
};

/// Processes one batch. Returns an empty error on success; any error makes the
/// subscription retry the same batch (see subscription_options).
using batch_handler = std::function<caf::error(const event_batch&)>;

/// Options of a subscription.
struct subscription_options {
  /// Name used in errors and as the checkpoint key. Default: empty (required
  /// when `checkpoints` is set).
  std::string name;
  /// Which events are delivered. Default: all.
  persistence::event_filter filter = persistence::event_filter::all();
  /// If set, a further test on the events `filter` selects: those it returns
  /// false for are skipped like unselected ones (not copied, not delivered;
  /// a batch of only skipped events is not delivered at all). Called on the
  /// subscription's thread; must be cheap. Default: none (all selected).
  std::function<bool(const persistence::event_envelope&)> accept;
  /// Where to start when no checkpoint exists. Default: beginning().
  start_position start = start_position::beginning();
  /// If set, the subscription resumes from the checkpoint stored under
  /// `name` (ignoring `start`) and saves its position after every batch its
  /// handler accepted: at-least-once delivery across restarts (at most the
  /// batch in progress is delivered again). Default: nullptr (no checkpoint).
  std::shared_ptr<checkpoint_store> checkpoints;
  /// Largest number of events read per batch (live batches end at commit
  /// group boundaries and may hold a little more). Default: 1024.
  size_t max_batch = 1024;
  /// How often a failing batch is retried before the subscription stops with
  /// errc::handler_failed. Default: 5.
  size_t handler_retries = 5;
  /// Delay before the first retry; doubles per retry, at most 1 s. Default: 10 ms.
  std::chrono::milliseconds retry_backoff{10};
  /// Longest wait for live events before the journal is polled directly (a
  /// safety net; live delivery does not depend on it). Default: 100 ms.
  std::chrono::milliseconds idle_poll{100};
  /// Called on the subscription's thread each time an idle poll found no new
  /// event (at most every idle_poll), and after new events that were all
  /// skipped (see `accept`): lets a handler that works asynchronously finish
  /// or retry its work when no batch comes. Must not block for long.
  /// Default: none.
  std::function<void()> on_idle;
};

/// A running subscription: a worker thread that reads the global log from a
/// position, first from the journal (catch-up), then from the bus's live
/// buffer, and hands each batch to its handler in commit order. Every
/// position is covered exactly once per run: no gap and no duplicate at the
/// switch from catch-up to live, or back when the subscriber falls behind the
/// live buffer (writers never wait for subscribers).
///
/// Thread-safety: member functions may be called from any thread; the handler
/// runs on the subscription's own thread, one batch at a time.
class subscription {
public:
  /// Counters of what the subscription did.
  struct stats {
    uint64_t live_batches = 0;    ///< Batches taken from the live buffer.
    uint64_t catchup_batches = 0; ///< Batches read from the journal.
    uint64_t events = 0;          ///< Events delivered to the handler.
  };

  /// Stops the worker and waits for it. REQUIRES: not called from the handler.
  ~subscription();

  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;

  /// Stops after the batch in progress and joins the worker; idempotent.
  /// REQUIRES: not called from the handler.
  void stop();

  /// The subscription's name.
  const std::string& name() const { return opts_.name; }

  /// The last global position processed (handler and checkpoint done); 0
  /// before the first batch of a subscription starting at the beginning.
  uint64_t position() const { return position_.load(); }

  /// Blocks until position() >= `p`. Returns an empty error when reached,
  /// errc::timeout after `timeout`, or the subscription's failure if it
  /// stopped on an error (errc::closed if it was stopped).
  [[nodiscard]] caf::error wait_for(uint64_t p, std::chrono::milliseconds timeout) const;

  /// Returns true until the subscription was stopped or failed.
  bool running() const { return running_.load(); }

  /// The error that stopped the subscription, or an empty error.
  caf::error failure() const;

  /// Returns true if the last batch came from the live buffer.
  bool live() const { return live_.load(); }

  /// A snapshot of the subscription's counters.
  stats statistics() const;

private:
  friend class event_bus;

  subscription(std::shared_ptr<event_bus> bus, subscription_options opts,
               batch_handler handler, uint64_t first);

  void run();
  void read_batch(uint64_t next, event_batch& batch, caf::error& err);
  bool deliver(const event_batch& batch);
  bool save_checkpoint(uint64_t position);
  bool sleep_for(std::chrono::milliseconds d);
  void fail(caf::error err);

  std::shared_ptr<event_bus> bus_;
  subscription_options opts_;
  batch_handler handler_;
  uint64_t next_;

  std::atomic<uint64_t> position_{0};
  std::atomic<bool> running_{true};
  std::atomic<bool> stop_{false};
  std::atomic<bool> live_{false};
  std::atomic<uint64_t> live_batches_{0};
  std::atomic<uint64_t> catchup_batches_{0};
  std::atomic<uint64_t> events_{0};

  mutable std::mutex mtx_; ///< Guards failure_; pairs with cv_.
  mutable std::condition_variable cv_;
  caf::error failure_;
  std::thread worker_;
};

} // namespace esr::runtime::bus
