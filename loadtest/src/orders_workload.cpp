// The `orders` workload: every command places a new order (examples/
// order_payment) for one of `--aggregates` products; the order-fulfilment
// saga then reserves stock, charges the payment and confirms the order, or
// cancels it when the card is declined. The key distribution picks the
// product, so zipfian keys make hot inventory aggregates. At the end, after
// every saga has finished, the money kept by payments (charged - refunded)
// must equal the money of the confirmed orders, and every acknowledged order
// must be confirmed or cancelled.

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <future>
#include <mutex>

#include "aggregates.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "fulfilment_saga.hpp"
#include "outcome.hpp"
#include "params.hpp"
#include "workload.hpp"

namespace esr::loadtest::orders {

namespace {

namespace op = ::order_payment;
namespace agg = runtime::aggregates;

// Stock given to every product at start: never runs out during a run.
constexpr int32_t stock_per_product = 1000000000;

struct ledger {
  uint64_t placed = 0;        // Acknowledged PlaceOrder commands.
  int64_t placed_cents = 0;   // Their order totals.
  uint64_t unknown = 0;       // PlaceOrder commands with an unknown outcome.
};

class generator final : public command_generator {
public:
  generator(std::shared_ptr<ledger> l, size_t worker, double declined)
    : ledger_(std::move(l)), worker_(worker), declined_(declined) {
    // nop
  }

  planned_command next(uint64_t key, rng& r) override {
    char id[48];
    std::snprintf(id, sizeof id, "w%zun%" PRIu64, worker_, ++counter_);
    auto qty = std::uniform_int_distribution<int32_t>{1, 3}(r);
    bool declined = std::uniform_real_distribution<double>{0, 1}(r) < declined_;
    op::PlaceOrder p;
    p.set_order_id(id);
    p.set_customer("customer" + std::to_string(key));
    p.set_sku("product" + std::to_string(key));
    p.set_quantity(qty);
    p.set_total_cents(1000 * qty + 99);
    p.set_card(declined ? op::card_declined : op::card_ok);
    planned_command result;
    result.envelope = agg::make_command("order", id, op::order_command{std::move(p)});
    result.tag = command_tag{0, 1000 * qty + 99};
    return result;
  }

  void completed(const command_tag& tag,
                 const caf::expected<actors::command_reply>& outcome) override {
    if (outcome) {
      ++ledger_->placed;
      ledger_->placed_cents += tag.value;
    } else if (!definitely_not_applied(outcome.error())) {
      ++ledger_->unknown;
    }
  }

private:
  std::shared_ptr<ledger> ledger_;
  size_t worker_;
  double declined_;
  uint64_t counter_ = 0;
};

class orders_workload final : public workload {
public:
  explicit orders_workload(double declined) : declined_(declined) {
    // nop
  }

  std::string name() const override {
    return "orders";
  }

  std::vector<std::shared_ptr<const actors::aggregate_model>>
  types(uint64_t snapshot_every) override {
    auto order = op::make_order_type();
    auto inventory = op::make_inventory_type();
    auto payment = op::make_payment_type();
    if (snapshot_every > 0) {
      order->snapshot_every(snapshot_every);
      inventory->snapshot_every(snapshot_every);
      payment->snapshot_every(snapshot_every);
    }
    return {order, inventory, payment};
  }

  caf::error start(const workload_context& ctx) override {
    bus_ = runtime::bus::event_bus::make(ctx.registry->storage().events);
    auto saga = sagas::saga_runtime::start(*ctx.system, bus_, *ctx.registry,
                                           op::make_fulfilment_saga());
    if (!saga)
      return std::move(saga.error());
    saga_ = std::move(*saga);
    started_ = std::chrono::steady_clock::now();
    // Stock every product, many requests in flight.
    agg::aggregate_client client{*ctx.registry};
    std::vector<std::future<caf::expected<op::StockLevel>>> pending;
    for (uint64_t k = 0; k < ctx.aggregates; ++k) {
      op::AddStock a;
      a.set_sku("product" + std::to_string(k));
      a.set_quantity(stock_per_product);
      pending.push_back(client.async<op::StockLevel>("inventory", a.sku(),
                                                     op::inventory_command{a}));
      if (pending.size() == 1024 || k + 1 == ctx.aggregates) {
        for (auto& f : pending)
          if (auto r = f.get(); !r)
            return std::move(r.error());
        pending.clear();
      }
    }
    return caf::none;
  }

  std::unique_ptr<command_generator> make_generator(size_t worker) override {
    auto l = std::make_shared<ledger>();
    std::lock_guard<std::mutex> guard{mtx_};
    ledgers_.push_back(l);
    return std::make_unique<generator>(std::move(l), worker, declined_);
  }

