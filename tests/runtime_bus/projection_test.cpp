// Projections into the LevelDB view store: exactly-once application across
// restarts and failing batches, deleted views rebuilt on start, and a rebuild
// with corrected logic beside the old view with readers switched over.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/projection.hpp"
#include "esr/runtime/projections/rebuild.hpp"
#include "esr/runtime/projections/view_store.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using namespace esr::runtime;
using namespace esr::runtime::projections;
using esr::persistence::event_envelope;

namespace {

int64_t get_int(const view_txn& txn, const std::string& key) {
  auto v = txn.get(key);
  return v && *v ? std::stoll(**v) : 0;
}

int64_t read_int(const view_store& vs, const std::string& view, const std::string& key) {
  auto v = vs.get(view, key);
  EXPECT_TRUE(v);
  return v && *v ? std::stoll(**v) : 0;
}

/// Counts events and sums their decimal payloads.
projection totals(std::string view) {
  projection p;
  p.view = std::move(view);
  p.apply = [](view_txn& txn, const event_envelope& e) -> caf::error {
    txn.put("count", std::to_string(get_int(txn, "count") + 1));
    txn.put("sum", std::to_string(get_int(txn, "sum") + std::stoll(e.payload)));
    return caf::none;
  };
  return p;
}

class projection_test : public testing::Test {
protected:
  void SetUp() override {
    store_ = esr::bus_test::open_store(dir_.sub("journal"));
    view_store_options o;
    o.path = dir_.sub("views");
    auto vs = view_store::open(o);
    ASSERT_TRUE(vs) << bus::render(vs.error());
    views_ = *vs;
    bus_ = bus::event_bus::make(store_.events);
  }

  esr::bus_test::temp_dir dir_;
  esr::persistence::storage store_;
  std::shared_ptr<view_store> views_;
  std::shared_ptr<bus::event_bus> bus_;
};

} // namespace

TEST_F(projection_test, txn_reads_its_own_writes_and_commits_with_the_checkpoint) {
  auto txn = views_->begin("v");
  txn.put("k", "1");
  EXPECT_EQ(txn.get("k")->value_or(""), "1");
  EXPECT_FALSE(*views_->get("v", "k"));
  txn.erase("k");
  EXPECT_FALSE(*txn.get("k"));
  txn.put("j", "2");
  ASSERT_FALSE(views_->commit(txn, 9));
  EXPECT_EQ(views_->get("v", "j")->value_or(""), "2");
  EXPECT_EQ(views_->checkpoint("v")->value_or(0), 9u);
  EXPECT_FALSE(*views_->get("other", "j")) << "views are separate key spaces";
}

TEST_F(projection_test, applies_each_event_exactly_once_across_restarts) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "a-1", 100); // values 1..100
  {
    auto r = projection_runner::start(bus_, views_, totals("totals"));
    ASSERT_TRUE(r);
    ASSERT_FALSE((*r)->wait_caught_up(10s));
  }
  EXPECT_EQ(read_int(*views_, "totals", "count"), 100);
  esr::bus_test::append_events(j, "a-1", 50, 101); // values 101..150
  auto r = projection_runner::start(bus_, views_, totals("totals"));
  ASSERT_TRUE(r);
  ASSERT_FALSE((*r)->wait_caught_up(10s));
  EXPECT_EQ(read_int(*views_, "totals", "count"), 150);
  EXPECT_EQ(read_int(*views_, "totals", "sum"), 150 * 151 / 2);
  EXPECT_EQ(views_->checkpoint("totals")->value_or(0), j.last_position());
}

TEST_F(projection_test, a_failing_batch_leaves_no_partial_changes) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "a-1", 40);
  auto p = totals("flaky");
  std::atomic<int> failures{0};
  auto apply = p.apply;
  p.apply = [&, apply](view_txn& txn, const event_envelope& e) -> caf::error {
    if (e.global_position == 25 && failures++ < 2)
      return bus::make_error(bus::errc::handler_failed, "transient");
    return apply(txn, e);
  };
  projection_options o;
  o.retry_backoff = 1ms;
  auto r = projection_runner::start(bus_, views_, p, o);
  ASSERT_TRUE(r);
  ASSERT_FALSE((*r)->wait_caught_up(10s));
  EXPECT_EQ(failures.load(), 3);
  EXPECT_EQ(read_int(*views_, "flaky", "count"), 40);
  EXPECT_EQ(read_int(*views_, "flaky", "sum"), 40 * 41 / 2);
}

