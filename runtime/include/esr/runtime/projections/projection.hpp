#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/event_envelope.hpp"
#include "esr/persistence/event_filter.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/view_store.hpp"

namespace esr::runtime::projections {

/// Applies one event to a view through `txn`. Returns an empty error on
/// success; an error discards every change of the batch, which is retried.
/// Runs on the projection's thread; must depend only on the event and the
/// view (it is re-run on retries and rebuilds).
using projection_handler
  = std::function<caf::error(view_txn& txn, const persistence::event_envelope& e)>;

/// A projection: turns the events selected by `filter` into the view `view`.
/// Give each version of a projection's logic its own view name (e.g.
/// "order_summaries.v2") and let readers use an alias (see rebuild()).
struct projection {
  std::string view;                 ///< View written; must not hold NUL bytes.
  persistence::event_filter filter = persistence::event_filter::all();
  projection_handler apply;         ///< Required.
};

/// Options of a running projection.
struct projection_options {
  /// Most events applied per view commit. Default: 1024.
  size_t max_batch = 1024;
  /// Retries of a failing batch before the projection stops. Default: 5.
  size_t handler_retries = 5;
  /// Delay before the first retry, doubled per retry. Default: 10 ms.
  std::chrono::milliseconds retry_backoff{10};
  /// Called on the projection's thread after each batch is committed to the
  /// view (for metrics, e.g. projection lag); must be short. Default: none.
  std::function<void(const bus::event_batch&)> on_committed;
};

/// A projection running on a bus into a view store. It resumes after the
/// view's checkpoint and commits the changes of each batch together with the
/// batch's last position in one WriteBatch: every event is applied to the
/// view exactly once, across crashes and restarts. (A projection into any
/// other sink - a mail server, another database - only gets at-least-once
/// delivery from a checkpointed subscription: make its handler idempotent,
/// e.g. store the event's global position with each change in the same
/// transaction and skip events at or below it, or key the side effect by
/// persistence_id + sequence_nr so a repeat overwrites instead of adding.)
///
/// Thread-safety: member functions may be called from any thread.
class projection_runner {
public:
  /// Starts `p` after the checkpoint of `p.view` (from position 1 if the view
  /// has none, e.g. after it was deleted: the view is rebuilt). Returns the
  /// runner; bus::errc::invalid_argument if `p.apply` is empty or `p.view` is
  /// empty or holds a NUL byte; a store error if the checkpoint is unreadable.
  [[nodiscard]] static caf::expected<std::unique_ptr<projection_runner>>
  start(std::shared_ptr<bus::event_bus> bus, std::shared_ptr<view_store> store,
        projection p, projection_options opts = {});

  /// Stops the projection (after the batch in progress).
  ~projection_runner();

  /// Stops after the batch in progress; idempotent.
  void stop();

  /// The view this projection writes.
  const std::string& view() const { return view_; }

  /// The last global position applied and committed.
  uint64_t position() const;

  /// Blocks until position() >= `p`. Errors as subscription::wait_for.
  [[nodiscard]] caf::error wait_for(uint64_t p, std::chrono::milliseconds timeout) const;

  /// Blocks until the view has applied every event committed before the call
  /// (the journal's last position then). Errors as wait_for.
  [[nodiscard]] caf::error wait_caught_up(std::chrono::milliseconds timeout) const;

  /// Returns the error that stopped the projection, or an empty error.
  caf::error failure() const;

  /// Returns true until stopped or failed.
  bool running() const;

  /// The counters of the projection's subscription (live vs. catch-up batches).
  bus::subscription::stats statistics() const;

private:
  projection_runner(std::shared_ptr<bus::event_bus> bus, std::string view);

  std::shared_ptr<bus::event_bus> bus_;
  std::string view_;
  std::unique_ptr<bus::subscription> sub_;
};

} // namespace esr::runtime::projections
