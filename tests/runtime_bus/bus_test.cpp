// The event bus and subscriptions: every position exactly once and in order,
// across the catch-up -> live switch under concurrent writes, and when a slow
// subscriber falls behind the live buffer and back.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "esr/persistence/error.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using namespace esr::runtime::bus;
using esr::persistence::atomic_write;
using esr::persistence::event_filter;
using esr::persistence::journal;

namespace {

/// Records what a subscription delivered.
struct recorder {
  std::mutex mtx;
  std::vector<uint64_t> positions;
  std::vector<bool> live_flags;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::chrono::milliseconds delay{0};

  batch_handler handler() {
    return [this](const event_batch& b) -> caf::error {
      {
        std::lock_guard<std::mutex> guard{mtx};
        for (auto& e : b.events)
          positions.push_back(e.global_position);
        live_flags.push_back(b.live);
        ranges.emplace_back(b.first_position, b.last_position);
      }
      if (delay.count() > 0)
        std::this_thread::sleep_for(delay);
      return caf::none;
    };
  }

  std::vector<uint64_t> snapshot() {
    std::lock_guard<std::mutex> guard{mtx};
    return positions;
  }
};

/// Positions of the events in `j` matching `f`, from position `from` on.
std::vector<uint64_t> expected_positions(journal& j, uint64_t from, const event_filter& f) {
  std::vector<uint64_t> result;
  auto res = j.read_all(from, esr::persistence::max_seq, f, [&](const auto& e) {
    result.push_back(e.global_position);
    return true;
  });
  EXPECT_TRUE(res) << render(res.error());
  return result;
}

/// Consecutive ranges [first, last] of the batches must tile the log (with
/// `dense`, every event matches, so every range is delivered; otherwise
/// ranges without a match are not, and ranges must only not overlap).
void expect_tiling(const std::vector<std::pair<uint64_t, uint64_t>>& ranges, uint64_t first,
                   bool dense = true) {
  auto next = first;
  for (auto& [a, b] : ranges) {
    if (dense)
      ASSERT_EQ(a, next) << "batch range starts at a gap or overlap";
    else
      ASSERT_GE(a, next) << "batch ranges overlap";
    ASSERT_GE(b, a);
    next = b + 1;
  }
}

/// Writes batches of 1..8 single-event writes to streams of two categories.
void write_load(journal& j, int thread, int iterations) {
  for (int i = 0; i < iterations; ++i) {
    std::vector<atomic_write> ws;
    auto n = 1 + (i * 7 + thread) % 8;
    for (int k = 0; k < n; ++k) {
      atomic_write w;
      w.persistence_id = "cat" + std::to_string((i + k) % 2) + "-" + std::to_string(thread);
      w.events.push_back(esr::bus_test::make_event("value", std::to_string(i)));
      ws.push_back(std::move(w));
    }
    for (auto& r : j.write(std::move(ws)))
      ASSERT_TRUE(r) << render(r.error());
    std::this_thread::sleep_for(100us);
  }
}

class bus_test : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (GetParam() == "memory")
      store_ = esr::persistence::open_memory();
    else
      store_ = esr::bus_test::open_store(dir_.sub("journal"));
  }

  esr::bus_test::temp_dir dir_;
  esr::persistence::storage store_;
};

} // namespace

