// order_view (seed 003): a read model that can be thrown away.
//
//   order_view [DATA_DIR]
//
// First run: Bob orders 5 coffees, then changes the order to 6; the OrderView
// projection shows "6 x coffee". Delete DATA_DIR/views while the program is
// down and run it again: the OrderView has no checkpoint, so the projection
// rebuilds it from the event store (position 1 on) before answering queries.
#include <cstdio>
#include <filesystem>
#include <string>
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "esr/actors/aggregate_type.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/projection.hpp"
#include "order_view.pb.h"

using namespace esr;
using namespace std::chrono_literals;

namespace {

// -- the write side: the order aggregate --------------------------------------

struct place_order {
  std::string customer;
  std::string item;
  int32_t quantity;
};
struct change_quantity {
  int32_t quantity;
};
using command = std::variant<place_order, change_quantity>;
using reply = int32_t; // The order's quantity afterwards.
using order_type = actors::aggregate_type<order_view::Order, command, reply>;

std::shared_ptr<order_type> make_order_type() {
  using effect = order_type::effect;
  auto t = std::make_shared<order_type>("order");
  auto quantity = [](const order_view::Order& s) { return s.quantity(); };
  t->on_command([quantity](const order_view::Order& s, const command& c) -> effect {
    if (auto p = std::get_if<place_order>(&c)) {
      if (s.placed())
        return effect::reject("order already placed");
      order_view::OrderPlaced e;
      e.set_customer(p->customer);
      e.set_item(p->item);
      e.set_quantity(p->quantity);
      return effect::persist(e).then_reply(quantity);
    }
    auto& q = std::get<change_quantity>(c);
    if (!s.placed())
      return effect::reject("no such order");
    if (q.quantity <= 0)
      return effect::reject("quantity must be positive");
    order_view::QuantityChanged e;
    e.set_quantity(q.quantity);
    return effect::persist(e).then_reply(quantity);
  });
  t->on_event<order_view::OrderPlaced>([](order_view::Order& s, const order_view::OrderPlaced& e) {
    s.set_placed(true);
    s.set_customer(e.customer());
    s.set_item(e.item());
    s.set_quantity(e.quantity());
  });
  t->on_event<order_view::QuantityChanged>(
    [](order_view::Order& s, const order_view::QuantityChanged& e) { s.set_quantity(e.quantity()); });
  return t;
}

// -- the read side: the OrderView projection ----------------------------------

/// OrderView: one entry per order, "<customer>, <quantity> x <item>".
runtime::projections::projection order_view_projection() {
  runtime::projections::projection p;
  p.view = "order_view";
  p.filter = persistence::event_filter::category("order");
  p.apply = [](runtime::projections::view_txn& txn,
               const persistence::event_envelope& e) -> caf::error {
    if (e.event_type == "order_view.OrderPlaced") {
      order_view::OrderPlaced x;
      x.ParseFromString(e.payload);
      order_view::Order row;
      row.set_placed(true);
      row.set_customer(x.customer());
      row.set_item(x.item());
      row.set_quantity(x.quantity());
      txn.put(e.persistence_id, row.SerializeAsString());
    } else if (e.event_type == "order_view.QuantityChanged") {
      order_view::QuantityChanged x;
      x.ParseFromString(e.payload);
      auto stored = txn.get(e.persistence_id);
      if (!stored)
        return std::move(stored.error());
      order_view::Order row;
      if (*stored)
        row.ParseFromString(**stored);
      row.set_quantity(x.quantity());
      txn.put(e.persistence_id, row.SerializeAsString());
    }
    return caf::none;
  };
  return p;
}

void show_order(const runtime::projections::view_store& views, const std::string& pid) {
  auto row = views.get("order_view", pid);
  if (!row || !*row) {
    std::printf("  OrderView %s: (not found)\n", pid.c_str());
    return;
  }
  order_view::Order o;
  o.ParseFromString(**row);
  std::printf("  OrderView %s: %s, %d x %s\n", pid.c_str(), o.customer().c_str(),
              o.quantity(), o.item().c_str());
}

int fail(const char* what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what, runtime::bus::render(err).c_str());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "order_view_data";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  persistence::leveldb_options lopts;
  lopts.path = dir + "/journal";
  auto store = persistence::open_leveldb(lopts);
  if (!store)
    return fail("cannot open the event store", store.error());
  runtime::projections::view_store_options vopts;
  vopts.path = dir + "/views";
  auto views = runtime::projections::view_store::open(vopts);
  if (!views)
    return fail("cannot open the view store", views.error());
  // The read side starts first: a missing view is rebuilt before queries.
  auto bus = runtime::bus::event_bus::make(store->events);
  auto checkpoint = (*views)->checkpoint("order_view");
  if (!checkpoint)
    return fail("cannot read the OrderView checkpoint", checkpoint.error());
  bool rebuilding = !*checkpoint && store->events->last_position() > 0;
  if (rebuilding)
    std::printf("The OrderView is gone (deleted while we were down): rebuilding it from the "
                "event store...\n");
  auto runner = runtime::projections::projection_runner::start(bus, *views,
                                                               order_view_projection());
  if (!runner)
    return fail("cannot start the OrderView projection", runner.error());
  if (auto err = (*runner)->wait_caught_up(60s))
    return fail("the OrderView did not catch up", err);
  if (rebuilding)
    std::printf("OrderView rebuilt: %llu events applied.\n",
                static_cast<unsigned long long>(store->events->last_position()));
  // The write side.
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  caf::actor_system sys{cfg};
  auto orders = make_order_type();
  auto reg = runtime::aggregates::aggregate_registry::start(sys, *store, {orders});
  if (!reg)
    return fail("cannot start the registry", reg.error());
  runtime::aggregates::aggregate_client client{*reg};
  auto state = client.live_state<order_view::Order>("order", "bob-1");
  if (!state)
    return fail("cannot load order bob-1", state.error());
  if (!state->state.placed()) {
    std::printf("Bob orders 5 x coffee.\n");
    auto r = client.call<reply>("order", "bob-1", command{place_order{"Bob", "coffee", 5}});
    if (!r)
      return fail("place_order", r.error());
    std::printf("  persisted OrderPlaced (quantity %d)\n", *r);
    if (auto err = (*runner)->wait_caught_up(10s))
      return fail("the OrderView did not catch up", err);
    show_order(**views, "order-bob-1");
    std::printf("Bob changes the quantity to 6.\n");
    r = client.call<reply>("order", "bob-1", command{change_quantity{6}});
    if (!r)
      return fail("change_quantity", r.error());
    std::printf("  persisted QuantityChanged (quantity %d)\n", *r);
  } else {
    std::printf("Bob's order is already in the event store (version %llu).\n",
                static_cast<unsigned long long>(state->version));
  }
  // Queries read the view directly, once it has seen every committed event.
  if (auto err = (*runner)->wait_caught_up(10s))
    return fail("the OrderView did not catch up", err);
  std::printf("Query:\n");
  show_order(**views, "order-bob-1");
  reg->stop();
  return 0;
}
