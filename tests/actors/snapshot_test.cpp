// Snapshots: every N events, keep-N retention, recovery from the newest,
// fallback past unreadable ones, and a clear error when nothing is left.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "counter_model.hpp"
#include "esr/actors/errc.hpp"
#include "esr/actors/testkit/aggregate_testkit.hpp"

using namespace esr;
using kit_t = actors::testkit::aggregate_testkit<counter::state, counter::command, counter::reply>;

namespace {

struct recorder {
  std::mutex mtx;
  std::vector<std::string> warnings;
  std::atomic<uint64_t> snapshot_seq{0};
  actors::aggregate_options options() {
    actors::aggregate_options o;
    o.warn = [this](const std::string& w) {
      std::lock_guard<std::mutex> g{mtx};
      warnings.push_back(w);
    };
    o.on_recovered = [this](const std::string&, uint64_t snap, uint64_t) { snapshot_seq = snap; };
    return o;
  }
  size_t warning_count() {
    std::lock_guard<std::mutex> g{mtx};
    return warnings.size();
  }
};

std::vector<uint64_t> snapshot_seqs(kit_t& kit) {
  std::vector<uint64_t> result;
  auto l = kit.storage().snapshots->list(kit.persistence_id(), {});
  if (l)
    for (auto& m : *l)
      result.push_back(m.sequence_nr);
  return result;
}

// Snapshots are saved asynchronously: wait until the newest is `seq`.
bool wait_for_snapshot(kit_t& kit, uint64_t seq) {
  for (int i = 0; i < 400; ++i) {
    auto s = snapshot_seqs(kit);
    if (!s.empty() && s.front() == seq)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void corrupt_snapshot(kit_t& kit, uint64_t seq) {
  persistence::snapshot_envelope s;
  s.persistence_id = kit.persistence_id();
  s.sequence_nr = seq;
  s.state_type = "counter.CounterState";
  s.payload = "\x0a\xff\xff"; // A truncated length-delimited field.
  ASSERT_FALSE(kit.storage().snapshots->save(s));
}

void run_adds(kit_t& kit, int n) {
  for (int i = 1; i <= n; ++i)
    ASSERT_TRUE(kit.when(counter::add{i}).reply);
}

} // namespace

TEST(snapshots, are_taken_every_n_events_and_only_the_newest_n_kept) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  mo.keep = 2;
  kit_t kit{counter::make_type(mo)};
  run_adds(kit, 17);
  ASSERT_TRUE(wait_for_snapshot(kit, 15));
  std::this_thread::sleep_for(std::chrono::milliseconds(20)); // retention follows the save
  EXPECT_EQ(snapshot_seqs(kit), (std::vector<uint64_t>{15, 10}));
}

TEST(snapshots, recovery_starts_from_the_newest_snapshot) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  recorder rec;
  kit_t kit{counter::make_type(mo), persistence::open_memory(), "s1", rec.options()};
  run_adds(kit, 12);
  ASSERT_TRUE(wait_for_snapshot(kit, 10));
  EXPECT_TRUE(kit.restart_and_compare());
  EXPECT_EQ(rec.snapshot_seq.load(), 10u);
  EXPECT_EQ(rec.warning_count(), 0u);
}

TEST(snapshots, an_unreadable_snapshot_falls_back_to_the_previous_one_with_a_warning) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  recorder rec;
  kit_t kit{counter::make_type(mo), persistence::open_memory(), "s2", rec.options()};
  run_adds(kit, 12);
  ASSERT_TRUE(wait_for_snapshot(kit, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  corrupt_snapshot(kit, 10);
  EXPECT_TRUE(kit.restart_and_compare());
  EXPECT_EQ(rec.snapshot_seq.load(), 5u);
  EXPECT_EQ(rec.warning_count(), 1u);
}

TEST(snapshots, with_every_snapshot_unreadable_the_events_are_replayed_in_full) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  recorder rec;
  kit_t kit{counter::make_type(mo), persistence::open_memory(), "s3", rec.options()};
  run_adds(kit, 12);
  ASSERT_TRUE(wait_for_snapshot(kit, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  corrupt_snapshot(kit, 10);
  corrupt_snapshot(kit, 5);
  EXPECT_TRUE(kit.restart_and_compare());
  EXPECT_EQ(rec.snapshot_seq.load(), 0u);
  EXPECT_EQ(rec.warning_count(), 2u);
}

TEST(snapshots, events_covered_by_the_oldest_kept_snapshot_can_be_deleted) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  mo.keep = 1;
  mo.delete_events = true;
  kit_t kit{counter::make_type(mo)};
  run_adds(kit, 12);
  ASSERT_TRUE(wait_for_snapshot(kit, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto events = kit.storage().events->read_stream(kit.persistence_id());
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->front().sequence_nr, 11u);
  EXPECT_TRUE(kit.restart_and_compare());
}

TEST(snapshots, an_unreadable_snapshot_without_the_events_stops_the_aggregate_with_an_error) {
  counter::model_options mo;
  mo.snapshot_every = 5;
  mo.keep = 1;
  mo.delete_events = true;
  recorder rec;
  auto t = counter::make_type(mo);
  kit_t kit{t, persistence::open_memory(), "s4", rec.options()};
  run_adds(kit, 12);
  ASSERT_TRUE(wait_for_snapshot(kit, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  corrupt_snapshot(kit, 10);
  // A fresh incarnation cannot rebuild: events 1..10 are gone.
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = kit.storage();
  env->options = rec.options();
  auto agg = actors::spawn_aggregate(kit.system(), {t, env, kit.persistence_id()});
  caf::scoped_actor self{kit.system()};
  actors::command_envelope cmd;
  cmd.persistence_id = kit.persistence_id();
  cmd.payload = counter::command{counter::get{}};
  caf::error err;
  self->request(agg, caf::infinite, std::move(cmd))
    .receive([&](actors::command_reply&) {}, [&](caf::error& e) { err = e; });
  EXPECT_TRUE(actors::is(err, actors::errc::recovery_failed)) << actors::render(err);
}
