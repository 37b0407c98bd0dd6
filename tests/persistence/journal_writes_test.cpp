// Journal conformance J16, J17, J19, J20, J21 (../shared/acceptance/
// journal-conformance.md): rejected writes, metadata, concurrency conflicts,
// reopening, interleaved streams. Typed over every backend.

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

template <class Backend>
class journal_writes : public store_fixture<Backend> {
protected:
  /// Writes events e1..e5 to `pid` (3 single writes, then one of two events).
  void write_five(const std::string& pid) {
    for (int i = 1; i <= 3; ++i)
      ESR_ASSERT_OK(this->events().write(single(pid, "deposited", "e" + std::to_string(i))));
    std::vector<event_envelope> both{make_event("deposited", "e4"),
                                     make_event("deposited", "e5")};
    ESR_ASSERT_OK(this->events().write(make_write(pid, std::move(both))));
  }
};

TYPED_TEST_SUITE(journal_writes, all_backends, backend_names);

// J16
TYPED_TEST(journal_writes, a_write_with_an_unserializable_event_is_rejected_and_the_others_are_stored) {
  std::vector<atomic_write> ws;
  ws.push_back(single("account-1", "deposited", "first"));
  std::vector<event_envelope> bad{make_event("deposited", "ok-but-in-a-bad-write"),
                                  make_event("", "no-event-type")};
  ws.push_back(make_write("account-1", std::move(bad)));
  ws.push_back(single("account-1", "deposited", "second"));
  ws.push_back(single("account-1", "deposited",
                      std::string(this->backend_.max_payload_bytes() + 1, 'x')));
  ws.push_back(single("account-1", "deposited", "third"));
  auto outcomes = this->events().write(std::move(ws));
  ASSERT_EQ(outcomes.size(), 5u);
  ESR_ASSERT_OK(outcomes[0]);
  ASSERT_FALSE(outcomes[1]);
  EXPECT_TRUE(is(outcomes[1].error(), errc::serialization_failed)) << render(outcomes[1].error());
  ESR_ASSERT_OK(outcomes[2]);
  ASSERT_FALSE(outcomes[3]);
  EXPECT_TRUE(is(outcomes[3].error(), errc::serialization_failed)) << render(outcomes[3].error());
  ESR_ASSERT_OK(outcomes[4]);
  // Rejected writes consume no sequence number and no global position.
  EXPECT_EQ(outcomes[0]->last_sequence_nr, 1u);
  EXPECT_EQ(outcomes[2]->last_sequence_nr, 2u);
  EXPECT_EQ(outcomes[4]->last_sequence_nr, 3u);
  EXPECT_EQ(outcomes[4]->last_global_position, 3u);
  for (int round = 0; round < 2; ++round) {
    auto r = replay_all(this->events(), "account-1");
    ESR_ASSERT_OK(r);
    ASSERT_EQ(r->seqs, range(1, 3));
    EXPECT_EQ(r->events[0].payload, "first");
    EXPECT_EQ(r->events[1].payload, "second");
    EXPECT_EQ(r->events[2].payload, "third");
    auto all = read_all_events(this->events());
    ESR_ASSERT_OK(all);
    EXPECT_EQ(all->positions(), range(1, 3));
    ASSERT_NO_FATAL_FAILURE(this->reopen()); // the rejected events do not come back either
  }
}

TYPED_TEST(journal_writes, a_write_without_events_and_side_writes_is_rejected_as_invalid) {
  auto res = this->events().write(make_write("account-1", {}));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_argument)) << render(res.error());
  EXPECT_EQ(this->events().last_position(), 0u);
}

// J17
TYPED_TEST(journal_writes, event_metadata_round_trips_unchanged_through_write_and_replay) {
  event_envelope e = make_event("funds_deposited", std::string("\0binary\xff payload", 16));
  e.schema_version = 7;
  e.timestamp_us = 1'700'000'000'123'456;
  e.metadata.correlation_id = "corr-42";
  e.metadata.causation_id = "cmd-17";
  e.metadata.writer_id = "node-a/actor-3#2";
  e.metadata.headers = {{"tenant", "acme"}, {"trace", "00-abc-01"}};
  e.tags = {"vip", "eu"};
  event_envelope plain = make_event("funds_withdrawn", "p2"); // timestamp 0: commit time
  auto res = this->events().write(make_write("account-7", {e, plain}));
  ESR_ASSERT_OK(res);
  auto expected = e;
  expected.persistence_id = "account-7";
  expected.sequence_nr = 1;
  expected.global_position = 1;
  for (int round = 0; round < 2; ++round) {
    auto r = replay_all(this->events(), "account-7");
    ESR_ASSERT_OK(r);
    ASSERT_EQ(r->events.size(), 2u);
    EXPECT_EQ(r->events[0], expected);
    EXPECT_EQ(r->events[1].timestamp_us, res->timestamp_us);
    EXPECT_GT(r->events[1].timestamp_us, 0);
    EXPECT_EQ(r->events[1].schema_version, 1u);
    auto all = read_all_events(this->events());
    ESR_ASSERT_OK(all);
    ASSERT_EQ(all->events.size(), 2u);
    EXPECT_EQ(all->events[0], expected);
    ASSERT_NO_FATAL_FAILURE(this->reopen());
  }
}

