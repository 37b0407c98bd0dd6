#pragma once

#include <memory>

#include "esr/persistence/journal.hpp"
#include "esr/runtime/upcasting/upcaster_registry.hpp"

namespace esr::runtime::upcasting {

/// A journal decorator that applies an upcaster registry on every read path:
/// replay and read_stream (aggregate recovery, time travel), read_all
/// (subscriptions, projections, catch-up) and commit listeners (live
/// delivery). Writes, side keys and deletion pass through unchanged, so old
/// events stay stored as they were written.
///
/// Read semantics on top of journal's contract: the pieces of a split event
/// share the original's sequence number and global position and are visited
/// together (aggregate recovery applies them as one step); read_all applies
/// its filter to the upcast events (an event_type
/// filter then reads the whole log from the inner journal) and never stops
/// between the pieces of one event, so it may visit up to (pieces - 1) more
/// than `max` events. A failing upcaster makes replay/read_all return
/// bus::errc::upcast_failed (events visited before were valid); in a commit
/// listener, a group with a failing event is not delivered at all, so live
/// subscribers fall back to read_all and meet the error there.
///
/// Thread-safety: as journal; the registry must not change once shared.
class upcasting_journal final : public persistence::journal {
public:
  /// Wraps `inner`. REQUIRES: both non-null.
  upcasting_journal(std::shared_ptr<persistence::journal> inner,
                    std::shared_ptr<const upcaster_registry> registry);

  /// Returns a journal applying `registry` to `inner`'s reads.
  static std::shared_ptr<persistence::journal>
  wrap(std::shared_ptr<persistence::journal> inner,
       std::shared_ptr<const upcaster_registry> registry);

  /// The decorated journal (reads from it are not upcast).
  const std::shared_ptr<persistence::journal>& inner() const { return inner_; }

  void write_async(std::vector<persistence::atomic_write> writes,
                   persistence::write_callback done) override;
  caf::expected<uint64_t> replay(std::string_view persistence_id, uint64_t from,
                                 uint64_t to, uint64_t max,
                                 const persistence::event_visitor& f) override;
  caf::expected<uint64_t> highest_sequence_nr(std::string_view persistence_id) override;
  caf::error delete_up_to(std::string_view persistence_id, uint64_t to) override;
  caf::expected<uint64_t> read_all(uint64_t from, uint64_t max,
                                   const persistence::event_filter& filter,
                                   const persistence::event_visitor& f) override;
  uint64_t last_position() const override;
  uint64_t add_commit_listener(persistence::commit_listener f) override;
  uint64_t add_shared_commit_listener(persistence::shared_commit_listener f) override;
  void remove_commit_listener(uint64_t token) override;
  caf::expected<std::optional<std::string>> get_side(std::string_view key) override;
  caf::error scan_side(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& f)
    override;

private:
  std::shared_ptr<persistence::journal> inner_;
  std::shared_ptr<const upcaster_registry> registry_;
};

} // namespace esr::runtime::upcasting
