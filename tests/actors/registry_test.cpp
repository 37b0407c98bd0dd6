// The registry (virtual actors: activation, routing, passivation) and the
// client API (blocking, future, callback, from an actor), time travel and
// the upcasting hook.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "counter_model.hpp"
#include "esr/actors/errc.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"

using namespace esr;
using namespace esr::runtime::aggregates;

namespace {

struct registry : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  persistence::storage store = persistence::open_memory();
  std::shared_ptr<counter::type> type = counter::make_type();
  std::optional<aggregate_registry> reg;
  std::atomic<int> recoveries{0};

  void start(registry_options opts = {}) {
    if (!sys) {
      actors::register_errors(cfg);
      sys = std::make_unique<caf::actor_system>(cfg);
    }
    opts.aggregate.on_recovered = [this](const std::string&, uint64_t, uint64_t) {
      ++recoveries;
    };
    auto r = aggregate_registry::start(*sys, store, {type}, opts);
    ASSERT_TRUE(r) << actors::render(r.error());
    reg = *r;
  }

  /// Sends `cmd` to aggregate `id` of `type` with dispatch(); returns where
  /// it went and the answer.
  std::pair<dispatch_target, caf::expected<counter::reply>>
  probe(const std::string& id, counter::command cmd, std::string_view type = "counter") {
    caf::scoped_actor self{*sys};
    auto env = make_command(type, id, std::move(cmd));
    using handle = decltype(self->request(caf::actor{}, caf::infinite, std::move(env)));
    std::optional<handle> h;
    std::optional<dispatch_target> target;
    int calls = 0;
    reg->dispatch(env.persistence_id, [&](const caf::actor& dest, dispatch_target t) {
      ++calls;
      target = t;
      if (t == dispatch_target::shard)
        EXPECT_EQ(dest, reg->shard_for(env.persistence_id));
      else
        EXPECT_NE(dest, reg->shard_for(env.persistence_id));
      h.emplace(self->request(dest, caf::infinite, std::move(env)));
    });
    EXPECT_EQ(calls, 1);
    caf::expected<counter::reply> r{caf::make_error(caf::sec::unexpected_response)};
    h->receive([&](actors::command_reply& x) { r = reply_cast<counter::reply>(x); },
               [&](caf::error& e) { r = std::move(e); });
    return {*target, std::move(r)};
  }

  void passivate_all() {
    caf::scoped_actor self{*sys};
    for (auto& s : reg->shards())
      self->request(s, caf::infinite, passivate_all_atom::value)
        .receive([](uint64_t) {}, [](caf::error&) {});
  }

  /// Runs passivate_all() in a loop on another thread until destroyed.
  struct passivator {
    registry* fixture;
    std::atomic<bool> stop{false};
    std::thread t{[this] {
      while (!stop) {
        fixture->passivate_all();
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    }};
    explicit passivator(registry* f) : fixture(f) {}
    ~passivator() {
      stop = true;
      t.join();
    }
  };

  uint64_t live() {
    uint64_t n = 0;
    caf::scoped_actor self{*sys};
    for (auto& s : reg->shards())
      self->request(s, caf::infinite, live_count_atom::value)
        .receive([&](uint64_t x) { n += x; }, [](caf::error&) {});
    return n;
  }

  void TearDown() override {
    if (reg)
      reg->stop();
  }
};

} // namespace

TEST_F(registry, a_mass_reactivation_under_a_recovery_limit_of_one_recovers_every_aggregate) {
  registry_options opts;
  opts.max_concurrent_recoveries = 1;
  start(opts);
  aggregate_client client{*reg};
  constexpr int n = 300;
  std::vector<std::future<caf::expected<counter::reply>>> fs;
  for (int i = 0; i < n; ++i)
    fs.push_back(client.async<counter::reply>("counter", "r" + std::to_string(i),
                                              counter::command{counter::add{i + 1}}));
  for (auto& f : fs)
    ASSERT_TRUE(f.get());
  caf::scoped_actor self{*sys};
  for (auto& s : reg->shards())
    self->request(s, caf::infinite, passivate_all_atom::value)
      .receive([](uint64_t) {}, [](caf::error&) {});
  fs.clear();
  for (int i = 0; i < n; ++i)
    fs.push_back(client.async<counter::reply>("counter", "r" + std::to_string(i),
                                              counter::command{counter::get{}}));
  for (int i = 0; i < n; ++i) {
    auto r = fs[static_cast<size_t>(i)].get();
    ASSERT_TRUE(r) << actors::render(r.error());
    EXPECT_EQ(*r, i + 1);
  }
}

