// Snapshot-store conformance S1..S13 (../shared/acceptance/journal-conformance.md).
// Typed over every backend.
//
// Fixture: snapshots s-1..s-5 of a fresh persistence id, saved at sequence
// numbers 11..15 with increasing timestamps.

#include <optional>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "support/disk_corruption.hpp"
#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

constexpr const char* pid = "account-1";

/// The timestamp of s-i.
int64_t ts_of(int i) {
  return 1'700'000'000'000'000 + i * 1'000'000;
}

snapshot_envelope make_snapshot(uint64_t seq, std::string payload, int64_t ts) {
  snapshot_envelope s;
  s.persistence_id = pid;
  s.sequence_nr = seq;
  s.timestamp_us = ts;
  s.state_type = "account_state";
  s.schema_version = 2;
  s.payload = std::move(payload);
  s.headers = {{"taken_by", "test"}};
  return s;
}

template <class Backend>
class snapshot_conformance : public store_fixture<Backend> {
protected:
  void SetUp() override {
    store_fixture<Backend>::SetUp();
    if (::testing::Test::HasFatalFailure())
      return;
    for (int i = 1; i <= 5; ++i)
      ESR_ASSERT_NO_ERROR(
        this->snapshots().save(make_snapshot(10 + i, "s-" + std::to_string(i), ts_of(i))));
  }

  /// Loads with `c` and returns the payload, or "none".
  std::string load(const snapshot_criteria& c, std::string_view id = pid) {
    auto r = this->snapshots().load(id, c);
    EXPECT_TRUE(r) << render(r.error());
    if (!r || !*r)
      return "none";
    return (*r)->payload;
  }

  static snapshot_criteria bounded(uint64_t seq, int64_t ts) {
    snapshot_criteria c;
    c.max_sequence_nr = seq;
    c.max_timestamp_us = ts;
    return c;
  }
};

TYPED_TEST_SUITE(snapshot_conformance, all_backends, backend_names);

// S1
TYPED_TEST(snapshot_conformance, loading_an_unknown_id_gives_none) {
  EXPECT_EQ(this->load(snapshot_criteria::latest(), "account-unknown"), "none");
}

// S2
TYPED_TEST(snapshot_conformance, loading_with_a_timestamp_older_than_every_snapshot_gives_none) {
  EXPECT_EQ(this->load(this->bounded(max_seq, ts_of(1) - 1)), "none");
}

// S3
TYPED_TEST(snapshot_conformance, loading_with_sequence_bound_7_gives_none) {
  EXPECT_EQ(this->load(snapshot_criteria::up_to(7)), "none");
}

// S4
TYPED_TEST(snapshot_conformance, loading_the_latest_gives_s5_at_15_with_all_fields) {
  auto r = this->snapshots().load(pid, snapshot_criteria::latest());
  ESR_ASSERT_OK(r);
  ASSERT_TRUE(*r);
  EXPECT_EQ(**r, make_snapshot(15, "s-5", ts_of(5)));
}

// S5
TYPED_TEST(snapshot_conformance, loading_with_sequence_bound_13_gives_s3) {
  EXPECT_EQ(this->load(snapshot_criteria::up_to(13)), "s-3");
}

// S6
TYPED_TEST(snapshot_conformance, loading_with_sequence_bound_13_and_the_timestamp_of_s3_gives_s3) {
  EXPECT_EQ(this->load(this->bounded(13, ts_of(3))), "s-3");
  EXPECT_EQ(this->load(this->bounded(max_seq, ts_of(3))), "s-3");
}

// S7
TYPED_TEST(snapshot_conformance, deleting_the_snapshot_at_13_makes_bound_13_give_s2) {
  ESR_ASSERT_NO_ERROR(this->snapshots().remove(pid, 13));
  EXPECT_EQ(this->load(snapshot_criteria::up_to(13)), "s-2");
  ESR_ASSERT_NO_ERROR(this->snapshots().remove(pid, 13)); // again: no error
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  EXPECT_EQ(this->load(snapshot_criteria::up_to(13)), "s-2");
}

// S8
TYPED_TEST(snapshot_conformance, deleting_by_bound_13_and_timestamp_of_s3_leaves_none_at_13_and_s4_at_14) {
  ESR_ASSERT_NO_ERROR(this->snapshots().remove(pid, this->bounded(13, ts_of(3))));
  EXPECT_EQ(this->load(snapshot_criteria::up_to(13)), "none");
  EXPECT_EQ(this->load(snapshot_criteria::up_to(14)), "s-4");
  ASSERT_NO_FATAL_FAILURE(this->reopen());
  EXPECT_EQ(this->load(snapshot_criteria::up_to(13)), "none");
  EXPECT_EQ(this->load(snapshot_criteria::up_to(14)), "s-4");
}

// S9
TYPED_TEST(snapshot_conformance, deleting_with_a_timestamp_bound_matching_nothing_keeps_s4) {
  ESR_ASSERT_NO_ERROR(this->snapshots().remove(pid, this->bounded(max_seq, ts_of(1) - 1)));
  EXPECT_EQ(this->load(snapshot_criteria::up_to(14)), "s-4");
  auto all = this->snapshots().list(pid, snapshot_criteria::latest());
  ESR_ASSERT_OK(all);
  EXPECT_EQ(all->size(), 5u);
}

