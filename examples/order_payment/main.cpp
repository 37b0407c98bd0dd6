// The order-payment saga demo: Order, Inventory and Payment aggregates and
// the order-fulfilment saga, on a LevelDB journal in a data directory
// (default ./data/order_payment). Each run places five orders that walk the
// saga's paths and prints the story as it happens: every event the saga
// handles, every command it sends and its state after each step. Run it
// again on the same directory: the earlier orders are recovered from the
// journal and listed with the new ones.
//
//   order_payment [data-dir]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "aggregates.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/error.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "fulfilment_saga.hpp"

using namespace order_payment;
using namespace std::chrono_literals;
namespace agg = esr::runtime::aggregates;

namespace {

constexpr const char* runs_key = "example.order_payment/runs";

std::mutex print_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{print_mtx};
  std::cout << line << std::endl;
}

void print_note(const esr::sagas::saga_note& n) {
  using k = esr::sagas::saga_note::kind;
  const char* tag = "";
  switch (n.what) {
    case k::event: tag = "event"; break;
    case k::command: tag = "command"; break;
    case k::reply: tag = "reply"; break;
    case k::timeout: tag = "timeout"; break;
    case k::completed: tag = "END"; break;
    case k::parked: tag = "PARKED"; break;
    case k::ignored: tag = "ignored"; break;
    case k::info: tag = "saga"; break;
  }
  char head[64];
  std::snprintf(head, sizeof(head), "  %-8s %-9s ", tag, n.instance.c_str());
  std::string line = head + n.text;
  for (auto pos = line.find("order_payment."); pos != std::string::npos;
       pos = line.find("order_payment."))
    line.erase(pos, 14); // Short event type names.
  if (n.what == k::event)
    line += "\n                     state: " + n.state;
  say(line);
}

struct order_spec {
  std::string id;
  std::string customer;
  std::string sku;
  int quantity;
  int64_t total_cents;
  std::string discount_code;
  int64_t discount_cents;
  std::string card;
  bool pay_first;
  std::string story;
};

std::vector<order_spec> orders_of_run(uint64_t run) {
  auto id = [run](int n) { return "r" + std::to_string(run) + "." + std::to_string(n); };
  return {
    {id(1001), "alice", "headphones", 1, 20000, "SPRING50", 5000, card_ok, false,
     "happy path (seed 000): a $200 order, a $50 discount, the customer pays $150"},
    {id(1002), "bob", "headphones", 1, 20000, "", 0, card_declined, false,
     "payment declined: the stock is released and the order cancelled"},
    {id(1003), "carol", "turntable", 10, 90000, "", 0, card_ok, false,
     "out of stock: the order is cancelled, nothing was charged"},
    {id(1004), "dave", "turntable", 10, 90000, "", 0, card_ok, true,
     "out of stock after an express (pay-first) charge: refund, then cancel"},
    {id(1005), "erin", "headphones", 1, 20000, "", 0, card_3ds, false,
     "payment timeout: 3-D Secure never completes; void, release stock, cancel"},
  };
}

std::string status_name(OrderState::Status s) {
  switch (s) {
    case OrderState::PLACED: return "PLACED";
    case OrderState::CONFIRMED: return "CONFIRMED";
    case OrderState::CANCELLED: return "CANCELLED";
    default: return "NONE";
  }
}

/// Reads and bumps the run counter kept in a journal side key.
uint64_t next_run(esr::persistence::journal& j) {
  uint64_t runs = 0;
  if (auto v = j.get_side(runs_key); v && *v)
    runs = std::stoull(**v);
  esr::persistence::atomic_write w;
  w.persistence_id = "example.order_payment";
  w.side_writes.push_back({runs_key, std::to_string(runs + 1)});
  (void) j.write(std::move(w));
  return runs + 1;
}

