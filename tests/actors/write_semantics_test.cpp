// Write semantics: expected versions, command-id deduplication (also across
// restarts), rejected writes (not stored, aggregate goes on) and failed
// writes (outcome unknown: error, restart from storage, never false success).
#include <gtest/gtest.h>

#include "counter_model.hpp"
#include "esr/actors/errc.hpp"
#include "esr/actors/testkit/aggregate_testkit.hpp"

using namespace esr;
using kit_t = actors::testkit::aggregate_testkit<counter::state, counter::command, counter::reply>;

TEST(write_semantics, a_matching_expected_version_is_accepted) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{1}).reply);
  auto out = kit.when(counter::add{2}, "", 1);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(out.version, 2u);
}

TEST(write_semantics, a_wrong_expected_version_is_a_distinct_error_and_stores_nothing) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{1}).reply);
  auto out = kit.when(counter::add{2}, "", 0);
  ASSERT_FALSE(out.reply);
  EXPECT_TRUE(actors::is(out.reply.error(), actors::errc::wrong_expected_version));
  EXPECT_EQ(actors::render(out.reply.error()),
            "esr_agg.wrong_expected_version: (\"counter-test\", 0, 1)");
  EXPECT_EQ(out.version, 1u);
}

TEST(write_semantics, a_duplicate_command_id_gets_the_original_reply_and_is_not_applied) {
  kit_t kit{counter::make_type()};
  auto first = kit.when(counter::add{5}, "cmd-1");
  ASSERT_TRUE(first.reply);
  ASSERT_TRUE(kit.when(counter::add{1}, "cmd-2").reply);
  auto again = kit.when(counter::add{5}, "cmd-1");
  ASSERT_TRUE(again.reply);
  EXPECT_EQ(*again.reply, 5); // The original answer, not 11.
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.state.value, 6);
}

TEST(write_semantics, a_command_whose_reply_is_not_wanted_is_applied_once_and_stores_no_reply) {
  kit_t kit{counter::make_type()};
  auto first = kit.when_without_reply(counter::add{5}, "cmd-1");
  ASSERT_TRUE(first) << actors::render(first.error());
  EXPECT_FALSE(first->value.has_value()) << "no reply value was made";
  EXPECT_EQ(first->version, 1u);
  auto stored = kit.storage().events->read_stream(kit.persistence_id(), 1, 1);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].metadata.headers.count("esr.reply"), 0u);
  for (int round = 0; round < 2; ++round) {
    // Applied already (also after a restart): a duplicate, without a reply.
    auto again = kit.when(counter::add{5}, "cmd-1");
    ASSERT_FALSE(again.reply);
    EXPECT_TRUE(actors::is(again.reply.error(), actors::errc::duplicate_command));
    EXPECT_EQ(again.state.value, 5);
    EXPECT_EQ(again.version, 1u);
    kit.restart();
  }
}

TEST(write_semantics, a_duplicate_of_a_rejected_command_gets_the_original_rejection) {
  kit_t kit{counter::make_type()};
  auto first = kit.when(counter::add{0}, "cmd-0");
  ASSERT_FALSE(first.reply);
  auto again = kit.when(counter::add{0}, "cmd-0");
  ASSERT_FALSE(again.reply);
  EXPECT_EQ(again.reply.error(), first.reply.error());
}

TEST(write_semantics, deduplication_survives_a_restart_with_the_stored_reply) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{5}, "cmd-1").reply);
  ASSERT_TRUE(kit.when(counter::add{3}, "cmd-2").reply);
  kit.restart();
  auto again = kit.when(counter::add{5}, "cmd-1");
  ASSERT_TRUE(again.reply) << actors::render(again.reply.error());
  EXPECT_EQ(*again.reply, 5);
  EXPECT_EQ(again.version, 2u);
  EXPECT_EQ(again.state.value, 8);
}

TEST(write_semantics, deduplication_survives_a_restart_from_a_snapshot) {
  counter::model_options mo;
  mo.snapshot_every = 2;
  mo.reply_codec = false;
  kit_t kit{counter::make_type(mo)};
  ASSERT_TRUE(kit.when(counter::add{5}, "cmd-1").reply);
  ASSERT_TRUE(kit.when(counter::add{3}, "cmd-2").reply);
  // Wait for the snapshot at 2, then recover from it (no events replayed).
  for (int i = 0; i < 200; ++i) {
    auto l = kit.storage().snapshots->list(kit.persistence_id(), {});
    if (l && !l->empty())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kit.restart();
  auto again = kit.when(counter::add{5}, "cmd-1");
  // Without a reply codec the original reply is unknown: a distinct error.
  ASSERT_FALSE(again.reply);
  EXPECT_TRUE(actors::is(again.reply.error(), actors::errc::duplicate_command));
  EXPECT_EQ(again.state.value, 8);
  EXPECT_EQ(again.version, 2u);
}

TEST(write_semantics, a_rejected_write_answers_the_error_and_the_aggregate_goes_on) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{1}).reply);
  kit.reject_next_write();
  auto out = kit.when(counter::add{10});
  ASSERT_FALSE(out.reply);
  EXPECT_TRUE(actors::is(out.reply.error(), actors::errc::write_rejected));
  EXPECT_EQ(out.state.value, 1); // The tentative state was discarded.
  EXPECT_EQ(out.version, 1u);
  auto next = kit.when(counter::add{2});
  ASSERT_TRUE(next.reply);
  EXPECT_EQ(*next.reply, 3);
}

TEST(write_semantics, a_failed_write_is_never_reported_as_success_and_the_aggregate_restarts) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{1}).reply);
  kit.fail_next_write();
  auto out = kit.when(counter::add{10});
  ASSERT_FALSE(out.reply);
  EXPECT_TRUE(actors::is(out.reply.error(), actors::errc::write_failed));
  // After the backoff it recovered from storage: the write was not stored.
  EXPECT_EQ(out.state.value, 1);
  auto next = kit.when(counter::add{2});
  ASSERT_TRUE(next.reply);
  EXPECT_EQ(*next.reply, 3);
}

TEST(write_semantics, a_failed_write_that_was_stored_is_recovered_and_a_retry_is_deduplicated) {
  kit_t kit{counter::make_type()};
  ASSERT_TRUE(kit.when(counter::add{1}).reply);
  kit.fail_next_write(true); // Stored, but the caller hears "failed".
  auto out = kit.when(counter::add{10}, "cmd-x");
  ASSERT_FALSE(out.reply);
  EXPECT_TRUE(actors::is(out.reply.error(), actors::errc::write_failed));
  EXPECT_EQ(out.state.value, 11); // Recovered from storage, which has it.
  auto retry = kit.when(counter::add{10}, "cmd-x");
  ASSERT_TRUE(retry.reply);
  EXPECT_EQ(*retry.reply, 11);
  EXPECT_EQ(retry.state.value, 11); // Applied once.
}
