// Journal conformance J18, J22, J23 (../shared/acceptance/journal-conformance.md):
// all-or-nothing atomic writes across a crash, corruption detection, global
// order. Typed over every backend; the crash and corruption parts need a disk.

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/disk_corruption.hpp"
#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

template <class Backend>
class journal_integrity : public store_fixture<Backend> {};

TYPED_TEST_SUITE(journal_integrity, all_backends, backend_names);

/// Five events of `kb` KiB of incompressible payload each, seeded by `seed`.
std::vector<event_envelope> big_events(size_t kb, uint64_t seed) {
  std::vector<event_envelope> result;
  for (uint64_t k = 1; k <= 5; ++k)
    result.push_back(make_event("blob_written", random_bytes(kb * 1024, seed * 10 + k)));
  return result;
}

/// True if `e` is event `e.sequence_nr` of `evs` with its payload unchanged.
bool is_intact(const event_envelope& e, const std::vector<event_envelope>& evs) {
  return e.sequence_nr >= 1 && e.sequence_nr <= evs.size()
         && e.payload == evs[e.sequence_nr - 1].payload;
}

// J18: an atomic write that fails midway is all or nothing. Every backend:
// a write rejected because of its 4th event leaves none of its events. On
// disk, additionally: a crash tears the tail of the write-ahead log at several
// points inside one large atomic write (five 20 KiB events, so the batch spans
// several log blocks); after reopen the write is there whole or not at all.
TYPED_TEST(journal_integrity, an_atomic_write_interrupted_midway_is_all_or_nothing) {
  ESR_ASSERT_OK(this->events().write(single("order-1", "placed", "base")));
  auto invalid = big_events(1, 1);
  invalid[3].event_type.clear(); // the 4th event cannot be stored
  auto res = this->events().write(make_write("order-1", invalid));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::serialization_failed)) << render(res.error());
  auto r = replay_all(this->events(), "order-1");
  ESR_ASSERT_OK(r);
  EXPECT_EQ(r->seqs, range(1, 1));
  EXPECT_EQ(r->highest, 1u);
  EXPECT_EQ(this->events().last_position(), 1u);
  if constexpr (TypeParam::on_disk) {
    size_t whole = 0;
    size_t none = 0;
    for (double keep : {0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0}) {
      SCOPED_TRACE("keep_fraction " + std::to_string(keep));
      leveldb_backend b; // a fresh store per crash point
      b.options().durability = durability_mode::sync;
      {
        auto s = b.open();
        ESR_ASSERT_OK(s);
        ESR_ASSERT_OK(s->events->write(single("order-1", "placed", "acknowledged")));
      }
      b.options().durability = durability_mode::none; // nothing below gets synced
      auto evs = big_events(20, 7);
      {
        auto s = b.open();
        ESR_ASSERT_OK(s);
        ESR_ASSERT_OK(s->events->write(make_write("order-1", evs)));
      }
      ASSERT_GT(b.env().unsynced_bytes(), 5u * 20 * 1024);
      ASSERT_TRUE(b.env().drop_unsynced_data(keep).ok());
      b.options().durability = durability_mode::sync;
      auto s = b.open();
      ESR_ASSERT_OK(s);
      auto after = replay_all(*s->events, "order-1");
      ESR_ASSERT_OK(after);
      ASSERT_GE(after->events.size(), 1u);
      EXPECT_EQ(after->events[0].payload, "acknowledged");
      if (after->events.size() == 1) {
        ++none;
        EXPECT_EQ(after->highest, 1u);
        EXPECT_EQ(s->events->last_position(), 1u);
      } else {
        ++whole;
        ASSERT_EQ(after->seqs, range(1, 6)) << "a partial atomic write survived";
        for (size_t i = 0; i < 5; ++i)
          EXPECT_EQ(after->events[i + 1].payload, evs[i].payload);
        EXPECT_EQ(s->events->last_position(), 6u);
      }
      // The store stays writable after recovery, with no gap.
      auto next = s->events->write(single("order-1", "shipped", "after"));
      ESR_ASSERT_OK(next);
      EXPECT_EQ(next->last_sequence_nr, after->highest + 1);
    }
    EXPECT_GE(none, 1u);  // keep 0: nothing of the write was on disk
    EXPECT_GE(whole, 1u); // keep 1: all of it was
  }
}

