#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "esr/persistence/journal.hpp"
#include "esr/util/string_table.hpp"
#include "leveldb_db.hpp"
#include "name_filter.hpp"

namespace esr::persistence::detail {

/// The LevelDB journal. Writes go through one group-commit writer thread
/// (group_commit_writer.cpp) that coalesces every pending write_async call
/// into one WriteBatch and, in sync mode, one fsync, then acknowledges each
/// call; reads (leveldb_journal.cpp) run on the caller's thread and only see
/// events up to the durable position.
class leveldb_journal final : public journal {
public:
  /// Takes shared ownership of `db`, reads the store's positions, rebuilds
  /// the index tail from the log after `indexed_through` (see key_codec.hpp)
  /// and starts the writer thread. Returns errc::corruption if a record in
  /// that part of the log cannot be read (its stream is unknown).
  static caf::expected<std::shared_ptr<leveldb_journal>>
  create(std::shared_ptr<leveldb_db> db);

  explicit leveldb_journal(std::shared_ptr<leveldb_db> db);

  /// Stops the writer thread after it has committed every queued write,
  /// synced parked ones and written the index tail; later writes fail with
  /// errc::closed. Called by the
  /// owning handle (see open_leveldb.cpp); the writer thread holds its own
  /// reference, so this is safe also from a callback on the writer thread.
  void shutdown();

  void write_async(std::vector<atomic_write> writes, write_callback done) override;
  caf::expected<uint64_t> replay(std::string_view persistence_id, uint64_t from,
                                 uint64_t to, uint64_t max,
                                 const event_visitor& f) override;
  caf::expected<uint64_t> highest_sequence_nr(std::string_view persistence_id) override;
  caf::error delete_up_to(std::string_view persistence_id, uint64_t to) override;
  caf::expected<uint64_t> read_all(uint64_t from, uint64_t max,
                                   const event_filter& filter,
                                   const event_visitor& f) override;
  uint64_t last_position() const override;
  journal_stats stats() const override;
  uint64_t add_commit_listener(commit_listener f) override;
  uint64_t add_shared_commit_listener(shared_commit_listener f) override;
  void remove_commit_listener(uint64_t token) override;
  caf::expected<std::optional<std::string>> get_side(std::string_view key) override;
  caf::error scan_side(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& f) override;

private:
  /// Sequence numbers first_seq..last_seq of one stream, stored at the
  /// consecutive global positions from first_pos.
  struct index_run {
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    uint64_t first_pos = 0;
  };

  /// What the journal knows about one stream.
  struct stream_state {
    uint64_t id = 0;       ///< Compact numeric stream id (see key_codec.hpp).
    /// Highest sequence number written. Set when the state is created, then
    /// only by the writer thread (which reads it without streams_mutex_).
    uint64_t highest = 0;
    /// Highest sequence number covered by an fsync (acknowledged): what
    /// readers see. Behind `highest` while a group is parked (periodic mode).
    uint64_t durable = 0;
    /// False until the name/id keys are written to the index database (by
    /// the index flush that writes the stream's first index entry).
    bool id_stored = true;
    const std::string* name = nullptr; ///< Its persistence id (the cache's key).
    /// True while the stream is in dirty_ (which drops streams whose tail
    /// emptied only when a flush ends, not after each of its parts).
    bool listed = false;
    /// Runs of durable events not yet in the LevelDB index, in sequence
    /// order. A stream with a tail is never dropped from the cache.
    std::vector<index_run> tail;
    /// Writer thread only: the last group that wrote to this stream and the
    /// highest sequence number it gave (applied once the group is stored).
    uint64_t staged_group = 0;
    uint64_t staged_high = 0;
  };

  /// The index runs one group adds, in commit order.
  using run_list = std::vector<std::pair<stream_state*, index_run>>;

  /// One write_async call waiting in the queue.
  struct pending_call {
    std::vector<atomic_write> writes;
    write_callback done;
    write_outcomes outcomes;
    /// Per write: why it is rejected, found by prepare() before queueing.
    std::vector<caf::error> rejected;
    /// Per write: its records, encoded by prepare() on the caller's thread
    /// when the write names its expected sequence number (so the sequence
    /// numbers are known; the writer only stores them if that holds).
    std::vector<std::vector<std::string>> records;
    /// Timestamp given to events without one: when the call was made.
    int64_t timestamp_us = 0;
    /// Per write with events: its stream's state, looked up by prepare() so
    /// that the writer does not (entries of streams_ are never erased, so
    /// the pointer stays valid). nullptr for rejected writes.
    std::vector<stream_state*> streams;
  };

  /// Validates and, where possible, encodes the writes of `call` on the
  /// caller's thread, and looks up their streams: work kept off the writer
  /// thread (its stream lookups in a cache of 200,000 streams took a fifth
  /// of its time in a sustained saga run).
  void prepare(pending_call& call);

