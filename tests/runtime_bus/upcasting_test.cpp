// Schema evolution: events written as v1 are read in the current shape on
// every read path - stream replay (aggregate recovery), bounded replay (time
// travel), the global log (read_all with filters), subscriptions (catch-up
// and live) and projections. Cases: a field added, a field renamed, one
// event split into two.
#include <mutex>

#include <gtest/gtest.h>

#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/projection.hpp"
#include "esr/runtime/upcasting/upcaster_registry.hpp"
#include "esr/runtime/upcasting/upcasting_journal.hpp"
#include "test_util.hpp"
#include "upcast_test.pb.h"

using namespace std::chrono_literals;
using namespace esr::runtime;
using esr::persistence::event_envelope;
using esr::persistence::event_filter;

namespace {

const std::string order_placed = "esr.bus_test.OrderPlaced";
const std::string contact_updated = "esr.bus_test.ContactUpdated";
const std::string email_changed = "esr.bus_test.EmailChanged";
const std::string phone_changed = "esr.bus_test.PhoneChanged";

std::shared_ptr<upcasting::upcaster_registry> make_registry() {
  auto reg = std::make_shared<upcasting::upcaster_registry>();
  // OrderPlaced v1 -> v2: `customer` renamed to `customer_name`, `currency` added.
  auto err = reg->add_payload(order_placed, 1, [](const std::string& bytes)
                                -> caf::expected<std::string> {
    esr::bus_test::OrderPlacedV1 v1;
    if (!v1.ParseFromString(bytes))
      return bus::make_error(bus::errc::upcast_failed, "bad OrderPlaced v1");
    esr::bus_test::OrderPlaced v2;
    v2.set_order_id(v1.order_id());
    v2.set_amount_cents(v1.amount_cents());
    v2.set_customer_name(v1.customer());
    v2.set_currency("EUR");
    return v2.SerializeAsString();
  });
  EXPECT_FALSE(err);
  // ContactUpdated v1 -> EmailChanged + PhoneChanged.
  err = reg->add(contact_updated, 1, [](const event_envelope& e)
                   -> caf::expected<std::vector<event_envelope>> {
    esr::bus_test::ContactUpdatedV1 v1;
    if (!v1.ParseFromString(e.payload))
      return bus::make_error(bus::errc::upcast_failed, "bad ContactUpdated v1");
    esr::bus_test::EmailChanged email;
    email.set_customer_id(v1.customer_id());
    email.set_email(v1.email());
    esr::bus_test::PhoneChanged phone;
    phone.set_customer_id(v1.customer_id());
    phone.set_phone(v1.phone());
    return std::vector<event_envelope>{
      upcasting::derive(e, email_changed, 1, email.SerializeAsString()),
      upcasting::derive(e, phone_changed, 1, phone.SerializeAsString())};
  });
  EXPECT_FALSE(err);
  return reg;
}

event_envelope order_v1(const std::string& id, int64_t cents, const std::string& customer) {
  esr::bus_test::OrderPlacedV1 v1;
  v1.set_order_id(id);
  v1.set_amount_cents(cents);
  v1.set_customer(customer);
  return esr::bus_test::make_event(order_placed, v1.SerializeAsString(), 1);
}

event_envelope order_v2(const std::string& id, int64_t cents, const std::string& customer,
                        const std::string& currency) {
  esr::bus_test::OrderPlaced v2;
  v2.set_order_id(id);
  v2.set_amount_cents(cents);
  v2.set_customer_name(customer);
  v2.set_currency(currency);
  return esr::bus_test::make_event(order_placed, v2.SerializeAsString(), 2);
}

event_envelope contact_v1(const std::string& id, const std::string& email,
                          const std::string& phone) {
  esr::bus_test::ContactUpdatedV1 v1;
  v1.set_customer_id(id);
  v1.set_email(email);
  v1.set_phone(phone);
  return esr::bus_test::make_event(contact_updated, v1.SerializeAsString(), 1);
}

void write(esr::persistence::journal& j, const std::string& pid, event_envelope e) {
  esr::persistence::atomic_write w;
  w.persistence_id = pid;
  w.events.push_back(std::move(e));
  auto res = j.write(std::move(w));
  ASSERT_TRUE(res) << bus::render(res.error());
}

/// Renders an event in its current shape, e.g. "OrderPlaced v2 o1 1500 bob EUR".
std::string describe(const event_envelope& e) {
  if (e.event_type == order_placed) {
    EXPECT_EQ(e.schema_version, 2u) << "an OrderPlaced v1 escaped upcasting";
    esr::bus_test::OrderPlaced x;
    EXPECT_TRUE(x.ParseFromString(e.payload));
    return "OrderPlaced v" + std::to_string(e.schema_version) + " " + x.order_id() + " "
           + std::to_string(x.amount_cents()) + " " + x.customer_name() + " "
           + x.currency();
  }
  if (e.event_type == email_changed) {
    esr::bus_test::EmailChanged x;
    EXPECT_TRUE(x.ParseFromString(e.payload));
    return "EmailChanged " + x.customer_id() + " " + x.email();
  }
  if (e.event_type == phone_changed) {
    esr::bus_test::PhoneChanged x;
    EXPECT_TRUE(x.ParseFromString(e.payload));
    return "PhoneChanged " + x.customer_id() + " " + x.phone();
  }
  return "unexpected " + e.event_type + " v" + std::to_string(e.schema_version);
}

class upcasting_test : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    raw_ = GetParam() == "memory" ? esr::persistence::open_memory()
                                  : esr::bus_test::open_store(dir_.sub("journal"));
    journal_ = upcasting::upcasting_journal::wrap(raw_.events, make_registry());
    // Old code wrote v1 events; new code writes v2.
    write(*raw_.events, "order-1", order_v1("o1", 1500, "bob"));
    write(*raw_.events, "customer-7", contact_v1("c7", "bob@example.com", "555-0101"));
    write(*raw_.events, "order-1", order_v2("o1", 1600, "bob", "USD"));
  }

  esr::bus_test::temp_dir dir_;
  esr::persistence::storage raw_;
  std::shared_ptr<esr::persistence::journal> journal_;
};

