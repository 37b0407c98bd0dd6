#pragma once

// The read side of cqrs_shop: two denormalized views built by projections
// into the LevelDB view store.
//
//   OrderSummaries (alias "order_summaries"):
//     "order/<order id>"                -> OrderSummary (customer name, lines, total)
//     "by_customer/<name>/<order id>"   -> "" (index for "orders of a customer")
//     "user/<user id>", "product/<id>"  -> names (lookup rows the projection keeps)
//   ProductCatalog (alias "product_catalog"):
//     "product/<product id>"            -> CatalogEntry (name, price, units ordered)
//
// Each version of the logic writes its own view ("order_summaries.v1", ...);
// readers use the aliases, so a rebuild can replace a view atomically.

#include <string>
#include <vector>

#include "esr/runtime/projections/projection.hpp"
#include "shop.pb.h"

namespace shop {

/// The OrderSummaries projection writing view `view`.
esr::runtime::projections::projection order_summaries(std::string view);

/// The ProductCatalog projection writing view `view`.
esr::runtime::projections::projection product_catalog(std::string view);

/// Query: the summaries of every order of customer `name`, by order id, or
/// the view store's error.
caf::expected<std::vector<OrderSummary>>
orders_of(const esr::runtime::projections::view_reader& summaries, const std::string& name);

/// Query: the catalog, by product id, or the view store's error.
caf::expected<std::vector<CatalogEntry>>
catalog(const esr::runtime::projections::view_reader& catalog);

} // namespace shop
