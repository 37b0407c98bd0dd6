// Upcasting on the aggregate read paths, with the aggregate runtime itself:
// recovery of a live aggregate through the registry and time travel
// (state_at) both see v1 events in their v2 shape, either through an
// upcasting_journal in the storage or through as_upcaster() as the
// registry's upcaster.
//
// Splits work on both routes: the pieces of a split read through an
// upcasting_journal share their original's sequence number, and recovery
// applies them as one step (as the aggregate hook does).
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <gtest/gtest.h>

#include "esr/actors/aggregate_type.hpp"
#include "esr/actors/time_travel.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/upcasting/upcaster_registry.hpp"
#include "esr/runtime/upcasting/upcasting_journal.hpp"
#include "test_util.hpp"
#include "upcast_test.pb.h"

using namespace esr;
using namespace esr::runtime;

namespace {

/// What an order aggregate knows: only the v2 shape of OrderPlaced.
struct order_state {
  int count = 0;
  int64_t total_cents = 0;
  std::string customers; ///< "customer_name/currency" per order, comma-separated.
};

/// What a customer aggregate knows: EmailChanged and PhoneChanged, no v1.
struct customer_state {
  std::string email;
  std::string phone;
};

using order_type = actors::aggregate_type<order_state, std::variant<int>, int>;
using customer_type = actors::aggregate_type<customer_state, std::variant<int>, int>;

std::shared_ptr<order_type> make_order_type() {
  auto t = std::make_shared<order_type>("order");
  t->on_command([](const order_state&, const std::variant<int>&) {
    return order_type::effect::reply(0);
  });
  t->on_event<bus_test::OrderPlaced>([](order_state& s, const bus_test::OrderPlaced& e) {
    ++s.count;
    s.total_cents += e.amount_cents();
    s.customers += (s.customers.empty() ? "" : ",") + e.customer_name() + "/" + e.currency();
  });
  return t;
}

std::shared_ptr<customer_type> make_customer_type() {
  auto t = std::make_shared<customer_type>("customer");
  t->on_command([](const customer_state&, const std::variant<int>&) {
    return customer_type::effect::reply(0);
  });
  t->on_event<bus_test::EmailChanged>(
    [](customer_state& s, const bus_test::EmailChanged& e) { s.email = e.email(); });
  t->on_event<bus_test::PhoneChanged>(
    [](customer_state& s, const bus_test::PhoneChanged& e) { s.phone = e.phone(); });
  return t;
}

std::shared_ptr<upcasting::upcaster_registry> make_registry() {
  auto reg = std::make_shared<upcasting::upcaster_registry>();
  EXPECT_FALSE(reg->add_payload("esr.bus_test.OrderPlaced", 1, [](const std::string& b)
                                  -> caf::expected<std::string> {
    bus_test::OrderPlacedV1 v1;
    v1.ParseFromString(b);
    bus_test::OrderPlaced v2;
    v2.set_order_id(v1.order_id());
    v2.set_amount_cents(v1.amount_cents());
    v2.set_customer_name(v1.customer());
    v2.set_currency("EUR");
    return v2.SerializeAsString();
  }));
  EXPECT_FALSE(reg->add("esr.bus_test.ContactUpdated", 1, [](const persistence::event_envelope& e)
                          -> caf::expected<std::vector<persistence::event_envelope>> {
    bus_test::ContactUpdatedV1 v1;
    v1.ParseFromString(e.payload);
    bus_test::EmailChanged email;
    email.set_email(v1.email());
    bus_test::PhoneChanged phone;
    phone.set_phone(v1.phone());
    return std::vector<persistence::event_envelope>{
      upcasting::derive(e, "esr.bus_test.EmailChanged", 1, email.SerializeAsString()),
      upcasting::derive(e, "esr.bus_test.PhoneChanged", 1, phone.SerializeAsString())};
  }));
  return reg;
}

void write(persistence::journal& j, const std::string& pid, const std::string& type,
           uint32_t version, const google::protobuf::MessageLite& m) {
  persistence::atomic_write w;
  w.persistence_id = pid;
  w.events.push_back(bus_test::make_event(type, m.SerializeAsString(), version));
  ASSERT_TRUE(j.write(std::move(w)));
}

class aggregate_upcasting_test : public testing::TestWithParam<bool> {
protected:
  void SetUp() override {
    raw_ = bus_test::open_store(dir_.sub("journal"));
    // Old code wrote v1; new code wrote v2.
    bus_test::OrderPlacedV1 v1;
    v1.set_order_id("o1");
    v1.set_amount_cents(1500);
    v1.set_customer("bob");
    write(*raw_.events, "order-1", "esr.bus_test.OrderPlaced", 1, v1);
    bus_test::OrderPlaced v2;
    v2.set_order_id("o1");
    v2.set_amount_cents(700);
    v2.set_customer_name("bob");
    v2.set_currency("USD");
    write(*raw_.events, "order-1", "esr.bus_test.OrderPlaced", 2, v2);
    bus_test::ContactUpdatedV1 contact;
    contact.set_email("bob@example.com");
    contact.set_phone("555-0101");
    write(*raw_.events, "customer-bob", "esr.bus_test.ContactUpdated", 1, contact);
    auto reg = make_registry();
    // GetParam(): decorate the journal (true) or use the aggregate hook (false).
    if (GetParam()) {
      store_ = persistence::storage{upcasting::upcasting_journal::wrap(raw_.events, reg),
                                    raw_.snapshots};
    } else {
      store_ = raw_;
      upcaster_ = upcasting::as_upcaster(reg);
    }
  }

