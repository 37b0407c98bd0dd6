// cqrs_shop (seed 000): CQRS with a normalized write side and denormalized
// read models.
//
//   cqrs_shop [DATA_DIR] [--rebuild]
//
// The write side stores users, products, orders and order items as separate
// aggregates that refer to each other by id. Two projections keep
// denormalized views in a LevelDB view store: OrderSummaries (an order with
// its customer's name, its lines with product names, its total) and
// ProductCatalog (name, current price, units ordered). Queries read only the
// views. Run it again: the views survive the restart (nothing is replayed).
// Run it with --rebuild: both views are rebuilt from the event store beside
// the old ones, readers are switched over, and the queries answer the same.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "aggregates.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/rebuild.hpp"
#include "views.hpp"

using namespace esr;
using namespace std::chrono_literals;
using runtime::projections::projection;

namespace {

int fail(const std::string& what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), runtime::bus::render(err).c_str());
  return 1;
}

/// One read model: an alias readers use, the view it names, its projection.
struct read_model {
  std::string alias;
  projection (*make)(std::string view);
  std::unique_ptr<runtime::projections::projection_runner> runner;
};

/// "order_summaries.v1" -> "order_summaries.v2".
std::string next_version(const std::string& view) {
  auto dot = view.rfind(".v");
  return view.substr(0, dot) + ".v" + std::to_string(std::stoi(view.substr(dot + 2)) + 1);
}

