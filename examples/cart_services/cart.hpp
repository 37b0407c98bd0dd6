#pragma once

// The cart aggregate of the cart_services example.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "cart.pb.h"
#include "esr/actors/aggregate_type.hpp"

namespace cart {

struct create { std::string customer; std::string email; };
struct add_item { std::string sku; int32_t quantity; int64_t unit_price_cents; };
struct remove_item { std::string sku; };
struct checkout {};

using command = std::variant<create, add_item, remove_item, checkout>;

/// The reply to every command: the cart's total in cents afterwards.
using reply = int64_t;

using cart_type = esr::actors::aggregate_type<Cart, command, reply>;

/// Returns the definition of the "cart" aggregate type.
std::shared_ptr<cart_type> make_cart_type();

/// The total of a cart, in cents.
int64_t total_of(const Cart& c);

/// "$12.34" for 1234 cents.
std::string dollars(int64_t cents);

} // namespace cart