  bus_test::temp_dir dir_;
  persistence::storage raw_;
  persistence::storage store_;
  actors::event_upcaster upcaster_;
};

} // namespace

TEST_P(aggregate_upcasting_test, time_travel_rebuilds_state_from_upcast_events) {
  auto orders = make_order_type();
  auto first = actors::state_at(*orders, store_, "1", actors::as_of::sequence(1), upcaster_);
  ASSERT_TRUE(first) << bus::render(first.error());
  EXPECT_EQ(first->state.customers, "bob/EUR");
  EXPECT_EQ(first->version, 1u);
  auto both = actors::state_at(*orders, store_, "1", actors::as_of::now(), upcaster_);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->state.customers, "bob/EUR,bob/USD");
  EXPECT_EQ(both->state.total_cents, 2200);
}

TEST_P(aggregate_upcasting_test, live_aggregates_recover_from_upcast_events) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  runtime::aggregates::registry_options opts;
  opts.aggregate.upcaster = upcaster_;
  auto reg = runtime::aggregates::aggregate_registry::start(
    sys, store_, {make_order_type(), make_customer_type()}, opts);
  ASSERT_TRUE(reg) << bus::render(reg.error());
  struct stop_guard {
    runtime::aggregates::aggregate_registry& r;
    ~stop_guard() { r.stop(); }
  } guard{*reg};
  runtime::aggregates::aggregate_client client{*reg};
  {
    auto order = client.live_state<order_state>("order", "1");
    ASSERT_TRUE(order) << bus::render(order.error());
    EXPECT_EQ(order->state.count, 2);
    EXPECT_EQ(order->state.customers, "bob/EUR,bob/USD");
    EXPECT_EQ(order->version, 2u);
    auto customer = client.live_state<customer_state>("customer", "bob");
    ASSERT_TRUE(customer) << bus::render(customer.error());
    EXPECT_EQ(customer->state.email, "bob@example.com") << "first piece of the split";
    EXPECT_EQ(customer->state.phone, "555-0101") << "second piece of the split";
    EXPECT_EQ(customer->version, 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(upcasters, aggregate_upcasting_test, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& i) {
                           return i.param ? "upcasting_journal" : "registry_hook";
                         });