TEST_F(registry, a_bare_alternative_of_a_variant_command_is_accepted) {
  start();
  aggregate_client client{*reg};
  auto r = client.call<counter::reply>("counter", "bare", counter::add{4});
  ASSERT_TRUE(r) << actors::render(r.error());
  EXPECT_EQ(*r, 4);
  auto wrong = client.call<counter::reply>("counter", "bare", std::string{"no command"});
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(actors::is(wrong.error(), actors::errc::wrong_command_type));
}

TEST_F(registry, a_command_activates_the_aggregate_on_demand) {
  start();
  aggregate_client client{*reg};
  EXPECT_EQ(live(), 0u);
  auto r = client.call<counter::reply>("counter", "a", counter::command{counter::add{3}});
  ASSERT_TRUE(r) << actors::render(r.error());
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(live(), 1u);
}

TEST_F(registry, an_unknown_type_or_malformed_id_is_an_error) {
  start();
  aggregate_client client{*reg};
  auto r = client.call<counter::reply>("nosuch", "a", counter::command{counter::get{}});
  ASSERT_FALSE(r);
  EXPECT_TRUE(actors::is(r.error(), actors::errc::unknown_aggregate_type));
  auto m = client.call<counter::reply>("counter", "", counter::command{counter::get{}});
  ASSERT_FALSE(m);
  EXPECT_TRUE(actors::is(m.error(), actors::errc::invalid_argument));
}

TEST_F(registry, tagged_commands_are_answered_with_their_tag_by_ordinary_messages) {
  start();
  caf::scoped_actor self{*sys};
  auto next = [&] {
    actors::tagged_reply got;
    self->receive([&](actors::tagged_reply& r) { got = std::move(r); },
                  caf::after(std::chrono::seconds{10}) >> [&] { ADD_FAILURE() << "no reply"; });
    return got;
  };
  // Through the shard (activation), then straight to the live aggregate.
  send_tagged(self.ptr(), *reg, make_command("counter", "t", counter::command{counter::add{5}}), 7);
  send_tagged(self.ptr(), *reg, make_command("counter", "t", counter::command{counter::add{2}}), 8);
  auto first = next();
  auto second = next();
  EXPECT_EQ(first.tag, 7u);
  ASSERT_FALSE(first.error) << actors::render(first.error);
  EXPECT_EQ(std::any_cast<counter::reply>(first.reply.value), 5);
  EXPECT_EQ(first.reply.version, 1u);
  EXPECT_EQ(second.tag, 8u);
  EXPECT_EQ(std::any_cast<counter::reply>(second.reply.value), 7);
  // A rejection, and a routing failure at the shard, come tagged too.
  send_tagged(self.ptr(), *reg, make_command("counter", "t", counter::command{counter::add{0}}), 9);
  auto rejected = next();
  EXPECT_EQ(rejected.tag, 9u);
  EXPECT_TRUE(actors::is(rejected.error, actors::errc::rejected)) << actors::render(rejected.error);
  send_tagged(self.ptr(), *reg, make_command("counter", "", counter::command{counter::get{}}), 10);
  auto malformed = next();
  EXPECT_EQ(malformed.tag, 10u);
  EXPECT_TRUE(actors::is(malformed.error, actors::errc::invalid_argument))
    << actors::render(malformed.error);
  // A request gets its response, whatever tag its command carries.
  auto env = make_command("counter", "t", counter::command{counter::get{}});
  env.reply_tag = 11;
  self->request(reg->shard_for(env.persistence_id), std::chrono::seconds{10}, std::move(env))
    .receive([](actors::command_reply& r) { EXPECT_EQ(std::any_cast<counter::reply>(r.value), 7); },
             [](caf::error& e) { ADD_FAILURE() << actors::render(e); });
}

