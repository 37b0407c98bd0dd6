// Dead letters (a handler that keeps failing: retries, parking, a stuck
// instance, listing and replay) and the policy for events of unknown
// instances.

#include <atomic>
#include <stdexcept>

#include <gtest/gtest.h>

#include "esr/sagas/error.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace order_payment;
using namespace esr::sagas_test;
namespace sg = esr::sagas;

namespace {

std::atomic<bool> fail_discounts{false};
std::atomic<int> discount_calls{0};

/// An audit saga: starts on OrderPlaced, records discounts (failing while
/// fail_discounts is set), ends on OrderConfirmed; watches payments too.
std::shared_ptr<sg::saga_type<FulfilmentState>> make_audit(sg::unknown_instance_policy p) {
  auto t = std::make_shared<sg::saga_type<FulfilmentState>>("audit");
  using ctx_t = sg::saga_type<FulfilmentState>::context;
  t->starts_with<OrderPlaced>([](const OrderPlaced& e) { return e.order_id(); },
                              [](ctx_t& ctx, const OrderPlaced& e) {
                                ctx.state().set_order_id(e.order_id());
                                ctx.state().set_total_cents(e.total_cents());
                              });
  t->on<DiscountApplied>([](const DiscountApplied& e) { return e.order_id(); },
                         [](ctx_t& ctx, const DiscountApplied& e) {
                           ++discount_calls;
                           if (fail_discounts)
                             throw std::runtime_error("boom: discount service down");
                           auto& s = ctx.state();
                           s.set_discount_cents(s.discount_cents() + e.amount_cents());
                         });
  t->on<OrderConfirmed>([](const OrderConfirmed& e) { return e.order_id(); },
                        [](ctx_t& ctx, const OrderConfirmed&) { ctx.complete("audited"); });
  t->on<PaymentCharged>([](const PaymentCharged& e) { return e.order_id(); },
                        [](ctx_t& ctx, const PaymentCharged& e) {
                          ctx.state().set_charged_cents(e.amount_cents());
                        });
  t->unknown_instances(p);
  return t;
}

world_options audit_world(sg::unknown_instance_policy p) {
  world_options o;
  o.saga = make_audit(p);
  o.saga_opts.handler_attempts = 3;
  o.saga_opts.handler_backoff = 1ms;
  return o;
}

/// Places order `id` with a discount that the audit saga fails to handle
/// (fail_discounts is set, discount_calls reset): the instance is stuck.
void place_stuck(world& w, const std::string& id) {
  fail_discounts = true;
  discount_calls = 0;
  ASSERT_TRUE(w.place(make_order(id, "x", 1, 20000, card_ok, false, "SPRING50", 5000)));
  ASSERT_FALSE(w.saga().wait_idle(10s));
  EXPECT_EQ(discount_calls.load(), 3); // handler_attempts
}

void confirm(world& w, const std::string& id) {
  ConfirmOrder c;
  c.set_order_id(id);
  c.set_paid_cents(1);
  ASSERT_TRUE(w.client().call<OrderState>("order", id, order_command{c}));
}

} // namespace

TEST(dead_letters, a_failing_handler_is_retried_then_parked_and_the_instance_is_stuck) {
  auto dir = temp_dir("dlq");
  {
    world w{dir, audit_world(sg::unknown_instance_policy::ignore)};
    ASSERT_NO_FATAL_FAILURE(place_stuck(w, "d1"));
    confirm(w, "d1");                    // Arrives while stuck: parked too, in order.
    ASSERT_FALSE(w.saga().wait_idle(10s));
    auto info = w.saga().instance("d1");
    ASSERT_TRUE(info && *info);
    EXPECT_TRUE((*info)->stuck);
    EXPECT_FALSE((*info)->completed);
    auto parked = w.saga().parked();
    ASSERT_TRUE(parked);
    ASSERT_EQ(parked->size(), 2u);
    EXPECT_EQ((*parked)[0].event_type, "order_payment.DiscountApplied");
    EXPECT_NE((*parked)[0].error.find("boom"), std::string::npos);
    EXPECT_EQ((*parked)[0].attempts, 3u);
    EXPECT_EQ((*parked)[1].event_type, "order_payment.OrderConfirmed");
    EXPECT_EQ((*parked)[1].error, "instance is stuck");
    EXPECT_EQ(w.count("saga.audit.dlq-d1"), 2u); // The dead-letter stream.
  }
  // After a restart the parked events are still listed; replay them.
  fail_discounts = false;
  world w{dir, audit_world(sg::unknown_instance_policy::ignore)};
  ASSERT_FALSE(w.saga().wait_idle(10s));
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  EXPECT_EQ(parked->size(), 2u);
  EXPECT_EQ(discount_calls.load(), 3); // Not handled again by the restart.
  ASSERT_FALSE(w.saga().replay_parked("d1"));
  auto info = w.wait_completed("d1", 10s);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->outcome, "audited");
  EXPECT_FALSE(info->stuck);
  parked = w.saga().parked();
  ASSERT_TRUE(parked);
  EXPECT_TRUE(parked->empty());
  auto st = w.saga().state_of("d1");
  ASSERT_TRUE(st && *st);
  EXPECT_EQ(std::any_cast<FulfilmentState>(**st).discount_cents(), 5000);
  EXPECT_TRUE(sg::is(w.saga().replay_parked("d1"), sg::errc::not_found));
}

