// Redelivered events are never handled twice in effect: with its checkpoint
// lost, a restarted saga reads the whole log again, recognises every event
// as handled (each instance records the highest position it handled) and
// neither records a step nor sends a command.

#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace order_payment;
using namespace esr::sagas_test;

TEST(redelivery, a_saga_that_lost_its_checkpoint_handles_nothing_twice) {
  auto dir = temp_dir("redelivery");
  {
    world a{dir};
    a.add_stock("headphones", 3);
    ASSERT_TRUE(a.place(make_order("r1", "headphones", 1, 20000, card_ok, false, "SPRING50", 5000)));
    ASSERT_TRUE(a.place(make_order("r2", "headphones", 1, 20000, card_declined)));
    ASSERT_TRUE(a.wait_completed("r1", 10s));
    ASSERT_TRUE(a.wait_completed("r2", 10s));
    ASSERT_FALSE(a.saga().wait_idle(10s));
    a.stop();
    // Forget the checkpoint.
    auto sw = esr::runtime::bus::checkpoint_side_write("saga.order_fulfilment", 0);
    sw.value = std::nullopt;
    esr::persistence::atomic_write w;
    w.persistence_id = "test";
    w.side_writes.push_back(std::move(sw));
    ASSERT_TRUE(a.store().events->write(std::move(w)));
  }
  world b{dir};
  ASSERT_FALSE(b.saga().wait_idle(10s));
  auto st = b.saga().stats();
  EXPECT_GE(st.skipped, 9u); // Every event the two sagas handled.
  EXPECT_EQ(st.steps, 0u);
  EXPECT_EQ(st.commands_sent, 0u);
  EXPECT_EQ(b.count("saga.order_fulfilment-r1"), 5u);
  EXPECT_EQ(b.count("saga.order_fulfilment-r2"), 4u);
  EXPECT_EQ(b.count("payment-r1", "PaymentCharged"), 1u);
  EXPECT_EQ(b.count("inventory-headphones", "StockReleased"), 1u);
}

namespace {

/// Options of a world whose commands time out after 100 ms, with a fault
/// injector in front of the journal.
world_options quick_timeouts() {
  world_options wo;
  wo.faulty_journal = true;
  wo.saga_opts.command_timeout = std::chrono::milliseconds{100};
  return wo;
}

/// Stocks headphones in `w` and holds the inventory's writes (so its
/// answers) until released.
void stock_and_hold_inventory(world& w) {
  w.add_stock("headphones", 3);
  w.faulty().hold_writes("inventory-");
}

} // namespace

// A command whose answer does not arrive within saga_options::command_timeout
// is sent again with the same command id; the aggregate applies it once (the
// second delivery is deduplicated) and the saga completes.
TEST(redelivery, a_command_answered_too_late_is_resent_and_applied_once) {
  auto dir = temp_dir("late-answer");
  world a{dir, quick_timeouts()};
  stock_and_hold_inventory(a);
  ASSERT_TRUE(a.place(make_order("late1", "headphones", 1, 20000, card_ok)));
  auto timed_out = [&] {
    for (auto& n : a.notes())
      if (n.text.find("timeout") != std::string::npos && n.text.find("retrying") != std::string::npos)
        return true;
    return false;
  };
  for (int i = 0; i < 200 && !timed_out(); ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(timed_out()) << "the unanswered ReserveStock was not timed out";
  a.faulty().release_writes();
  auto info = a.wait_completed("late1", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(a.count("inventory-headphones", "StockReserved"), 1u);
  EXPECT_EQ(a.count("payment-late1", "PaymentCharged"), 1u);
  EXPECT_EQ(a.order("late1").status(), order_payment::OrderState::CONFIRMED)
    << a.order("late1").DebugString();
}

// The saga writes a step batch while it handles the next one (pipelined).
// If that write fails, what was handled after it is discarded and the batch
// is handled again from the journal's state: the saga completes, and each
// effect happens once, as for an order whose writes all succeed.
TEST(redelivery, a_step_batch_whose_write_failed_is_handled_again) {
  auto dir = temp_dir("failed-step");
  world_options wo;
  wo.faulty_journal = true;
  world a{dir, wo};
  a.add_stock("headphones", 4);
  ASSERT_TRUE(a.place(make_order("ok1", "headphones", 1, 20000, card_ok)));
  ASSERT_TRUE(a.wait_completed("ok1", 10s));
  a.faulty().fail_next_write(esr::persistence::errc::io_error, false,
                             "saga.order_fulfilment-f1");
  ASSERT_TRUE(a.place(make_order("f1", "headphones", 1, 20000, card_ok)));
  auto info = a.wait_completed("f1", 10s);
  ASSERT_TRUE(info) << "the saga did not complete after its failed write";
  EXPECT_FALSE(a.faulty().fault_pending()) << "no saga write failed";
  EXPECT_EQ(a.count("saga.order_fulfilment-f1"), a.count("saga.order_fulfilment-ok1"));
  EXPECT_EQ(a.count("payment-f1", "PaymentCharged"), 1u);
  EXPECT_EQ(a.count("order-f1", "OrderConfirmed"), 1u);
  EXPECT_EQ(a.count("inventory-headphones", "StockReserved"), 2u);
}

// A step's commands travel in its step event; the saga's outbox-done
// position says up to where all of them were answered. A command that keeps
// failing is written to an outbox key before it is retried, so it no longer
// holds that position back, and after a restart it is re-sent from that key:
// applied once, and the key is deleted once answered.
TEST(redelivery, a_command_still_failing_at_shutdown_is_resent_from_its_outbox_key) {
  auto dir = temp_dir("spilled");
  const std::string outbox = "esr.saga/order_fulfilment/outbox/";
  {
    world a{dir, quick_timeouts()};
    stock_and_hold_inventory(a);
    ASSERT_TRUE(a.place(make_order("s1", "headphones", 1, 20000, card_ok)));
    for (int i = 0; i < 300 && a.side_keys(outbox) == 0; ++i)
      std::this_thread::sleep_for(10ms);
    ASSERT_EQ(a.side_keys(outbox), 1u) << "the failing ReserveStock was not kept";
    // Its step no longer holds the outbox-done position back.
    auto step = a.store().events->read_stream("saga.order_fulfilment-s1");
    ASSERT_TRUE(step && !step->empty());
    std::optional<std::string> done;
    for (int i = 0; i < 300; ++i) {
      auto d = a.store().events->get_side(outbox.substr(0, outbox.size() - 1) + "-done");
      ASSERT_TRUE(d);
      done = *d;
      if (done && std::stoull(*done) >= step->front().global_position)
        break;
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(done);
    EXPECT_GE(std::stoull(*done), step->front().global_position);
    a.saga().stop(); // the command is still unanswered
    a.faulty().release_writes();
    a.stop();
  }
  world b{dir};
  auto info = b.wait_completed("s1", 10s);
  ASSERT_TRUE(info) << "the kept command was not sent again";
  EXPECT_EQ(b.count("inventory-headphones", "StockReserved"), 1u);
  EXPECT_EQ(b.count("payment-s1", "PaymentCharged"), 1u);
  ASSERT_FALSE(b.saga().wait_idle(10s));
  for (int i = 0; i < 300 && b.side_keys(outbox) != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(b.side_keys(outbox), 0u) << "the answered command's key was not deleted";
}
