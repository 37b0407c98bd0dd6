#pragma once

// Test support of esr-sagas-tests: a "world" (actor system, LevelDB store,
// the order-payment aggregates, bus and the order-fulfilment saga) that a
// test starts, stops and restarts on a data directory.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "aggregates.hpp"
#include "esr/actors/testkit/faulty_journal.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "fulfilment_saga.hpp"

namespace esr::sagas_test {

/// Makes a fresh empty directory under the system temp dir.
std::string temp_dir(const std::string& name);

/// What a world runs.
struct world_options {
  /// The saga's payment timeout. Default: 30 s.
  std::chrono::milliseconds payment_timeout{30000};
  /// The saga definition to run; default: order_payment's fulfilment saga.
  std::shared_ptr<const sagas::saga_model> saga;
  /// Options of the saga runtime (the observer is chained, not replaced).
  sagas::saga_options saga_opts;
  /// Start the saga runtime. Default: true.
  bool start_saga = true;
  /// Route every write through a testkit::faulty_journal (see faulty()).
  bool faulty_journal = false;
};

/// One process's worth of esr on the directory `dir`.
class world {
public:
  explicit world(std::string dir, world_options opts = {});
  ~world();

  /// Stops the saga runtime (if any), then the aggregates.
  void stop();

  /// Places an order. Returns the order's state or the error.
  caf::expected<order_payment::OrderState> place(const order_payment::PlaceOrder& p);

  /// Adds stock for `sku`.
  void add_stock(const std::string& sku, int quantity);

  order_payment::OrderState order(const std::string& id);
  order_payment::PaymentState payment(const std::string& id);
  order_payment::InventoryState inventory(const std::string& sku);

  /// Waits until the saga instance `id` completed; returns its info.
  std::optional<sagas::instance_info> wait_completed(const std::string& id,
                                                     std::chrono::milliseconds timeout);

  /// Counts the events of type `type` (short name, e.g. "StockReserved"; ""
  /// for all) in `stream`.
  size_t count(const std::string& stream, const std::string& type = "");

  /// Counts the side keys with `prefix`.
  size_t side_keys(const std::string& prefix);

  /// The notes the observer received so far.
  std::vector<sagas::saga_note> notes();

  caf::actor_system& system() { return *sys_; }
  persistence::storage& store() { return store_; }
  runtime::aggregates::aggregate_registry& registry() { return *reg_; }
  runtime::aggregates::aggregate_client& client() { return *client_; }
  sagas::saga_runtime& saga() { return *saga_; }
  const std::shared_ptr<runtime::bus::event_bus>& bus() { return bus_; }
  /// The fault injector in front of the journal (world_options::faulty_journal).
  actors::testkit::faulty_journal& faulty() { return *faulty_; }

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  persistence::storage store_;
  std::shared_ptr<actors::testkit::faulty_journal> faulty_;
  std::optional<runtime::aggregates::aggregate_registry> reg_;
  std::shared_ptr<runtime::bus::event_bus> bus_;
  std::unique_ptr<runtime::aggregates::aggregate_client> client_;
  std::unique_ptr<sagas::saga_runtime> saga_;
  std::shared_ptr<std::mutex> notes_mtx_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<sagas::saga_note>> notes_
    = std::make_shared<std::vector<sagas::saga_note>>();
  bool stopped_ = false;
};

/// Builds a PlaceOrder.
order_payment::PlaceOrder make_order(const std::string& id, const std::string& sku, int qty,
                                     int64_t total_cents, const std::string& card,
                                     bool pay_first = false, const std::string& code = "",
                                     int64_t discount_cents = 0);

} // namespace esr::sagas_test
