#include "aggregates.hpp"

#include <cstdio>

namespace shop {

std::string dollars(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "$%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return buf;
}

namespace {

/// The reply: nothing but "done" (the client gets the version with it).
template <class State>
reply done(const State&) {
  return 0;
}

} // namespace

std::shared_ptr<user_type> make_user_type() {
  using effect = user_type::effect;
  auto t = std::make_shared<user_type>("user");
  t->on_command([](const User& s, const user_command& c) -> effect {
    auto& x = std::get<register_user>(c);
    if (s.registered())
      return effect::reject("user exists");
    UserRegistered e;
    e.set_name(x.name);
    e.set_email(x.email);
    return effect::persist(e).then_reply(done<User>);
  });
  t->on_event<UserRegistered>([](User& s, const UserRegistered& e) {
    s.set_registered(true);
    s.set_name(e.name());
    s.set_email(e.email());
  });
  return t;
}

std::shared_ptr<product_type> make_product_type() {
  using effect = product_type::effect;
  auto t = std::make_shared<product_type>("product");
  t->on_command([](const Product& s, const product_command& c) -> effect {
    if (auto x = std::get_if<list_product>(&c)) {
      if (s.listed())
        return effect::reject("product exists");
      ProductListed e;
      e.set_name(x->name);
      e.set_price_cents(x->price_cents);
      return effect::persist(e).then_reply(done<Product>);
    }
    if (!s.listed())
      return effect::reject("no such product");
    ProductPriceChanged e;
    e.set_price_cents(std::get<change_price>(c).price_cents);
    return effect::persist(e).then_reply(done<Product>);
  });
  t->on_event<ProductListed>([](Product& s, const ProductListed& e) {
    s.set_listed(true);
    s.set_name(e.name());
    s.set_price_cents(e.price_cents());
  });
  t->on_event<ProductPriceChanged>(
    [](Product& s, const ProductPriceChanged& e) { s.set_price_cents(e.price_cents()); });
  return t;
}

std::shared_ptr<order_type> make_order_type() {
  using effect = order_type::effect;
  auto t = std::make_shared<order_type>("order");
  t->on_command([](const Order& s, const order_command& c) -> effect {
    if (auto x = std::get_if<place_order>(&c)) {
      if (s.placed())
        return effect::reject("order exists");
      OrderPlaced e;
      e.set_user_id(x->user_id);
      return effect::persist(e).then_reply(done<Order>);
    }
    if (!s.placed())
      return effect::reject("no such order");
    if (s.submitted())
      return effect::reject("order already submitted");
    return effect::persist(OrderSubmitted{}).then_reply(done<Order>);
  });
  t->on_event<OrderPlaced>([](Order& s, const OrderPlaced& e) {
    s.set_placed(true);
    s.set_user_id(e.user_id());
  });
  t->on_event<OrderSubmitted>([](Order& s, const OrderSubmitted&) { s.set_submitted(true); });
  return t;
}

std::shared_ptr<item_type> make_item_type() {
  using effect = item_type::effect;
  auto t = std::make_shared<item_type>("orderitem");
  t->on_command([](const OrderItem& s, const item_command& c) -> effect {
    auto& x = std::get<add_item>(c);
    if (s.added())
      return effect::reject("order item exists");
    if (x.quantity <= 0)
      return effect::reject("quantity must be positive");
    OrderItemAdded e;
    e.set_order_id(x.order_id);
    e.set_product_id(x.product_id);
    e.set_quantity(x.quantity);
    e.set_unit_price_cents(x.unit_price_cents);
    return effect::persist(e).then_reply(done<OrderItem>);
  });
  t->on_event<OrderItemAdded>([](OrderItem& s, const OrderItemAdded& e) {
    s.set_added(true);
    s.set_order_id(e.order_id());
    s.set_product_id(e.product_id());
    s.set_quantity(e.quantity());
    s.set_unit_price_cents(e.unit_price_cents());
  });
  return t;
}

} // namespace shop
