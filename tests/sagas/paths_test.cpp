// The order-fulfilment saga's paths, end to end on a LevelDB journal: every
// outcome is checked on the aggregates (exactly one effect each) and on the
// saga's own records (outcome, no outbox or timer left).

#include <thread>

#include <gtest/gtest.h>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace order_payment;
using namespace esr::sagas_test;

namespace {

const std::string outbox_prefix = "esr.saga/order_fulfilment/outbox/";
const std::string timer_prefix = "esr.saga/order_fulfilment/timer/";

bool has_note(world& w, const std::string& instance, const std::string& text) {
  for (auto& n : w.notes())
    if (n.instance == instance && n.text.find(text) != std::string::npos)
      return true;
  return false;
}

class paths : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = temp_dir("paths");
    world_options o;
    o.payment_timeout = 300ms;
    w_ = std::make_unique<world>(dir_, o);
    w_->add_stock("headphones", 5);
    w_->add_stock("turntable", 1);
  }

  /// Stops the world and checks nothing is left in the outbox or timers.
  void expect_clean() {
    ASSERT_FALSE(w_->saga().wait_idle(10s));
    w_->stop();
    EXPECT_EQ(w_->side_keys(outbox_prefix), 0u);
    EXPECT_EQ(w_->side_keys(timer_prefix), 0u);
  }

  std::string dir_;
  std::unique_ptr<world> w_;
};

} // namespace

TEST_F(paths, happy_path_seed_000_customer_owes_150_then_0) {
  ASSERT_TRUE(w_->place(make_order("o1", "headphones", 1, 20000, card_ok, false, "SPRING50", 5000)));
  auto info = w_->wait_completed("o1", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "confirmed");
  EXPECT_TRUE(has_note(*w_, "o1", "customer owes $150.00"));
  EXPECT_TRUE(has_note(*w_, "o1", "order confirmed; customer owes $0.00"));
  auto o = w_->order("o1");
  EXPECT_EQ(o.status(), OrderState::CONFIRMED);
  EXPECT_EQ(o.discount_cents(), 5000);
  EXPECT_EQ(o.paid_cents(), 15000);
  EXPECT_EQ(w_->payment("o1").charged_cents(), 15000);
  auto inv = w_->inventory("headphones");
  EXPECT_EQ(inv.available(), 4);
  EXPECT_EQ(inv.reserved().at("o1"), 1);
  EXPECT_EQ(w_->count("inventory-headphones", "StockReserved"), 1u);
  EXPECT_EQ(w_->count("payment-o1", "PaymentCharged"), 1u);
  EXPECT_EQ(w_->count("order-o1", "OrderConfirmed"), 1u);
  EXPECT_EQ(w_->count("saga.order_fulfilment.timers-o1"), 0u); // Cancelled, never fired.
  expect_clean();
}

TEST_F(paths, payment_declined_releases_stock_and_cancels_the_order) {
  ASSERT_TRUE(w_->place(make_order("o2", "headphones", 2, 40000, card_declined)));
  auto info = w_->wait_completed("o2", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "cancelled (payment declined)");
  EXPECT_EQ(w_->order("o2").status(), OrderState::CANCELLED);
  EXPECT_EQ(w_->payment("o2").status(), PaymentState::DECLINED);
  auto inv = w_->inventory("headphones");
  EXPECT_EQ(inv.available(), 5);
  EXPECT_EQ(inv.reserved().count("o2"), 0u);
  EXPECT_EQ(w_->count("inventory-headphones", "StockReserved"), 1u);
  EXPECT_EQ(w_->count("inventory-headphones", "StockReleased"), 1u);
  EXPECT_EQ(w_->count("order-o2", "OrderCancelled"), 1u);
  expect_clean();
}

TEST_F(paths, out_of_stock_cancels_the_order_without_charging) {
  ASSERT_TRUE(w_->place(make_order("o3", "turntable", 3, 90000, card_ok)));
  auto info = w_->wait_completed("o3", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "cancelled (out of stock)");
  EXPECT_EQ(w_->order("o3").status(), OrderState::CANCELLED);
  EXPECT_EQ(w_->order("o3").reason(), "out of stock");
  EXPECT_EQ(w_->count("payment-o3"), 0u);
  EXPECT_EQ(w_->inventory("turntable").available(), 1);
  expect_clean();
}

