#include "leveldb_journal.hpp"

#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include "esr/persistence/error.hpp"
#include "key_codec.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

caf::error from_status(const leveldb::Status& st, const char* what) {
  if (st.ok())
    return caf::none;
  if (st.IsCorruption())
    return make_error(errc::corruption, what, st.ToString());
  return make_error(errc::io_error, what, st.ToString());
}

caf::expected<std::shared_ptr<leveldb_journal>>
leveldb_journal::create(std::shared_ptr<leveldb_db> db) {
  // The last global position is the last key of the 'g' key space.
  std::unique_ptr<leveldb::Iterator> it{db->db->NewIterator(leveldb::ReadOptions{})};
  uint64_t last = 0;
  it->Seek(std::string(1, global_tag + 1));
  if (it->Valid())
    it->Prev();
  else
    it->SeekToLast();
  // (or a side record, written when it was the last).
  uint64_t side_seq = 0;
  if (it->Valid() && it->key()[0] == global_tag && it->key().size() == 9)
    last = get_be64(it->key().data() + 1);
  if (it->Valid() && it->key()[0] == global_tag && it->key().size() == side_record_key_size) {
    last = get_be64(it->key().data() + 1);
    side_seq = get_be64(it->key().data() + 9);
  }
  if (!it->status().ok())
    return from_status(it->status(), "reading the last global position");
  auto result = std::make_shared<leveldb_journal>(std::move(db));
  result->side_position_ = last;
  result->side_seq_ = side_seq;
  result->next_position_ = last;
  result->durable_position_ = last;
  if (auto err = result->rebuild_tail(last))
    return err;
  result->writer_ = std::thread{[self = result] { self->run_writer(); }};
  result->completer_ = std::thread{[self = result] { self->run_completer(); }};
  return result;
}

leveldb_journal::leveldb_journal(std::shared_ptr<leveldb_db> db)
  : db_(std::move(db)),
    shard_count_(db_->opts.shard_count),
    shard_counters_(db_->opts.shard_count, UINT64_MAX),
    last_sync_(std::chrono::steady_clock::now()) {
}

void leveldb_journal::shutdown() {
  {
    std::lock_guard<std::mutex> guard{queue_mutex_};
    stopping_ = true;
  }
  queue_cv_.notify_all();
  // The last handle may be dropped by a callback running on the completer
  // thread: that thread then finishes by itself, keeping this object alive.
  for (auto* t : {&writer_, &completer_}) {
    if (!t->joinable())
      continue;
    if (t->get_id() == std::this_thread::get_id())
      t->detach();
    else
      t->join();
  }
}

// -- stream registry ---------------------------------------------------------

caf::expected<uint64_t> leveldb_journal::next_stream_id_locked(uint16_t shard) {
  auto& counter = shard_counters_[shard];
  if (counter == UINT64_MAX) {
    // Load: the last id_key of this shard holds its highest counter.
    uint64_t base = static_cast<uint64_t>(shard) << 48;
    std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
    it->Seek(id_key(base + (uint64_t{1} << 48)));
    if (it->Valid())
      it->Prev();
    else
      it->SeekToLast();
    counter = 0;
    if (it->Valid() && it->key().size() == 9 && it->key()[0] == id_tag) {
      auto id = get_be64(it->key().data() + 1);
      if ((id >> 48) == shard)
        counter = id & ((uint64_t{1} << 48) - 1);
    }
    if (!it->status().ok()) {
      counter = UINT64_MAX;
      return from_status(it->status(), "loading a shard's stream counter");
    }
  }
  return (static_cast<uint64_t>(shard) << 48) | ++counter;
}

caf::expected<leveldb_journal::stream_state*>
leveldb_journal::resolve_locked(std::string_view pid, uint64_t h) {
  if (auto n = streams_.find(pid, h))
    return &n->value;
  auto shard = shard_of(pid, shard_count_);
  std::string value;
  // A name stored before open is in the filter, one stored since in
  // streams_: a filter miss is a new stream, found without a read.
  auto st = names_loaded_ && !names_at_open_.may_contain(h)
              ? leveldb::Status::NotFound("a new stream")
              : db_->index->Get(leveldb::ReadOptions{}, name_key(shard, pid), &value);
  stream_state state;
  if (st.ok()) {
    if (value.size() != 8)
      return make_error(errc::corruption, "stream id record", std::string{pid});
    state.id = get_be64(value.data());
    // Highest: the last index entry of the stream, or the deletion marker.
    std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
    it->Seek(event_key(state.id + 1, 0));
    if (it->Valid())
      it->Prev();
    else
      it->SeekToLast();
    auto prefix = stream_index_prefix(state.id);
    if (it->Valid() && it->key().starts_with(prefix))
      state.highest = trailing_seq(std::string_view{it->key().data(), it->key().size()});
    if (!it->status().ok())
      return from_status(it->status(), "reading a stream's highest sequence number");
    std::string marker;
    auto ds = db_->index->Get(leveldb::ReadOptions{}, deleted_key(state.id), &marker);
    if (ds.ok() && marker.size() == 8)
      state.highest = std::max(state.highest, get_be64(marker.data()));
    else if (!ds.ok() && !ds.IsNotFound())
      return from_status(ds, "reading a stream's deletion marker");
    state.durable = state.highest;
  } else if (st.IsNotFound()) {
    // Cached even when only read: the stream's first write, usually right
    // after its aggregate recovered from nothing, then finds it here instead
    // of repeating the lookup on the writer thread.
    auto id = next_stream_id_locked(shard);
    if (!id)
      return std::move(id.error());
    state.id = *id;
    state.id_stored = false;
  } else {
    return from_status(st, "reading a stream id");
  }
  auto n = streams_.try_emplace(pid, h).first;
  n->value = state;
  n->value.name = &n->key; // the key never moves
  return &n->value;
}

