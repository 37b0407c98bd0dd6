// The LevelDB journal under injected faults (write errors, sync errors, a full
// disk, lost unsynced data): every write of a failed group fails with
// errc::io_error, nothing unacknowledged is reported as stored, and after
// reopening everything acknowledged is there and no atomic write is partial.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/backends.hpp"
#include "support/store_fixture.hpp"
#include "support/write_load.hpp"

namespace esr::persistence::test {
namespace {

using testing::file_op;

constexpr auto io_error_code = static_cast<uint8_t>(errc::io_error);

class journal_faults : public ::testing::Test {
protected:
  void SetUp() override {
    auto s = backend_.open();
    ESR_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  journal& events() { return *store_.events; }

  /// Closes the store, optionally loses unsynced data, and reopens it.
  void reopen(bool drop_unsynced = false, double keep = 0.0) {
    store_ = storage{};
    backend_.env().heal();
    if (drop_unsynced)
      ASSERT_TRUE(backend_.env().drop_unsynced_data(keep).ok());
    auto s = backend_.open();
    ESR_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  /// Sends one call of three atomic writes (two events each) to three
  /// streams while `op` is armed to fail once; expects all three to fail with
  /// io_error and the journal to report none of them as stored.
  void expect_group_fails(file_op op, load_outcome& all) {
    auto before = events().last_position();
    std::vector<atomic_write> ws;
    std::vector<load_write> lws;
    for (int i = 0; i < 3; ++i) {
      load_write lw;
      lw.persistence_id = "faulty-" + std::to_string(i);
      std::vector<event_envelope> evs;
      for (int k = 0; k < 2; ++k) {
        lw.payloads.push_back("faulty/" + std::to_string(all.writes.size() + i) + "/"
                              + std::to_string(k));
        evs.push_back(make_event("faulted", lw.payloads.back()));
      }
      ws.push_back(make_write(lw.persistence_id, std::move(evs)));
      lws.push_back(std::move(lw));
    }
    std::vector<uint64_t> highest_before;
    for (auto& lw : lws)
      highest_before.push_back(*events().highest_sequence_nr(lw.persistence_id));
    backend_.env().fail_next(op, 1);
    auto out = events().write(std::move(ws));
    ASSERT_EQ(out.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_FALSE(out[i]) << "write " << i << " succeeded despite the injected fault";
      EXPECT_TRUE(is(out[i].error(), errc::io_error)) << render(out[i].error());
      lws[i].error = out[i].error();
      all.writes.push_back(lws[i]);
    }
    EXPECT_GE(backend_.env().injected_failures(op), 1u);
    // Nothing of the failed group is visible.
    EXPECT_EQ(events().last_position(), before);
    auto tail = read_all_events(events(), before + 1);
    ESR_ASSERT_OK(tail);
    EXPECT_TRUE(tail->events.empty());
    for (size_t i = 0; i < 3; ++i) {
      auto h = events().highest_sequence_nr(lws[i].persistence_id);
      ESR_ASSERT_OK(h);
      EXPECT_EQ(*h, highest_before[i]);
      auto r = replay_all(events(), lws[i].persistence_id);
      ESR_ASSERT_OK(r);
      EXPECT_TRUE(r->events.empty());
    }
  }

  /// Appends the writes of `more` to `all`.
  static void add(load_outcome& all, const load_outcome& more) {
    all.writes.insert(all.writes.end(), more.writes.begin(), more.writes.end());
  }

  leveldb_backend backend_;
  storage store_;
};

TEST_F(journal_faults, a_write_error_fails_the_whole_group_and_acknowledged_writes_survive_reopen) {
  auto all = run_write_load(events(), "account", 50);
  ASSERT_EQ(all.failed(), 0u);
  expect_group_fails(file_op::append, all);
  backend_.env().heal();
  // Keep writing well past a 32 KiB log block: later acknowledgements must
  // not be lost because of the earlier failure.
  auto later = run_write_load(events(), "account", 150, 1024);
  EXPECT_TRUE(later.all_failures_are(io_error_code));
  add(all, later);
  EXPECT_EQ(verify_load(events(), all), "");
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(verify_load(events(), all), "");
  auto log = read_all_events(events());
  ESR_ASSERT_OK(log);
  EXPECT_EQ(log->positions(), range(1, events().last_position()));
  auto next = events().write(single("account-0", "after", "reopen"));
  ESR_ASSERT_OK(next);
}

TEST_F(journal_faults, a_sync_error_fails_the_whole_group_and_acknowledged_writes_survive_reopen) {
  auto all = run_write_load(events(), "account", 50);
  ASSERT_EQ(all.failed(), 0u);
  expect_group_fails(file_op::sync, all);
  backend_.env().heal();
  auto later = run_write_load(events(), "account", 150, 1024);
  EXPECT_TRUE(later.all_failures_are(io_error_code));
  add(all, later);
  EXPECT_EQ(verify_load(events(), all), "");
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(verify_load(events(), all), "");
  auto log = read_all_events(events());
  ESR_ASSERT_OK(log);
  EXPECT_EQ(log->positions(), range(1, events().last_position()));
  ESR_ASSERT_OK(events().write(single("account-0", "after", "reopen")));
}

TEST_F(journal_faults, in_periodic_mode_a_failed_fsync_fails_the_parked_writes_and_hides_them) {
  store_ = storage{};
  backend_.options().durability = durability_mode::periodic;
  backend_.options().sync_interval = std::chrono::milliseconds{20};
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto all = run_write_load(events(), "account", 30);
  ASSERT_EQ(all.failed(), 0u);
  // The group is written without fsync and parked; the fsync that would
  // cover it fails, so it must fail and never become visible.
  expect_group_fails(file_op::sync, all);
  ASSERT_NO_FATAL_FAILURE(reopen(/*drop_unsynced=*/true));
  EXPECT_EQ(verify_load(events(), all), "");
}

TEST_F(journal_faults, a_failed_write_that_never_reached_the_disk_is_gone_after_a_crash) {
  auto all = run_write_load(events(), "account", 20);
  expect_group_fails(file_op::append, all);
  ASSERT_NO_FATAL_FAILURE(reopen(/*drop_unsynced=*/true));
  EXPECT_EQ(verify_load(events(), all), "");
  for (int i = 0; i < 3; ++i) {
    auto h = events().highest_sequence_nr("faulty-" + std::to_string(i));
    ESR_ASSERT_OK(h);
    EXPECT_EQ(*h, 0u);
  }
}

TEST_F(journal_faults, a_full_disk_fails_writes_with_a_clear_error_and_keeps_earlier_data) {
  auto all = run_write_load(events(), "account", 50);
  ASSERT_EQ(all.failed(), 0u);
  backend_.env().set_disk_full(true);
  auto refused = run_write_load(events(), "account", 20);
  EXPECT_EQ(refused.acked(), 0u);
  ASSERT_TRUE(refused.all_failures_are(io_error_code));
  auto text = render(refused.writes.front().error);
  EXPECT_NE(text.find("No space left on device"), std::string::npos) << text;
  add(all, refused);
  snapshot_envelope snap;
  snap.persistence_id = "account-1";
  snap.sequence_nr = 1;
  snap.payload = "state";
  auto err = store_.snapshots->save(snap);
  EXPECT_TRUE(is(err, errc::io_error)) << render(err);
  EXPECT_EQ(verify_load(events(), all), "");
  // Space comes back: later writes either succeed or keep failing with
  // io_error until the store is reopened, but nothing acknowledged is lost.
  backend_.env().set_disk_full(false);
  auto freed = run_write_load(events(), "account", 150, 1024);
  EXPECT_TRUE(freed.all_failures_are(io_error_code));
  add(all, freed);
  EXPECT_EQ(verify_load(events(), all), "");
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(verify_load(events(), all), "");
  auto after = run_write_load(events(), "account", 20);
  EXPECT_EQ(after.failed(), 0u);
  add(all, after);
  EXPECT_EQ(verify_load(events(), all), "");
}

TEST_F(journal_faults, a_store_whose_files_cannot_be_created_fails_to_open_with_an_error) {
  store_ = storage{};
  leveldb_backend fresh;
  fresh.env().fail_always(file_op::create);
  auto s = fresh.open();
  ASSERT_FALSE(s) << "opened although no file could be created";
  EXPECT_TRUE(is(s.error(), errc::io_error)) << render(s.error());
  fresh.env().heal();
  auto again = fresh.open();
  ESR_ASSERT_OK(again);
}

/// Durability mode and the fraction of unsynced bytes a crash keeps.
using crash_case = std::tuple<durability_mode, double>;

class journal_crash : public ::testing::TestWithParam<crash_case> {};

TEST_P(journal_crash, losing_unsynced_data_loses_nothing_acknowledged) {
  auto [mode, keep] = GetParam();
  leveldb_backend b;
  b.options().durability = mode;
  b.options().sync_interval = std::chrono::milliseconds{5};
  load_outcome all;
  for (int round = 0; round < 3; ++round) {
    {
      auto s = b.open();
      ESR_ASSERT_OK(s);
      ASSERT_EQ(verify_load(*s->events, all), "") << "round " << round;
      auto load = run_write_load(*s->events, "account", 150, 300);
      ASSERT_EQ(load.failed(), 0u);
      all.writes.insert(all.writes.end(), load.writes.begin(), load.writes.end());
    } // closed: now the machine "loses power"
    ASSERT_TRUE(b.env().drop_unsynced_data(keep).ok());
  }
  auto s = b.open();
  ESR_ASSERT_OK(s);
  EXPECT_EQ(verify_load(*s->events, all), "");
  auto log = read_all_events(*s->events);
  ESR_ASSERT_OK(log);
  EXPECT_EQ(log->positions(), range(1, s->events->last_position()));
}

TEST_P(journal_crash, while_fsync_fails_nothing_is_acknowledged_and_a_crash_loses_nothing_acknowledged) {
  auto [mode, keep] = GetParam();
  leveldb_backend b;
  b.options().durability = mode;
  b.options().sync_interval = std::chrono::milliseconds{5};
  load_outcome all;
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    auto load = run_write_load(*s->events, "account", 100, 300);
    ASSERT_EQ(load.failed(), 0u);
    all.writes = load.writes;
    b.env().fail_always(file_op::sync);
    auto unsynced = run_write_load(*s->events, "account", 50, 300);
    EXPECT_EQ(unsynced.acked(), 0u) << "acknowledged without a successful fsync";
    EXPECT_TRUE(unsynced.all_failures_are(io_error_code));
    all.writes.insert(all.writes.end(), unsynced.writes.begin(), unsynced.writes.end());
  }
  b.env().heal();
  ASSERT_TRUE(b.env().drop_unsynced_data(keep).ok());
  auto s = b.open();
  ESR_ASSERT_OK(s);
  EXPECT_EQ(verify_load(*s->events, all), "");
}

INSTANTIATE_TEST_SUITE_P(
  leveldb, journal_crash,
  ::testing::Combine(::testing::Values(durability_mode::sync, durability_mode::periodic),
                     ::testing::Values(0.0, 0.5)),
  [](const auto& info) {
    return to_string(std::get<0>(info.param)) + "_keeping_"
           + std::to_string(static_cast<int>(std::get<1>(info.param) * 100)) + "_percent";
  });

} // namespace
} // namespace esr::persistence::test
