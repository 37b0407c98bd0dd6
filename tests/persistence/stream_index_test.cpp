// The LevelDB journal's stream index (persistence/src/stream_index.cpp): runs
// of recent writes kept in memory and written out every index_flush_events
// events, rebuilt from the log when a store was not closed, and format "1"
// stores (one index entry per write), format "2" stores (names and ids in
// the log's database) and format "3" stores (snapshots and side keys in the
// log's database) read and upgraded.

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "support/backends.hpp"
#include "support/disk_corruption.hpp"
#include "support/events.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"

namespace esr::persistence::test {
namespace {

namespace fs = std::filesystem;

/// What each stream must replay: its payloads by sequence number (1-based),
/// and how far it has been deleted.
struct model {
  std::map<std::string, std::vector<std::string>> payloads;
  std::map<std::string, uint64_t> deleted;
};

/// Checks every stream of `m` against `j`: whole replays, replays from and
/// up to random bounds, and the highest sequence numbers.
void expect_matches(journal& j, const model& m, std::mt19937_64& rng) {
  for (auto& [pid, want] : m.payloads) {
    auto n = static_cast<uint64_t>(want.size());
    auto del = m.deleted.count(pid) ? m.deleted.at(pid) : 0;
    auto h = j.highest_sequence_nr(pid);
    ESR_ASSERT_OK(h);
    EXPECT_EQ(*h, n) << pid;
    for (int round = 0; round < 4; ++round) {
      uint64_t from = round == 0 ? 1 : 1 + rng() % (n + 1);
      uint64_t to = round < 2 ? max_seq : from + rng() % 7;
      auto r = replay_all(j, pid, from, to);
      ESR_ASSERT_OK(r);
      std::vector<uint64_t> seqs;
      for (auto s = std::max(from, del + 1); s <= std::min(to, n); ++s)
        seqs.push_back(s);
      ASSERT_EQ(r->seqs, seqs) << pid << " from " << from << " to " << to;
      for (auto& e : r->events)
        ASSERT_EQ(e.payload, want[e.sequence_nr - 1]) << pid << " seq " << e.sequence_nr;
    }
  }
}

/// Writes `writes` atomic writes of 1-3 events to 5 streams named `prefix`
/// and a digit, interleaved.
void write_some(journal& j, model& m, std::mt19937_64& rng, int writes,
                const std::string& prefix = "stream-") {
  for (int i = 0; i < writes; ++i) {
    auto pid = prefix + std::to_string(rng() % 5);
    auto& want = m.payloads[pid];
    std::vector<event_envelope> evs;
    auto count = 1 + rng() % 3;
    for (uint64_t k = 0; k < count; ++k) {
      auto payload = pid + "#" + std::to_string(want.size() + 1);
      want.push_back(payload);
      evs.push_back(make_event("happened", payload));
    }
    ESR_ASSERT_OK(j.write(make_write(pid, std::move(evs))));
  }
}

/// Deletes the first half (and one) of each stream in `pids`, in `j` and
/// in the model.
void delete_first_halves(journal& j, model& m, std::initializer_list<const char*> pids) {
  for (auto pid : pids) {
    auto to = m.payloads[pid].size() / 2 + 1;
    ESR_ASSERT_NO_ERROR(j.delete_up_to(pid, to));
    m.deleted[pid] = to;
  }
}

/// Writes, deletes and reopens with an index flush every few writes in
/// durability mode `mode`, checking every stream against the model.
void check_flushes_deletions_reopens(durability_mode mode) {
  leveldb_backend b;
  b.options().durability = mode;
  b.options().index_flush_events = 5; // a flush every few writes
  std::mt19937_64 rng{42};
  model m;
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    for (int round = 0; round < 6; ++round) {
      ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 17));
      ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
    }
    // Deletions that end inside packed index entries and inside the tail.
    ASSERT_NO_FATAL_FAILURE(delete_first_halves(*s->events, m, {"stream-1", "stream-3"}));
    ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
    ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 23));
    ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  }
  b.options().index_flush_events = 1000; // the reopened store keeps a tail
  auto s = b.open();
  ESR_ASSERT_OK(s);
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 31));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  ESR_ASSERT_NO_ERROR(s->events->delete_up_to("stream-0", 3));
  m.deleted["stream-0"] = 3;
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
}

