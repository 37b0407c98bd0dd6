// The stream index of leveldb_journal: the in-memory tail of recent runs,
// its sorted write-out, its rebuild from the log on open, and reading runs
// back (see key_codec.hpp for the layout and leveldb_journal.hpp).
//
// Why a tail: an index entry per atomic write puts a random key into
// LevelDB's memtable beside every log record, and those keys make every
// level-0 file overlap the whole key range, so compaction rewrites the log
// again and again. Measured with `esr-bench aggregates`, leaving the entries
// out of the group commit cut the CPU per command by a fifth to a quarter.
// Written out every index_flush_events events, a stream's runs of one window
// share one entry, inserted in key order.
#include <algorithm>
#include <string>

#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include "esr/persistence/error.hpp"
#include "key_codec.hpp"
#include "leveldb_journal.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

namespace {

/// The last global position of `r`.
uint64_t last_pos(uint64_t first_seq, uint64_t last_seq, uint64_t first_pos) {
  return first_pos + (last_seq - first_seq);
}

/// The batch of a format upgrade, written every 4,096 keys to the index or
/// the log's database.
struct upgrade_batch {
  leveldb_db& db;
  leveldb::WriteBatch batch;
  size_t n = 0;

  /// Counts one more key in `batch`; writes it out every 4,096 keys.
  caf::error step(bool to_index) {
    if (++n % 4096 != 0)
      return caf::none;
    auto st = to_index ? db.write_index({}, &batch) : db.write({}, &batch);
    batch.Clear();
    return from_status(st, "upgrading the store's format");
  }
};

/// Moves the keys tagged `a` or `b` from the log's database to the index
/// database and marks the store `format`: copies them (synced), then drops
/// them from the log's database and writes the format (synced). Repeating
/// it after a crash copies the same keys. The format "2" and "3" upgrades.
caf::error move_to_index(leveldb_db& db, char a, char b, const char* format) {
  auto moves = [a, b](const leveldb::Slice& k) { return !k.empty() && (k[0] == a || k[0] == b); };
  auto first = std::string(1, std::min(a, b));
  auto past = std::max(a, b);
  std::unique_ptr<leveldb::Iterator> it{db.db->NewIterator(leveldb::ReadOptions{})};
  upgrade_batch up{db};
  auto& batch = up.batch;
  for (it->Seek(first); it->Valid() && it->key()[0] <= past; it->Next()) {
    if (!moves(it->key()))
      continue;
    batch.Put(it->key(), it->value());
    if (auto err = up.step(true))
      return err;
  }
  if (!it->status().ok())
    return from_status(it->status(), "upgrading the store's format");
  leveldb::WriteOptions synced;
  synced.sync = true;
  if (auto err = from_status(db.write_index(synced, &batch), "upgrading the store's format"))
    return err;
  batch.Clear();
  for (it->Seek(first); it->Valid() && it->key()[0] <= past; it->Next()) {
    if (!moves(it->key()))
      continue;
    batch.Delete(it->key());
    if (auto err = up.step(false))
      return err;
  }
  if (!it->status().ok())
    return from_status(it->status(), "upgrading the store's format");
  batch.Put(meta_key("format"), format);
  return from_status(db.write(synced, &batch), "upgrading the store's format");
}

} // namespace

