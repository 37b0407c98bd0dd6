#include "esr/runtime/upcasting/upcaster_registry.hpp"

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::upcasting {

using persistence::event_envelope;

namespace {

/// Longest chain of upcasts applied to one stored event.
constexpr int max_chain_steps = 32;

} // namespace

event_envelope derive(const event_envelope& original, std::string event_type,
                      uint32_t schema_version, std::string payload) {
  event_envelope result = original;
  result.event_type = std::move(event_type);
  result.schema_version = schema_version;
  result.payload = std::move(payload);
  return result;
}

caf::error upcaster_registry::add(std::string event_type, uint32_t schema_version,
                                  upcaster f) {
  if (event_type.empty() || !f)
    return bus::make_error(bus::errc::invalid_argument,
                           "upcaster needs an event type and a function");
  auto key = std::make_pair(std::move(event_type), schema_version);
  if (upcasters_.count(key) > 0)
    return bus::make_error(bus::errc::invalid_argument, "duplicate upcaster",
                           key.first, key.second);
  upcasters_.emplace(std::move(key), std::move(f));
  return caf::none;
}

caf::error upcaster_registry::add_payload(std::string event_type, uint32_t from_version,
                                          payload_upcaster f) {
  if (!f)
    return bus::make_error(bus::errc::invalid_argument, "empty payload upcaster");
  auto type = event_type;
  return add(std::move(event_type), from_version,
             [type, from_version, f = std::move(f)](const event_envelope& e)
               -> caf::expected<std::vector<event_envelope>> {
               auto payload = f(e.payload);
               if (!payload)
                 return std::move(payload.error());
               std::vector<event_envelope> result;
               result.emplace_back(derive(e, type, from_version + 1, std::move(*payload)));
               return result;
             });
}

bool upcaster_registry::applies_to(const event_envelope& e) const {
  if (upcasters_.empty())
    return false;
  return upcasters_.count(std::make_pair(e.event_type, e.schema_version)) > 0;
}

caf::error upcaster_registry::upcast(const event_envelope& e,
                                     std::vector<event_envelope>& out) const {
  if (!applies_to(e)) {
    out.push_back(e);
    return caf::none;
  }
  auto restore = [&e](event_envelope& x) {
    x.persistence_id = e.persistence_id;
    x.sequence_nr = e.sequence_nr;
    x.global_position = e.global_position;
    x.timestamp_us = e.timestamp_us;
  };
  // Work list of (event, depth); results are produced in order.
  std::vector<event_envelope> result;
  std::vector<std::pair<event_envelope, int>> todo;
  todo.emplace_back(e, 0);
  while (!todo.empty()) {
    auto [x, depth] = std::move(todo.back());
    todo.pop_back();
    auto i = upcasters_.find(std::make_pair(x.event_type, x.schema_version));
    if (i == upcasters_.end()) {
      result.push_back(std::move(x));
      continue;
    }
    if (depth >= max_chain_steps)
      return bus::make_error(bus::errc::upcast_failed, "upcast chain too long",
                             e.persistence_id, e.sequence_nr, e.event_type);
    auto next = i->second(x);
    if (!next)
      return bus::make_error(bus::errc::upcast_failed, e.persistence_id, e.sequence_nr,
                             e.event_type, e.schema_version, bus::render(next.error()));
    // Push in reverse so the pieces come out in the order the upcaster gave.
    for (auto j = next->rbegin(); j != next->rend(); ++j) {
      if (j->event_type.empty())
        return bus::make_error(bus::errc::upcast_failed, "upcaster returned no type",
                               e.persistence_id, e.sequence_nr, e.event_type);
      restore(*j);
      todo.emplace_back(std::move(*j), depth + 1);
    }
  }
  for (auto& x : result)
    out.push_back(std::move(x));
  return caf::none;
}

caf::expected<std::vector<event_envelope>>
upcaster_registry::upcast(const event_envelope& e) const {
  std::vector<event_envelope> out;
  if (auto err = upcast(e, out))
    return err;
  return out;
}

upcaster as_upcaster(std::shared_ptr<const upcaster_registry> registry) {
  return [registry = std::move(registry)](const event_envelope& e) {
    return registry->upcast(e);
  };
}

} // namespace esr::runtime::upcasting