TEST(stream_index, replays_match_across_index_flushes_deletions_and_reopens) {
  check_flushes_deletions_reopens(durability_mode::sync);
}

TEST(stream_index, replays_match_across_index_flushes_in_periodic_mode) {
  // Groups wait parked for their fsync; the index holds durable runs only.
  check_flushes_deletions_reopens(durability_mode::periodic);
}

/// Copies the files of an open store: what a kill -9 leaves on disk (every
/// acknowledged write is synced; the index's own writes are not).
void copy_store(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

TEST(stream_index, a_store_that_was_not_closed_rebuilds_its_index_from_the_log) {
  temp_dir dir;
  leveldb_options opts;
  opts.path = dir.sub("live");
  opts.index_flush_events = 40;
  std::mt19937_64 rng{7};
  model m;
  auto live = open_leveldb(opts);
  ESR_ASSERT_OK(live);
  ASSERT_NO_FATAL_FAILURE(write_some(*live->events, m, rng, 61)); // flushed, plus a tail
  // Streams first written after the last flush: their names and ids are in
  // no index part yet, only in their log records.
  ASSERT_NO_FATAL_FAILURE(write_some(*live->events, m, rng, 9, "late-"));
  copy_store(opts.path, dir.sub("crashed"));
  auto crashed_opts = opts;
  crashed_opts.path = dir.sub("crashed");
  auto crashed = open_leveldb(crashed_opts);
  ESR_ASSERT_OK(crashed);
  ASSERT_NO_FATAL_FAILURE(expect_matches(*crashed->events, m, rng));
  // The next write of every stream continues its sequence.
  ASSERT_NO_FATAL_FAILURE(write_some(*crashed->events, m, rng, 20));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*crashed->events, m, rng));
  auto all = read_all_events(*crashed->events, 1);
  ESR_ASSERT_OK(all);
  size_t total = 0;
  for (auto& [pid, p] : m.payloads)
    total += p.size();
  EXPECT_EQ(all->events.size(), total);
  // Streams created now get ids of their own (replays would mix otherwise),
  // and every name and id is stored by the flush on close.
  ASSERT_NO_FATAL_FAILURE(write_some(*crashed->events, m, rng, 12, "fresh-"));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*crashed->events, m, rng));
  *crashed = storage{}; // closed
  auto reopened = open_leveldb(crashed_opts);
  ESR_ASSERT_OK(reopened);
  ASSERT_NO_FATAL_FAILURE(expect_matches(*reopened->events, m, rng));
}

/// Opens the LevelDB database at `path` directly (nullptr on failure), to
/// look at or arrange a store's keys the way a crash or an old release would.
std::unique_ptr<leveldb::DB> open_raw(const std::string& path) {
  leveldb::DB* raw = nullptr;
  if (!leveldb::DB::Open(leveldb::Options{}, path, &raw).ok())
    return nullptr;
  return std::unique_ptr<leveldb::DB>{raw};
}

/// The key of the meta record `name` (see key_codec.hpp).
std::string meta(const std::string& name) {
  return std::string(1, '\0') + name;
}

/// Sets the store's index checkpoint (`indexed_through`) with raw LevelDB.
void set_checkpoint(const std::string& path, const std::string& value) {
  auto db = open_raw(path + "/index");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Put(leveldb::WriteOptions{}, meta("indexed_through"), value).ok());
}