// J19
TYPED_TEST(journal_writes, a_write_with_the_wrong_expected_sequence_nr_is_rejected_and_stores_nothing) {
  this->write_five("account-1");
  auto before = this->events().last_position();
  auto w = single("account-1", "deposited", "late");
  w.expected_sequence_nr = 3; // another writer got to 5 first
  w.side_writes.push_back(side_write{"outbox/late", std::string{"must not appear"}});
  auto res = this->events().write(std::move(w));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::concurrency_conflict)) << render(res.error());
  EXPECT_NE(render(res.error()).find("account-1"), std::string::npos) << render(res.error());
  auto r = replay_all(this->events(), "account-1");
  ESR_ASSERT_OK(r);
  EXPECT_EQ(r->seqs, range(1, 5));
  EXPECT_EQ(r->highest, 5u);
  EXPECT_EQ(this->events().last_position(), before);
  auto side = this->events().get_side("outbox/late");
  ESR_ASSERT_OK(side);
  EXPECT_FALSE(*side);
  // The right expectation succeeds.
  auto ok = single("account-1", "deposited", "e6");
  ok.expected_sequence_nr = 5;
  auto res6 = this->events().write(std::move(ok));
  ESR_ASSERT_OK(res6);
  EXPECT_EQ(res6->last_sequence_nr, 6u);
}

TYPED_TEST(journal_writes, expected_sequence_nrs_are_checked_against_earlier_writes_of_the_same_call) {
  std::vector<atomic_write> ws;
  ws.push_back(single("order-1", "placed", "a"));
  ws.back().expected_sequence_nr = 0;
  ws.push_back(single("order-1", "paid", "b"));
  ws.back().expected_sequence_nr = 1;
  ws.push_back(single("order-1", "shipped", "c"));
  ws.back().expected_sequence_nr = 1; // stale: the write before made it 2
  ws.push_back(single("order-2", "placed", "d"));
  ws.back().expected_sequence_nr = 1; // a new stream has highest 0
  auto out = this->events().write(std::move(ws));
  ASSERT_EQ(out.size(), 4u);
  ESR_ASSERT_OK(out[0]);
  ESR_ASSERT_OK(out[1]);
  EXPECT_EQ(out[1]->last_sequence_nr, 2u);
  ASSERT_FALSE(out[2]);
  EXPECT_TRUE(is(out[2].error(), errc::concurrency_conflict));
  ASSERT_FALSE(out[3]);
  EXPECT_TRUE(is(out[3].error(), errc::concurrency_conflict));
  auto h = this->events().highest_sequence_nr("order-2");
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 0u);
  auto r = replay_all(this->events(), "order-1");
  ESR_ASSERT_OK(r);
  EXPECT_EQ(r->seqs, range(1, 2));
  EXPECT_EQ(this->events().last_position(), 2u);
}

// J20
TYPED_TEST(journal_writes, reopening_the_store_replays_everything_acknowledged_and_keeps_highest) {
  this->write_five("account-1");
  ESR_ASSERT_OK(this->events().write(single("account-2", "opened", "x")));
  auto before = replay_all(this->events(), "account-1");
  ESR_ASSERT_OK(before);
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  auto after = replay_all(this->events(), "account-1");
  ESR_ASSERT_OK(after);
  EXPECT_EQ(after->events, before->events);
  EXPECT_EQ(after->highest, 5u);
  EXPECT_EQ(this->events().last_position(), 6u);
  auto res = this->events().write(single("account-1", "deposited", "e6"));
  ESR_ASSERT_OK(res);
  EXPECT_EQ(res->last_sequence_nr, 6u);
  EXPECT_EQ(res->last_global_position, 7u);
  auto res2 = this->events().write(single("account-2", "deposited", "y"));
  ESR_ASSERT_OK(res2);
  EXPECT_EQ(res2->last_sequence_nr, 2u);
}

// J21
TYPED_TEST(journal_writes, interleaved_streams_each_replay_only_their_own_events_in_order) {
  constexpr int streams = 8;
  std::map<std::string, std::vector<std::string>> written;
  std::vector<atomic_write> batch; // some writes go in one call, interleaved
  for (int n = 0; n < 120; ++n) {
    auto pid = "account-" + std::to_string((n * 5) % streams);
    std::vector<event_envelope> evs;
    for (int k = 0; k <= n % 3; ++k) {
      auto payload = pid + "#" + std::to_string(written[pid].size() + 1);
      written[pid].push_back(payload);
      evs.push_back(make_event("deposited", payload));
    }
    if (n % 2 == 0) {
      batch.push_back(make_write(pid, std::move(evs)));
      continue;
    }
    if (!batch.empty()) {
      for (auto& res : this->events().write(std::move(batch)))
        ESR_ASSERT_OK(res);
      batch.clear();
    }
    ESR_ASSERT_OK(this->events().write(make_write(pid, std::move(evs))));
  }
  for (auto& res : this->events().write(std::move(batch)))
    ESR_ASSERT_OK(res);
  for (int round = 0; round < 2; ++round) {
    for (auto& [pid, payloads] : written) {
      auto r = replay_all(this->events(), pid);
      ESR_ASSERT_OK(r);
      ASSERT_EQ(r->seqs, range(1, payloads.size())) << pid;
      for (size_t i = 0; i < payloads.size(); ++i) {
        EXPECT_EQ(r->events[i].payload, payloads[i]);
        EXPECT_EQ(r->events[i].persistence_id, pid);
      }
    }
    ASSERT_NO_FATAL_FAILURE(this->reopen());
  }
}

} // namespace
} // namespace esr::persistence::test
