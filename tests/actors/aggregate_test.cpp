// The aggregate programming model through the test kit: given events, when a
// command, then reply / events / state; recovery; stash ordering.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "counter_model.hpp"
#include "esr/actors/aggregate_actor.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/actors/testkit/aggregate_testkit.hpp"
#include "esr/actors/testkit/faulty_journal.hpp"

using namespace esr;
using kit_t = actors::testkit::aggregate_testkit<counter::state, counter::command, counter::reply>;

namespace {

counter::Added added(int64_t n) {
  counter::Added e;
  e.set_amount(n);
  return e;
}

} // namespace

TEST(aggregate, persists_an_event_and_replies_from_the_new_state) {
  kit_t kit{counter::make_type()};
  auto out = kit.when(counter::add{5});
  ASSERT_TRUE(out.reply) << actors::render(out.reply.error());
  EXPECT_EQ(*out.reply, 5);
  EXPECT_EQ(out.version, 1u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].event_type, "counter.Added");
  EXPECT_EQ(out.event<counter::Added>(0).amount(), 5);
  EXPECT_EQ(out.state.value, 5);
}

TEST(aggregate, given_events_are_recovered_before_the_command) {
  kit_t kit{counter::make_type()};
  kit.given(added(10), added(20));
  EXPECT_EQ(kit.version(), 2u);
  auto out = kit.when(counter::add{1});
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(*out.reply, 31);
  EXPECT_EQ(out.version, 3u);
}

TEST(aggregate, persists_several_events_atomically_in_one_write) {
  kit_t kit{counter::make_type()};
  auto calls = kit.journal().write_calls();
  auto out = kit.when(counter::add_twice{4});
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(*out.reply, 8);
  EXPECT_EQ(out.events.size(), 2u);
  EXPECT_EQ(kit.journal().write_calls(), calls + 1);
}

TEST(aggregate, rejects_without_storing_anything_and_goes_on) {
  kit_t kit{counter::make_type()};
  auto out = kit.when(counter::add{0});
  ASSERT_FALSE(out.reply);
  EXPECT_TRUE(actors::is(out.reply.error(), actors::errc::rejected));
  EXPECT_EQ(actors::render(out.reply.error()), "esr_agg.rejected: (\"zero\")");
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.version, 0u);
  auto next = kit.when(counter::add{2});
  ASSERT_TRUE(next.reply);
  EXPECT_EQ(*next.reply, 2);
}

TEST(aggregate, replies_without_persisting) {
  kit_t kit{counter::make_type()};
  kit.given(added(7));
  auto out = kit.when(counter::get{});
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(*out.reply, 7);
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(out.version, 1u);
}

TEST(aggregate, state_after_restart_equals_state_before) {
  kit_t kit{counter::make_type()};
  for (int i = 1; i <= 20; ++i)
    ASSERT_TRUE(kit.when(i % 7 == 0 ? counter::command{counter::reset{}}
                                    : counter::command{counter::add{i}})
                  .reply);
  EXPECT_TRUE(kit.restart_and_compare());
  EXPECT_EQ(kit.version(), 20u);
}

TEST(aggregate, answers_a_command_of_the_wrong_type_with_an_error) {
  kit_t kit{counter::make_type()};
  caf::scoped_actor self{kit.system()};
  // Through the raw message interface: a payload that is no counter command.
  auto t = counter::make_type();
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = kit.storage();
  auto agg = actors::spawn_aggregate(kit.system(), {t, env, "counter-raw"});
  actors::command_envelope cmd;
  cmd.persistence_id = "counter-raw";
  cmd.payload = std::string{"not a command"};
  caf::error err;
  self->request(agg, caf::infinite, std::move(cmd))
    .receive([&](actors::command_reply&) {}, [&](caf::error& e) { err = e; });
  EXPECT_TRUE(actors::is(err, actors::errc::wrong_command_type));
  self->send_exit(agg, caf::exit_reason::kill);
}