int fail(const std::string& what, const caf::error& err) {
  std::cerr << "order_payment: " << what << ": " << esr::sagas::render(err) << std::endl;
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "./data/order_payment";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  caf::actor_system_config cfg;
  esr::sagas::register_errors(cfg);
  caf::actor_system sys{cfg};

  esr::persistence::leveldb_options lo;
  lo.path = dir + "/journal";
  auto store = esr::persistence::open_leveldb(lo);
  if (!store)
    return fail("cannot open " + lo.path, store.error());
  auto run = next_run(*store->events);
  say("esr order-payment demo - data in " + dir + " (run " + std::to_string(run) + ")");

  agg::registry_options ro;
  ro.aggregate.dedup_window = 256;
  auto reg = agg::aggregate_registry::start(
    sys, *store, {make_order_type(), make_inventory_type(), make_payment_type()}, ro);
  if (!reg)
    return fail("cannot start the aggregates", reg.error());
  // Stops the actors on every way out, before the actor system goes away.
  std::unique_ptr<esr::sagas::saga_runtime> saga_holder;
  struct stopper {
    agg::aggregate_registry& reg;
    std::unique_ptr<esr::sagas::saga_runtime>& sagas;
    ~stopper() {
      if (sagas)
        sagas->stop();
      reg.stop();
    }
  } stop_all{*reg, saga_holder};
  auto bus = esr::runtime::bus::event_bus::make(store->events);

  esr::sagas::saga_options so;
  so.observer = print_note;
  fulfilment_options fo;
  fo.payment_timeout = 1500ms;
  say("starting the order-fulfilment saga (resumes after its checkpoint; "
      "re-sends its outbox, re-arms its timeouts)");
  auto sagas = esr::sagas::saga_runtime::start(sys, bus, *reg, make_fulfilment_saga(fo), so);
  if (!sagas)
    return fail("cannot start the saga", sagas.error());
  saga_holder = std::move(*sagas);
  auto& rt = *saga_holder;
  if (auto err = rt.wait_idle(10s))
    return fail("recovery", err);

  agg::aggregate_client client{*reg};
  for (auto [sku, qty] : {std::pair<const char*, int>{"headphones", 5}, {"turntable", 1}}) {
    AddStock a;
    a.set_sku(sku);
    a.set_quantity(qty);
    agg::command_options co;
    co.command_id = "demo/run-" + std::to_string(run) + "/restock/" + sku;
    auto r = client.call<StockLevel>("inventory", sku, inventory_command{a}, co);
    if (!r)
      return fail("restock", r.error());
    say("warehouse: " + std::string{sku} + " +" + std::to_string(qty) + " -> "
        + std::to_string(r->available()) + " available");
  }

  for (auto& o : orders_of_run(run)) {
    say("");
    say("== order " + o.id + ": " + o.story);
    say("   " + o.customer + " orders " + std::to_string(o.quantity) + " x " + o.sku + " for "
        + money(o.total_cents) + (o.discount_code.empty() ? "" : " with code " + o.discount_code)
        + (o.pay_first ? " (express: pay first)" : ""));
    PlaceOrder p;
    p.set_order_id(o.id);
    p.set_customer(o.customer);
    p.set_sku(o.sku);
    p.set_quantity(o.quantity);
    p.set_total_cents(o.total_cents);
    p.set_discount_code(o.discount_code);
    p.set_discount_cents(o.discount_cents);
    p.set_card(o.card);
    p.set_pay_first(o.pay_first);
    agg::command_options co;
    co.command_id = "demo/place/" + o.id;
    auto placed = client.call<OrderState>("order", o.id, order_command{p}, co);
    if (!placed)
      return fail("place order " + o.id, placed.error());
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto info = rt.instance(o.id);
      if (!info)
        return fail("read saga " + o.id, info.error());
      if (*info && (*info)->completed)
        break;
      if (std::chrono::steady_clock::now() > deadline) {
        say("   (saga " + o.id + " did not finish in 10 s)");
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  if (auto err = rt.wait_idle(10s))
    return fail("waiting for the saga", err);

  say("");
  say("== final state of every order (" + std::to_string(run) + " run(s) in " + dir + ")");
  for (uint64_t r = 1; r <= run; ++r) {
    for (auto& o : orders_of_run(r)) {
      auto s = client.live_state<OrderState>("order", o.id);
      if (!s || s->state.status() == OrderState::NONE)
        continue;
      auto& st = s->state;
      auto pay = client.live_state<PaymentState>("payment", o.id);
      std::string payment = "no payment";
      if (pay && pay->state.status() != PaymentState::NONE)
        payment = PaymentState::Status_Name(pay->state.status()) + " "
                  + money(pay->state.charged_cents() - pay->state.refunded_cents()) + " kept";
      auto saga = rt.instance(o.id);
      std::string outcome = saga && *saga ? (*saga)->outcome : "?";
      char line[256];
      std::snprintf(line, sizeof(line), "  %-8s %-6s %-10s total %-8s discount %-7s paid %-8s %-10s| %s | saga: %s",
                    o.id.c_str(), st.customer().c_str(), st.sku().c_str(),
                    money(st.total_cents()).c_str(), money(st.discount_cents()).c_str(),
                    money(st.paid_cents()).c_str(), status_name(st.status()).c_str(),
                    payment.c_str(), outcome.c_str());
      say(line + (st.reason().empty() ? std::string{} : " - " + st.reason()));
    }
  }
  for (auto sku : {"headphones", "turntable"}) {
    auto s = client.live_state<InventoryState>("inventory", sku);
    if (s)
      say("  stock " + std::string{sku} + ": " + std::to_string(s->state.available())
          + " available, " + std::to_string(s->state.reserved_size()) + " order(s) holding stock");
  }
  auto st = rt.stats();
  say("saga steps " + std::to_string(st.steps) + ", commands sent "
      + std::to_string(st.commands_sent) + ", redelivered events skipped "
      + std::to_string(st.skipped) + ", parked " + std::to_string(st.parked));
  return 0;
}
