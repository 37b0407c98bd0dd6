#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/event_envelope.hpp"

namespace esr::runtime::upcasting {

/// Turns one stored event of an old schema into one or more events of a newer
/// shape. Returns the new events (at least one; an empty vector drops the
/// event from every read), or an error that the read reports as
/// bus::errc::upcast_failed. Must be pure and thread-safe: it runs on reader
/// threads and on the journal's completer thread (commit listeners).
using upcaster = std::function<caf::expected<std::vector<persistence::event_envelope>>(
  const persistence::event_envelope&)>;

/// Turns an old payload into the payload of the next version of the same
/// event type (the common one-to-one case).
using payload_upcaster = std::function<caf::expected<std::string>(const std::string&)>;

/// Returns a copy of `original` with a new type, schema version and payload;
/// everything else (stream, sequence number, global position, timestamp,
/// metadata, tags) is kept. The building block of upcasters.
persistence::event_envelope derive(const persistence::event_envelope& original,
                                   std::string event_type, uint32_t schema_version,
                                   std::string payload);

/// Upcasters by (event type, schema version). An event is upcast repeatedly
/// until no upcaster matches its (type, version), so chains v1 -> v2 -> v3
/// are written one step at a time, and the pieces of a split are upcast too.
///
/// Upcasters may change event_type, schema_version, payload, metadata and
/// tags; the registry restores persistence_id, sequence_nr, global_position
/// and timestamp_us from the original, so every piece of a split keeps its
/// original's positions (readers never see a new position). Tags should not
/// change: tag reads select on the stored tags.
///
/// Thread-safety: register every upcaster before the registry is shared;
/// afterwards, const member functions may be called from any thread.
class upcaster_registry {
public:
  /// Registers `f` for events of `event_type` stored at `schema_version`.
  /// Returns bus::errc::invalid_argument if `event_type` is empty, `f` is
  /// empty or an upcaster for the pair already exists.
  [[nodiscard]] caf::error add(std::string event_type, uint32_t schema_version,
                               upcaster f);

  /// Registers a one-to-one payload upcaster: events of `event_type` at
  /// `from_version` become the same type at `from_version + 1`. Errors as add.
  [[nodiscard]] caf::error add_payload(std::string event_type, uint32_t from_version,
                                       payload_upcaster f);

  /// Returns true if no upcaster is registered.
  bool empty() const { return upcasters_.empty(); }

  /// Returns true if an upcaster matches `e`'s (type, version).
  bool applies_to(const persistence::event_envelope& e) const;

  /// Appends the current-shape events of `e` to `out` (a copy of `e` if no
  /// upcaster matches). Returns bus::errc::upcast_failed if an upcaster fails,
  /// returns an event with an empty type, or a chain exceeds 32 steps; `out`
  /// is then unchanged.
  [[nodiscard]] caf::error upcast(const persistence::event_envelope& e,
                                  std::vector<persistence::event_envelope>& out) const;

  /// Returns the current-shape events of `e`. Errors as upcast above.
  [[nodiscard]] caf::expected<std::vector<persistence::event_envelope>>
  upcast(const persistence::event_envelope& e) const;

private:
  std::map<std::pair<std::string, uint32_t>, upcaster, std::less<>> upcasters_;
};

/// Returns one function applying every upcaster of `registry` (the same
/// signature as actors::event_upcaster, so it can be set as an aggregate
/// registry's `aggregate.upcaster` where a journal decorator is not wanted).
/// REQUIRES: `registry` non-null.
upcaster as_upcaster(std::shared_ptr<const upcaster_registry> registry);

} // namespace esr::runtime::upcasting