TEST_F(paths, out_of_stock_after_an_express_charge_refunds_then_cancels) {
  ASSERT_TRUE(w_->place(make_order("o4", "turntable", 3, 90000, card_ok, true)));
  auto info = w_->wait_completed("o4", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "cancelled (out of stock)");
  auto p = w_->payment("o4");
  EXPECT_EQ(p.status(), PaymentState::REFUNDED);
  EXPECT_EQ(p.charged_cents(), 90000);
  EXPECT_EQ(p.refunded_cents(), 90000);
  EXPECT_EQ(w_->count("payment-o4", "PaymentRefunded"), 1u);
  EXPECT_EQ(w_->order("o4").status(), OrderState::CANCELLED);
  expect_clean();
}

TEST_F(paths, payment_timeout_voids_releases_and_cancels) {
  ASSERT_TRUE(w_->place(make_order("o5", "headphones", 1, 20000, card_3ds)));
  auto info = w_->wait_completed("o5", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "cancelled (payment timeout)");
  EXPECT_EQ(w_->payment("o5").status(), PaymentState::VOIDED);
  EXPECT_EQ(w_->inventory("headphones").available(), 5);
  EXPECT_EQ(w_->count("saga.order_fulfilment.timers-o5"), 1u);
  EXPECT_EQ(w_->count("order-o5", "OrderCancelled"), 1u);
  expect_clean();
}

TEST_F(paths, a_placed_order_placed_again_starts_no_second_saga) {
  ASSERT_TRUE(w_->place(make_order("o6", "headphones", 1, 20000, card_ok)));
  ASSERT_TRUE(w_->wait_completed("o6", 10s));
  ASSERT_TRUE(w_->place(make_order("o6", "headphones", 1, 20000, card_ok)));
  ASSERT_FALSE(w_->saga().wait_idle(10s));
  EXPECT_EQ(w_->count("order-o6", "OrderPlaced"), 1u);
  EXPECT_EQ(w_->count("payment-o6", "PaymentCharged"), 1u);
  expect_clean();
}

TEST(durable_timeouts, a_timeout_stored_before_a_stop_fires_after_the_restart) {
  auto dir = temp_dir("timeout-restart");
  world_options o;
  o.payment_timeout = 600ms;
  {
    world a{dir, o};
    a.add_stock("headphones", 1);
    ASSERT_TRUE(a.place(make_order("t1", "headphones", 1, 20000, card_3ds)));
    // Wait until the saga armed the payment timeout, then stop before it fires.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      auto info = a.saga().instance("t1");
      ASSERT_TRUE(info);
      if (*info && !(*info)->timers.empty())
        break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(a.side_keys(timer_prefix), 1u);
  }
  std::this_thread::sleep_for(700ms); // The deadline passes while nothing runs.
  world b{dir, o};
  auto info = b.wait_completed("t1", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "cancelled (payment timeout)");
  EXPECT_EQ(b.count("saga.order_fulfilment.timers-t1"), 1u);
  EXPECT_EQ(b.payment("t1").status(), PaymentState::VOIDED);
  EXPECT_EQ(b.inventory("headphones").available(), 1);
  ASSERT_FALSE(b.saga().wait_idle(10s));
  b.stop();
  EXPECT_EQ(b.side_keys(timer_prefix), 0u);
}

TEST(durable_timeouts, a_timeout_is_cancelled_when_the_awaited_event_arrives) {
  auto dir = temp_dir("timeout-cancel");
  world_options o;
  o.payment_timeout = 200ms;
  world w{dir, o};
  w.add_stock("headphones", 1);
  ASSERT_TRUE(w.place(make_order("t2", "headphones", 1, 20000, card_ok)));
  auto info = w.wait_completed("t2", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "confirmed");
  std::this_thread::sleep_for(400ms); // Past the deadline: nothing fires.
  EXPECT_EQ(w.count("saga.order_fulfilment.timers-t2"), 0u);
  EXPECT_EQ(w.side_keys(timer_prefix), 0u);
  bool cancelled = false;
  for (auto& n : w.notes())
    cancelled = cancelled || (n.instance == "t2" && n.text == "timeout 'payment' cancelled");
  EXPECT_TRUE(cancelled);
}