// -- reads -------------------------------------------------------------------

caf::expected<uint64_t> leveldb_journal::replay(std::string_view pid, uint64_t from,
                                                uint64_t to, uint64_t max,
                                                const event_visitor& f) {
  uint64_t id = 0;
  uint64_t highest = 0;
  std::vector<index_run> tail;
  {
    std::lock_guard<std::mutex> guard{streams_mutex_};
    auto st = resolve_locked(pid);
    if (!st)
      return std::move(st.error());
    id = (*st)->id;
    highest = (*st)->durable;
    tail = (*st)->tail;
  }
  from = std::max<uint64_t>(from, 1);
  to = std::min(to, highest);
  if (max == 0 || from > to)
    return highest;
  auto durable = durable_position_.load();
  std::unique_ptr<leveldb::Iterator> log{db_->db->NewIterator(leveldb::ReadOptions{})};
  event_envelope env;
  uint64_t count = 0;
  uint64_t expected = from; // next sequence number to visit
  caf::error failed;
  auto corrupt = [&](const leveldb::Status& st) {
    auto code = st.ok() || st.IsCorruption() ? errc::corruption : errc::io_error;
    failed = make_error(code, "event record", std::string{pid}, expected, st.ToString());
    return false;
  };
  auto err = visit_runs(id, from, tail, [&](const index_run& r) {
    if (r.last_seq < expected) // seen already (the index and the tail overlap)
      return true;
    if (count > 0 && r.first_seq > expected) // a hole in the stream
      return corrupt(leveldb::Status::Corruption("missing from the index"));
    auto seq = std::max(r.first_seq, expected);
    auto pos = r.first_pos + (seq - r.first_seq);
    if (seq > to || pos > durable)
      return false;
    // Consecutive runs are often consecutive in the log: no seek.
    if (!log->Valid() || log->key().size() != 9 || get_be64(log->key().data() + 1) != pos
        || log->key()[0] != global_tag)
      log->Seek(global_key(pos));
    for (; seq <= r.last_seq && seq <= to; ++seq, ++pos, log->Next()) {
      if (pos > durable || count >= max)
        return false;
      expected = seq;
      while (log->Valid() && log->key().size() == side_record_key_size)
        log->Next(); // a side record between two events
      if (!log->Valid())
        return corrupt(log->status());
      auto lk = log->key();
      auto lv = log->value();
      if (lk.size() != 9 || lk[0] != global_tag || get_be64(lk.data() + 1) != pos
          || !decode_event(std::string_view{lv.data(), lv.size()}, env)
          || env.sequence_nr != seq || env.persistence_id != pid)
        return corrupt(log->status());
      env.global_position = pos;
      ++count;
      if (!f(env))
        return false;
    }
    expected = seq;
    return seq <= to;
  });
  if (err)
    return err;
  if (failed)
    return failed;
  return highest;
}

caf::expected<uint64_t> leveldb_journal::highest_sequence_nr(std::string_view pid) {
  std::lock_guard<std::mutex> guard{streams_mutex_};
  auto st = resolve_locked(pid);
  if (!st)
    return std::move(st.error());
  return (*st)->durable;
}