TEST_F(projection_test, a_deleted_view_is_rebuilt_from_the_store_on_start) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "a-1", 30);
  {
    auto r = projection_runner::start(bus_, views_, totals("totals"));
    ASSERT_TRUE(r);
    ASSERT_FALSE((*r)->wait_caught_up(10s));
  }
  ASSERT_FALSE(views_->drop_view("totals"));
  EXPECT_FALSE(*views_->get("totals", "count"));
  EXPECT_FALSE(*views_->checkpoint("totals"));
  auto r = projection_runner::start(bus_, views_, totals("totals"));
  ASSERT_TRUE(r);
  ASSERT_FALSE((*r)->wait_caught_up(10s));
  EXPECT_EQ(read_int(*views_, "totals", "count"), 30);
  EXPECT_EQ(read_int(*views_, "totals", "sum"), 30 * 31 / 2);
}

TEST_F(projection_test, invalid_projections_are_rejected) {
  auto p = totals("");
  auto r = projection_runner::start(bus_, views_, p);
  ASSERT_FALSE(r);
  EXPECT_TRUE(bus::is(r.error(), bus::errc::invalid_argument));
  p = totals("ok");
  p.apply = nullptr;
  EXPECT_FALSE(projection_runner::start(bus_, views_, p));
}

namespace {

/// Interest owed per account: balance * rate (in basis points), in cents.
projection interest(std::string view, int64_t basis_points) {
  projection p;
  p.view = std::move(view);
  p.filter = esr::persistence::event_filter::category("account");
  p.apply = [basis_points](view_txn& txn, const event_envelope& e) -> caf::error {
    auto balance = get_int(txn, "balance/" + e.persistence_id) + std::stoll(e.payload);
    txn.put("balance/" + e.persistence_id, std::to_string(balance));
    txn.put("interest/" + e.persistence_id, std::to_string(balance * basis_points / 10000));
    return caf::none;
  };
  return p;
}

} // namespace

TEST_F(projection_test, rebuild_with_corrected_logic_switches_readers_when_caught_up) {
  auto& j = *store_.events;
  for (int a = 0; a < 10; ++a)
    esr::bus_test::append_events(j, "account-" + std::to_string(a), 20, 1000);
  // v1 has the bug: 10% instead of 1%.
  auto v1 = projection_runner::start(bus_, views_, interest("interest.v1", 1000));
  ASSERT_TRUE(v1);
  ASSERT_FALSE(views_->set_alias("interest", "interest.v1"));
  ASSERT_FALSE((*v1)->wait_caught_up(10s));
  view_reader reader{views_, "interest"};
  auto owed = [&](int a) {
    auto v = reader.get("interest/account-" + std::to_string(a));
    return v && *v ? std::stoll(**v) : -1;
  };
  auto balance = [&](int a) {
    auto v = reader.get("balance/account-" + std::to_string(a));
    return v && *v ? std::stoll(**v) : -1;
  };
  EXPECT_EQ(owed(3), balance(3) / 10) << "the buggy view";
  // Rebuild with the fix while deposits keep coming.
  std::atomic<bool> writing{true};
  std::thread writer{[&] {
    for (int i = 0; i < 200; ++i)
      esr::bus_test::append_events(j, "account-" + std::to_string(i % 10), 1, 500);
    writing = false;
  }};
  auto rebuilt = rebuild(bus_, views_, "interest", interest("interest.v2", 100));
  ASSERT_TRUE(rebuilt) << bus::render(rebuilt.error());
  EXPECT_EQ(rebuilt->previous_view.value_or(""), "interest.v1");
  EXPECT_EQ(*reader.current_view(), "interest.v2");
  writer.join();
  (*v1)->stop();
  ASSERT_FALSE(rebuilt->runner->wait_caught_up(10s));
  for (int a = 0; a < 10; ++a) {
    EXPECT_EQ(balance(a), 20 * 1000 + 190 + 20 * 500);
    EXPECT_EQ(owed(a), balance(a) / 100) << "account " << a;
  }
  // The old view is still there until dropped.
  EXPECT_EQ(read_int(*views_, "interest.v1", "interest/account-0"),
            read_int(*views_, "interest.v1", "balance/account-0") / 10);
  ASSERT_FALSE(views_->drop_view("interest.v1"));
  EXPECT_FALSE(*views_->get("interest.v1", "interest/account-0"));
  // Rebuilding into the current view is refused.
  auto again = rebuild(bus_, views_, "interest", interest("interest.v2", 100));
  ASSERT_FALSE(again);
  EXPECT_TRUE(bus::is(again.error(), bus::errc::invalid_argument));
}
