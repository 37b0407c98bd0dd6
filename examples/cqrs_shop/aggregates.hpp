#pragma once

// The write side of cqrs_shop: four aggregate types, normalized. An order
// item is its own aggregate ("orderitem-<order>.<n>") that refers to its
// order and product by id, like rows of a normalized schema.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "esr/actors/aggregate_type.hpp"
#include "shop.pb.h"

namespace shop {

/// Every command replies with the aggregate's version afterwards.
using reply = uint64_t;

struct register_user { std::string name; std::string email; };
using user_command = std::variant<register_user>;
using user_type = esr::actors::aggregate_type<User, user_command, reply>;

struct list_product { std::string name; int64_t price_cents; };
struct change_price { int64_t price_cents; };
using product_command = std::variant<list_product, change_price>;
using product_type = esr::actors::aggregate_type<Product, product_command, reply>;

struct place_order { std::string user_id; };
struct submit_order {};
using order_command = std::variant<place_order, submit_order>;
using order_type = esr::actors::aggregate_type<Order, order_command, reply>;

struct add_item {
  std::string order_id;
  std::string product_id;
  int32_t quantity;
  int64_t unit_price_cents;
};
using item_command = std::variant<add_item>;
using item_type = esr::actors::aggregate_type<OrderItem, item_command, reply>;

std::shared_ptr<user_type> make_user_type();
std::shared_ptr<product_type> make_product_type();
std::shared_ptr<order_type> make_order_type();
std::shared_ptr<item_type> make_item_type();

/// "$12.34" for 1234 cents.
std::string dollars(int64_t cents);

} // namespace shop
