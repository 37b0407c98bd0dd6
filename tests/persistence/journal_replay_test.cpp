// Journal conformance J1..J15 (../shared/acceptance/journal-conformance.md):
// replay bounds, highest sequence number, deletion. Typed over every backend.
//
// Fixture: events 1, 2, 3 written as three atomic writes, events 4, 5 as one,
// every write acknowledged in order.

#include <gtest/gtest.h>

#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

constexpr const char* pid = "account-1";

template <class Backend>
class journal_replay : public store_fixture<Backend> {
protected:
  void SetUp() override {
    store_fixture<Backend>::SetUp();
    if (::testing::Test::HasFatalFailure())
      return;
    for (int i = 1; i <= 3; ++i) {
      auto res = this->events().write(single(pid, "deposited", "e" + std::to_string(i)));
      ESR_ASSERT_OK(res);
      ASSERT_EQ(res->last_sequence_nr, static_cast<uint64_t>(i));
    }
    std::vector<event_envelope> both;
    both.push_back(make_event("deposited", "e4"));
    both.push_back(make_event("deposited", "e5"));
    auto res = this->events().write(make_write(pid, std::move(both)));
    ESR_ASSERT_OK(res);
    ASSERT_EQ(res->first_sequence_nr, 4u);
    ASSERT_EQ(res->last_sequence_nr, 5u);
  }

  /// Replays `pid` with the given bounds; fails the test on error.
  replayed replay(uint64_t from, uint64_t to = max_seq, uint64_t max = max_seq) {
    auto r = replay_all(this->events(), pid, from, to, max);
    EXPECT_TRUE(r) << render(r.error());
    return r ? std::move(*r) : replayed{};
  }
};

TYPED_TEST_SUITE(journal_replay, all_backends, backend_names);

// J1
TYPED_TEST(journal_replay, replaying_everything_returns_events_1_to_5_and_highest_5) {
  auto r = this->replay(1);
  EXPECT_EQ(r.seqs, range(1, 5));
  EXPECT_EQ(r.highest, 5u);
  ASSERT_EQ(r.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.events[i].payload, "e" + std::to_string(i + 1));
    EXPECT_EQ(r.events[i].persistence_id, pid);
  }
}

// J2
TYPED_TEST(journal_replay, replaying_from_lower_bound_3_returns_3_to_5) {
  EXPECT_EQ(this->replay(3).seqs, range(3, 5));
}

// J3
TYPED_TEST(journal_replay, replaying_up_to_3_returns_1_to_3_and_highest_is_still_5) {
  auto r = this->replay(1, 3);
  EXPECT_EQ(r.seqs, range(1, 3));
  EXPECT_EQ(r.highest, 5u);
}

// J4
TYPED_TEST(journal_replay, replaying_with_count_limit_3_returns_1_to_3) {
  EXPECT_EQ(this->replay(1, max_seq, 3).seqs, range(1, 3));
}

// J5
TYPED_TEST(journal_replay, replaying_bounds_2_to_3_returns_2_and_3) {
  EXPECT_EQ(this->replay(2, 3).seqs, range(2, 3));
}

// J6
TYPED_TEST(journal_replay, replaying_bounds_2_to_5_with_limit_2_returns_2_and_3) {
  EXPECT_EQ(this->replay(2, 5, 2).seqs, range(2, 3));
}

// J7
TYPED_TEST(journal_replay, replaying_with_lower_equal_upper_2_returns_only_2) {
  EXPECT_EQ(this->replay(2, 2).seqs, range(2, 2));
}

// J8
TYPED_TEST(journal_replay, replaying_bounds_2_to_4_with_limit_1_returns_only_2) {
  EXPECT_EQ(this->replay(2, 4, 1).seqs, range(2, 2));
}

// J9
TYPED_TEST(journal_replay, replaying_with_limit_0_returns_nothing_and_highest_5) {
  auto r = this->replay(1, max_seq, 0);
  EXPECT_TRUE(r.seqs.empty());
  EXPECT_EQ(r.highest, 5u);
}