TEST(stream_index, index_parts_written_before_a_crash_are_indexed_again_without_harm) {
  // A crash during an index flush leaves some parts written and the
  // checkpoint where it was: the next open indexes those runs again, and
  // the next flush writes entries that repeat them.
  leveldb_backend b;
  std::mt19937_64 rng{11};
  model m;
  for (int round = 0; round < 3; ++round) {
    {
      auto s = b.open();
      ESR_ASSERT_OK(s);
      ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 25));
      ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
    } // closed: every run is in an index entry
    ASSERT_NO_FATAL_FAILURE(set_checkpoint(b.path(), "0"));
  }
  auto s = b.open();
  ESR_ASSERT_OK(s);
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  ASSERT_NO_FATAL_FAILURE(delete_first_halves(*s->events, m, {"stream-2", "stream-4"}));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 10));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
}

TEST(stream_index, an_unreadable_record_that_is_not_yet_indexed_fails_the_open) {
  temp_dir dir;
  leveldb_options opts;
  opts.path = dir.sub("live");
  auto live = open_leveldb(opts);
  ESR_ASSERT_OK(live);
  auto payload = random_bytes(8192, 5);
  ESR_ASSERT_OK(live->events->write(single("account-1", "opened", random_bytes(8192, 4))));
  ESR_ASSERT_OK(live->events->write(single("account-1", "deposited", payload)));
  copy_store(opts.path, dir.sub("crashed"));
  auto compacted = compact_database(dir.sub("crashed"));
  ASSERT_TRUE(compacted.ok()) << compacted.ToString();
  ASSERT_GE(flip_byte_in_tables(dir.sub("crashed"), payload.substr(1000, 64)), 1u);
  opts.path = dir.sub("crashed");
  auto crashed = open_leveldb(opts);
  ASSERT_FALSE(crashed) << "an event of unknown stream was silently dropped";
  EXPECT_TRUE(is(crashed.error(), errc::corruption)) << render(crashed.error());
  EXPECT_NE(render(crashed.error()).find("global position"), std::string::npos)
    << render(crashed.error());
}

/// Moves every key of `from_db` tagged `from` to `to_batch` with the tag
/// `to` (deleting it in `from_batch`): how older formats kept snapshots and
/// side keys. Returns their number.
size_t move_tagged(leveldb::DB& from_db, leveldb::WriteBatch& from_batch,
                   leveldb::WriteBatch& to_batch, char from, char to) {
  std::unique_ptr<leveldb::Iterator> it{from_db.NewIterator(leveldb::ReadOptions{})};
  size_t n = 0;
  for (it->Seek(std::string(1, from)); it->Valid() && it->key()[0] == from; it->Next()) {
    auto k = it->key().ToString();
    from_batch.Delete(k);
    k[0] = to;
    to_batch.Put(k, it->value());
    ++n;
  }
  return n;
}

/// Deletes (in `batch`) the side records of the log's database `db`: older
/// formats had none. Returns their number.
size_t drop_side_records(leveldb::DB& db, leveldb::WriteBatch& batch) {
  std::unique_ptr<leveldb::Iterator> it{db.NewIterator(leveldb::ReadOptions{})};
  size_t n = 0;
  for (it->Seek("g"); it->Valid() && it->key()[0] == 'g'; it->Next())
    if (it->key().size() == 17) {
      batch.Delete(it->key());
      ++n;
    }
  return n;
}