// After a restart the saga looks an instance up again when its next event
// arrives; the instance's parked events (found at start) keep it stuck.
TEST(dead_letters, a_stuck_instance_stays_stuck_after_a_restart) {
  auto dir = temp_dir("dlq-restart");
  {
    world w{dir, audit_world(sg::unknown_instance_policy::ignore)};
    ASSERT_NO_FATAL_FAILURE(place_stuck(w, "d2"));
  }
  fail_discounts = false;
  world w{dir, audit_world(sg::unknown_instance_policy::ignore)};
  ASSERT_FALSE(w.saga().wait_idle(10s));
  confirm(w, "d2");
  ASSERT_FALSE(w.saga().wait_idle(10s));
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  ASSERT_EQ(parked->size(), 2u) << "the event after the restart was handled, not parked";
  EXPECT_EQ((*parked)[1].event_type, "order_payment.OrderConfirmed");
  EXPECT_EQ((*parked)[1].error, "instance is stuck");
  EXPECT_EQ(discount_calls.load(), 3);
  auto info = w.saga().instance("d2");
  ASSERT_TRUE(info && *info);
  EXPECT_TRUE((*info)->stuck);
  EXPECT_FALSE((*info)->completed);
}

TEST(unknown_instances, are_ignored_with_a_note_under_the_ignore_policy) {
  auto dir = temp_dir("unknown-ignore");
  world w{dir, audit_world(sg::unknown_instance_policy::ignore)};
  ChargePayment c;
  c.set_order_id("ghost");
  c.set_amount_cents(100);
  c.set_card(card_ok);
  ASSERT_TRUE(w.client().call<PaymentState>("payment", "ghost", payment_command{c}));
  ASSERT_FALSE(w.saga().wait_idle(10s));
  bool noted = false;
  for (auto& n : w.notes())
    noted = noted
            || (n.what == sg::saga_note::kind::ignored
                && n.text.find("no saga instance 'ghost'") != std::string::npos);
  EXPECT_TRUE(noted);
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  EXPECT_TRUE(parked->empty());
  auto info = w.saga().instance("ghost");
  ASSERT_TRUE(info);
  EXPECT_FALSE(*info);
}

TEST(unknown_instances, are_parked_under_the_park_policy) {
  auto dir = temp_dir("unknown-park");
  world w{dir, audit_world(sg::unknown_instance_policy::park)};
  ChargePayment c;
  c.set_order_id("ghost");
  c.set_amount_cents(100);
  c.set_card(card_ok);
  ASSERT_TRUE(w.client().call<PaymentState>("payment", "ghost", payment_command{c}));
  ASSERT_FALSE(w.saga().wait_idle(10s));
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ((*parked)[0].instance, "ghost");
  EXPECT_EQ((*parked)[0].event_type, "order_payment.PaymentCharged");
  EXPECT_NE((*parked)[0].error.find("unknown_instance"), std::string::npos);
}

TEST(dead_letters, a_command_without_declaration_fails_the_step_and_parks_the_event) {
  auto t = std::make_shared<sg::saga_type<FulfilmentState>>("undeclared");
  t->starts_with<OrderPlaced>([](const OrderPlaced& e) { return e.order_id(); },
                              [](sg::saga_type<FulfilmentState>::context& ctx,
                                 const OrderPlaced& e) {
                                ReserveStock r; // Never declared with command<>().
                                r.set_order_id(e.order_id());
                                ctx.send("inventory", "x", r);
                              });
  world_options o;
  o.saga = t;
  o.saga_opts.handler_attempts = 2;
  o.saga_opts.handler_backoff = 1ms;
  world w{temp_dir("undeclared"), o};
  ASSERT_TRUE(w.place(make_order("u1", "x", 1, 100, card_ok)));
  ASSERT_FALSE(w.saga().wait_idle(10s));
  auto parked = w.saga().parked();
  ASSERT_TRUE(parked);
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_NE((*parked)[0].error.find("unknown_command"), std::string::npos);
  EXPECT_EQ((*parked)[0].attempts, 2u);
  EXPECT_EQ(w.count("inventory-x"), 0u); // Nothing was sent.
}

TEST(saga_runtime, refuses_a_saga_name_with_a_dash) {
  auto t = std::make_shared<sg::saga_type<FulfilmentState>>("bad-name");
  world_options o;
  o.start_saga = false;
  world w{temp_dir("badname"), o};
  auto rt = sg::saga_runtime::start(w.system(), w.bus(), w.registry(), t);
  ASSERT_FALSE(rt);
  EXPECT_TRUE(sg::is(rt.error(), sg::errc::invalid_argument));
}