caf::error leveldb_journal::rebuild_tail(uint64_t last) {
  std::string value;
  auto fs = db_->db->Get(leveldb::ReadOptions{}, meta_key("format"), &value);
  if (fs.ok() && value == "1") {
    if (auto err = upgrade_format_1(last))
      return err;
    value = "2";
  }
  if (fs.ok() && value == "2") {
    if (auto err = upgrade_format_2())
      return err;
    value = "3";
  }
  if (fs.ok() && value == "3")
    if (auto err = upgrade_format_3())
      return err;
  if (auto err = load_names())
    return err;
  // No checkpoint (the index directory was lost): index the whole log.
  uint64_t through = 0;
  auto st = db_->index->Get(leveldb::ReadOptions{}, meta_key("indexed_through"), &value);
  if (st.ok())
    through = std::strtoull(value.c_str(), nullptr, 10);
  else if (!st.IsNotFound())
    return from_status(st, "reading the store's index checkpoint");
  std::lock_guard<std::mutex> guard{streams_mutex_};
  tail_position_ = through;
  // From the checkpoint's own position: a side record written after the
  // checkpoint may sort right after its event (nothing came in between).
  std::unique_ptr<leveldb::Iterator> it{db_->db->NewIterator(leveldb::ReadOptions{})};
  event_envelope env;
  run_list runs(1);
  leveldb::WriteBatch apply; // the side records, applied again in log order
  for (it->Seek(global_key(through)); it->Valid(); it->Next()) {
    auto key = it->key();
    if (key[0] == global_tag && key.size() == side_record_key_size) {
      auto v = it->value();
      auto ok = decode_side_record(
        std::string_view{v.data(), v.size()},
        [&](const std::string& k, const std::string* val) { add_side_write(apply, k, val); });
      if (!ok)
        return make_error(errc::corruption, "side record after global position",
                          get_be64(key.data() + 1));
      continue;
    }
    if (key.size() != 9 || key[0] != global_tag)
      break;
    auto pos = get_be64(key.data() + 1);
    if (pos <= through)
      continue; // indexed already
    auto record = it->value();
    if (!decode_event(std::string_view{record.data(), record.size()}, env))
      return make_error(errc::corruption, "event record at global position", pos,
                        "cannot be indexed: its stream is unknown");
    // A stream first written after the checkpoint has no id record yet
    // (unless a part written before a crash stored it): it gets one again,
    // and the next flush stores it with the stream's first index entry.
    auto s = resolve_locked(env.persistence_id);
    if (!s)
      return std::move(s.error());
    runs[0] = {*s, index_run{env.sequence_nr, env.sequence_nr, pos}};
    add_to_tail_locked(runs);
    (*s)->highest = std::max((*s)->highest, env.sequence_nr);
    (*s)->durable = (*s)->highest;
  }
  if (!it->status().ok())
    return from_status(it->status(), "rebuilding the stream index from the log");
  if (apply.ApproximateSize() > 12)
    return from_status(db_->write_index(leveldb::WriteOptions{}, &apply),
                       "applying side records again");
  return caf::none;
}

caf::error leveldb_journal::load_names() {
  // One pass over the name keys (about a microsecond per stream); the
  // hashes first, so the filter gets its size.
  std::vector<uint64_t> hashes;
  std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
  for (it->Seek(std::string(1, name_tag)); it->Valid() && it->key()[0] == name_tag; it->Next()) {
    auto k = it->key();
    if (k.size() > 3) // tag, shard, name
      hashes.push_back(name_filter::hash_of(std::string_view{k.data() + 3, k.size() - 3}));
  }
  if (!it->status().ok())
    return from_status(it->status(), "reading the store's stream names");
  names_at_open_ = name_filter{hashes.size()};
  for (auto h : hashes)
    names_at_open_.add(h);
  names_loaded_ = true;
  return caf::none;
}

caf::error leveldb_journal::upgrade_format_1(uint64_t last) {
  // Copy the index entries and deletion markers to the index database, set
  // its checkpoint (synced), then drop them from the log's database and
  // mark it format "2". Repeating it after a crash copies the same keys.
  auto in_index = [](const leveldb::Slice& k) {
    return !k.empty() && (k[0] == event_tag || k[0] == deleted_tag);
  };
  std::unique_ptr<leveldb::Iterator> it{db_->db->NewIterator(leveldb::ReadOptions{})};
  upgrade_batch up{*db_};
  auto& batch = up.batch;
  for (it->Seek(std::string(1, deleted_tag)); it->Valid() && in_index(it->key()); it->Next()) {
    batch.Put(it->key(), it->value());
    if (auto err = up.step(true))
      return err;
  }
  if (!it->status().ok())
    return from_status(it->status(), "upgrading the store's format");
  batch.Put(meta_key("indexed_through"), std::to_string(last));
  leveldb::WriteOptions synced;
  synced.sync = true;
  if (auto err = from_status(db_->write_index(synced, &batch), "upgrading the store's format"))
    return err;
  batch.Clear();
  for (it->Seek(std::string(1, deleted_tag)); it->Valid() && in_index(it->key()); it->Next()) {
    batch.Delete(it->key());
    if (auto err = up.step(false))
      return err;
  }
  // Names, ids, snapshots and side keys: to the tags of format "2" (see
  // key_codec.hpp; the format "3" upgrade retags snapshots and side keys
  // once more).
  auto retag = [](char t) -> char {
    switch (t) {
      case 'i': return id_tag;
      case 'n': return name_tag;
      case 'p': return 'P';
      case 'x': return 'X';
      default: return 0;
    }
  };
  for (it->Seek(std::string(1, 'i')); it->Valid(); it->Next()) {
    auto key = it->key();
    auto t = retag(key[0]);
    if (t == 0)
      continue;
    std::string moved{key.data(), key.size()};
    moved[0] = t;
    batch.Put(moved, it->value());
    batch.Delete(key);
    if (auto err = up.step(false))
      return err;
  }
  if (!it->status().ok())
    return from_status(it->status(), "upgrading the store's format");
  batch.Put(meta_key("format"), "2");
  return from_status(db_->write(synced, &batch), "upgrading the store's format");
}