  caf::error settle(int64_t timeout_ms) override {
    if (!saga_)
      return caf::none;
    auto err = saga_->wait_idle(std::chrono::milliseconds{timeout_ms});
    auto st = saga_->stats();
    steps_ = st.steps;
    sagas_completed_ = st.completed;
    parked_ = st.parked;
    saga_span_s_
      = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return err;
  }

  void stop() override {
    if (saga_)
      saga_->stop();
    saga_.reset();
    bus_.reset();
  }

  void begin_verify() override {
    v_ = folded{};
  }

  void add_state(const std::string& type, const std::string&,
                 const std::any& state) override {
    if (type == "order") {
      auto& s = std::any_cast<const op::OrderState&>(state);
      switch (s.status()) {
        case op::OrderState::CONFIRMED:
          ++v_.confirmed;
          v_.confirmed_cents += s.paid_cents();
          break;
        case op::OrderState::CANCELLED: ++v_.cancelled; break;
        default: ++v_.open; break;
      }
      ++v_.aggregates;
    } else if (type == "payment") {
      auto& s = std::any_cast<const op::PaymentState&>(state);
      v_.kept_cents += s.charged_cents() - s.refunded_cents();
      ++v_.aggregates;
    } else {
      ++v_.aggregates;
    }
  }

  verification finish_verify() override {
    auto t = totals();
    auto finished = v_.confirmed + v_.cancelled;
    verification v;
    v.aggregates = v_.aggregates;
    v.ok = v_.kept_cents == v_.confirmed_cents && v_.open == 0 && finished >= t.placed
           && finished <= t.placed + t.unknown && parked_ == 0;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "payments kept %" PRId64 " cents, confirmed orders' money %" PRId64
                  " cents%s; %" PRIu64 " confirmed + %" PRIu64 " cancelled orders, %" PRIu64
                  " still open; %" PRIu64 " orders acknowledged (%" PRIu64
                  " unknown outcome); %" PRIu64 " events parked",
                  v_.kept_cents, v_.confirmed_cents,
                  v_.kept_cents == v_.confirmed_cents ? " (equal)" : " (DIFFERENT)",
                  v_.confirmed, v_.cancelled, v_.open, t.placed, t.unknown, parked_);
    v.description = buf;
    return v;
  }

  std::map<std::string, double> figures() const override {
    auto t = totals();
    return {{"orders_acknowledged", static_cast<double>(t.placed)},
            {"orders_money_cents", static_cast<double>(t.placed_cents)},
            {"saga_steps", static_cast<double>(steps_)},
            {"sagas_completed", static_cast<double>(sagas_completed_)},
            {"saga_events_parked", static_cast<double>(parked_)},
            // Sagas finished per second from the saga start (warm-up
            // included) until every saga had finished.
            {"sagas_per_s",
             saga_span_s_ > 0 ? static_cast<double>(sagas_completed_) / saga_span_s_ : 0}};
  }

private:
  struct folded {
    uint64_t confirmed = 0;
    uint64_t cancelled = 0;
    uint64_t open = 0;
    int64_t confirmed_cents = 0;
    int64_t kept_cents = 0;
    uint64_t aggregates = 0;
  };

  ledger totals() const {
    std::lock_guard<std::mutex> guard{mtx_};
    ledger sum;
    for (auto& l : ledgers_) {
      sum.placed += l->placed;
      sum.placed_cents += l->placed_cents;
      sum.unknown += l->unknown;
    }
    return sum;
  }

  double declined_;
  std::shared_ptr<runtime::bus::event_bus> bus_;
  std::unique_ptr<sagas::saga_runtime> saga_;
  mutable std::mutex mtx_;
  std::vector<std::shared_ptr<ledger>> ledgers_;
  uint64_t steps_ = 0;
  uint64_t sagas_completed_ = 0;
  uint64_t parked_ = 0;
  std::chrono::steady_clock::time_point started_;
  double saga_span_s_ = 0;
  folded v_;
};

caf::expected<std::unique_ptr<workload>> make_orders(const workload_params& p) {
  param_reader r{p};
  auto d = r.number("declined", 0.1, 0.0, 1.0);
  if (!d)
    return std::move(d.error());
  if (auto err = r.unknown_left())
    return err;
  return std::unique_ptr<workload>{std::make_unique<orders_workload>(*d)};
}

} // namespace

ESR_LOADTEST_WORKLOAD(orders,
                      "places orders that the order-fulfilment saga (examples/order_payment) "
                      "reserves, charges and confirms or cancels; --aggregates is the number "
                      "of products. Options: --declined F (fraction of declined cards, "
                      "default 0.1)",
                      make_orders);

} // namespace esr::loadtest::orders