const std::vector<std::string> all_current = {
  "OrderPlaced v2 o1 1500 bob EUR", "EmailChanged c7 bob@example.com",
  "PhoneChanged c7 555-0101", "OrderPlaced v2 o1 1600 bob USD"};

} // namespace

TEST_P(upcasting_test, stream_replay_for_aggregate_recovery_reads_v1_as_v2) {
  auto events = journal_->read_stream("order-1");
  ASSERT_TRUE(events) << bus::render(events.error());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(describe((*events)[0]), "OrderPlaced v2 o1 1500 bob EUR");
  EXPECT_EQ((*events)[0].sequence_nr, 1u);
  EXPECT_EQ(describe((*events)[1]), "OrderPlaced v2 o1 1600 bob USD");
  auto split = journal_->read_stream("customer-7");
  ASSERT_TRUE(split);
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ(describe((*split)[0]), "EmailChanged c7 bob@example.com");
  EXPECT_EQ(describe((*split)[1]), "PhoneChanged c7 555-0101");
  EXPECT_EQ((*split)[0].sequence_nr, 1u) << "pieces keep the original's position";
  EXPECT_EQ((*split)[1].sequence_nr, 1u);
  // The stored bytes are untouched.
  auto raw = raw_.events->read_stream("order-1");
  ASSERT_TRUE(raw);
  EXPECT_EQ((*raw)[0].schema_version, 1u);
}

TEST_P(upcasting_test, time_travel_replay_up_to_a_sequence_number_is_upcast) {
  std::vector<std::string> seen;
  auto highest = journal_->replay("order-1", 1, 1, esr::persistence::max_seq,
                                  [&](const event_envelope& e) {
                                    seen.push_back(describe(e));
                                    return true;
                                  });
  ASSERT_TRUE(highest);
  EXPECT_EQ(*highest, 2u);
  EXPECT_EQ(seen, std::vector<std::string>{"OrderPlaced v2 o1 1500 bob EUR"});
}

TEST_P(upcasting_test, global_log_reads_filter_on_the_upcast_events) {
  std::vector<std::string> seen;
  auto visit = [&](const event_envelope& e) {
    seen.push_back(describe(e));
    return true;
  };
  ASSERT_TRUE(journal_->read_all(1, esr::persistence::max_seq, event_filter::all(), visit));
  EXPECT_EQ(seen, all_current);
  seen.clear();
  auto examined = journal_->read_all(1, 10, event_filter::event_type(phone_changed), visit);
  ASSERT_TRUE(examined);
  EXPECT_EQ(seen, std::vector<std::string>{"PhoneChanged c7 555-0101"});
  EXPECT_EQ(*examined, 3u);
  seen.clear();
  // max = 1 never stops between the pieces of a split event.
  examined = journal_->read_all(2, 1, event_filter::all(), visit);
  ASSERT_TRUE(examined);
  EXPECT_EQ(*examined, 2u);
  EXPECT_EQ(seen.size(), 2u);
  seen.clear();
  ASSERT_TRUE(journal_->read_all(1, 10, event_filter::category("order"), visit));
  EXPECT_EQ(seen, (std::vector<std::string>{all_current[0], all_current[3]}));
}

TEST_P(upcasting_test, subscriptions_and_projections_get_v2_in_catch_up_and_live) {
  auto bus = bus::event_bus::make(journal_);
  std::mutex mtx;
  std::vector<std::string> seen;
  std::vector<bool> live;
  bus::subscription_options o;
  o.max_batch = 1;
  auto sub = bus->subscribe(o, [&](const bus::event_batch& b) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& e : b.events) {
      seen.push_back(describe(e));
      live.push_back(b.live);
    }
    return caf::error{};
  });
  ASSERT_TRUE(sub);
  ASSERT_FALSE((*sub)->wait_for(3, 10s));
  // The first event the bus sees live may still be read from the journal
  // (the subscriber can look before the bus has it); once the bus holds a
  // group, everything after it is delivered live.
  write(*raw_.events, "order-2", order_v1("o2", 700, "eve"));
  ASSERT_FALSE((*sub)->wait_for(4, 10s));
  // Written as v1 after the subscriber caught up: delivered live.
  write(*raw_.events, "customer-8", contact_v1("c8", "eve@example.com", "555-0102"));
  ASSERT_FALSE((*sub)->wait_for(5, 10s));
  std::lock_guard<std::mutex> guard{mtx};
  auto expected = all_current;
  expected.insert(expected.end(), {"OrderPlaced v2 o2 700 eve EUR",
                                   "EmailChanged c8 eve@example.com",
                                   "PhoneChanged c8 555-0102"});
  EXPECT_EQ(seen, expected);
  EXPECT_FALSE(live.front()) << "old events came from catch-up";
  EXPECT_EQ(live.size(), 7u);
  EXPECT_TRUE(live[5] && live[6]) << "the split pieces came live";
}

