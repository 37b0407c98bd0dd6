#include "services.hpp"

#include <fstream>

#include "cart.hpp"
#include "esr/runtime/bus/error.hpp"

namespace cart {

using esr::persistence::event_envelope;
namespace bus = esr::runtime::bus;

external_system::external_system(std::string path) : path_(std::move(path)) {
  std::ifstream in{path_};
  std::string line;
  while (std::getline(in, line))
    keys_.insert(line.substr(0, line.find(' ')));
}

bool external_system::perform(const std::string& key, const std::string& text) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!keys_.insert(key).second)
    return false;
  std::ofstream out{path_, std::ios::app};
  out << key << ' ' << text << '\n';
  return true;
}

size_t external_system::performed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return keys_.size();
}

std::string name_of(service_kind k) {
  switch (k) {
    case service_kind::fraud: return "fraud";
    case service_kind::billing: return "billing";
    case service_kind::email: return "email";
  }
  return "unknown";
}

namespace {

/// The idempotency key of a side effect caused by event `e`.
std::string key_of(const event_envelope& e) {
  return e.persistence_id + "#" + std::to_string(e.sequence_nr);
}

/// What service `k` does with one checkout.
void on_checkout(service_kind k, const event_envelope& e, const CheckedOut& c,
                 external_system& sink, const narrator& say) {
  auto tag = "[" + name_of(k) + "] ";
  switch (k) {
    case service_kind::fraud:
      if (c.total_cents() > 50000
          && sink.perform(key_of(e), "review " + e.persistence_id + " " + dollars(c.total_cents())))
        say(tag + "ALERT: " + e.persistence_id + " checked out " + dollars(c.total_cents())
            + " (over $500), sent for review");
      return;
    case service_kind::billing:
      if (sink.perform(key_of(e), "charge " + c.customer() + " " + dollars(c.total_cents())))
        say(tag + "charged " + c.customer() + " " + dollars(c.total_cents()) + " for "
            + e.persistence_id + " (idempotency key " + key_of(e) + ")");
      else
        say(tag + "already charged " + key_of(e) + ", skipped");
      return;
    case service_kind::email:
      if (sink.perform(key_of(e), "to " + c.email() + ": thank you for your order of "
                                    + dollars(c.total_cents())))
        say(tag + "sent confirmation to " + c.email() + " (" + dollars(c.total_cents()) + ")");
      else
        say(tag + "already sent " + key_of(e) + ", skipped");
      return;
  }
}

} // namespace

caf::expected<std::unique_ptr<bus::subscription>>
start_service(service_kind k, const std::shared_ptr<bus::event_bus>& b,
              std::shared_ptr<bus::checkpoint_store> cps, std::shared_ptr<external_system> sink,
              narrator say) {
  bus::subscription_options o;
  o.name = name_of(k);
  o.filter = esr::persistence::event_filter::category("cart");
  o.checkpoints = std::move(cps);
  return b->subscribe(std::move(o), [k, sink, say](const bus::event_batch& batch) {
    for (auto& e : batch.events) {
      if (e.event_type != "cart.CheckedOut")
        continue;
      CheckedOut c;
      if (!c.ParseFromString(e.payload))
        return bus::make_error(bus::errc::invalid_argument, "undecodable CheckedOut",
                               e.persistence_id, e.sequence_nr);
      on_checkout(k, e, c, *sink, say);
    }
    return caf::error{};
  });
}

} // namespace cart