// J10
TYPED_TEST(journal_replay, replaying_with_lower_above_upper_returns_nothing_and_highest_5) {
  auto r = this->replay(3, 2);
  EXPECT_TRUE(r.seqs.empty());
  EXPECT_EQ(r.highest, 5u);
}

// J11
TYPED_TEST(journal_replay, replaying_a_stream_never_written_returns_nothing_and_highest_0) {
  auto r = replay_all(this->events(), "account-never-written");
  ESR_ASSERT_OK(r);
  EXPECT_TRUE(r->seqs.empty());
  EXPECT_EQ(r->highest, 0u);
  auto h = this->events().highest_sequence_nr("account-never-written");
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 0u);
}

// J12
TYPED_TEST(journal_replay, highest_sequence_nr_is_5_without_reading_any_event) {
  auto h = this->events().highest_sequence_nr(pid);
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 5u);
  size_t visited = 0;
  auto highest = this->events().replay(pid, 1, max_seq, 0, [&](const event_envelope&) {
    ++visited;
    return true;
  });
  ESR_ASSERT_OK(highest);
  EXPECT_EQ(*highest, 5u);
  EXPECT_EQ(visited, 0u);
}

// J13
TYPED_TEST(journal_replay, deleting_up_to_3_leaves_only_4_and_5_to_replay) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, 3));
  EXPECT_EQ(this->replay(1).seqs, range(4, 5));
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  EXPECT_EQ(this->replay(1).seqs, range(4, 5));
}

// J14
TYPED_TEST(journal_replay, deleting_up_to_3_keeps_highest_at_5_also_after_reopen) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, 3));
  auto h = this->events().highest_sequence_nr(pid);
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 5u);
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  h = this->events().highest_sequence_nr(pid);
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 5u);
}

// J15
TYPED_TEST(journal_replay, deleting_everything_replays_nothing_keeps_highest_5_and_next_write_gets_6) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, max_seq));
  auto r = this->replay(1);
  EXPECT_TRUE(r.seqs.empty());
  EXPECT_EQ(r.highest, 5u);
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  r = this->replay(1);
  EXPECT_TRUE(r.seqs.empty());
  EXPECT_EQ(r.highest, 5u);
  auto w = single(pid, "deposited", "e6");
  w.expected_sequence_nr = 5; // deleted events still count
  auto res = this->events().write(std::move(w));
  ESR_ASSERT_OK(res);
  EXPECT_EQ(res->first_sequence_nr, 6u);
  EXPECT_EQ(res->last_sequence_nr, 6u);
  EXPECT_EQ(this->replay(1).seqs, range(6, 6));
}

TYPED_TEST(journal_replay, deleting_up_to_the_middle_of_an_atomic_write_leaves_the_rest_of_it) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, 4)); // 4 and 5 were one write
  EXPECT_EQ(this->replay(1).seqs, range(5, 5));
  EXPECT_EQ(this->replay(4, 5).seqs, range(5, 5));
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  auto r = this->replay(1);
  EXPECT_EQ(r.seqs, range(5, 5));
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].payload, "e5");
  EXPECT_EQ(r.highest, 5u);
}

TYPED_TEST(journal_replay, deleting_again_with_a_lower_bound_changes_nothing) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, 3));
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, 1));
  EXPECT_EQ(this->replay(1).seqs, range(4, 5));
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  EXPECT_EQ(this->replay(1).seqs, range(4, 5));
}

TYPED_TEST(journal_replay, deleting_keeps_the_events_in_the_global_log) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to(pid, max_seq));
  auto all = read_all_events(this->events());
  ESR_ASSERT_OK(all);
  EXPECT_EQ(all->positions(), range(1, 5));
}

TYPED_TEST(journal_replay, deleting_a_stream_never_written_succeeds_and_changes_nothing) {
  ESR_ASSERT_NO_ERROR(this->events().delete_up_to("account-never-written", 10));
  auto h = this->events().highest_sequence_nr("account-never-written");
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 0u);
  EXPECT_EQ(this->replay(1).seqs, range(1, 5));
}

} // namespace
} // namespace esr::persistence::test
