#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "esr/persistence/snapshot_store.hpp"
#include "leveldb_db.hpp"

namespace esr::persistence::detail {

/// The LevelDB snapshot store: one record per (stream, sequence number) under
/// snapshot_key (see key_codec.hpp), written with sync unless durability is
/// none. Newest-first lookups iterate the stream's key range backwards.
/// save_async hands snapshots to a background thread that stores everything
/// queued in one WriteBatch with one fsync and then calls the callbacks (on
/// that thread), so aggregates never block on a snapshot's fsync.
class leveldb_snapshot_store final : public snapshot_store {
public:
  explicit leveldb_snapshot_store(std::shared_ptr<leveldb_db> db);

  /// Stores queued snapshots, then stops the background thread.
  ~leveldb_snapshot_store() override;

  caf::error save(const snapshot_envelope& s) override;
  void save_async(snapshot_envelope s, std::function<void(caf::error)> done) override;
  caf::expected<std::optional<snapshot_envelope>>
  load(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::expected<std::vector<snapshot_metadata>>
  list(std::string_view persistence_id, const snapshot_criteria& c) override;
  caf::error remove(std::string_view persistence_id, uint64_t sequence_nr) override;
  caf::error remove(std::string_view persistence_id, const snapshot_criteria& c) override;

private:
  /// Visits the stream's snapshots newest first with seq <= max_seq; the
  /// visitor gets the key, the seq and the raw record; return false to stop.
  caf::error scan_newest_first(
    std::string_view pid, uint64_t max_seq,
    const std::function<bool(const std::string& key, uint64_t seq, std::string_view record)>& f);

  /// Encodes `s` into `record` and returns its key, or an error if invalid.
  static caf::expected<std::string> prepare(const leveldb_db& db, snapshot_envelope& s,
                                            std::string& record);

  /// The background saver's queue, shared with its thread (which keeps it
  /// alive while it drains, also when the store is dropped from a callback).
  struct saver_state {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::pair<snapshot_envelope, std::function<void(caf::error)>>> queue;
    bool stopping = false;
  };

  static void run_saver(std::shared_ptr<saver_state> state, std::shared_ptr<leveldb_db> db);

  std::shared_ptr<leveldb_db> db_;
  std::shared_ptr<saver_state> saver_state_ = std::make_shared<saver_state>();
  std::thread saver_;
};

} // namespace esr::persistence::detail