TEST_P(bus_test, every_subscription_sees_each_position_once_in_order_across_the_live_switch) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "old-1", 3000); // Before the bus exists.
  auto bus = event_bus::make(store_.events, bus_options{256});
  recorder all, mid, now, slow, cat0;
  slow.delay = 3ms;
  auto subscribe = [&](recorder& r, event_filter f, start_position s, size_t max_batch) {
    subscription_options o;
    o.filter = std::move(f);
    o.start = s;
    o.max_batch = max_batch;
    auto sub = bus->subscribe(o, r.handler());
    EXPECT_TRUE(sub);
    return std::move(*sub);
  };
  auto s_all = subscribe(all, event_filter::all(), start_position::beginning(), 1024);
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&j, t] { write_load(j, t, 500); });
  std::this_thread::sleep_for(20ms);
  auto s_slow = subscribe(slow, event_filter::all(), start_position::beginning(), 64);
  auto s_mid = subscribe(mid, event_filter::all(), start_position::after(1500), 100);
  auto now_lower = j.last_position() + 1;
  auto s_now = subscribe(now, event_filter::all(), start_position::now(), 32);
  auto now_upper = j.last_position() + 1;
  auto s_cat = subscribe(cat0, event_filter::category("cat0"), start_position::beginning(), 50);
  for (auto& w : writers)
    w.join();
  auto last = j.last_position();
  for (auto* s : {s_all.get(), s_slow.get(), s_mid.get(), s_now.get(), s_cat.get()})
    ASSERT_FALSE(s->wait_for(last, 60s)) << "subscription did not catch up";
  EXPECT_EQ(all.snapshot(), expected_positions(j, 1, event_filter::all()));
  EXPECT_EQ(slow.snapshot(), expected_positions(j, 1, event_filter::all()));
  EXPECT_EQ(mid.snapshot(), expected_positions(j, 1501, event_filter::all()));
  EXPECT_EQ(cat0.snapshot(), expected_positions(j, 1, event_filter::category("cat0")));
  auto got_now = now.snapshot();
  ASSERT_FALSE(got_now.empty());
  EXPECT_GE(got_now.front(), now_lower);
  EXPECT_LE(got_now.front(), now_upper);
  EXPECT_EQ(got_now, expected_positions(j, got_now.front(), event_filter::all()));
  expect_tiling(all.ranges, 1);
  expect_tiling(slow.ranges, 1);
  expect_tiling(mid.ranges, 1501);
  expect_tiling(cat0.ranges, 1, false);
  // The fast subscription switched to live delivery; the slow one read from
  // the journal after the live buffer had moved past it.
  EXPECT_GT(s_all->statistics().live_batches, 0u);
  EXPECT_GT(s_all->statistics().catchup_batches, 0u);
  EXPECT_GT(s_slow->statistics().catchup_batches, 1u);
}

TEST_P(bus_test, slow_subscriber_does_not_block_writers_and_falls_back_to_catch_up) {
  auto& j = *store_.events;
  auto bus = event_bus::make(store_.events, bus_options{128});
  std::atomic<bool> blocked{false};
  std::atomic<bool> release{false};
  recorder r;
  subscription_options o;
  o.start = start_position::now();
  o.max_batch = 64;
  auto inner = r.handler();
  auto sub = bus->subscribe(o, [&](const event_batch& b) {
    auto err = inner(b);
    if (b.last_position >= 2) { // Block on the second event's batch.
      blocked = true;
      while (!release)
        std::this_thread::sleep_for(1ms);
    }
    return err;
  });
  ASSERT_TRUE(sub);
  esr::bus_test::append_events(j, "a-1", 1);
  ASSERT_FALSE((*sub)->wait_for(1, 10s));
  esr::bus_test::append_events(j, "a-1", 1);
  while (!blocked)
    std::this_thread::sleep_for(1ms);
  // Writers go on while the subscriber is stuck in its handler.
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < 10; ++t)
    esr::bus_test::append_events(j, "a-1", 300);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_TRUE(blocked.load());
  auto behind = j.last_position();
  release = true;
  ASSERT_FALSE((*sub)->wait_for(behind, 30s));
  // Rejoins live delivery once caught up.
  esr::bus_test::append_events(j, "a-1", 1);
  ASSERT_FALSE((*sub)->wait_for(behind + 1, 10s));
  EXPECT_EQ(r.snapshot(), expected_positions(j, 1, event_filter::all()));
  std::lock_guard<std::mutex> guard{r.mtx};
  ASSERT_GE(r.live_flags.size(), 4u);
  // Live while it kept up, from the journal after falling behind the live
  // buffer, live again once caught up.
  auto first_live = std::find(r.live_flags.begin(), r.live_flags.end(), true);
  ASSERT_NE(first_live, r.live_flags.end()) << "never delivered live";
  EXPECT_NE(std::find(first_live, r.live_flags.end(), false), r.live_flags.end())
    << "after falling behind, reads the journal";
  EXPECT_TRUE(r.live_flags.back()) << "rejoined live delivery";
  expect_tiling(r.ranges, 1);
}