caf::error print_queries(const std::shared_ptr<runtime::projections::view_store>& views) {
  runtime::projections::view_reader summaries{views, "order_summaries"};
  runtime::projections::view_reader products{views, "product_catalog"};
  for (auto name : {"alice", "bob"}) {
    auto orders = shop::orders_of(summaries, name);
    if (!orders)
      return orders.error();
    std::printf("Query: orders of %s (from %s)\n", name, summaries.current_view()->c_str());
    for (auto& o : *orders) {
      std::string lines;
      for (auto& l : o.lines())
        lines += (lines.empty() ? "" : ", ") + l;
      std::printf("  order %s [%s] %s: %s = %s\n", o.order_id().c_str(), o.status().c_str(),
                  o.customer_name().c_str(), lines.c_str(), shop::dollars(o.total_cents()).c_str());
    }
  }
  auto entries = shop::catalog(products);
  if (!entries)
    return entries.error();
  std::printf("Query: product catalog (from %s)\n", products.current_view()->c_str());
  for (auto& c : *entries)
    std::printf("  %-8s %-8s %8s  %lld ordered\n", c.product_id().c_str(), c.name().c_str(),
                shop::dollars(c.price_cents()).c_str(),
                static_cast<long long>(c.units_ordered()));
  return caf::none;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = "cqrs_shop_data";
  bool rebuild = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rebuild") == 0)
      rebuild = true;
    else
      dir = argv[i];
  }
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
  auto bus = runtime::bus::event_bus::make(store->events);
  // The read side: resume each view after its checkpoint.
  read_model models[] = {{"order_summaries", &shop::order_summaries, nullptr},
                         {"product_catalog", &shop::product_catalog, nullptr}};
  for (auto& m : models) {
    auto current = (*views)->alias(m.alias);
    if (!current)
      return fail("cannot read alias " + m.alias, current.error());
    if (!*current) {
      if (auto err = (*views)->set_alias(m.alias, m.alias + ".v1"))
        return fail("cannot set alias", err);
      *current = m.alias + ".v1";
    }
    auto cp = (*views)->checkpoint(**current);
    if (!cp)
      return fail("cannot read checkpoint", cp.error());
    auto last = store->events->last_position();
    std::printf("%s: view %s at position %llu of %llu: %llu event(s) to apply on start\n",
                m.alias.c_str(), (*current)->c_str(),
                static_cast<unsigned long long>(cp->value_or(0)),
                static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(last - std::min(last, cp->value_or(0))));
    auto runner = runtime::projections::projection_runner::start(bus, *views, m.make(**current));
    if (!runner)
      return fail("cannot start " + m.alias, runner.error());
    m.runner = std::move(*runner);
  }
  // The write side: four normalized aggregate types.
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  caf::actor_system sys{cfg};
  auto products = shop::make_product_type();
  auto reg = runtime::aggregates::aggregate_registry::start(
    sys, *store,
    {shop::make_user_type(), products, shop::make_order_type(), shop::make_item_type()});
  if (!reg)
    return fail("cannot start the registry", reg.error());
  runtime::aggregates::aggregate_client client{*reg};
  auto alice = client.live_state<shop::User>("user", "alice");
  if (!alice)
    return fail("cannot load user-alice", alice.error());
  if (alice->version == 0) {
    std::printf("First run: filling the shop.\n");
    caf::error err;
    auto cmd = [&](const char* type, const std::string& id, auto c, const std::string& story) {
      if (err)
        return;
      auto r = client.call<shop::reply>(type, id, std::move(c));
      if (!r)
        err = r.error();
      else
        std::printf("  %s\n", story.c_str());
    };
    auto add = [&](const std::string& order, int n, const std::string& product, int32_t qty) {
      // Normalized: the item refers to the product and captures its price now.
      auto p = client.live_state<shop::Product>("product", product);
      if (!p) {
        err = p.error();
        return;
      }
      cmd("orderitem", order + "." + std::to_string(n),
          shop::item_command{shop::add_item{order, product, qty, p->state.price_cents()}},
          "order " + order + ": " + std::to_string(qty) + " x " + product + " at "
            + shop::dollars(p->state.price_cents()));
    };
    cmd("user", "alice", shop::user_command{shop::register_user{"alice", "alice@example.com"}},
        "user alice registered");
    cmd("user", "bob", shop::user_command{shop::register_user{"bob", "bob@example.com"}},
        "user bob registered");
    cmd("product", "keyboard", shop::product_command{shop::list_product{"Keyboard", 4999}},
        "product keyboard listed at $49.99");
    cmd("product", "mouse", shop::product_command{shop::list_product{"Mouse", 1999}},
        "product mouse listed at $19.99");
    cmd("product", "monitor", shop::product_command{shop::list_product{"Monitor", 19900}},
        "product monitor listed at $199.00");
    cmd("order", "a1", shop::order_command{shop::place_order{"alice"}}, "alice places order a1");
    add("a1", 1, "keyboard", 1);
    add("a1", 2, "mouse", 2);
    cmd("order", "a1", shop::order_command{shop::submit_order{}}, "order a1 submitted");
    cmd("product", "mouse", shop::product_command{shop::change_price{1799}},
        "the mouse now costs $17.99");
    cmd("order", "b1", shop::order_command{shop::place_order{"bob"}}, "bob places order b1");
    add("b1", 1, "monitor", 1);
    add("b1", 2, "mouse", 1);
    if (err)
      return fail("command failed", err);
  } else {
    std::printf("Restart: the shop's data is in the event store; the views survived.\n");
  }
  for (auto& m : models)
    if (auto err = m.runner->wait_caught_up(30s))
      return fail(m.alias + " did not catch up", err);
  if (rebuild) {
    for (auto& m : models) {
      auto current = (*views)->alias(m.alias);
      if (!current || !*current)
        return fail("no view for " + m.alias, current ? caf::error{} : current.error());
      auto next = next_version(**current);
      std::printf("Rebuilding %s from the event store into %s beside %s...\n", m.alias.c_str(),
                  next.c_str(), (*current)->c_str());
      auto result = runtime::projections::rebuild(bus, *views, m.alias, m.make(next));
      if (!result)
        return fail("rebuild of " + m.alias, result.error());
      m.runner->stop();
      m.runner = std::move(result->runner);
      if (result->previous_view) {
        if (auto err = (*views)->drop_view(*result->previous_view))
          return fail("cannot drop the old view", err);
      }
      std::printf("  readers switched to %s at position %llu; %s dropped\n", next.c_str(),
                  static_cast<unsigned long long>(m.runner->position()),
                  result->previous_view.value_or("-").c_str());
    }
  }
  if (auto err = print_queries(*views))
    return fail("query failed", err);
  for (auto& m : models)
    m.runner->stop();
  reg->stop();
  return 0;
}