TEST_P(upcasting_test, projection_builds_its_view_from_upcast_events) {
  esr::bus_test::temp_dir views_dir;
  projections::view_store_options vo;
  vo.path = views_dir.sub("views");
  auto views = projections::view_store::open(vo);
  ASSERT_TRUE(views);
  projections::projection p;
  p.view = "contacts";
  p.filter = event_filter::category("customer");
  p.apply = [](projections::view_txn& txn, const event_envelope& e) -> caf::error {
    if (e.event_type == email_changed) {
      esr::bus_test::EmailChanged x;
      x.ParseFromString(e.payload);
      txn.put(x.customer_id() + "/email", x.email());
    } else if (e.event_type == phone_changed) {
      esr::bus_test::PhoneChanged x;
      x.ParseFromString(e.payload);
      txn.put(x.customer_id() + "/phone", x.phone());
    } else {
      return bus::make_error(bus::errc::invalid_argument, "unexpected", e.event_type);
    }
    return caf::none;
  };
  auto bus = bus::event_bus::make(journal_);
  auto runner = projections::projection_runner::start(bus, *views, p);
  ASSERT_TRUE(runner);
  ASSERT_FALSE((*runner)->wait_caught_up(10s));
  EXPECT_EQ((*views)->get("contacts", "c7/email")->value_or(""), "bob@example.com");
  EXPECT_EQ((*views)->get("contacts", "c7/phone")->value_or(""), "555-0101");
}

TEST_P(upcasting_test, a_failing_upcaster_is_an_error_on_every_read_path) {
  auto reg = std::make_shared<upcasting::upcaster_registry>();
  ASSERT_FALSE(reg->add_payload(order_placed, 1, [](const std::string&)
                                  -> caf::expected<std::string> {
    return bus::make_error(bus::errc::upcast_failed, "cannot read");
  }));
  auto j = upcasting::upcasting_journal::wrap(raw_.events, reg);
  auto stream = j->read_stream("order-1");
  ASSERT_FALSE(stream);
  EXPECT_TRUE(bus::is(stream.error(), bus::errc::upcast_failed));
  auto all = j->read_all(1, 10, event_filter::all(), [](const event_envelope&) { return true; });
  ASSERT_FALSE(all);
  EXPECT_TRUE(bus::is(all.error(), bus::errc::upcast_failed));
  auto bus = bus::event_bus::make(j);
  bus::subscription_options o;
  o.handler_retries = 1;
  o.retry_backoff = 1ms;
  auto sub = bus->subscribe(o, [](const bus::event_batch&) { return caf::error{}; });
  ASSERT_TRUE(sub);
  auto err = (*sub)->wait_for(3, 10s);
  EXPECT_TRUE(bus::is(err, bus::errc::upcast_failed)) << bus::render(err);
}

INSTANTIATE_TEST_SUITE_P(journals, upcasting_test, testing::Values("memory", "leveldb"));

TEST(upcaster_registry, chains_versions_and_rejects_duplicates) {
  upcasting::upcaster_registry reg;
  ASSERT_FALSE(reg.add_payload("t", 1, [](const std::string& s) -> caf::expected<std::string> {
    return s + "+2";
  }));
  ASSERT_FALSE(reg.add_payload("t", 2, [](const std::string& s) -> caf::expected<std::string> {
    return s + "+3";
  }));
  EXPECT_TRUE(bus::is(reg.add_payload("t", 1, [](const std::string& s)
                                        -> caf::expected<std::string> { return s; }),
                      bus::errc::invalid_argument));
  auto e = esr::bus_test::make_event("t", "v1", 1);
  e.global_position = 9;
  auto out = reg.upcast(e);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].payload, "v1+2+3");
  EXPECT_EQ((*out)[0].schema_version, 3u);
  EXPECT_EQ((*out)[0].global_position, 9u);
  // A loop (v1 -> v1) is cut off instead of hanging.
  upcasting::upcaster_registry loop;
  ASSERT_FALSE(loop.add("l", 1, [](const event_envelope& x)
                          -> caf::expected<std::vector<event_envelope>> {
    return std::vector<event_envelope>{x};
  }));
  auto looped = loop.upcast(esr::bus_test::make_event("l", "", 1));
  ASSERT_FALSE(looped);
  EXPECT_TRUE(bus::is(looped.error(), bus::errc::upcast_failed));
}
