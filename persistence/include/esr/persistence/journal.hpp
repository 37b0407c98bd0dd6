#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/persistence/event_envelope.hpp"
#include "esr/persistence/event_filter.hpp"

namespace esr::persistence {

/// Largest sequence number / position, used as an open upper bound.
inline constexpr uint64_t max_seq = std::numeric_limits<uint64_t>::max();

/// A key/value write committed atomically together with an atomic_write
/// (e.g. a saga's outbox or checkpoint). Keys live in their own key space,
/// apart from events and snapshots.
struct side_write {
  std::string key;
  std::optional<std::string> value; ///< nullopt deletes `key`.
};

/// Events of one stream that are stored all or nothing (one WriteBatch).
struct atomic_write {
  std::string persistence_id;
  /// The highest sequence number the writer believes the stream has (0 for a
  /// new stream). A mismatch rejects the write with errc::concurrency_conflict
  /// and stores nothing. nullopt appends without a check.
  std::optional<uint64_t> expected_sequence_nr;
  /// The events; sequence_nr and global_position are assigned by the journal,
  /// persistence_id is taken from this write. May be empty only if
  /// `side_writes` is not.
  std::vector<event_envelope> events;
  /// Key/value writes committed in the same batch as the events.
  std::vector<side_write> side_writes;
};

/// What a successful atomic_write was assigned.
struct write_result {
  uint64_t first_sequence_nr = 0;     ///< 0 if the write held no events.
  uint64_t last_sequence_nr = 0;      ///< The stream's new highest sequence number.
  uint64_t first_global_position = 0; ///< 0 if the write held no events.
  uint64_t last_global_position = 0;
  int64_t timestamp_us = 0;           ///< Time given to events without one (the write call's).
};

/// The outcome of each write of a write_async call, in the order given.
using write_outcomes = std::vector<caf::expected<write_result>>;

/// Called once per write_async call when every write of it is decided.
using write_callback = std::function<void(write_outcomes)>;

/// Visits events in order; return false to stop early.
using event_visitor = std::function<bool(const event_envelope&)>;

/// Called after each committed (durable) group, with its events in global order.
using commit_listener = std::function<void(const std::vector<event_envelope>&)>;

/// The events of one committed group, shared by the listeners (never modified).
using event_group = std::shared_ptr<const std::vector<event_envelope>>;

/// Like commit_listener, but takes a share of the group instead of reading it
/// (a listener that keeps the events, such as the event bus, needs no copy).
using shared_commit_listener = std::function<void(const event_group&)>;

/// Counters of a journal's write path, for metrics and benchmarks.
struct journal_stats {
  uint64_t groups = 0; ///< Group commits written (one WriteBatch each).
  uint64_t writes = 0; ///< Atomic writes stored.
  uint64_t events = 0; ///< Events stored.
  uint64_t syncs = 0;  ///< fsyncs issued.
};

/// An append-only store of event streams with a global commit order.
///
/// Guarantees (checked by the conformance suite in tests/persistence): replay returns a
/// stream's events in sequence order; the highest sequence number of a stream
/// never decreases, also after deletion; every committed event gets a strictly
/// increasing global position and read_all returns them in commit order, with
/// no gaps or duplicates; an atomic write is stored whole or not at all; a
/// corrupt record is reported as errc::corruption naming its stream and
/// sequence number, never returned as data; readers only ever see durable
/// events (in the configured durability mode).
///
/// Thread-safety: every member function may be called from any thread.
class journal {
public:
  virtual ~journal();

  /// Submits `writes` for commit and returns at once. `done` is called exactly
  /// once, from an internal thread (or inline), after every write is decided.
  /// Each outcome is a write_result, or an error: errc::concurrency_conflict or
  /// errc::serialization_failed (rejected: that write stored nothing, the
  /// others proceed), errc::io_error (failed: outcome unknown), errc::closed.
  /// A write is only reported successful once it is durable.
  virtual void write_async(std::vector<atomic_write> writes, write_callback done) = 0;

  /// Writes `w` and blocks until it is decided. Errors as for write_async.
  [[nodiscard]] caf::expected<write_result> write(atomic_write w);

  /// Writes `ws` in one call and blocks until every write is decided.
  [[nodiscard]] write_outcomes write(std::vector<atomic_write> ws);

  /// Visits the events of `persistence_id` with `from <= sequence_nr <= to`
  /// in ascending order, at most `max` of them. Returns the stream's highest
  /// sequence number (0 for a stream never written), or errc::corruption /
  /// errc::io_error; events visited before an error were valid.
  [[nodiscard]] virtual caf::expected<uint64_t>
  replay(std::string_view persistence_id, uint64_t from, uint64_t to,
         uint64_t max, const event_visitor& f) = 0;

  /// Returns the events of a stream as a vector. Errors as for replay.
  [[nodiscard]] caf::expected<std::vector<event_envelope>>
  read_stream(std::string_view persistence_id, uint64_t from = 1,
              uint64_t to = max_seq, uint64_t max = max_seq);

  /// Returns the highest sequence number ever written to `persistence_id`
  /// (0 if never written); it never decreases, also after deletion.
  [[nodiscard]] virtual caf::expected<uint64_t>
  highest_sequence_nr(std::string_view persistence_id) = 0;

  /// Deletes the events of `persistence_id` with sequence_nr <= `to` from the
  /// stream (replay no longer returns them). The global log keeps its history
  /// (read_all still returns them) so read models can be rebuilt. Returns an
  /// empty error on success, errc::io_error otherwise.
  [[nodiscard]] virtual caf::error delete_up_to(std::string_view persistence_id,
                                                uint64_t to) = 0;

  /// Visits committed events with global_position >= `from` that match
  /// `filter`, in commit order, at most `max` matching ones. Returns the
  /// position up to which the log was examined (a subscriber may resume at
  /// that + 1 even when no event matched), or errc::corruption / io_error.
  [[nodiscard]] virtual caf::expected<uint64_t>
  read_all(uint64_t from, uint64_t max, const event_filter& filter,
           const event_visitor& f) = 0;

  /// Returns the global position of the newest durable event (0 if none).
  virtual uint64_t last_position() const = 0;

  /// Registers `f` to be called after each durable group commit with the
  /// group's events in global order, on a journal thread (the LevelDB
  /// journal's completer): keep it short and non-blocking. Returns a token; remove_commit_listener(token)
  /// unregisters it. Events committed before registration are not delivered.
  virtual uint64_t add_commit_listener(commit_listener f) = 0;

  /// Unregisters a commit listener. After return, `f` is no longer running
  /// and will not be called again.
  virtual void remove_commit_listener(uint64_t token) = 0;

  /// Registers `f` like add_commit_listener, handing it a share of each
  /// group's events; remove_commit_listener(token) unregisters it. The
  /// default implementation copies each group for `f`; the LevelDB journal
  /// builds one shared group for all such listeners, without a copy.
  virtual uint64_t add_shared_commit_listener(shared_commit_listener f);

  /// Returns the write-path counters since the journal was opened. The
  /// default implementation returns zeros.
  virtual journal_stats stats() const;

  /// Reads a side key (see side_write). Returns nullopt if absent.
  [[nodiscard]] virtual caf::expected<std::optional<std::string>>
  get_side(std::string_view key) = 0;

  /// Visits side keys starting with `prefix` in key order; return false from
  /// `f` to stop.
  [[nodiscard]] virtual caf::error
  scan_side(std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& f) = 0;
};

} // namespace esr::persistence
