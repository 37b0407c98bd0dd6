#pragma once

// The order-fulfilment saga: OrderPlaced (+ DiscountApplied) -> reserve
// stock -> charge payment -> confirm order, with its compensations:
//  - payment declined        -> release stock, cancel the order;
//  - out of stock            -> cancel the order (refund if already charged,
//                               which happens for express "pay_first" orders);
//  - no payment in time      -> void the payment, release stock, cancel.
// Instances are keyed by order id; all its events carry the order id.

#include <chrono>
#include <memory>

#include "esr/sagas/saga_type.hpp"
#include "order_payment/order_payment.pb.h"

namespace order_payment {

using fulfilment_saga = esr::sagas::saga_type<FulfilmentState>;

/// Options of the saga.
struct fulfilment_options {
  /// How long the saga waits for the payment outcome before it cancels the
  /// order. Default: 30 s.
  std::chrono::milliseconds payment_timeout{30000};
};

/// Builds the saga definition (name "order_fulfilment").
std::shared_ptr<fulfilment_saga> make_fulfilment_saga(fulfilment_options opts = {});

} // namespace order_payment