caf::error leveldb_journal::upgrade_format_2() {
  return move_to_index(*db_, name_tag, id_tag, "3");
}

caf::error leveldb_journal::upgrade_format_3() {
  return move_to_index(*db_, snapshot_tag, side_tag, "4");
}

void leveldb_journal::add_to_tail_locked(const run_list& runs) {
  for (auto& [s, r] : runs) {
    tail_events_ += r.last_seq - r.first_seq + 1;
    tail_position_ = std::max(tail_position_, last_pos(r.first_seq, r.last_seq, r.first_pos));
    if (!s->listed) {
      s->listed = true;
      dirty_.push_back(s);
    }
    if (!s->tail.empty()) {
      auto& b = s->tail.back();
      if (b.last_seq + 1 == r.first_seq
          && last_pos(b.first_seq, b.last_seq, b.first_pos) + 1 == r.first_pos) {
        b.last_seq = r.last_seq;
        continue;
      }
    }
    s->tail.push_back(r);
  }
}

caf::error leveldb_journal::flush_index() {
  std::lock_guard<std::mutex> flush_guard{flush_mutex_};
  return flush_index_locked();
}

caf::error leveldb_journal::flush_index_locked() {
  // Finish the flush in progress, then write out what came since.
  while (!flush_.entries.empty())
    if (auto err = flush_step_locked(SIZE_MAX))
      return err;
  return flush_step_locked(SIZE_MAX);
}