caf::error leveldb_journal::delete_up_to(std::string_view pid, uint64_t to) {
  uint64_t id = 0;
  uint64_t highest = 0;
  {
    std::lock_guard<std::mutex> guard{streams_mutex_};
    auto st = resolve_locked(pid);
    if (!st)
      return std::move(st.error());
    id = (*st)->id;
    highest = (*st)->durable;
  }
  to = std::min(to, highest);
  if (to == 0)
    return caf::none;
  // Everything up to `to` is durable, so it is in the tail or the LevelDB
  // index; after the flush, all of it is in the index.
  std::lock_guard<std::mutex> flush_guard{flush_mutex_};
  if (auto err = flush_index_locked())
    return err;
  // Drop every index entry that ends at or before `to`; rewrite those that
  // straddle it without the runs (or parts) up to `to`. The global log
  // keeps the records (see journal.hpp).
  leveldb::WriteBatch batch;
  std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
  auto prefix = stream_index_prefix(id);
  std::vector<index_run> runs;
  for (it->Seek(event_key(id, 0)); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto key = it->key();
    if (!decode_entry(key, it->value(), runs))
      return make_error(errc::corruption, "stream index entry", std::string{pid});
    if (runs.front().first_seq > to)
      break;
    if (runs.back().last_seq <= to) {
      batch.Delete(key);
      continue;
    }
    std::string kept;
    for (auto& r : runs) {
      if (r.last_seq <= to)
        continue;
      auto skip = r.first_seq <= to ? to + 1 - r.first_seq : 0;
      append_index_run(kept, r.first_seq + skip, r.first_pos + skip);
    }
    // Not the last one to look at: after a crash during an index flush a
    // later entry may repeat runs of this one (see stream_index.cpp).
    batch.Put(key, kept);
  }
  if (!it->status().ok())
    return from_status(it->status(), "deleting events");
  std::string marker;
  put_be64(marker, to);
  std::string old;
  auto ds = db_->index->Get(leveldb::ReadOptions{}, deleted_key(id), &old);
  if (ds.ok() && old.size() == 8 && get_be64(old.data()) > to)
    return caf::none;
  batch.Put(deleted_key(id), marker);
  return from_status(db_->write_index(db_->durable_write(), &batch), "deleting events");
}

caf::expected<uint64_t> leveldb_journal::read_all(uint64_t from, uint64_t max,
                                                  const event_filter& filter,
                                                  const event_visitor& f) {
  from = std::max<uint64_t>(from, 1);
  uint64_t examined = from - 1;
  auto durable = durable_position_.load();
  if (max == 0 || from > durable)
    return examined;
  std::unique_ptr<leveldb::Iterator> it{db_->db->NewIterator(leveldb::ReadOptions{})};
  event_envelope env;
  uint64_t count = 0;
  for (it->Seek(global_key(from)); it->Valid(); it->Next()) {
    auto key = it->key();
    if (key[0] == global_tag && key.size() == side_record_key_size)
      continue; // side writes, not an event
    if (key.size() != 9 || key[0] != global_tag)
      break;
    auto pos = get_be64(key.data() + 1);
    if (pos > durable)
      break;
    auto value = it->value();
    if (!decode_event(std::string_view{value.data(), value.size()}, env))
      return make_error(errc::corruption, "event record at global position", pos);
    env.global_position = pos;
    examined = pos;
    if (filter.matches(env)) {
      ++count;
      if (!f(env) || count >= max)
        break;
    }
  }
  if (!it->status().ok()) {
    auto code = it->status().IsCorruption() ? errc::corruption : errc::io_error;
    return make_error(code, "event record at global position", examined + 1,
                      it->status().ToString());
  }
  return examined;
}

uint64_t leveldb_journal::last_position() const {
  return durable_position_.load();
}

journal_stats leveldb_journal::stats() const {
  return journal_stats{stat_groups_.load(), stat_writes_.load(), stat_events_.load(),
                       stat_syncs_.load()};
}

template <class Listener>
uint64_t leveldb_journal::add_listener(std::map<uint64_t, Listener>& to, Listener f) {
  std::lock_guard<std::mutex> guard{listeners_mutex_};
  auto token = next_token_++;
  to.emplace(token, std::move(f));
  has_listeners_ = true;
  return token;
}

uint64_t leveldb_journal::add_commit_listener(commit_listener f) {
  return add_listener(listeners_, std::move(f));
}

uint64_t leveldb_journal::add_shared_commit_listener(shared_commit_listener f) {
  return add_listener(shared_listeners_, std::move(f));
}

void leveldb_journal::remove_commit_listener(uint64_t token) {
  std::lock_guard<std::mutex> guard{listeners_mutex_};
  listeners_.erase(token);
  shared_listeners_.erase(token);
  has_listeners_ = !listeners_.empty() || !shared_listeners_.empty();
}

caf::expected<std::optional<std::string>>
leveldb_journal::get_side(std::string_view key) {
  std::string value;
  auto st = db_->index->Get(leveldb::ReadOptions{}, side_key(key), &value);
  if (st.IsNotFound())
    return std::optional<std::string>{};
  if (!st.ok())
    return from_status(st, "reading a side key");
  return std::optional<std::string>{std::move(value)};
}

caf::error leveldb_journal::scan_side(
  std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) {
  std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
  auto full = side_key(prefix);
  for (it->Seek(full); it->Valid() && it->key().starts_with(full); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    if (!f(std::string_view{k.data() + 1, k.size() - 1}, std::string_view{v.data(), v.size()}))
      break;
  }
  return from_status(it->status(), "scanning side keys");
}

} // namespace esr::persistence::detail