  /// Calls written but not yet covered by an fsync (periodic mode).
  struct parked_group {
    std::vector<pending_call> calls;
    std::vector<event_envelope> events;
    /// The group's side writes, applied to the side keys once durable.
    std::unique_ptr<leveldb::WriteBatch> apply;
    uint64_t last_position = 0;
    /// The stream highs this group makes durable once its fsync succeeds.
    std::vector<std::pair<stream_state*, uint64_t>> highs;
    run_list runs;
  };

  // -- stream registry (leveldb_journal.cpp) ---------------------------------

  /// Returns the state of `pid`, loading it from disk on a cache miss. An
  /// unknown stream gets a new id (id_stored = false, stored by the index
  /// flush that writes its first index entry) and reads as empty; it stays
  /// cached, so its first write does not look it up again. Never nullptr.
  /// `h` is name_filter::hash_of(pid). REQUIRES: streams_mutex_ held.
  caf::expected<stream_state*> resolve_locked(std::string_view pid, uint64_t h);
  caf::expected<stream_state*> resolve_locked(std::string_view pid) {
    return resolve_locked(pid, name_filter::hash_of(pid));
  }

  /// Allocates the next stream id of `shard`. REQUIRES: streams_mutex_ held.
  caf::expected<uint64_t> next_stream_id_locked(uint16_t shard);

  // -- stream index (stream_index.cpp) ---------------------------------------

  /// Reads `indexed_through` and adds every event of the log after it up to
  /// `last` to the index tail, and loads names_at_open_. Called once, before
  /// the writer starts.
  caf::error rebuild_tail(uint64_t last);

  /// Moves the stream index of a format "1" store (in the log's database)
  /// to the index database. `last` is the last global position.
  caf::error upgrade_format_1(uint64_t last);

  /// Fills names_at_open_ from the name keys of the index database.
  caf::error load_names();

  /// Moves the name and id keys of a format "2" store from the log's
  /// database to the index database.
  caf::error upgrade_format_2();

  /// Moves the snapshots and side keys of a format "3" store from the log's
  /// database to the index database.
  caf::error upgrade_format_3();

  /// Appends `runs` (durable now) to their streams' tails, merging a run
  /// into the previous one where they are consecutive in the log.
  /// REQUIRES: streams_mutex_ held.
  void add_to_tail_locked(const run_list& runs);

  /// Writes every tail run into the index database in sorted parts, the
  /// last with `indexed_through` (synced; the other parts are not: the index
  /// is derived from the log and rebuilt from it after a crash), and drops
  /// them from memory. Called at shutdown and by delete_up_to; the writer
  /// thread flushes part by part with flush_step_locked().
  caf::error flush_index();
  /// flush_index() with flush_mutex_ held.
  caf::error flush_index_locked();

  /// Writes the next at most `max_entries` entries of the flush in progress,
  /// starting one from the current tail if none is. The writer thread flushes
  /// in parts so that group commits are not held up for long (10,000 entries
  /// at once took about 25 ms, which showed as live projection lag).
  /// REQUIRES: flush_mutex_ held.
  caf::error flush_step_locked(size_t max_entries);

  /// Calls `f(first_seq, last_seq, first_pos)` for every run of the stream
  /// `id` whose last_seq >= `from`, from the LevelDB index and then from
  /// `tail` (a copy taken under streams_mutex_), in sequence order (runs of
  /// the two may overlap; callers skip what they have seen). `f` returns
  /// false to stop. Returns an error if an index entry is malformed.
  caf::error visit_runs(uint64_t id, uint64_t from, const std::vector<index_run>& tail,
                        const std::function<bool(const index_run&)>& f);

  /// Decodes the index entry `key` -> `value` (see key_codec.hpp) into
  /// `runs`, replacing its contents. Returns false if it is malformed.
  static bool decode_entry(const leveldb::Slice& key, const leveldb::Slice& value,
                           std::vector<index_run>& runs);

  // -- writer (group_commit_writer.cpp) --------------------------------------