// J22
TYPED_TEST(journal_integrity, a_corrupt_record_on_disk_fails_replay_naming_stream_and_sequence_nr) {
  if constexpr (!TypeParam::on_disk) {
    GTEST_SKIP() << "the in-memory store keeps decoded envelopes in process memory: "
                    "there is no stored record a test could corrupt";
  } else {
    // 8 KiB payloads: every record gets its own LevelDB block, so even a
    // block checksum failure points at exactly one event.
    auto evs = big_events(8, 22);
    ESR_ASSERT_OK(this->events().write(make_write("account-9", {evs[0], evs[1]})));
    ESR_ASSERT_OK(this->events().write(make_write("account-9", {evs[2], evs[3], evs[4]})));
    this->close_store();
    auto compacted = compact_database(this->backend_.path());
    ASSERT_TRUE(compacted.ok()) << compacted.ToString();
    auto& target = evs[2].payload; // event 3
    ASSERT_GE(flip_byte_in_tables(this->backend_.path(), target.substr(1000, 64)), 1u);
    ASSERT_NO_FATAL_FAILURE(this->open_store());
    std::vector<uint64_t> seen;
    auto res = this->events().replay("account-9", 1, max_seq, max_seq,
                                     [&](const event_envelope& e) {
      seen.push_back(e.sequence_nr);
      EXPECT_TRUE(is_intact(e, evs)) << "garbage returned as data";
      return true;
    });
    ASSERT_FALSE(res) << "replay of a corrupt record succeeded";
    EXPECT_TRUE(is(res.error(), errc::corruption)) << render(res.error());
    auto text = render(res.error());
    EXPECT_NE(text.find("account-9"), std::string::npos) << text;
    EXPECT_TRUE(std::regex_search(text, std::regex{"account-9.*[ (]3[,)]"}))
      << "no sequence number 3 in: " << text;
    EXPECT_EQ(seen, range(1, 2));
    // Replaying around the corrupt record still works.
    auto tail = replay_all(this->events(), "account-9", 4);
    ESR_ASSERT_OK(tail);
    EXPECT_EQ(tail->seqs, range(4, 5));
    // The global log does not return it either.
    std::vector<uint64_t> positions;
    auto all = this->events().read_all(1, max_seq, event_filter::all(),
                                       [&](const event_envelope& e) {
      positions.push_back(e.global_position);
      EXPECT_TRUE(is_intact(e, evs)) << "garbage returned as data";
      return true;
    });
    ASSERT_FALSE(all);
    EXPECT_TRUE(is(all.error(), errc::corruption)) << render(all.error());
    EXPECT_EQ(positions, range(1, 2));
  }
}

// J23
TYPED_TEST(journal_integrity, every_event_gets_a_global_position_and_read_all_returns_commit_order) {
  constexpr int writers = 4;
  constexpr int writes_each = 40;
  std::vector<std::vector<write_result>> results(writers);
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t)
    threads.emplace_back([&, t] {
      for (int n = 0; n < writes_each; ++n) {
        auto pid = "cart-" + std::to_string(t * 2 + n % 2);
        std::vector<event_envelope> evs;
        for (int k = 0; k <= n % 3; ++k)
          evs.push_back(make_event("item_added", pid + ":" + std::to_string(n)));
        auto res = this->events().write(make_write(pid, std::move(evs)));
        EXPECT_TRUE(res) << render(res.error());
        if (res)
          results[t].push_back(*res);
      }
    });
  for (auto& th : threads)
    th.join();
  auto all = read_all_events(this->events());
  ESR_ASSERT_OK(all);
  auto total = all->events.size();
  ASSERT_EQ(all->positions(), range(1, total)) << "gaps or duplicates";
  EXPECT_EQ(this->events().last_position(), total);
  EXPECT_EQ(all->examined, total);
  // Each write's events sit at the positions its result names, in stream order.
  std::map<uint64_t, const event_envelope*> by_pos;
  for (auto& e : all->events)
    by_pos[e.global_position] = &e;
  size_t events_written = 0;
  for (auto& rs : results)
    for (auto& r : rs) {
      ASSERT_EQ(r.last_global_position - r.first_global_position,
                r.last_sequence_nr - r.first_sequence_nr);
      for (auto pos = r.first_global_position; pos <= r.last_global_position; ++pos) {
        ++events_written;
        EXPECT_EQ(by_pos[pos]->sequence_nr, r.first_sequence_nr + (pos - r.first_global_position));
      }
    }
  EXPECT_EQ(events_written, total);
  std::map<std::string, uint64_t> last_seq;
  for (auto& e : all->events) {
    EXPECT_EQ(e.sequence_nr, last_seq[e.persistence_id] + 1) << e.persistence_id;
    last_seq[e.persistence_id] = e.sequence_nr;
  }
  // Reading from a position P returns exactly the suffix, also after reopen.
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  auto from = total / 2;
  auto suffix = read_all_events(this->events(), from);
  ESR_ASSERT_OK(suffix);
  EXPECT_EQ(suffix->positions(), range(from, total));
  auto limited = read_all_events(this->events(), from, 3);
  ESR_ASSERT_OK(limited);
  EXPECT_EQ(limited->positions(), range(from, from + 2));
  EXPECT_EQ(limited->examined, from + 2);
  auto beyond = read_all_events(this->events(), total + 1);
  ESR_ASSERT_OK(beyond);
  EXPECT_TRUE(beyond->events.empty());
}

} // namespace
} // namespace esr::persistence::test
