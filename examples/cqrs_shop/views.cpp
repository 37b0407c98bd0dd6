#include "views.hpp"

#include "aggregates.hpp"
#include "esr/runtime/bus/error.hpp"

namespace shop {

using esr::persistence::event_envelope;
using esr::runtime::projections::view_txn;
namespace bus = esr::runtime::bus;

namespace {

/// The id part of a persistence id ("order-a1" -> "a1").
std::string id_of(const std::string& pid) {
  return pid.substr(pid.find('-') + 1);
}

template <class Message>
caf::error parse(const event_envelope& e, Message& m) {
  if (!m.ParseFromString(e.payload))
    return bus::make_error(bus::errc::invalid_argument, "undecodable event", e.persistence_id,
                           e.sequence_nr);
  return caf::none;
}

template <class Message>
caf::expected<Message> load(const view_txn& txn, const std::string& key) {
  auto raw = txn.get(key);
  if (!raw)
    return std::move(raw.error());
  Message m;
  if (*raw)
    m.ParseFromString(**raw);
  return m;
}

} // namespace

esr::runtime::projections::projection order_summaries(std::string view) {
  esr::runtime::projections::projection p;
  p.view = std::move(view);
  p.apply = [](view_txn& txn, const event_envelope& e) -> caf::error {
    if (e.event_type == "shop.UserRegistered") {
      UserRegistered x;
      if (auto err = parse(e, x))
        return err;
      txn.put("user/" + id_of(e.persistence_id), x.name());
    } else if (e.event_type == "shop.ProductListed") {
      ProductListed x;
      if (auto err = parse(e, x))
        return err;
      txn.put("product/" + id_of(e.persistence_id), x.name());
    } else if (e.event_type == "shop.OrderPlaced") {
      OrderPlaced x;
      if (auto err = parse(e, x))
        return err;
      auto name = txn.get("user/" + x.user_id());
      if (!name)
        return std::move(name.error());
      OrderSummary s;
      s.set_order_id(id_of(e.persistence_id));
      s.set_customer_name(name->value_or(x.user_id()));
      s.set_status("open");
      txn.put("order/" + s.order_id(), s.SerializeAsString());
      txn.put("by_customer/" + s.customer_name() + "/" + s.order_id(), "");
    } else if (e.event_type == "shop.OrderItemAdded") {
      OrderItemAdded x;
      if (auto err = parse(e, x))
        return err;
      auto s = load<OrderSummary>(txn, "order/" + x.order_id());
      if (!s)
        return std::move(s.error());
      auto product = txn.get("product/" + x.product_id());
      if (!product)
        return std::move(product.error());
      s->add_lines(std::to_string(x.quantity()) + " x " + product->value_or(x.product_id())
                   + " @ " + dollars(x.unit_price_cents()));
      s->set_item_count(s->item_count() + x.quantity());
      s->set_total_cents(s->total_cents() + x.quantity() * x.unit_price_cents());
      txn.put("order/" + x.order_id(), s->SerializeAsString());
    } else if (e.event_type == "shop.OrderSubmitted") {
      auto key = "order/" + id_of(e.persistence_id);
      auto s = load<OrderSummary>(txn, key);
      if (!s)
        return std::move(s.error());
      s->set_status("submitted");
      txn.put(key, s->SerializeAsString());
    }
    return caf::none;
  };
  return p;
}

esr::runtime::projections::projection product_catalog(std::string view) {
  esr::runtime::projections::projection p;
  p.view = std::move(view);
  p.apply = [](view_txn& txn, const event_envelope& e) -> caf::error {
    if (e.event_type == "shop.ProductListed" || e.event_type == "shop.ProductPriceChanged") {
      auto key = "product/" + id_of(e.persistence_id);
      auto entry = load<CatalogEntry>(txn, key);
      if (!entry)
        return std::move(entry.error());
      entry->set_product_id(id_of(e.persistence_id));
      if (e.event_type == "shop.ProductListed") {
        ProductListed x;
        if (auto err = parse(e, x))
          return err;
        entry->set_name(x.name());
        entry->set_price_cents(x.price_cents());
      } else {
        ProductPriceChanged x;
        if (auto err = parse(e, x))
          return err;
        entry->set_price_cents(x.price_cents());
      }
      txn.put(key, entry->SerializeAsString());
    } else if (e.event_type == "shop.OrderItemAdded") {
      OrderItemAdded x;
      if (auto err = parse(e, x))
        return err;
      auto key = "product/" + x.product_id();
      auto entry = load<CatalogEntry>(txn, key);
      if (!entry)
        return std::move(entry.error());
      entry->set_units_ordered(entry->units_ordered() + x.quantity());
      txn.put(key, entry->SerializeAsString());
    }
    return caf::none;
  };
  return p;
}

caf::expected<std::vector<OrderSummary>>
orders_of(const esr::runtime::projections::view_reader& summaries, const std::string& name) {
  std::vector<std::string> ids;
  auto prefix = "by_customer/" + name + "/";
  auto err = summaries.scan(prefix, [&](std::string_view key, std::string_view) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (err)
    return err;
  std::vector<OrderSummary> result;
  for (auto& id : ids) {
    auto raw = summaries.get("order/" + id);
    if (!raw)
      return std::move(raw.error());
    if (*raw) {
      OrderSummary s;
      s.ParseFromString(**raw);
      result.push_back(std::move(s));
    }
  }
  return result;
}

caf::expected<std::vector<CatalogEntry>>
catalog(const esr::runtime::projections::view_reader& reader) {
  std::vector<CatalogEntry> result;
  auto err = reader.scan("product/", [&](std::string_view, std::string_view value) {
    CatalogEntry c;
    c.ParseFromString(std::string{value});
    result.push_back(std::move(c));
    return true;
  });
  if (err)
    return err;
  return result;
}

} // namespace shop