  void run_writer();
  void commit_group(std::vector<pending_call>& group);
  void sync_parked(bool force);
  void release_parked();
  /// Makes `highs` visible to readers (stream_state::durable).
  void make_durable(const std::vector<std::pair<stream_state*, uint64_t>>& highs,
                    const run_list& runs);
  /// Applies a durable group's side writes (`apply`, may be null) to the
  /// side keys in the index database; on failure fails every call of the
  /// group (its records are in the log and are applied again on reopen) and
  /// returns false.
  bool apply_side(leveldb::WriteBatch* apply, std::vector<pending_call>& calls);
  /// Adds one side write to `apply`: puts `value` under the side key of
  /// `key`, or deletes it if `value` is nullptr.
  static void add_side_write(leveldb::WriteBatch& apply, std::string_view key,
                             const std::string* value);
  /// Fails every parked group with `err` and rolls the writer's stream and
  /// position state back to what is durable.
  void drop_parked(const caf::error& err);
  /// Makes `last_position` the durable position and hands the group to the
  /// completer thread.
  void publish(std::vector<pending_call>& calls, std::vector<event_envelope>& events,
               uint64_t last_position);
  /// Sets every successful outcome of `calls` to `err` and hands them to the
  /// completer thread.
  void fail_calls(std::vector<pending_call>& calls, const caf::error& err);

  /// Registers `f` in `to` (listeners_ or shared_listeners_).
  template <class Listener>
  uint64_t add_listener(std::map<uint64_t, Listener>& to, Listener f);

  // -- completer (group_commit_writer.cpp) ------------------------------------

  /// A decided group: its calls (outcomes set) and its events for listeners.
  struct completion {
    std::vector<pending_call> calls;
    std::vector<event_envelope> events;
  };
  /// Queues a decided group for the completer thread (moves from both).
  void complete(std::vector<pending_call>& calls, std::vector<event_envelope>& events);
  /// The completer thread: tells the listeners of each decided group and
  /// then calls its callbacks, in commit order, while the writer goes on
  /// with the next group (the callbacks, such as the aggregates' answers,
  /// took a third of the writer's time). Returns once the
  /// writer has finished and every group is completed.
  void run_completer();

  std::shared_ptr<leveldb_db> db_;
  uint32_t shard_count_;

  std::mutex streams_mutex_;
  /// Every stream looked up or written since open. Never drops one: a name
  /// that is neither here nor in names_at_open_ was never stored.
  esr::util::string_table<stream_state> streams_; ///< Keyed by name_filter::hash_of.
  /// The names stored when the store was opened (set by rebuild_tail).
  name_filter names_at_open_;
  bool names_loaded_ = false;
  std::vector<uint64_t> shard_counters_; ///< UINT64_MAX = not loaded yet.
  // The index tail (guarded by streams_mutex_): streams with tail runs (and,
  // while a flush is in progress, streams it emptied), the events in them,
  // and the last global position they cover.
  std::vector<stream_state*> dirty_;
  uint64_t tail_events_ = 0;
  uint64_t tail_position_ = 0;
  /// One stream's entry of a flush: its runs at the start of the flush.
  /// One stream's entry of a flush: its runs up to `last_seq`, the end of
  /// its tail when the flush began.
  struct flush_entry {
    stream_state* s;
    uint64_t id;
    uint64_t last_seq;
  };
  /// A flush of the index tail in progress (guarded by flush_mutex_).
  struct flush_state {
    std::vector<flush_entry> entries; ///< Sorted by stream id.
    size_t next = 0;                  ///< First entry not written yet.
    uint64_t through = 0;             ///< The checkpoint it writes last.
  };
  /// Serializes index flushes and delete_up_to (both rewrite index entries).
  std::mutex flush_mutex_;
  flush_state flush_;
  /// True while flush_ has entries left (read by the writer thread).
  std::atomic<bool> flushing_{false};
  /// Set when writing the index failed (guarded by flush_mutex_): the store
  /// refuses writes until reopened, and flushes are not tried again.
  bool index_failed_ = false;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<pending_call> queue_;
  bool stopping_ = false;

  // Writer-thread state.
  uint64_t next_position_ = 0; ///< Last global position written.
  uint64_t groups_built_ = 0;  ///< Numbers the groups (stream_state::staged_group).
  /// The position and side_seq of the last side record (see key_codec.hpp).
  uint64_t side_position_ = 0;
  uint64_t side_seq_ = 0;
  std::vector<parked_group> parked_;
  std::chrono::steady_clock::time_point last_sync_;

  std::atomic<uint64_t> durable_position_{0};
  std::atomic<uint64_t> stat_groups_{0};
  std::atomic<uint64_t> stat_writes_{0};
  std::atomic<uint64_t> stat_events_{0};
  std::atomic<uint64_t> stat_syncs_{0};

  std::mutex listeners_mutex_;
  std::map<uint64_t, commit_listener> listeners_;
  std::map<uint64_t, shared_commit_listener> shared_listeners_;
  std::atomic<bool> has_listeners_{false};
  uint64_t next_token_ = 1;

  std::thread writer_;

  std::mutex done_mutex_; ///< Guards done_queue_ and writer_done_.
  std::condition_variable done_cv_;
  std::deque<completion> done_queue_;
  bool writer_done_ = false; ///< The writer thread has returned.
  std::thread completer_;
};

} // namespace esr::persistence::detail