TEST_F(registry, idle_aggregates_are_passivated_and_reactivated_from_storage) {
  registry_options opts;
  opts.shards = 2;
  opts.idle_timeout = std::chrono::milliseconds{50};
  opts.passivation_interval = std::chrono::milliseconds{10};
  start(opts);
  aggregate_client client{*reg};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(client.call<counter::reply>("counter", "p" + std::to_string(i),
                                             counter::command{counter::add{i + 1}}));
  EXPECT_EQ(live(), 10u);
  for (int i = 0; i < 100 && live() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(live(), 0u);
  auto before = recoveries.load();
  auto r = client.call<counter::reply>("counter", "p4", counter::command{counter::add{100}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 105);
  EXPECT_EQ(recoveries.load(), before + 1);
}

TEST_F(registry, beyond_max_live_the_least_recently_used_are_passivated) {
  registry_options opts;
  opts.shards = 1;
  opts.max_live = 3;
  start(opts);
  aggregate_client client{*reg};
  for (auto id : {"a", "b", "c", "a", "d"})
    ASSERT_TRUE(client.call<counter::reply>("counter", id, counter::command{counter::add{1}}));
  // "b" was the least recently used when "d" came.
  for (int i = 0; i < 100 && live() > 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(live(), 3u);
  auto before = recoveries.load();
  ASSERT_TRUE(client.call<counter::reply>("counter", "a", counter::command{counter::get{}}));
  EXPECT_EQ(recoveries.load(), before); // "a" is still live
  auto b = client.call<counter::reply>("counter", "b", counter::command{counter::get{}});
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, 1);
  EXPECT_EQ(recoveries.load(), before + 1); // "b" was reactivated
}

TEST_F(registry, commands_racing_with_passivation_are_neither_lost_nor_doubled) {
  registry_options opts;
  opts.shards = 1;
  start(opts);
  aggregate_client client{*reg};
  std::vector<std::future<caf::expected<counter::reply>>> fs;
  caf::scoped_actor self{*sys};
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 10; ++i)
      fs.push_back(client.async<counter::reply>("counter", "race", counter::command{counter::add{1}}));
    self->send(reg->shards()[0], passivate_all_atom::value);
  }
  for (auto& f : fs)
    ASSERT_TRUE(f.get());
  auto r = client.call<counter::reply>("counter", "race", counter::command{counter::get{}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 200);
}

TEST_F(registry, concurrent_clients_with_expected_versions_never_lose_an_update) {
  start();
  aggregate_client client{*reg};
  constexpr int threads = 4;
  constexpr int per_thread = 25;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int done = 0; done < per_thread;) {
        auto cur = client.call<actors::command_reply>("counter", "cas",
                                                      counter::command{counter::get{}});
        ASSERT_TRUE(cur);
        command_options o;
        o.expected_version = cur->version;
        auto r = client.call<counter::reply>("counter", "cas", counter::command{counter::add{1}}, o);
        if (r) {
          ++done;
        } else {
          ASSERT_TRUE(actors::is(r.error(), actors::errc::wrong_expected_version))
            << actors::render(r.error());
          ++conflicts;
        }
      }
    });
  for (auto& t : ts)
    t.join();
  auto r = client.call<actors::command_reply>("counter", "cas", counter::command{counter::get{}});
  ASSERT_TRUE(r);
  EXPECT_EQ(std::any_cast<int64_t>(r->value), threads * per_thread);
  EXPECT_EQ(r->version, static_cast<uint64_t>(threads * per_thread));
}

TEST_F(registry, many_commands_in_flight_from_one_client_with_callbacks) {
  start();
  aggregate_client client{*reg};
  constexpr int n = 2000;
  std::atomic<int> ok{0};
  std::promise<void> all;
  for (int i = 0; i < n; ++i)
    client.send<counter::reply>("counter", "m" + std::to_string(i % 50),
                                counter::command{counter::add{1}},
                                [&](caf::expected<counter::reply> r) {
                                  if (r && ++ok == n)
                                    all.set_value();
                                });
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto r = client.call<counter::reply>("counter", "m7", counter::command{counter::get{}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, n / 50);
}

TEST_F(registry, an_actor_asks_with_request_then) {
  start();
  std::promise<caf::expected<counter::reply>> p;
  auto reg_copy = *reg;
  sys->spawn([reg_copy, &p](caf::event_based_actor* self) {
    ask<counter::reply>(self, reg_copy, "counter", "actor", counter::command{counter::add{9}},
                        [&p](caf::expected<counter::reply> r) { p.set_value(std::move(r)); });
  });
  auto r = p.get_future().get();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 9);
}

