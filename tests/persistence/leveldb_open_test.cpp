// Opening a LevelDB store: the errors open_leveldb() promises in storage.hpp.

#include <gtest/gtest.h>

#include "support/backends.hpp"
#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

TEST(leveldb_open, an_empty_path_is_an_invalid_argument) {
  leveldb_options opts;
  auto s = open_leveldb(opts);
  ASSERT_FALSE(s);
  EXPECT_TRUE(is(s.error(), errc::invalid_argument)) << render(s.error());
}

TEST(leveldb_open, a_zero_shard_count_is_an_invalid_argument) {
  leveldb_backend b;
  b.options().shard_count = 0;
  auto s = b.open();
  ASSERT_FALSE(s);
  EXPECT_TRUE(is(s.error(), errc::invalid_argument)) << render(s.error());
}

TEST(leveldb_open, reopening_with_another_shard_count_is_an_incompatible_format) {
  leveldb_backend b;
  {
    auto s = b.open();
    ESR_ASSERT_OK(s);
    ESR_ASSERT_OK(s->events->write(single("account-1", "opened", "x")));
  }
  b.options().shard_count *= 2;
  auto s = b.open();
  ASSERT_FALSE(s);
  EXPECT_TRUE(is(s.error(), errc::incompatible_format)) << render(s.error());
  b.options().shard_count /= 2;
  auto again = b.open();
  ESR_ASSERT_OK(again);
  auto h = again->events->highest_sequence_nr("account-1");
  ESR_ASSERT_OK(h);
  EXPECT_EQ(*h, 1u);
}

TEST(leveldb_open, a_store_open_elsewhere_cannot_be_opened_twice) {
  leveldb_backend b;
  auto first = b.open();
  ESR_ASSERT_OK(first);
  auto second = b.open();
  ASSERT_FALSE(second);
  EXPECT_TRUE(is(second.error(), errc::io_error)) << render(second.error());
  // The first one is unharmed.
  ESR_ASSERT_OK(first->events->write(single("account-1", "opened", "x")));
}

TEST(leveldb_open, a_missing_store_is_not_created_without_create_if_missing) {
  leveldb_backend b;
  b.options().create_if_missing = false;
  auto s = b.open();
  ASSERT_FALSE(s);
  EXPECT_FALSE(is(s.error(), errc::corruption)) << render(s.error());
}

} // namespace
} // namespace esr::persistence::test