TEST(aggregate, handles_stashed_commands_in_arrival_order) {
  kit_t kit{counter::make_type()};
  caf::scoped_actor self{kit.system()};
  auto t = counter::make_type();
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = kit.storage();
  auto agg = actors::spawn_aggregate(kit.system(), {t, env, "counter-order"});
  // 200 commands in flight at once: most are stashed behind persists.
  constexpr int n = 200;
  for (int i = 1; i <= n; ++i) {
    actors::command_envelope cmd;
    cmd.persistence_id = "counter-order";
    cmd.payload = counter::command{counter::add{i}};
    self->send(agg, std::move(cmd));
  }
  std::vector<int64_t> replies;
  std::vector<uint64_t> versions;
  for (int i = 0; i < n; ++i)
    self->receive([&](actors::command_reply& r) {
      replies.push_back(std::any_cast<int64_t>(r.value));
      versions.push_back(r.version);
    });
  ASSERT_EQ(replies.size(), static_cast<size_t>(n));
  int64_t sum = 0;
  for (int i = 1; i <= n; ++i) {
    sum += i;
    EXPECT_EQ(replies[i - 1], sum) << "reply " << i;
    EXPECT_EQ(versions[i - 1], static_cast<uint64_t>(i));
  }
  auto events = kit.storage().events->read_stream("counter-order");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    counter::Added e;
    e.ParseFromString((*events)[i].payload);
    EXPECT_EQ(e.amount(), i + 1);
  }
  self->send_exit(agg, caf::exit_reason::kill);
}

TEST(aggregate, answers_stash_overflow_when_the_stash_is_full) {
  kit_t kit{counter::make_type()};
  caf::scoped_actor self{kit.system()};
  auto t = counter::make_type();
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = kit.storage();
  // The first command's write stays outstanding while the others arrive.
  auto held = std::make_shared<actors::testkit::faulty_journal>(env->store.events);
  held->hold_writes();
  env->store.events = held;
  env->options.stash_capacity = 5;
  auto agg = actors::spawn_aggregate(kit.system(), {t, env, "counter-full"});
  constexpr int n = 100;
  for (int i = 1; i <= n; ++i) {
    actors::command_envelope cmd;
    cmd.persistence_id = "counter-full";
    cmd.payload = counter::command{counter::add{1}};
    self->send(agg, std::move(cmd));
  }
  int ok = 0;
  int overflow = 0;
  // While the write is held, only overflows are answered.
  for (bool quiet = false; !quiet;)
    self->receive([](actors::command_reply&) { ADD_FAILURE() << "answered before durable"; },
                  [&](caf::error& e) {
                    EXPECT_TRUE(actors::is(e, actors::errc::stash_overflow));
                    ++overflow;
                  },
                  caf::after(std::chrono::milliseconds(300)) >> [&] { quiet = true; });
  EXPECT_GT(overflow, 0);
  EXPECT_LE(n - overflow, 5 + static_cast<int>(env->options.max_batch));
  held->release_writes();
  for (int i = overflow; i < n; ++i)
    self->receive([&](actors::command_reply&) { ++ok; },
                  [&](caf::error& e) { ADD_FAILURE() << actors::render(e); });
  EXPECT_EQ(ok + overflow, n);
  auto highest = kit.storage().events->highest_sequence_nr("counter-full");
  ASSERT_TRUE(highest);
  EXPECT_EQ(*highest, static_cast<uint64_t>(ok));
  self->send_exit(agg, caf::exit_reason::kill);
}