// S10
TYPED_TEST(snapshot_conformance, saving_again_at_15_replaces_the_old_snapshot) {
  ESR_ASSERT_NO_ERROR(this->snapshots().save(make_snapshot(15, "s-5 again", ts_of(6))));
  EXPECT_EQ(this->load(snapshot_criteria::latest()), "s-5 again");
  auto all = this->snapshots().list(pid, snapshot_criteria::latest());
  ESR_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].sequence_nr, 15u);
  EXPECT_EQ((*all)[0].timestamp_us, ts_of(6));
}

// S11
TYPED_TEST(snapshot_conformance, a_1_mib_snapshot_round_trips) {
  auto big = make_snapshot(16, random_bytes(1u << 20, 11), ts_of(7));
  ESR_ASSERT_NO_ERROR(this->snapshots().save(big));
  for (int round = 0; round < 2; ++round) {
    auto r = this->snapshots().load(pid, snapshot_criteria::latest());
    ESR_ASSERT_OK(r);
    ASSERT_TRUE(*r);
    EXPECT_TRUE(**r == big);
    ASSERT_NO_FATAL_FAILURE(this->reopen());
  }
}

// S12
TYPED_TEST(snapshot_conformance, a_corrupt_snapshot_is_reported_as_corruption_and_still_listed) {
  if constexpr (!TypeParam::on_disk) {
    GTEST_SKIP() << "the in-memory store keeps snapshots as objects in process memory: "
                    "there is no stored record a test could corrupt";
  } else {
    auto bad = make_snapshot(16, random_bytes(8 * 1024, 12), ts_of(7));
    ESR_ASSERT_NO_ERROR(this->snapshots().save(bad));
    this->close_store();
    // Snapshots live in the store's index database (see key_codec.hpp).
    auto db = this->backend_.path() + "/index";
    auto compacted = compact_database(db);
    ASSERT_TRUE(compacted.ok()) << compacted.ToString();
    ASSERT_GE(flip_byte_in_tables(db, bad.payload.substr(4000, 64)), 1u);
    ASSERT_NO_FATAL_FAILURE(this->open_store());
    auto r = this->snapshots().load(pid, snapshot_criteria::latest());
    ASSERT_FALSE(r) << "a corrupt snapshot was loaded (or reported as none)";
    EXPECT_TRUE(is(r.error(), errc::corruption)) << render(r.error());
    auto text = render(r.error());
    EXPECT_TRUE(std::regex_search(text, std::regex{"account-1.*[ (]16[,)]"})) << text;
    auto all = this->snapshots().list(pid, snapshot_criteria::latest());
    ESR_ASSERT_OK(all);
    ASSERT_EQ(all->size(), 6u);
    EXPECT_EQ((*all)[0].sequence_nr, 16u);
    // The caller falls back to the next older snapshot.
    EXPECT_EQ(this->load(snapshot_criteria::up_to((*all)[0].sequence_nr - 1)), "s-5");
  }
}

// S13
TYPED_TEST(snapshot_conformance, keep_n_retention_leaves_only_the_newest_n) {
  for (uint64_t seq = 16; seq <= 20; ++seq)
    ESR_ASSERT_NO_ERROR(this->snapshots().save(make_snapshot(seq, "x", ts_of(int(seq)))));
  ESR_ASSERT_NO_ERROR(this->snapshots().retain_latest(pid, 3));
  auto all = this->snapshots().list(pid, snapshot_criteria::latest());
  ESR_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].sequence_nr, 20u);
  EXPECT_EQ((*all)[1].sequence_nr, 19u);
  EXPECT_EQ((*all)[2].sequence_nr, 18u);
  EXPECT_EQ(this->load(snapshot_criteria::up_to(17)), "none");
}

TYPED_TEST(snapshot_conformance, list_returns_matching_snapshots_newest_first) {
  auto all = this->snapshots().list(pid, snapshot_criteria::up_to(14));
  ESR_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*all)[i].sequence_nr, 14u - i);
    EXPECT_EQ((*all)[i].timestamp_us, ts_of(4 - int(i)));
    EXPECT_EQ((*all)[i].persistence_id, pid);
  }
}

TYPED_TEST(snapshot_conformance, an_invalid_snapshot_is_rejected_as_unserializable) {
  auto no_id = make_snapshot(20, "x", ts_of(8));
  no_id.persistence_id.clear();
  auto err = this->snapshots().save(no_id);
  EXPECT_TRUE(is(err, errc::serialization_failed)) << render(err);
  auto too_big = make_snapshot(20, std::string(this->backend_.max_payload_bytes() + 1, 'x'), 0);
  err = this->snapshots().save(too_big);
  EXPECT_TRUE(is(err, errc::serialization_failed)) << render(err);
  EXPECT_EQ(this->load(snapshot_criteria::latest()), "s-5");
}

TYPED_TEST(snapshot_conformance, a_snapshot_saved_with_timestamp_0_gets_the_current_time) {
  auto before = now_us();
  ESR_ASSERT_NO_ERROR(this->snapshots().save(make_snapshot(30, "now", 0)));
  auto r = this->snapshots().load(pid, snapshot_criteria::latest());
  ESR_ASSERT_OK(r);
  ASSERT_TRUE(*r);
  EXPECT_GE((*r)->timestamp_us, before);
  EXPECT_LE((*r)->timestamp_us, now_us());
}

} // namespace
} // namespace esr::persistence::test
