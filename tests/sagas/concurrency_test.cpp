// 10,000 concurrent order-fulfilment sagas (ESR_SAGA_TEST_ORDERS overrides
// the count) with a mix of paths - happy, declined, express, out of stock,
// payment timeout - must all end, with consistent totals: money kept by
// payments = money of confirmed orders; stock held = stock of confirmed
// orders; available + held = stock added.

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "esr/sagas/error.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace order_payment;
using namespace esr::sagas_test;

namespace {

size_t order_count() {
  if (auto v = std::getenv("ESR_SAGA_TEST_ORDERS"))
    return static_cast<size_t>(std::strtoull(v, nullptr, 10));
  return 10000;
}

constexpr int skus = 20;

} // namespace

TEST(concurrency, ten_thousand_concurrent_sagas_complete_with_consistent_totals) {
  auto n = order_count();
  auto dir = temp_dir("concurrency");
  world_options o;
  o.payment_timeout = 2s;
  world w{dir, o};
  auto stock_per_sku = static_cast<int>(n / skus); // About half the demand.
  for (int s = 0; s < skus; ++s)
    w.add_stock("sku" + std::to_string(s), stock_per_sku);
  std::mutex m;
  std::condition_variable cv;
  size_t answered = 0;
  size_t failed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    auto id = "n" + std::to_string(i);
    auto card = i % 10 == 3 ? card_declined : i % 50 == 7 ? card_3ds : card_ok;
    auto qty = static_cast<int>(1 + i % 3);
    auto p = make_order(id, "sku" + std::to_string(i % skus), qty, 1000 * qty + 99, card,
                        i % 8 == 5);
    esr::runtime::aggregates::command_options co;
    co.command_id = "test/place/" + id;
    w.client().send<OrderState>(
      "order", id, order_command{p},
      [&](caf::expected<OrderState> r) {
        std::lock_guard<std::mutex> guard{m};
        ++answered;
        if (!r)
          ++failed;
        cv.notify_one();
      },
      co);
  }
  {
    std::unique_lock<std::mutex> lock{m};
    ASSERT_TRUE(cv.wait_for(lock, 120s, [&] { return answered == n; }));
  }
  EXPECT_EQ(failed, 0u);
  auto deadline = std::chrono::steady_clock::now() + 240s;
  while (w.saga().stats().completed < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(w.saga().stats().completed, n);
  ASSERT_FALSE(w.saga().wait_idle(60s));
  std::printf("[ info ] %zu sagas completed in %.2f s (%.0f/s)\n", n, elapsed,
              static_cast<double>(n) / elapsed);
  // Totals.
  int64_t confirmed_money = 0, kept_money = 0;
  int64_t confirmed_qty = 0, held_qty = 0, available = 0;
  size_t confirmed = 0, cancelled = 0;
  for (size_t i = 0; i < n; ++i) {
    auto id = "n" + std::to_string(i);
    auto ord = w.order(id);
    auto pay = w.payment(id);
    kept_money += pay.charged_cents() - pay.refunded_cents();
    if (ord.status() == OrderState::CONFIRMED) {
      ++confirmed;
      confirmed_money += ord.paid_cents();
      confirmed_qty += ord.quantity();
      EXPECT_EQ(ord.paid_cents(), ord.total_cents()) << id;
    } else if (ord.status() == OrderState::CANCELLED) {
      ++cancelled;
    } else {
      ADD_FAILURE() << id << " is not finished";
    }
  }
  for (int s = 0; s < skus; ++s) {
    auto inv = w.inventory("sku" + std::to_string(s));
    int64_t held = 0;
    for (auto& kv : inv.reserved())
      held += kv.second;
    held_qty += held;
    available += inv.available();
    EXPECT_EQ(inv.available() + held, stock_per_sku) << "sku" << s;
  }
  std::printf("[ info ] confirmed %zu, cancelled %zu, money %lld, stock %lld\n", confirmed,
              cancelled, static_cast<long long>(confirmed_money),
              static_cast<long long>(confirmed_qty));
  EXPECT_EQ(confirmed + cancelled, n);
  EXPECT_GT(confirmed, 0u);
  EXPECT_GT(cancelled, 0u);
  EXPECT_EQ(kept_money, confirmed_money);
  EXPECT_EQ(held_qty, confirmed_qty);
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  EXPECT_TRUE(parked->empty());
  w.stop();
  EXPECT_EQ(w.side_keys("esr.saga/order_fulfilment/outbox/"), 0u);
}
