#pragma once

// The three aggregates of the order-payment example: Order, Inventory (one
// per SKU) and Payment (one per order). Each answers a command with its new
// state. Every command is idempotent at the domain level too (placing a
// placed order, reserving stock already held for that order, charging a
// charged payment: no new event), on top of the command-id deduplication.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "esr/actors/aggregate_type.hpp"
#include "order_payment/order_payment.pb.h"

namespace order_payment {

using order_command = std::variant<PlaceOrder, ConfirmOrder, CancelOrder>;
using inventory_command = std::variant<AddStock, ReserveStock, ReleaseStock>;
using payment_command = std::variant<ChargePayment, RefundPayment, VoidPayment>;

using order_type = esr::actors::aggregate_type<OrderState, order_command, OrderState>;
using inventory_type
  = esr::actors::aggregate_type<InventoryState, inventory_command, StockLevel>;
using payment_type = esr::actors::aggregate_type<PaymentState, payment_command, PaymentState>;

/// Test cards: the payment aggregate charges any other number.
inline constexpr const char* card_ok = "4242424242424242";
/// Always declined ("insufficient funds").
inline constexpr const char* card_declined = "4000000000000002";
/// Needs 3-D Secure authorization, which never arrives in the demo.
inline constexpr const char* card_3ds = "4000002760003184";

// Every reply is a Protobuf message: the aggregate actor stores its bytes
// (hex-encoded, as event headers must be UTF-8) with the command's events, so
// that a command retried after a restart gets its original reply.

/// The Order type ("order"): PlaceOrder -> OrderPlaced [+ DiscountApplied];
/// ConfirmOrder -> OrderConfirmed; CancelOrder -> OrderCancelled. Confirming
/// a cancelled order (or cancelling a confirmed one) is rejected.
std::shared_ptr<order_type> make_order_type();

/// The Inventory type ("inventory"; answers with a StockLevel): AddStock -> StockAdded; ReserveStock ->
/// StockReserved, or StockReservationFailed when too little is available;
/// ReleaseStock -> StockReleased if stock is held for the order.
std::shared_ptr<inventory_type> make_inventory_type();

/// The Payment type ("payment"): ChargePayment -> PaymentCharged,
/// PaymentDeclined (card_declined) or PaymentAuthorizationRequested
/// (card_3ds); RefundPayment -> PaymentRefunded if charged; VoidPayment ->
/// PaymentVoided if awaiting authorization.
std::shared_ptr<payment_type> make_payment_type();

/// Formats cents as dollars, e.g. 15000 -> "$150.00".
std::string money(int64_t cents);

} // namespace order_payment