TEST(stream_index, side_writes_lost_from_the_index_database_are_applied_again_from_the_log) {
  // Side writes are applied to the index database without an fsync; a crash
  // can lose the applies made after its last checkpoint. Simulated: the
  // crash image loses every side key, and reopening applies the side
  // records after the checkpoint again, in log order.
  temp_dir dir;
  leveldb_options opts;
  opts.path = dir.sub("live");
  opts.index_flush_events = 10;
  auto live = open_leveldb(opts);
  ESR_ASSERT_OK(live);
  auto w = single("order-1", "placed", "1");
  w.side_writes.push_back({"saga/checkpoint", std::string{"1"}});
  w.side_writes.push_back({"saga/timer/order-1", std::string{"armed"}});
  ESR_ASSERT_OK(live->events->write(std::move(w)));
  for (int i = 0; i < 12; ++i) // past a checkpoint (every 10 events)
    ESR_ASSERT_OK(live->events->write(single("order-2", "noted", std::to_string(i))));
  auto w2 = single("order-1", "paid", "2");
  w2.side_writes.push_back({"saga/checkpoint", std::string{"14"}});
  w2.side_writes.push_back({"saga/timer/order-1", std::nullopt});
  ESR_ASSERT_OK(live->events->write(std::move(w2)));
  persistence::atomic_write only_side; // a side-only write, after the last event
  only_side.persistence_id = "saga";
  only_side.side_writes.push_back({"saga/outbox-done", std::string{"14"}});
  for (auto& out : live->events->write(std::vector<persistence::atomic_write>{only_side}))
    ESR_ASSERT_OK(out);
  copy_store(opts.path, dir.sub("crashed"));
  {
    auto index = open_raw(dir.sub("crashed") + "/index");
    ASSERT_TRUE(index);
    leveldb::WriteBatch drop;
    std::unique_ptr<leveldb::Iterator> it{index->NewIterator(leveldb::ReadOptions{})};
    size_t n = 0;
    for (it->Seek("X"); it->Valid() && it->key()[0] == 'X'; it->Next(), ++n)
      drop.Delete(it->key());
    EXPECT_EQ(n, 2u); // the checkpoint and outbox-done (the timer is deleted)
    ASSERT_TRUE(index->Write(leveldb::WriteOptions{}, &drop).ok());
  }
  auto crashed_opts = opts;
  crashed_opts.path = dir.sub("crashed");
  auto crashed = open_leveldb(crashed_opts);
  ESR_ASSERT_OK(crashed);
  auto get = [&](const std::string& k) {
    auto v = crashed->events->get_side(k);
    EXPECT_TRUE(v) << render(v.error());
    return v ? v->value_or("missing") : std::string{"error"};
  };
  EXPECT_EQ(get("saga/checkpoint"), "14");
  EXPECT_EQ(get("saga/outbox-done"), "14");
  EXPECT_EQ(get("saga/timer/order-1"), "missing");
  // Side records are not events.
  auto all = read_all_events(*crashed->events, 1);
  ESR_ASSERT_OK(all);
  EXPECT_EQ(all->events.size(), 14u);
  auto r = replay_all(*crashed->events, "order-1");
  ESR_ASSERT_OK(r);
  EXPECT_EQ(r->seqs, range(1, 2));
}

/// Checks that the store at `path` is format "4": its log's database holds
/// the log (events and side records) and meta records only; names, ids,
/// snapshots and side keys are in the index database.
void expect_current_format(const std::string& path) {
  auto db = open_raw(path);
  ASSERT_TRUE(db);
  std::string format;
  ASSERT_TRUE(db->Get(leveldb::ReadOptions{}, meta("format"), &format).ok());
  EXPECT_EQ(format, "4");
  std::unique_ptr<leveldb::Iterator> it{db->NewIterator(leveldb::ReadOptions{})};
  for (it->SeekToFirst(); it->Valid(); it->Next())
    EXPECT_TRUE(it->key()[0] == '\0' || it->key()[0] == 'g') << it->key().ToString();
  it.reset();
  db.reset();
  auto index = open_raw(path + "/index");
  ASSERT_TRUE(index);
  std::unique_ptr<leveldb::Iterator> ix{index->NewIterator(leveldb::ReadOptions{})};
  size_t names = 0;
  for (ix->SeekToFirst(); ix->Valid(); ix->Next())
    names += ix->key()[0] == 'N';
  EXPECT_GT(names, 0u);
}

