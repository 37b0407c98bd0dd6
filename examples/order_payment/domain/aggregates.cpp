#include "aggregates.hpp"

#include <cstdio>
#include <optional>

namespace order_payment {

namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

OrderState reply_order(const OrderState& s) {
  return s;
}

} // namespace

std::string money(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s$%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>((cents < 0 ? -cents : cents) / 100),
                static_cast<long long>((cents < 0 ? -cents : cents) % 100));
  return buf;
}

std::shared_ptr<order_type> make_order_type() {
  auto t = std::make_shared<order_type>("order");
  using effect = order_type::effect;
  t->on_command([](const OrderState& s, const order_command& c) -> effect {
    return std::visit(
      overloaded{
        [&](const PlaceOrder& p) -> effect {
          if (s.status() != OrderState::NONE)
            return effect::reply(s); // Placed before.
          if (p.quantity() <= 0 || p.total_cents() <= 0)
            return effect::reject("an order needs a quantity and a total");
          OrderPlaced e;
          e.set_order_id(p.order_id());
          e.set_customer(p.customer());
          e.set_sku(p.sku());
          e.set_quantity(p.quantity());
          e.set_total_cents(p.total_cents());
          e.set_card(p.card());
          e.set_pay_first(p.pay_first());
          if (p.discount_code().empty() || p.discount_cents() <= 0)
            return effect::persist(e).then_reply(reply_order);
          e.set_discount_code(p.discount_code());
          DiscountApplied d;
          d.set_order_id(p.order_id());
          d.set_code(p.discount_code());
          d.set_amount_cents(p.discount_cents());
          return effect::persist(e, d).then_reply(reply_order);
        },
        [&](const ConfirmOrder& c) -> effect {
          if (s.status() == OrderState::CONFIRMED)
            return effect::reply(s);
          if (s.status() != OrderState::PLACED)
            return effect::reject("order " + c.order_id() + " is not open");
          OrderConfirmed e;
          e.set_order_id(c.order_id());
          e.set_paid_cents(c.paid_cents());
          return effect::persist(e).then_reply(reply_order);
        },
        [&](const CancelOrder& c) -> effect {
          if (s.status() == OrderState::CANCELLED)
            return effect::reply(s);
          if (s.status() == OrderState::CONFIRMED)
            return effect::reject("order " + c.order_id() + " is confirmed");
          OrderCancelled e;
          e.set_order_id(c.order_id());
          e.set_reason(c.reason());
          return effect::persist(e).then_reply(reply_order);
        }},
      c);
  });
  t->on_event<OrderPlaced>([](OrderState& s, const OrderPlaced& e) {
    s.set_order_id(e.order_id());
    s.set_status(OrderState::PLACED);
    s.set_customer(e.customer());
    s.set_sku(e.sku());
    s.set_quantity(e.quantity());
    s.set_total_cents(e.total_cents());
  });
  t->on_event<DiscountApplied>([](OrderState& s, const DiscountApplied& e) {
    s.set_discount_cents(s.discount_cents() + e.amount_cents());
  });
  t->on_event<OrderConfirmed>([](OrderState& s, const OrderConfirmed& e) {
    s.set_status(OrderState::CONFIRMED);
    s.set_paid_cents(e.paid_cents());
  });
  t->on_event<OrderCancelled>([](OrderState& s, const OrderCancelled& e) {
    s.set_status(OrderState::CANCELLED);
    s.set_reason(e.reason());
  });
  return t;
}

