#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/expected.hpp>

#include "esr/persistence/journal.hpp"
#include "esr/runtime/bus/subscription.hpp"

namespace esr::runtime::bus {

/// Options of an event bus.
struct bus_options {
  /// Most events kept in the live buffer shared by all subscriptions. A
  /// subscription further behind than this reads from the journal instead.
  /// Default: 65,536.
  size_t live_buffer_events = 65536;
};

/// The internal event bus of one journal: after each durable group commit,
/// the journal's commit listener hands the group's events (in global order)
/// to the bus, which keeps the newest ones in a bounded live buffer shared by
/// every subscription. Publishing costs the journal's completer thread a
/// share of the group (the journal's own vector: no copy) and a notify; it
/// never waits for a subscriber.
///
/// To upcast events on every path, create the bus on an upcasting_journal.
///
/// Thread-safety: every member function may be called from any thread.
/// Lifetime: subscriptions keep the bus alive; the bus keeps the journal alive.
class event_bus : public std::enable_shared_from_this<event_bus> {
public:
  /// Creates a bus publishing the commits of `j` (from now on; older events
  /// are read from `j` by catch-up). REQUIRES: `j` non-null.
  static std::shared_ptr<event_bus> make(std::shared_ptr<persistence::journal> j,
                                         bus_options opts = {});

  /// Unregisters from the journal. Runs when the last subscription is gone.
  ~event_bus();

  event_bus(const event_bus&) = delete;
  event_bus& operator=(const event_bus&) = delete;

  /// Starts a subscription that calls `h` for batches of matching events from
  /// its start position (or checkpoint) on. Returns the running subscription,
  /// errc::invalid_argument if `h` is empty, or `opts.checkpoints` is set and
  /// `opts.name` is empty, or a checkpoint store error when loading it.
  [[nodiscard]] caf::expected<std::unique_ptr<subscription>>
  subscribe(subscription_options opts, batch_handler h);

  /// The journal this bus publishes.
  const std::shared_ptr<persistence::journal>& source() const { return journal_; }

private:
  friend class subscription;

  /// One committed group in the live buffer.
  struct group {
    std::shared_ptr<const std::vector<persistence::event_envelope>> events;
    uint64_t first = 0; ///< Global position of its first event.
    uint64_t last = 0;  ///< Global position of its last event.
  };

  /// What a subscription at position `next` should do.
  enum class next_step {
    live,     ///< `out` holds live groups covering `next` onwards.
    catch_up, ///< `next` is older than the live buffer: read the journal.
    idle,     ///< Nothing new arrived within the wait.
  };

  event_bus(std::shared_ptr<persistence::journal> j, bus_options opts);

  void on_commit(const persistence::event_group& events);

  /// Collects live groups for a subscription at `next`, waiting up to `wait`
  /// for new ones; appends groups of about `max_events` events to `out`.
  next_step fetch(uint64_t next, size_t max_events, std::chrono::milliseconds wait,
                  const std::atomic<bool>& stop, std::vector<group>& out);

  /// Wakes every waiting subscription (used by stop()).
  void wake_all();

  std::shared_ptr<persistence::journal> journal_;
  bus_options opts_;
  uint64_t listener_token_ = 0;
  std::atomic<size_t> subscribers_{0};

  std::mutex mtx_; ///< Guards the live buffer; pairs with cv_.
  std::condition_variable cv_;
  std::deque<group> buffer_;
  size_t buffered_events_ = 0;
};

} // namespace esr::runtime::bus