TEST_P(bus_test, failing_handler_is_retried_then_stops_the_subscription) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "a-1", 3);
  auto bus = event_bus::make(store_.events);
  std::atomic<int> calls{0};
  subscription_options o;
  o.name = "failing";
  o.handler_retries = 2;
  o.retry_backoff = 1ms;
  auto sub = bus->subscribe(o, [&](const event_batch&) {
    ++calls;
    return esr::persistence::make_error(esr::persistence::errc::io_error, "sink down");
  });
  ASSERT_TRUE(sub);
  auto err = (*sub)->wait_for(3, 10s);
  EXPECT_TRUE(is(err, errc::handler_failed)) << render(err);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_FALSE((*sub)->running());
  EXPECT_EQ((*sub)->position(), 0u);
}

TEST_P(bus_test, subscribe_rejects_a_checkpointed_subscription_without_name) {
  auto bus = event_bus::make(store_.events);
  subscription_options o;
  o.checkpoints = make_memory_checkpoint_store();
  auto sub = bus->subscribe(o, [](const event_batch&) { return caf::error{}; });
  ASSERT_FALSE(sub);
  EXPECT_TRUE(is(sub.error(), errc::invalid_argument));
  auto no_handler = bus->subscribe(subscription_options{}, batch_handler{});
  ASSERT_FALSE(no_handler);
  EXPECT_TRUE(is(no_handler.error(), errc::invalid_argument));
}

TEST_P(bus_test, tag_and_event_type_subscriptions_get_exactly_their_events_catch_up_and_live) {
  auto& j = *store_.events;
  auto write_mixed = [&j](int from, int to) {
    for (int i = from; i < to; ++i) {
      atomic_write w;
      w.persistence_id = "order-" + std::to_string(i % 5);
      auto e = esr::bus_test::make_event(i % 3 == 0 ? "OrderPaid" : "OrderPlaced",
                                         std::to_string(i));
      if (i % 4 == 0)
        e.tags.push_back("vip");
      w.events.push_back(std::move(e));
      ASSERT_TRUE(j.write(std::move(w)));
    }
  };
  write_mixed(0, 200); // Read by catch-up.
  auto bus = event_bus::make(store_.events);
  recorder vip, paid;
  subscription_options o;
  o.filter = event_filter::tag("vip");
  auto s_vip = bus->subscribe(o, vip.handler());
  o.filter = event_filter::event_type("OrderPaid");
  auto s_paid = bus->subscribe(o, paid.handler());
  ASSERT_TRUE(s_vip && s_paid);
  ASSERT_FALSE((*s_vip)->wait_for(200, 10s));
  ASSERT_FALSE((*s_paid)->wait_for(200, 10s));
  write_mixed(200, 400); // Delivered live.
  ASSERT_FALSE((*s_vip)->wait_for(400, 10s));
  ASSERT_FALSE((*s_paid)->wait_for(400, 10s));
  EXPECT_EQ(vip.snapshot(), expected_positions(j, 1, event_filter::tag("vip")));
  EXPECT_EQ(vip.snapshot().size(), 100u);
  EXPECT_EQ(paid.snapshot(), expected_positions(j, 1, event_filter::event_type("OrderPaid")));
  EXPECT_EQ(paid.snapshot().size(), 134u);
  EXPECT_GT((*s_vip)->statistics().live_batches, 0u);
}

INSTANTIATE_TEST_SUITE_P(journals, bus_test, testing::Values("memory", "leveldb"));
