#include "fulfilment_saga.hpp"

#include "aggregates.hpp"

namespace order_payment {

namespace {

using ctx_t = fulfilment_saga::context;

/// The price is known: start with stock (or with the payment for express
/// orders).
void priced(ctx_t& ctx, std::chrono::milliseconds timeout);

void charge(ctx_t& ctx, std::chrono::milliseconds timeout) {
  auto& s = ctx.state();
  ChargePayment c;
  c.set_order_id(s.order_id());
  c.set_customer(s.customer());
  c.set_amount_cents(s.amount_due_cents());
  c.set_card(s.card());
  ctx.send("payment", s.order_id(), c);
  ctx.schedule("payment", timeout);
  s.set_phase("charging");
}

void reserve(ctx_t& ctx) {
  auto& s = ctx.state();
  ReserveStock r;
  r.set_sku(s.sku());
  r.set_order_id(s.order_id());
  r.set_quantity(s.quantity());
  ctx.send("inventory", s.sku(), r);
  s.set_phase("reserving");
}

void confirm(ctx_t& ctx) {
  auto& s = ctx.state();
  ConfirmOrder c;
  c.set_order_id(s.order_id());
  c.set_paid_cents(s.charged_cents());
  ctx.send("order", s.order_id(), c);
  s.set_phase("confirming");
}

void cancel(ctx_t& ctx, const std::string& reason) {
  auto& s = ctx.state();
  ctx.compensate();
  CancelOrder c;
  c.set_order_id(s.order_id());
  c.set_reason(reason);
  ctx.send("order", s.order_id(), c);
  s.set_phase("cancelling");
}

void priced(ctx_t& ctx, std::chrono::milliseconds timeout) {
  auto& s = ctx.state();
  ctx.note("customer owes " + money(s.amount_due_cents()));
  if (s.pay_first())
    charge(ctx, timeout);
  else
    reserve(ctx);
}

std::string by_order(const std::string& id) {
  return id;
}

} // namespace

std::shared_ptr<fulfilment_saga> make_fulfilment_saga(fulfilment_options opts) {
  auto t = std::make_shared<fulfilment_saga>("order_fulfilment");
  auto timeout = opts.payment_timeout;
  t->starts_with<OrderPlaced>(
    [](const OrderPlaced& e) { return by_order(e.order_id()); },
    [timeout](ctx_t& ctx, const OrderPlaced& e) {
      auto& s = ctx.state();
      s.set_order_id(e.order_id());
      s.set_customer(e.customer());
      s.set_sku(e.sku());
      s.set_quantity(e.quantity());
      s.set_total_cents(e.total_cents());
      s.set_amount_due_cents(e.total_cents());
      s.set_card(e.card());
      s.set_pay_first(e.pay_first());
      if (e.discount_code().empty())
        priced(ctx, timeout);
      else
        s.set_phase("awaiting discount");
    });
  t->on<DiscountApplied>(
    [](const DiscountApplied& e) { return by_order(e.order_id()); },
    [timeout](ctx_t& ctx, const DiscountApplied& e) {
      auto& s = ctx.state();
      s.set_discount_cents(s.discount_cents() + e.amount_cents());
      s.set_amount_due_cents(s.amount_due_cents() - e.amount_cents());
      ctx.note("discount " + e.code() + ": " + money(e.amount_cents()) + " off");
      priced(ctx, timeout);
    });
  t->on<StockReserved>(
    [](const StockReserved& e) { return by_order(e.order_id()); },
    [timeout](ctx_t& ctx, const StockReserved&) {
      auto& s = ctx.state();
      s.set_stock_reserved(true);
      ctx.done("stock");
      if (s.charged())
        confirm(ctx);
      else
        charge(ctx, timeout);
    });
  t->on<StockReservationFailed>(
    [](const StockReservationFailed& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const StockReservationFailed& e) {
      ctx.note("out of stock: wanted " + std::to_string(e.quantity()) + ", "
               + std::to_string(e.available()) + " available");
      ctx.cancel("payment");
      cancel(ctx, "out of stock");
    });
  t->on<PaymentCharged>(
    [](const PaymentCharged& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const PaymentCharged& e) {
      auto& s = ctx.state();
      ctx.cancel("payment");
      ctx.done("payment");
      s.set_charged(true);
      s.set_charged_cents(e.amount_cents());
      s.set_amount_due_cents(s.amount_due_cents() - e.amount_cents());
      ctx.note("charged " + money(e.amount_cents()) + ", customer owes "
               + money(s.amount_due_cents()));
      if (s.stock_reserved())
        confirm(ctx);
      else
        reserve(ctx);
    });
  t->on<PaymentDeclined>(
    [](const PaymentDeclined& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const PaymentDeclined& e) {
      ctx.cancel("payment");
      ctx.note("payment declined: " + e.reason());
      cancel(ctx, "payment declined");
    });
  t->on<PaymentAuthorizationRequested>(
    [](const PaymentAuthorizationRequested& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const PaymentAuthorizationRequested&) {
      ctx.note("waiting for the customer's 3-D Secure authorization");
    });
  t->on_timeout("payment", [](ctx_t& ctx) {
    auto& s = ctx.state();
    ctx.note("no payment received in time");
    VoidPayment v;
    v.set_order_id(s.order_id());
    ctx.send("payment", s.order_id(), v);
    cancel(ctx, "payment timeout");
  });
  t->on<OrderConfirmed>(
    [](const OrderConfirmed& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const OrderConfirmed&) {
      auto& s = ctx.state();
      s.set_phase("done");
      ctx.note("order confirmed; customer owes " + money(s.amount_due_cents()));
      ctx.complete("confirmed");
    });
  t->on<OrderCancelled>(
    [](const OrderCancelled& e) { return by_order(e.order_id()); },
    [](ctx_t& ctx, const OrderCancelled& e) {
      ctx.state().set_phase("done");
      ctx.complete("cancelled (" + e.reason() + ")");
    });
  t->compensation("stock", [](ctx_t& ctx) {
    auto& s = ctx.state();
    ReleaseStock r;
    r.set_sku(s.sku());
    r.set_order_id(s.order_id());
    ctx.send("inventory", s.sku(), r);
    s.set_stock_reserved(false);
  });
  t->compensation("payment", [](ctx_t& ctx) {
    auto& s = ctx.state();
    RefundPayment r;
    r.set_order_id(s.order_id());
    ctx.send("payment", s.order_id(), r);
    ctx.note("refunding " + money(s.charged_cents()));
    s.set_charged(false);
  });
  t->command<ReserveStock, inventory_command>();
  t->command<ReleaseStock, inventory_command>();
  t->command<ChargePayment, payment_command>();
  t->command<RefundPayment, payment_command>();
  t->command<VoidPayment, payment_command>();
  t->command<ConfirmOrder, order_command>();
  t->command<CancelOrder, order_command>();
  t->describe([](const FulfilmentState& s) {
    std::string r = "phase=" + s.phase() + " due=" + money(s.amount_due_cents());
    r += s.stock_reserved() ? " stock=held" : " stock=none";
    r += s.charged() ? " paid=" + money(s.charged_cents()) : std::string{" paid=no"};
    return r;
  });
  t->unknown_instances(esr::sagas::unknown_instance_policy::ignore);
  return t;
}

} // namespace order_payment
