#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/snapshot_envelope.hpp"

namespace esr::persistence {

/// Stores snapshots of aggregates' state, keyed by (persistence id, sequence
/// number). Saving at a sequence number that already has a snapshot replaces it.
///
/// A corrupt snapshot is reported as errc::corruption (naming the stream and
/// sequence number), never as "no snapshot"; list() still returns its metadata
/// so a caller can fall back to an older one.
///
/// Thread-safety: every member function may be called from any thread.
class snapshot_store {
public:
  virtual ~snapshot_store();

  /// Stores `s` durably (timestamp 0 becomes now). Returns an empty error on
  /// success; errc::serialization_failed if `s` is invalid (empty persistence
  /// id), errc::io_error on storage failure.
  [[nodiscard]] virtual caf::error save(const snapshot_envelope& s) = 0;

  /// Like save, but returns at once and reports to `done` (possibly from
  /// another thread). The default implementation calls save().
  virtual void save_async(snapshot_envelope s, std::function<void(caf::error)> done);

  /// Loads the newest snapshot of `persistence_id` matching `c`. Returns
  /// nullopt if none matches, errc::corruption if the newest match is
  /// unreadable, errc::io_error on storage failure.
  [[nodiscard]] virtual caf::expected<std::optional<snapshot_envelope>>
  load(std::string_view persistence_id, const snapshot_criteria& c) = 0;

  /// Lists the snapshots of `persistence_id` matching `c`, newest first,
  /// without reading their payloads (corrupt ones included).
  [[nodiscard]] virtual caf::expected<std::vector<snapshot_metadata>>
  list(std::string_view persistence_id, const snapshot_criteria& c) = 0;

  /// Deletes the snapshot at `sequence_nr` (no error if there is none).
  [[nodiscard]] virtual caf::error remove(std::string_view persistence_id,
                                          uint64_t sequence_nr) = 0;

  /// Deletes every snapshot of `persistence_id` matching `c`.
  [[nodiscard]] virtual caf::error remove(std::string_view persistence_id,
                                          const snapshot_criteria& c) = 0;

  /// Keeps the newest `n` snapshots of `persistence_id`, deletes the rest.
  [[nodiscard]] caf::error retain_latest(std::string_view persistence_id, size_t n);
};

} // namespace esr::persistence
