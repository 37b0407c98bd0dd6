#include "cart.hpp"

namespace cart {

int64_t total_of(const Cart& c) {
  int64_t sum = 0;
  for (auto& [sku, cents] : c.line_totals_cents())
    sum += cents;
  return sum;
}

std::string dollars(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "$%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return buf;
}

std::shared_ptr<cart_type> make_cart_type() {
  using effect = cart_type::effect;
  auto t = std::make_shared<cart_type>("cart");
  t->on_command([](const Cart& s, const command& c) -> effect {
    auto total = [](const Cart& x) { return total_of(x); };
    if (auto x = std::get_if<create>(&c)) {
      if (s.created())
        return effect::reject("cart exists");
      CartCreated e;
      e.set_customer(x->customer);
      e.set_email(x->email);
      return effect::persist(e).then_reply(total);
    }
    if (!s.created())
      return effect::reject("no such cart");
    if (s.checked_out())
      return effect::reject("cart already checked out");
    if (auto x = std::get_if<add_item>(&c)) {
      if (x->quantity <= 0 || x->unit_price_cents < 0)
        return effect::reject("invalid item");
      ItemAdded e;
      e.set_sku(x->sku);
      e.set_quantity(x->quantity);
      e.set_unit_price_cents(x->unit_price_cents);
      return effect::persist(e).then_reply(total);
    }
    if (auto x = std::get_if<remove_item>(&c)) {
      if (s.line_totals_cents().count(x->sku) == 0)
        return effect::reject("no such item");
      ItemRemoved e;
      e.set_sku(x->sku);
      return effect::persist(e).then_reply(total);
    }
    if (s.line_totals_cents().empty())
      return effect::reject("cart is empty");
    CheckedOut e;
    e.set_customer(s.customer());
    e.set_email(s.email());
    e.set_total_cents(total_of(s));
    return effect::persist(e).then_reply(total);
  });
  t->on_event<CartCreated>([](Cart& s, const CartCreated& e) {
    s.set_created(true);
    s.set_customer(e.customer());
    s.set_email(e.email());
  });
  t->on_event<ItemAdded>([](Cart& s, const ItemAdded& e) {
    (*s.mutable_line_totals_cents())[e.sku()] += e.quantity() * e.unit_price_cents();
  });
  t->on_event<ItemRemoved>([](Cart& s, const ItemRemoved& e) {
    s.mutable_line_totals_cents()->erase(e.sku());
  });
  t->on_event<CheckedOut>([](Cart& s, const CheckedOut&) { s.set_checked_out(true); });
  return t;
}

} // namespace cart