caf::error leveldb_journal::flush_step_locked(size_t max_entries) {
  if (index_failed_)
    return make_error(errc::io_error, "an earlier write of the stream index failed; reopen it");
  auto& f = flush_;
  if (f.entries.empty()) {
    // Only which streams and how far: each part copies its own runs.
    {
      std::lock_guard<std::mutex> guard{streams_mutex_};
      if (dirty_.empty())
        return caf::none;
      f.through = tail_position_;
      f.next = 0;
      f.entries.reserve(dirty_.size());
      for (auto* s : dirty_)
        if (!s->tail.empty())
          f.entries.push_back(flush_entry{s, s->id, s->tail.back().last_seq});
      if (f.entries.empty())
        return caf::none;
    }
    // In key order: LevelDB's memtable inserts then walk warm nodes.
    std::sort(f.entries.begin(), f.entries.end(),
              [](const flush_entry& a, const flush_entry& b) { return a.id < b.id; });
    flushing_ = true;
  }
  auto begin = f.next;
  auto end = f.entries.size() - begin > max_entries ? begin + max_entries : f.entries.size();
  leveldb::WriteBatch batch;
  {
    std::string value;
    std::lock_guard<std::mutex> guard{streams_mutex_};
    for (auto i = begin; i < end; ++i) {
      auto& e = f.entries[i];
      value.clear();
      // Runs appended since the flush began start after e.last_seq; a run
      // extended since is cut at e.last_seq by the key.
      for (auto& r : e.s->tail)
        if (r.first_seq <= e.last_seq)
          append_index_run(value, r.first_seq, r.first_pos);
      batch.Put(event_key(e.id, e.last_seq), value);
      if (!e.s->id_stored) {
        // A new stream: its name and id go in the same write as its first
        // index entry, so an entry never names an id that is not stored.
        std::string id_value;
        put_be64(id_value, e.id);
        batch.Put(name_key(shard_of(*e.s->name, shard_count_), *e.s->name), id_value);
        batch.Put(id_key(e.id), *e.s->name);
      }
    }
  }
  // The checkpoint goes with the last part only. Parts written before a
  // crash are indexed again from the log on open: runs may then appear in
  // two entries, which readers and deletion allow for.
  if (end == f.entries.size())
    batch.Put(meta_key("indexed_through"), std::to_string(f.through));
  // Not synced but the last part: the index is rebuilt from the log after
  // its checkpoint, and a synced checkpoint bounds that after a power loss.
  leveldb::WriteOptions wo;
  wo.sync = end == f.entries.size() && db_->opts.durability != durability_mode::none;
  if (auto err = from_status(db_->write_index(wo, &batch), "writing the stream index")) {
    // The runs stay in the tail (readers find them there); the store
    // refuses writes from now on, so the writer does not try again.
    f.entries.clear();
    flushing_ = false;
    index_failed_ = true;
    return err;
  }
  std::lock_guard<std::mutex> guard{streams_mutex_};
  for (auto i = begin; i < end; ++i) {
    auto& e = f.entries[i];
    e.s->id_stored = true;
    auto& tail = e.s->tail;
    size_t done = 0;
    while (done < tail.size() && tail[done].last_seq <= e.last_seq) {
      tail_events_ -= tail[done].last_seq - tail[done].first_seq + 1;
      ++done;
    }
    tail.erase(tail.begin(), tail.begin() + static_cast<ptrdiff_t>(done));
    // A run extended by a write committed meanwhile keeps only its new part.
    if (!tail.empty() && tail.front().first_seq <= e.last_seq) {
      auto& r = tail.front();
      auto written = e.last_seq + 1 - r.first_seq;
      tail_events_ -= written;
      r.first_pos += written;
      r.first_seq = e.last_seq + 1;
    }
    if (tail.empty())
      std::vector<index_run>{}.swap(tail); // an idle stream keeps no memory
  }
  f.next = end;
  if (end == f.entries.size()) {
    // Once per flush: per part, this scan made a flush quadratic in the
    // number of streams (200k streams: 800 scans of 200k pointers).
    dirty_.erase(std::remove_if(dirty_.begin(), dirty_.end(),
                                [](stream_state* s) {
                                  s->listed = !s->tail.empty();
                                  return !s->listed;
                                }),
                 dirty_.end());
    f.entries.clear();
    f.entries.shrink_to_fit();
  }
  flushing_ = !f.entries.empty();
  return caf::none;
}

bool leveldb_journal::decode_entry(const leveldb::Slice& key, const leveldb::Slice& value,
                                   std::vector<index_run>& runs) {
  runs.clear();
  if (key.size() != 17 || value.empty() || value.size() % 16 != 0)
    return false;
  auto last = get_be64(key.data() + 9);
  auto n = value.size() / 16;
  for (size_t i = 0; i < n; ++i) {
    index_run r{get_be64(value.data() + 16 * i),
                i + 1 < n ? get_be64(value.data() + 16 * (i + 1)) - 1 : last,
                get_be64(value.data() + 16 * i + 8)};
    if (r.first_seq == 0 || r.first_seq > r.last_seq)
      return false;
    runs.push_back(r);
  }
  return true;
}

caf::error leveldb_journal::visit_runs(uint64_t id, uint64_t from,
                                       const std::vector<index_run>& tail,
                                       const std::function<bool(const index_run&)>& f) {
  std::unique_ptr<leveldb::Iterator> it{db_->index->NewIterator(leveldb::ReadOptions{})};
  auto prefix = stream_index_prefix(id);
  // Entries are keyed by their last sequence number: the first one at or
  // after `from` is the first that can hold it.
  std::vector<index_run> runs;
  for (it->Seek(event_key(id, from)); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!decode_entry(it->key(), it->value(), runs))
      return make_error(errc::corruption, "stream index entry of stream id", id);
    for (auto& r : runs)
      if (r.last_seq >= from && !f(r))
        return caf::none;
  }
  if (!it->status().ok())
    return from_status(it->status(), "reading the stream index");
  for (auto& r : tail)
    if (r.last_seq >= from && !f(r))
      return caf::none;
  return caf::none;
}

} // namespace esr::persistence::detail
