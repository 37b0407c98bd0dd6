#include "leveldb_snapshot_store.hpp"

#include <pthread.h>

#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include "esr/persistence/error.hpp"
#include "key_codec.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

leveldb_snapshot_store::leveldb_snapshot_store(std::shared_ptr<leveldb_db> db)
  : db_(std::move(db)) {
}

leveldb_snapshot_store::~leveldb_snapshot_store() {
  {
    std::lock_guard<std::mutex> guard{saver_state_->mutex};
    saver_state_->stopping = true;
  }
  saver_state_->cv.notify_all();
  if (saver_.joinable()) {
    // The last reference may be dropped by a callback running on our own
    // thread: it then finishes by itself after this destructor returns.
    if (saver_.get_id() == std::this_thread::get_id())
      saver_.detach();
    else
      saver_.join();
  }
}

caf::expected<std::string> leveldb_snapshot_store::prepare(const leveldb_db& db,
                                                           snapshot_envelope& s,
                                                           std::string& record) {
  if (auto err = validate_snapshot(s, db.opts.max_payload_bytes))
    return err;
  if (s.timestamp_us == 0)
    s.timestamp_us = now_us();
  encode_snapshot(s, record);
  return snapshot_key(shard_of(s.persistence_id, db.opts.shard_count), s.persistence_id,
                      s.sequence_nr);
}

caf::error leveldb_snapshot_store::save(const snapshot_envelope& s) {
  snapshot_envelope copy = s;
  std::string record;
  auto key = prepare(*db_, copy, record);
  if (!key)
    return std::move(key.error());
  leveldb::WriteBatch batch;
  batch.Put(*key, record);
  return from_status(db_->write_index(db_->durable_write(), &batch), "saving a snapshot");
}

void leveldb_snapshot_store::save_async(snapshot_envelope s,
                                        std::function<void(caf::error)> done) {
  auto& st = *saver_state_;
  std::unique_lock<std::mutex> lock{st.mutex};
  if (st.stopping) {
    lock.unlock();
    done(make_error(errc::closed, "snapshot store is closed"));
    return;
  }
  if (!saver_.joinable())
    saver_ = std::thread{[state = saver_state_, db = db_] { run_saver(state, db); }};
  st.queue.emplace_back(std::move(s), std::move(done));
  st.cv.notify_one();
}

void leveldb_snapshot_store::run_saver(std::shared_ptr<saver_state> state,
                                       std::shared_ptr<leveldb_db> db) {
  pthread_setname_np(pthread_self(), "esr-snapshots");
  for (;;) {
    decltype(state->queue) work;
    {
      std::unique_lock<std::mutex> lock{state->mutex};
      state->cv.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
      if (state->queue.empty())
        return;
      work.swap(state->queue);
    }
    // One batch and one fsync for everything queued; invalid snapshots are
    // answered with their error and left out.
    leveldb::WriteBatch batch;
    std::vector<caf::error> outcomes(work.size());
    std::string record;
    for (size_t i = 0; i < work.size(); ++i) {
      record.clear();
      auto key = prepare(*db, work[i].first, record);
      if (!key)
        outcomes[i] = std::move(key.error());
      else
        batch.Put(*key, record);
    }
    auto err = from_status(db->write_index(db->durable_write(), &batch), "saving snapshots");
    for (size_t i = 0; i < work.size(); ++i)
      work[i].second(outcomes[i] ? outcomes[i] : err);
  }
}

caf::error leveldb_snapshot_store::scan_newest_first(
  std::string_view pid, uint64_t max_seq,
  const std::function<bool(const std::string&, uint64_t, std::string_view)>& f) {
  if (!valid_persistence_id(pid))
    return caf::none;
  auto shard = shard_of(pid, db_->opts.shard_count);
  auto prefix = snapshot_prefix(shard, pid);
  std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
  auto bound = snapshot_key(shard, pid, max_seq);
  it->Seek(bound);
  if (!it->Valid())
    it->SeekToLast();
  else if (it->key().compare(bound) > 0)
    it->Prev();
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    std::string key = it->key().ToString();
    if (key.size() != prefix.size() + 8)
      continue;
    auto v = it->value();
    if (!f(key, trailing_seq(key), std::string_view{v.data(), v.size()}))
      break;
  }
  return from_status(it->status(), "reading snapshots");
}

caf::expected<std::optional<snapshot_envelope>>
leveldb_snapshot_store::load(std::string_view pid, const snapshot_criteria& c) {
  std::optional<snapshot_envelope> result;
  caf::error failure;
  auto err = scan_newest_first(pid, c.max_sequence_nr,
                               [&](const std::string&, uint64_t seq, std::string_view rec) {
    if (seq < c.min_sequence_nr)
      return false;
    snapshot_envelope s;
    if (!decode_snapshot(rec, s) || s.sequence_nr != seq) {
      failure = make_error(errc::corruption, "snapshot record", std::string{pid}, seq);
      return false;
    }
    if (!c.matches(seq, s.timestamp_us))
      return true;
    result = std::move(s);
    return false;
  });
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
}

caf::expected<std::vector<snapshot_metadata>>
leveldb_snapshot_store::list(std::string_view pid, const snapshot_criteria& c) {
  std::vector<snapshot_metadata> result;
  auto err = scan_newest_first(pid, c.max_sequence_nr,
                               [&](const std::string&, uint64_t seq, std::string_view rec) {
    if (seq < c.min_sequence_nr)
      return false;
    snapshot_envelope s;
    if (!decode_snapshot(rec, s)) {
      // Unreadable: its timestamp is unknown (-1); listed so callers can skip it.
      result.push_back(snapshot_metadata{std::string{pid}, seq, -1});
      return true;
    }
    if (c.matches(seq, s.timestamp_us))
      result.push_back(snapshot_metadata{std::string{pid}, seq, s.timestamp_us});
    return true;
  });
  if (err)
    return err;
  return result;
}

caf::error leveldb_snapshot_store::remove(std::string_view pid, uint64_t sequence_nr) {
  if (!valid_persistence_id(pid))
    return caf::none;
  auto shard = shard_of(pid, db_->opts.shard_count);
  leveldb::WriteBatch batch;
  batch.Delete(snapshot_key(shard, pid, sequence_nr));
  return from_status(db_->write_index(db_->durable_write(), &batch), "deleting a snapshot");
}

caf::error leveldb_snapshot_store::remove(std::string_view pid, const snapshot_criteria& c) {
  leveldb::WriteBatch batch;
  auto err = scan_newest_first(pid, c.max_sequence_nr,
                               [&](const std::string& key, uint64_t seq, std::string_view rec) {
    if (seq < c.min_sequence_nr)
      return false;
    snapshot_envelope s;
    // An unreadable snapshot within the sequence bounds is deleted as well.
    if (!decode_snapshot(rec, s) || c.matches(seq, s.timestamp_us))
      batch.Delete(key);
    return true;
  });
  if (err)
    return err;
  return from_status(db_->write_index(db_->durable_write(), &batch), "deleting snapshots");
}

} // namespace esr::persistence::detail