TEST_F(registry, time_travel_rebuilds_past_states_without_touching_the_live_one) {
  start();
  aggregate_client client{*reg};
  ASSERT_TRUE(client.call<counter::reply>("counter", "tt", counter::command{counter::add{100}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto t1 = persistence::now_us();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(client.call<counter::reply>("counter", "tt", counter::command{counter::add{-30}}));
  auto by_time = client.state_at(*type, "tt", actors::as_of::time(t1));
  ASSERT_TRUE(by_time) << actors::render(by_time.error());
  EXPECT_EQ(by_time->state.value, 100);
  EXPECT_EQ(by_time->version, 1u);
  auto by_seq = client.state_at(*type, "tt", actors::as_of::sequence(2));
  ASSERT_TRUE(by_seq);
  EXPECT_EQ(by_seq->state.value, 70);
  auto none = client.state_at(*type, "never", actors::as_of::now());
  ASSERT_FALSE(none);
  EXPECT_TRUE(actors::is(none.error(), actors::errc::not_found));
  auto live_state = client.live_state<counter::state>("counter", "tt");
  ASSERT_TRUE(live_state);
  EXPECT_EQ(live_state->state.value, 70);
}

TEST_F(registry, the_upcaster_hook_transforms_old_events_on_recovery) {
  // An old writer stored AddedV1 (cents); the current model knows Added.
  counter::AddedV1 v1;
  v1.set_amount_cents(250);
  persistence::atomic_write w;
  w.persistence_id = "counter-old";
  persistence::event_envelope e;
  e.event_type = "counter.AddedV1";
  e.payload = v1.SerializeAsString();
  w.events.push_back(e);
  ASSERT_TRUE(store.events->write(std::move(w)));
  registry_options opts;
  opts.aggregate.upcaster = [](const persistence::event_envelope& in)
    -> caf::expected<std::vector<persistence::event_envelope>> {
    if (in.event_type != "counter.AddedV1")
      return std::vector<persistence::event_envelope>{in};
    counter::AddedV1 old;
    old.ParseFromString(in.payload);
    counter::Added now;
    now.set_amount(old.amount_cents() / 100);
    auto out = in;
    out.event_type = "counter.Added";
    out.payload = now.SerializeAsString();
    // Split into two events to show one-to-many upcasting.
    counter::Added rest;
    rest.set_amount(old.amount_cents() % 100);
    auto out2 = in;
    out2.event_type = "counter.Added";
    out2.payload = rest.SerializeAsString();
    return std::vector<persistence::event_envelope>{out, out2};
  };
  start(opts);
  aggregate_client client{*reg};
  auto r = client.call<counter::reply>("counter", "old", counter::command{counter::get{}});
  ASSERT_TRUE(r) << actors::render(r.error());
  EXPECT_EQ(*r, 52);
  auto past = client.state_at(*type, "old", actors::as_of::now());
  ASSERT_TRUE(past);
  EXPECT_EQ(past->state.history, (std::vector<int64_t>{2, 50}));
}

TEST_F(registry, dispatch_goes_through_the_shard_until_the_aggregate_is_live_then_straight_to_it) {
  registry_options opts;
  opts.shards = 2;
  start(opts);
  auto [t1, r1] = probe("d", counter::add{1});
  ASSERT_TRUE(r1) << actors::render(r1.error());
  EXPECT_EQ(t1, dispatch_target::shard); // Not active yet.
  auto [t2, r2] = probe("d", counter::add{1});
  ASSERT_TRUE(r2) << actors::render(r2.error());
  EXPECT_EQ(t2, dispatch_target::aggregate);
  EXPECT_EQ(*r2, 2);
  passivate_all(); // Marked passivating before it answers.
  auto [t3, r3] = probe("d", counter::get{});
  ASSERT_TRUE(r3) << actors::render(r3.error());
  EXPECT_EQ(t3, dispatch_target::shard); // Held or reactivated by the shard.
  EXPECT_EQ(*r3, 2);
  auto [t4, r4] = probe("d", counter::get{});
  ASSERT_TRUE(r4);
  EXPECT_EQ(t4, dispatch_target::aggregate); // The new incarnation.
  // An unknown type is answered by the shard, every time.
  for (int i = 0; i < 2; ++i) {
    auto [t, r] = probe("x", counter::get{}, "nosuch");
    EXPECT_EQ(t, dispatch_target::shard);
    ASSERT_FALSE(r);
    EXPECT_TRUE(actors::is(r.error(), actors::errc::unknown_aggregate_type));
  }
}

TEST_F(registry, commands_routed_straight_to_an_aggregate_count_as_use_for_the_lru) {
  registry_options opts;
  opts.shards = 1;
  opts.max_live = 2;
  start(opts);
  for (auto id : {"a", "b"})
    ASSERT_TRUE(probe(id, counter::add{1}).second);
  auto [ta, ra] = probe("a", counter::add{1}); // "a" is now more recent than "b".
  ASSERT_TRUE(ra);
  EXPECT_EQ(ta, dispatch_target::aggregate);
  ASSERT_TRUE(probe("c", counter::add{1}).second); // Evicts the least recently used.
  for (int i = 0; i < 100 && live() > 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(live(), 2u);
  auto before = recoveries.load();
  auto [ta2, ra2] = probe("a", counter::get{});
  ASSERT_TRUE(ra2);
  EXPECT_EQ(*ra2, 2);
  EXPECT_EQ(ta2, dispatch_target::aggregate); // "a" is still live.
  EXPECT_EQ(recoveries.load(), before);
  auto [tb, rb] = probe("b", counter::get{});
  ASSERT_TRUE(rb);
  EXPECT_EQ(*rb, 1);
  EXPECT_EQ(tb, dispatch_target::shard);
  EXPECT_EQ(recoveries.load(), before + 1); // "b" was passivated and reactivated.
}

TEST_F(registry, concurrent_senders_under_constant_passivation_get_every_command_applied_once) {
  registry_options opts;
  opts.shards = 2;
  opts.max_live = 4; // Two per shard for eight aggregates: constant evictions.
  start(opts);
  constexpr int ids = 8;
  constexpr int clients = 3;
  constexpr int per_client = 400;
  constexpr int burst = 40;
  std::atomic<int> failed{0};
  std::atomic<int> sent_to[ids] = {};
  {
    passivator p{this};
    std::vector<std::thread> ts;
    for (int c = 0; c < clients; ++c)
      ts.emplace_back([&, c] {
        aggregate_client client{*reg};
        for (int done = 0; done < per_client; done += burst) {
          std::vector<std::future<caf::expected<counter::reply>>> fs;
          for (int i = 0; i < burst; ++i) {
            auto id = (c + done + i) % ids;
            ++sent_to[id];
            fs.push_back(client.async<counter::reply>("counter", "x" + std::to_string(id),
                                                      counter::command{counter::add{1}}));
          }
          for (auto& f : fs) {
            if (auto r = f.get(); !r) {
              ++failed;
              ADD_FAILURE() << actors::render(r.error());
            }
          }
        }
      });
    // An actor asking too (the ask template), pipelined.
    static constexpr int asks = 400;
    std::promise<int> asked;
    auto reg_copy = *reg;
    sys->spawn([&, reg_copy](caf::event_based_actor* self) {
      auto answered = std::make_shared<int>(0);
      auto ok = std::make_shared<int>(0);
      for (int i = 0; i < asks; ++i) {
        ++sent_to[i % ids];
        ask<counter::reply>(self, reg_copy, "counter", "x" + std::to_string(i % ids),
                            counter::command{counter::add{1}},
                            [&asked, answered, ok](caf::expected<counter::reply> r) {
                              if (r)
                                ++*ok;
                              if (++*answered == asks)
                                asked.set_value(*ok);
                            });
      }
    });
    for (auto& t : ts)
      t.join();
    auto f = asked.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    EXPECT_EQ(f.get(), asks);
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(recoveries.load(), ids) << "no aggregate was reactivated";
  aggregate_client client{*reg};
  for (int id = 0; id < ids; ++id) {
    auto r = client.call<actors::command_reply>("counter", "x" + std::to_string(id),
                                                counter::command{counter::get{}});
    ASSERT_TRUE(r) << actors::render(r.error());
    EXPECT_EQ(std::any_cast<int64_t>(r->value), sent_to[id].load()) << "lost or doubled";
    EXPECT_EQ(r->version, static_cast<uint64_t>(sent_to[id].load()));
  }
}

TEST_F(registry, one_senders_commands_keep_their_order_through_passivations) {
  registry_options opts;
  opts.shards = 1;
  opts.max_live = 2; // Three aggregates: constant evictions.
  start(opts);
  constexpr int n = 1000;
  constexpr int burst = 5; // Commands in flight per aggregate.
  const std::vector<std::string> ids{"o1", "o2", "o3"};
  aggregate_client client{*reg}; // One sender: its pump actor.
  {
    passivator p{this};
    for (int i = 1; i <= n; i += burst) {
      std::vector<std::future<caf::expected<counter::reply>>> fs;
      for (int j = i; j < i + burst; ++j)
        for (auto& id : ids)
          fs.push_back(client.async<counter::reply>("counter", id,
                                                    counter::command{counter::add{j}}));
      for (auto& f : fs) {
        auto r = f.get();
        ASSERT_TRUE(r) << actors::render(r.error());
      }
    }
  }
  EXPECT_GT(recoveries.load(), static_cast<int>(ids.size())) << "no aggregate was reactivated";
  std::vector<int64_t> expected;
  for (int i = 1; i <= n; ++i)
    expected.push_back(i);
  for (auto& id : ids) {
    auto st = client.live_state<counter::state>("counter", id);
    ASSERT_TRUE(st) << actors::render(st.error());
    EXPECT_EQ(st->state.history, expected) << id << ": applied out of order";
  }
}