/// Opens the store of `b` (written in an older format), checks it against
/// `m` and its side key `side` ("pending"), writes to streams named
/// `prefix`..., checks again and closes it.
void expect_old_store_works(leveldb_backend& b, model& m, std::mt19937_64& rng,
                            const std::string& side, const std::string& prefix) {
  auto s = b.open();
  ESR_ASSERT_OK(s);
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  auto value = s->events->get_side(side);
  ESR_ASSERT_OK(value);
  EXPECT_EQ(value->value_or("missing"), "pending");
  ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 10, prefix));
  ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
}

/// Deletes the first two events of stream-0 (format "1" stores had
/// deletion markers too).
caf::error s_delete_first_two(leveldb_backend& b) {
  auto s = b.open();
  if (!s)
    return s.error();
  return s->events->delete_up_to("stream-0", 2);
}

TEST(stream_index, a_format_1_store_is_read_and_upgraded) {
  leveldb_backend b;
  std::mt19937_64 rng{3};
  model m;
  // One event per write and a flush per write: the entries format "1" had.
  b.options().index_flush_events = 1;
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    for (int i = 0; i < 30; ++i) {
      auto pid = "stream-" + std::to_string(i % 3);
      auto payload = pid + "#" + std::to_string(m.payloads[pid].size() + 1);
      m.payloads[pid].push_back(payload);
      auto w = single(pid, "happened", payload);
      if (i == 0)
        w.side_writes.push_back({"saga/outbox/1", std::string{"pending"}});
      ESR_ASSERT_OK(s->events->write(std::move(w)));
    }
  }
  ESR_ASSERT_NO_ERROR(s_delete_first_two(b));
  m.deleted["stream-0"] = 2;
  {
    // Make it a format "1" store: the index entries and deletion markers in
    // the log's database, no index database, format "1".
    auto index = open_raw(b.path() + "/index");
    auto db = open_raw(b.path());
    ASSERT_TRUE(index && db);
    leveldb::WriteBatch batch;
    std::unique_ptr<leveldb::Iterator> it{index->NewIterator(leveldb::ReadOptions{})};
    size_t moved = 0;
    // Names, ids and side keys had lower-case tags, above the log's.
    size_t retagged = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto k = it->key().ToString();
      if (k[0] == 'e' || k[0] == 'd') {
        batch.Put(k, it->value());
        ++moved;
      } else if (k[0] == 'N' || k[0] == 'I') {
        k[0] = static_cast<char>(k[0] - 'A' + 'a');
        batch.Put(k, it->value());
        ++retagged;
      }
    }
    ASSERT_GE(moved, 4u); // three streams' entries and a deletion marker
    leveldb::WriteBatch from_index;
    retagged += move_tagged(*index, from_index, batch, 'X', 'x');
    ASSERT_GE(retagged, 7u); // three names, three ids, a side key
    ASSERT_EQ(drop_side_records(*db, batch), 1u);
    batch.Put(meta("format"), "1");
    ASSERT_TRUE(db->Write(leveldb::WriteOptions{}, &batch).ok());
    it.reset();
    index.reset();
    fs::remove_all(b.path() + "/index");
  }
  b.options().index_flush_events = 131072;
  ASSERT_NO_FATAL_FAILURE(expect_old_store_works(b, m, rng, "saga/outbox/1", "stream-"));
  ASSERT_NO_FATAL_FAILURE(expect_current_format(b.path()));
}

