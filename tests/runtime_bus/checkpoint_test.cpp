// Checkpoint stores and checkpointed subscriptions resuming where they left.
#include <mutex>

#include <gtest/gtest.h>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using namespace esr::runtime::bus;

namespace {

class checkpoint_test : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    store_ = esr::bus_test::open_store(dir_.sub("journal"));
    checkpoints_ = open(GetParam());
  }

  std::shared_ptr<checkpoint_store> open(const std::string& kind) {
    if (kind == "memory")
      return make_memory_checkpoint_store();
    if (kind == "journal")
      return make_journal_checkpoint_store(store_.events);
    leveldb_checkpoint_options o;
    o.path = dir_.sub("checkpoints");
    auto cs = open_leveldb_checkpoint_store(o);
    EXPECT_TRUE(cs) << render(cs.error());
    return *cs;
  }

  esr::bus_test::temp_dir dir_;
  esr::persistence::storage store_;
  std::shared_ptr<checkpoint_store> checkpoints_;
};

} // namespace

TEST_P(checkpoint_test, stores_loads_and_removes_positions) {
  auto none = checkpoints_->load("a");
  ASSERT_TRUE(none) << render(none.error());
  EXPECT_FALSE(*none);
  ASSERT_FALSE(checkpoints_->save("a", 42));
  ASSERT_FALSE(checkpoints_->save("b", 1ull << 40));
  ASSERT_FALSE(checkpoints_->save("a", 43));
  EXPECT_EQ(checkpoints_->load("a")->value_or(0), 43u);
  EXPECT_EQ(checkpoints_->load("b")->value_or(0), 1ull << 40);
  ASSERT_FALSE(checkpoints_->remove("a"));
  EXPECT_FALSE(*checkpoints_->load("a"));
  EXPECT_TRUE(is(checkpoints_->save("", 1), errc::invalid_argument));
}

TEST_P(checkpoint_test, subscription_resumes_after_its_checkpoint) {
  auto& j = *store_.events;
  esr::bus_test::append_events(j, "a-1", 100);
  auto bus = event_bus::make(store_.events);
  std::mutex mtx;
  std::vector<uint64_t> seen;
  auto handler = [&](const event_batch& b) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& e : b.events)
      seen.push_back(e.global_position);
    return caf::error{};
  };
  subscription_options o;
  o.name = "resuming";
  o.checkpoints = checkpoints_;
  o.max_batch = 30;
  {
    auto sub = bus->subscribe(o, handler);
    ASSERT_TRUE(sub);
    ASSERT_FALSE((*sub)->wait_for(100, 10s));
  }
  EXPECT_EQ(checkpoints_->load("resuming")->value_or(0), 100u);
  esr::bus_test::append_events(j, "a-1", 50);
  {
    std::lock_guard<std::mutex> guard{mtx};
    seen.clear();
  }
  o.start = start_position::beginning(); // Ignored: the checkpoint wins.
  auto sub = bus->subscribe(o, handler);
  ASSERT_TRUE(sub);
  ASSERT_FALSE((*sub)->wait_for(150, 10s));
  std::lock_guard<std::mutex> guard{mtx};
  ASSERT_EQ(seen.size(), 50u);
  EXPECT_EQ(seen.front(), 101u);
  EXPECT_EQ(seen.back(), 150u);
}

INSTANTIATE_TEST_SUITE_P(stores, checkpoint_test,
                         testing::Values("memory", "leveldb", "journal"));

TEST(leveldb_checkpoint_store, survives_reopen) {
  esr::bus_test::temp_dir dir;
  leveldb_checkpoint_options o;
  o.path = dir.sub("cp");
  {
    auto cs = open_leveldb_checkpoint_store(o);
    ASSERT_TRUE(cs);
    ASSERT_FALSE((*cs)->save("s", 7));
  }
  auto cs = open_leveldb_checkpoint_store(o);
  ASSERT_TRUE(cs);
  EXPECT_EQ((*cs)->load("s")->value_or(0), 7u);
  auto empty = open_leveldb_checkpoint_store(leveldb_checkpoint_options{});
  ASSERT_FALSE(empty);
  EXPECT_TRUE(is(empty.error(), errc::invalid_argument));
}

TEST(journal_checkpoint_store, commits_a_checkpoint_atomically_with_events) {
  esr::bus_test::temp_dir dir;
  auto store = esr::bus_test::open_store(dir.sub("journal"));
  auto cs = make_journal_checkpoint_store(store.events);
  esr::persistence::atomic_write w;
  w.persistence_id = "saga-1";
  w.events.push_back(esr::bus_test::make_event("handled", "x"));
  w.side_writes.push_back(checkpoint_side_write("saga", 17));
  auto res = store.events->write(std::move(w));
  ASSERT_TRUE(res);
  EXPECT_EQ(cs->load("saga")->value_or(0), 17u);
}

TEST(position_codec, is_big_endian_and_round_trips) {
  EXPECT_EQ(encode_position(0x0102030405060708ull), std::string("\1\2\3\4\5\6\7\10", 8));
  EXPECT_EQ(decode_position(encode_position(123456789)).value_or(0), 123456789u);
  EXPECT_FALSE(decode_position("short"));
}