std::shared_ptr<inventory_type> make_inventory_type() {
  auto t = std::make_shared<inventory_type>("inventory");
  using effect = inventory_type::effect;
  auto reply = [](const InventoryState& s) {
    StockLevel l;
    l.set_sku(s.sku());
    l.set_available(s.available());
    l.set_orders_holding(static_cast<int32_t>(s.reserved_size()));
    return l;
  };
  t->on_command([reply](const InventoryState& s, const inventory_command& c) -> effect {
    return std::visit(
      overloaded{
        [&](const AddStock& a) -> effect {
          if (a.quantity() <= 0)
            return effect::reject("stock to add must be positive");
          StockAdded e;
          e.set_sku(a.sku());
          e.set_quantity(a.quantity());
          return effect::persist(e).then_reply(reply);
        },
        [&](const ReserveStock& r) -> effect {
          if (s.reserved().count(r.order_id()) > 0)
            return effect::reply(reply(s)); // Held for this order already.
          for (auto& o : s.refused())
            if (o == r.order_id())
              return effect::reply(reply(s)); // Refused already.
          if (s.available() < r.quantity()) {
            StockReservationFailed e;
            e.set_sku(r.sku());
            e.set_order_id(r.order_id());
            e.set_quantity(r.quantity());
            e.set_available(s.available());
            return effect::persist(e).then_reply(reply);
          }
          StockReserved e;
          e.set_sku(r.sku());
          e.set_order_id(r.order_id());
          e.set_quantity(r.quantity());
          return effect::persist(e).then_reply(reply);
        },
        [&](const ReleaseStock& r) -> effect {
          auto i = s.reserved().find(r.order_id());
          if (i == s.reserved().end())
            return effect::reply(reply(s)); // Nothing held (released before).
          StockReleased e;
          e.set_sku(r.sku());
          e.set_order_id(r.order_id());
          e.set_quantity(i->second);
          return effect::persist(e).then_reply(reply);
        }},
      c);
  });
  t->on_event<StockAdded>([](InventoryState& s, const StockAdded& e) {
    s.set_sku(e.sku());
    s.set_available(s.available() + e.quantity());
  });
  t->on_event<StockReserved>([](InventoryState& s, const StockReserved& e) {
    s.set_available(s.available() - e.quantity());
    (*s.mutable_reserved())[e.order_id()] = e.quantity();
  });
  t->on_event<StockReservationFailed>([](InventoryState& s, const StockReservationFailed& e) {
    s.add_refused(e.order_id());
  });
  t->on_event<StockReleased>([](InventoryState& s, const StockReleased& e) {
    s.set_available(s.available() + e.quantity());
    s.mutable_reserved()->erase(e.order_id());
  });
  return t;
}

std::shared_ptr<payment_type> make_payment_type() {
  auto t = std::make_shared<payment_type>("payment");
  using effect = payment_type::effect;
  auto reply = [](const PaymentState& s) { return s; };
  t->on_command([reply](const PaymentState& s, const payment_command& c) -> effect {
    return std::visit(
      overloaded{
        [&](const ChargePayment& p) -> effect {
          if (s.status() != PaymentState::NONE)
            return effect::reply(s); // Decided before.
          if (p.card() == card_declined) {
            PaymentDeclined e;
            e.set_order_id(p.order_id());
            e.set_amount_cents(p.amount_cents());
            e.set_reason("card declined: insufficient funds");
            return effect::persist(e).then_reply(reply);
          }
          if (p.card() == card_3ds) {
            PaymentAuthorizationRequested e;
            e.set_order_id(p.order_id());
            e.set_amount_cents(p.amount_cents());
            return effect::persist(e).then_reply(reply);
          }
          PaymentCharged e;
          e.set_order_id(p.order_id());
          e.set_customer(p.customer());
          e.set_amount_cents(p.amount_cents());
          return effect::persist(e).then_reply(reply);
        },
        [&](const RefundPayment& r) -> effect {
          if (s.status() != PaymentState::CHARGED)
            return effect::reply(s);
          PaymentRefunded e;
          e.set_order_id(r.order_id());
          e.set_amount_cents(s.charged_cents());
          return effect::persist(e).then_reply(reply);
        },
        [&](const VoidPayment& v) -> effect {
          if (s.status() != PaymentState::AWAITING_AUTHORIZATION)
            return effect::reply(s);
          PaymentVoided e;
          e.set_order_id(v.order_id());
          return effect::persist(e).then_reply(reply);
        }},
      c);
  });
  t->on_event<PaymentCharged>([](PaymentState& s, const PaymentCharged& e) {
    s.set_order_id(e.order_id());
    s.set_status(PaymentState::CHARGED);
    s.set_charged_cents(e.amount_cents());
  });
  t->on_event<PaymentDeclined>([](PaymentState& s, const PaymentDeclined& e) {
    s.set_order_id(e.order_id());
    s.set_status(PaymentState::DECLINED);
  });
  t->on_event<PaymentAuthorizationRequested>(
    [](PaymentState& s, const PaymentAuthorizationRequested& e) {
      s.set_order_id(e.order_id());
      s.set_status(PaymentState::AWAITING_AUTHORIZATION);
    });
  t->on_event<PaymentRefunded>([](PaymentState& s, const PaymentRefunded& e) {
    s.set_status(PaymentState::REFUNDED);
    s.set_refunded_cents(s.refunded_cents() + e.amount_cents());
  });
  t->on_event<PaymentVoided>([](PaymentState& s, const PaymentVoided&) {
    s.set_status(PaymentState::VOIDED);
  });
  return t;
}

} // namespace order_payment