TEST(stream_index, a_format_2_store_is_read_and_upgraded) {
  leveldb_backend b;
  std::mt19937_64 rng{5};
  model m;
  b.options().index_flush_events = 7;
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 30));
    auto w = single("with-side", "happened", "with-side#1");
    w.side_writes.push_back({"saga/outbox/2", std::string{"pending"}});
    ESR_ASSERT_OK(s->events->write(std::move(w)));
    m.payloads["with-side"].push_back("with-side#1");
  }
  ESR_ASSERT_NO_ERROR(s_delete_first_two(b));
  m.deleted["stream-0"] = 2;
  {
    // Make it a format "2" store: names and ids in the log's database.
    auto index = open_raw(b.path() + "/index");
    auto db = open_raw(b.path());
    ASSERT_TRUE(index && db);
    leveldb::WriteBatch to_log, from_index;
    std::unique_ptr<leveldb::Iterator> it{index->NewIterator(leveldb::ReadOptions{})};
    size_t moved = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (it->key()[0] == 'N' || it->key()[0] == 'I') {
        to_log.Put(it->key(), it->value());
        from_index.Delete(it->key());
        ++moved;
      }
    it.reset();
    ASSERT_EQ(moved, 2 * m.payloads.size()); // every stream's name and id
    ASSERT_EQ(move_tagged(*index, from_index, to_log, 'X', 'X'), 1u); // the side key
    ASSERT_EQ(drop_side_records(*db, to_log), 1u);
    to_log.Put(meta("format"), "2");
    ASSERT_TRUE(db->Write(leveldb::WriteOptions{}, &to_log).ok());
    ASSERT_TRUE(index->Write(leveldb::WriteOptions{}, &from_index).ok());
  }
  ASSERT_NO_FATAL_FAILURE(expect_old_store_works(b, m, rng, "saga/outbox/2", "new-"));
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
  }
  ASSERT_NO_FATAL_FAILURE(expect_current_format(b.path()));
}

TEST(stream_index, a_format_3_store_is_read_and_upgraded) {
  // Format "3" kept snapshots and side keys in the log's database.
  leveldb_backend b;
  std::mt19937_64 rng{9};
  model m;
  b.options().index_flush_events = 5;
  snapshot_envelope snap;
  snap.persistence_id = "stream-1";
  snap.sequence_nr = 2;
  snap.state_type = "state";
  snap.payload = "state at 2";
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    ASSERT_NO_FATAL_FAILURE(write_some(*s->events, m, rng, 30));
    auto w = single("with-side", "happened", "with-side#1");
    w.side_writes.push_back({"saga/outbox/3", std::string{"pending"}});
    ESR_ASSERT_OK(s->events->write(std::move(w)));
    m.payloads["with-side"].push_back("with-side#1");
    ESR_ASSERT_NO_ERROR(s->snapshots->save(snap));
  }
  {
    // Make it a format "3" store: snapshots and side keys in the log's
    // database, no side records.
    auto index = open_raw(b.path() + "/index");
    auto db = open_raw(b.path());
    ASSERT_TRUE(index && db);
    leveldb::WriteBatch to_log, from_index;
    ASSERT_EQ(move_tagged(*index, from_index, to_log, 'X', 'X'), 1u);
    ASSERT_EQ(move_tagged(*index, from_index, to_log, 'P', 'P'), 1u);
    ASSERT_EQ(drop_side_records(*db, to_log), 1u);
    to_log.Put(meta("format"), "3");
    ASSERT_TRUE(db->Write(leveldb::WriteOptions{}, &to_log).ok());
    ASSERT_TRUE(index->Write(leveldb::WriteOptions{}, &from_index).ok());
  }
  ASSERT_NO_FATAL_FAILURE(expect_old_store_works(b, m, rng, "saga/outbox/3", "new-"));
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    ASSERT_NO_FATAL_FAILURE(expect_matches(*s->events, m, rng));
    auto loaded = s->snapshots->load("stream-1", snapshot_criteria::latest());
    ESR_ASSERT_OK(loaded);
    ASSERT_TRUE(loaded->has_value());
    EXPECT_EQ((*loaded)->payload, "state at 2");
    EXPECT_EQ((*loaded)->sequence_nr, 2u);
  }
  ASSERT_NO_FATAL_FAILURE(expect_current_format(b.path()));
}

} // namespace
} // namespace esr::persistence::test
