#pragma once

// The three independent services of the cart_services example. Each is a
// subscription to the "cart" category with its own durable checkpoint, so
// each one resumes where *it* left off, whatever the others did. Delivery is
// at-least-once (the batch in progress when a service dies is delivered
// again), so every side effect carries an idempotency key derived from the
// event (persistence id and sequence number) and the external system drops
// repeats - the same contract as a payment API's idempotency keys.

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <caf/expected.hpp>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/bus/event_bus.hpp"

namespace cart {

/// An external system (payment provider, mail relay, fraud desk), simulated
/// by an append-only file of "<idempotency key> <text>" lines. Thread-safe.
class external_system {
public:
  /// Opens (or creates) the file at `path` and loads the keys already in it.
  explicit external_system(std::string path);

  /// Performs a request once per `key`: appends "<key> <text>" and returns
  /// true, or returns false if the key was seen before (a redelivery).
  bool perform(const std::string& key, const std::string& text);

  /// Number of distinct requests performed so far (over every run).
  size_t performed() const;

private:
  std::string path_;
  mutable std::mutex mtx_;
  std::set<std::string> keys_;
};

/// Prints one line of the story (thread-safe).
using narrator = std::function<void(const std::string&)>;

/// Which service to start.
enum class service_kind {
  fraud,   ///< Flags checkouts above $500.
  billing, ///< Charges the customer at checkout.
  email,   ///< Sends the order confirmation at checkout.
};

/// The name of a service, also its checkpoint's name ("fraud", ...).
std::string name_of(service_kind k);

/// Starts service `k` on `bus`, resuming after its checkpoint in `cps`, with
/// `sink` as its external system. Returns the running subscription or the
/// bus's error.
caf::expected<std::unique_ptr<esr::runtime::bus::subscription>>
start_service(service_kind k, const std::shared_ptr<esr::runtime::bus::event_bus>& bus,
              std::shared_ptr<esr::runtime::bus::checkpoint_store> cps,
              std::shared_ptr<external_system> sink, narrator say);

} // namespace cart