// Replies come from the journal's writer thread, and the aggregate learns of
// a settled write either from a wake-up message or by polling when its next
// message arrives. Many senders racing those paths on one aggregate (reads
// and writes mixed, on LevelDB so writes are decided on another thread):
// every command is answered, in order per sender, and none is lost.
TEST(aggregate, answers_every_command_when_many_senders_race_the_journal) {
  auto dir = (std::filesystem::temp_directory_path()
              / ("esr-agg-race-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(dir);
  {
    persistence::leveldb_options o;
    o.path = dir;
    auto store = persistence::open_leveldb(o);
    ASSERT_TRUE(store) << actors::render(store.error());
    caf::actor_system_config cfg;
    actors::register_errors(cfg);
    caf::actor_system sys{cfg};
    auto env = std::make_shared<actors::aggregate_env>();
    env->store = *store;
    env->options.stash_capacity = 100000; // All may wait at once.
    auto agg = actors::spawn_aggregate(sys, {counter::make_type(), env, "counter-race"});
    constexpr int senders = 8;
    constexpr int per_sender = 300;
    std::atomic<int> answered{0};
    std::atomic<int> out_of_order{0};
    std::atomic<int> errors{0};
    for (int s = 0; s < senders; ++s)
      sys.spawn([&, agg, s](caf::event_based_actor* self) {
        auto last = std::make_shared<int64_t>(0);
        for (int i = 0; i < per_sender; ++i) {
          actors::command_envelope cmd;
          cmd.persistence_id = "counter-race";
          if ((i + s) % 5 == 0)
            cmd.payload = counter::command{counter::get{}};
          else
            cmd.payload = counter::command{counter::add{1}};
          self->request(agg, caf::infinite, std::move(cmd))
            .then(
              [&, last](actors::command_reply& r) {
                // The version a sender sees never goes back.
                if (static_cast<int64_t>(r.version) < *last)
                  ++out_of_order;
                *last = static_cast<int64_t>(r.version);
                ++answered;
              },
              [&](caf::error& e) {
                if (errors++ == 0)
                  ADD_FAILURE() << actors::render(e);
                ++answered;
              });
        }
      });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (answered.load() < senders * per_sender && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(answered.load(), senders * per_sender) << "commands left unanswered";
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(out_of_order.load(), 0);
    int writes = 0;
    for (int s = 0; s < senders; ++s)
      for (int i = 0; i < per_sender; ++i)
        writes += (i + s) % 5 == 0 ? 0 : 1;
    auto highest = store->events->highest_sequence_nr("counter-race");
    ASSERT_TRUE(highest);
    EXPECT_EQ(*highest, static_cast<uint64_t>(writes));
    caf::anon_send_exit(agg, caf::exit_reason::user_shutdown);
  }
  std::filesystem::remove_all(dir);
}

// The journal's callback answers persisted commands itself: a command whose
// write is in flight when its aggregate is killed still gets the write's
// real outcome (here: stored, so the reply), never a false error or silence.
TEST(aggregate, a_write_in_flight_is_answered_with_its_outcome_after_a_kill) {
  kit_t kit{counter::make_type()};
  caf::scoped_actor self{kit.system()};
  auto env = std::make_shared<actors::aggregate_env>();
  env->store = kit.storage();
  auto held = std::make_shared<actors::testkit::faulty_journal>(env->store.events);
  env->store.events = held;
  auto agg = actors::spawn_aggregate(kit.system(), {counter::make_type(), env, "counter-kill"});
  held->hold_writes();
  actors::command_envelope cmd;
  cmd.persistence_id = "counter-kill";
  cmd.payload = counter::command{counter::add{7}};
  self->send(agg, std::move(cmd));
  for (int i = 0; i < 500 && held->write_calls() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(held->write_calls(), 1u) << "the command's write was not submitted";
  self->send_exit(agg, caf::exit_reason::kill);
  self->wait_for(agg);
  held->release_writes();
  bool answered = false;
  self->receive(
    [&](actors::command_reply& r) {
      answered = true;
      EXPECT_EQ(std::any_cast<int64_t>(r.value), 7);
      EXPECT_EQ(r.version, 1u);
    },
    [&](caf::error& e) { ADD_FAILURE() << "stored, yet answered " << actors::render(e); },
    caf::after(std::chrono::seconds(10)) >> [] { ADD_FAILURE() << "no answer"; });
  EXPECT_TRUE(answered);
  auto highest = kit.storage().events->highest_sequence_nr("counter-kill");
  ASSERT_TRUE(highest);
  EXPECT_EQ(*highest, 1u);
}
