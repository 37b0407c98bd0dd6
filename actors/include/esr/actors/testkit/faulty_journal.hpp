#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "esr/persistence/error.hpp"
#include "esr/persistence/journal.hpp"

namespace esr::actors::testkit {

/// A journal decorator for tests that makes chosen write_async calls fail:
/// the next one is answered with the injected error for every write, and
/// nothing is stored (for a "rejected" error), or — for
/// persistence::errc::io_error with `store_anyway` — the events are stored
/// but the caller is told the write failed (the "outcome unknown" case).
/// Everything else is forwarded to the wrapped journal.
///
/// Thread-safety: as the wrapped journal.
class faulty_journal final : public persistence::journal {
public:
  /// Wraps `inner` (required).
  explicit faulty_journal(std::shared_ptr<persistence::journal> inner);

  /// Makes the next write_async call whose first write is to a stream
  /// starting with `prefix` (any if empty) fail with `code`; if
  /// `store_anyway`, the writes are stored before the failure is reported.
  void fail_next_write(persistence::errc code, bool store_anyway = false,
                       std::string prefix = {});

  /// Holds the write_async calls from now on whose first write is to a
  /// stream starting with `prefix` (all if empty): nothing of them is written
  /// or answered until release_writes(). Lets a test keep a write outstanding
  /// (e.g. to fill an aggregate's stash, or to delay an aggregate's answer).
  void hold_writes(std::string prefix = {});

  /// Stops holding and forwards the held write_async calls in order.
  void release_writes();

  /// Returns true while a fault set by fail_next_write() has not been used.
  bool fault_pending() const;

  /// Returns the number of write_async calls so far.
  uint64_t write_calls() const { return calls_.load(); }

  void write_async(std::vector<persistence::atomic_write> writes,
                   persistence::write_callback done) override;
  caf::expected<uint64_t> replay(std::string_view persistence_id, uint64_t from, uint64_t to,
                                 uint64_t max, const persistence::event_visitor& f) override;
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
  caf::error
  scan_side(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& f) override;

private:
  std::shared_ptr<persistence::journal> inner_;
  mutable std::mutex mtx_;
  std::optional<persistence::errc> next_;
  bool store_anyway_ = false;
  bool holding_ = false;
  std::string hold_prefix_;
  std::string fail_prefix_;
  std::vector<std::pair<std::vector<persistence::atomic_write>, persistence::write_callback>>
    held_;
  std::atomic<uint64_t> calls_{0};
};

} // namespace esr::actors::testkit
