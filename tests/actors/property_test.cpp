// Property: after any sequence of commands, a restart recovers exactly the
// state before it: without snapshots, with snapshots, and with unreadable
// snapshots. The state is also checked against a reference fold.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "counter_model.hpp"
#include "esr/actors/testkit/aggregate_testkit.hpp"

using namespace esr;
using kit_t = actors::testkit::aggregate_testkit<counter::state, counter::command, counter::reply>;

namespace {

struct scenario {
  uint64_t snapshot_every;
  bool corrupt_snapshots;
};

class recovery_property : public ::testing::TestWithParam<scenario> {};

void corrupt_some(kit_t& kit, std::mt19937_64& rng) {
  auto l = kit.storage().snapshots->list(kit.persistence_id(), {});
  if (!l)
    return;
  for (auto& m : *l) {
    if (rng() % 2 == 0)
      continue;
    persistence::snapshot_envelope s;
    s.persistence_id = kit.persistence_id();
    s.sequence_nr = m.sequence_nr;
    s.state_type = "counter.CounterState";
    s.payload = "\x0a\xff\xff";
    ASSERT_FALSE(kit.storage().snapshots->save(s));
  }
}

} // namespace

TEST_P(recovery_property, state_after_restart_equals_state_before) {
  auto sc = GetParam();
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng{seed};
    counter::model_options mo;
    mo.snapshot_every = sc.snapshot_every;
    mo.keep = 3;
    actors::aggregate_options ao;
    ao.warn = [](const std::string&) {};
    kit_t kit{counter::make_type(mo), persistence::open_memory(), "p" + std::to_string(seed),
              ao};
    counter::state expected;
    for (int step = 0; step < 120; ++step) {
      auto pick = rng() % 10;
      if (pick < 6) {
        int64_t n = static_cast<int64_t>(rng() % 21) - 10;
        auto out = kit.when(counter::add{n});
        if (n == 0) {
          ASSERT_FALSE(out.reply);
        } else {
          ASSERT_TRUE(out.reply);
          expected.value += n;
          expected.history.push_back(n);
        }
      } else if (pick < 7) {
        ASSERT_TRUE(kit.when(counter::reset{}).reply);
        expected.value = 0;
        expected.history.push_back(0);
      } else if (pick < 8) {
        int64_t n = static_cast<int64_t>(rng() % 5) + 1;
        ASSERT_TRUE(kit.when(counter::add_twice{n}).reply);
        expected.value += 2 * n;
        expected.history.push_back(n);
        expected.history.push_back(n);
      } else if (pick < 9) {
        ASSERT_TRUE(kit.when(counter::get{}).reply);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2)); // let snapshots land
        if (sc.corrupt_snapshots)
          corrupt_some(kit, rng);
        ASSERT_TRUE(kit.restart_and_compare()) << "seed " << seed << " step " << step;
      }
      ASSERT_EQ(kit.state(), expected) << "seed " << seed << " step " << step;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (sc.corrupt_snapshots)
      corrupt_some(kit, rng);
    EXPECT_TRUE(kit.restart_and_compare()) << "seed " << seed;
    EXPECT_EQ(kit.state(), expected);
  }
}

INSTANTIATE_TEST_SUITE_P(all, recovery_property,
                         ::testing::Values(scenario{0, false}, scenario{7, false},
                                           scenario{3, true}),
                         [](const auto& info) {
                           return std::string{info.param.corrupt_snapshots ? "corrupt_" : ""}
                                  + "snapshot_every_" + std::to_string(info.param.snapshot_every);
                         });
