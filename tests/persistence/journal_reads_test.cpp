// Reading the global log by filter, commit listeners and side writes: the
// journal guarantees beyond the acceptance table that the event bus,
// projections and sagas build on. Typed over every backend.

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/store_fixture.hpp"

namespace esr::persistence::test {
namespace {

template <class Backend>
class journal_reads : public store_fixture<Backend> {
protected:
  /// Writes, in this commit order (positions 1..6):
  ///   1 account-1 opened [vip]   2 order-1 placed   3 account-2 opened
  ///   4 account-1 deposited [vip]  5 order-1 paid [vip]  6 account-2 deposited
  void write_mixed() {
    auto tagged = [](std::string type, std::string payload) {
      auto e = make_event(std::move(type), std::move(payload));
      e.tags = {"vip"};
      return e;
    };
    ESR_ASSERT_OK(this->events().write(make_write("account-1", {tagged("opened", "1")})));
    ESR_ASSERT_OK(this->events().write(single("order-1", "placed", "2")));
    ESR_ASSERT_OK(this->events().write(single("account-2", "opened", "3")));
    std::vector<atomic_write> ws;
    ws.push_back(make_write("account-1", {tagged("deposited", "4")}));
    ws.push_back(make_write("order-1", {tagged("paid", "5")}));
    ws.push_back(single("account-2", "deposited", "6"));
    for (auto& res : this->events().write(std::move(ws)))
      ESR_ASSERT_OK(res);
  }

  std::vector<uint64_t> positions_of(const event_filter& f, uint64_t from = 1,
                                     uint64_t max = max_seq) {
    auto r = read_all_events(this->events(), from, max, f);
    EXPECT_TRUE(r) << render(r.error());
    return r ? r->positions() : std::vector<uint64_t>{};
  }
};

TYPED_TEST_SUITE(journal_reads, all_backends, backend_names);

TYPED_TEST(journal_reads, read_all_by_category_returns_only_that_aggregate_type_in_commit_order) {
  this->write_mixed();
  EXPECT_EQ(this->positions_of(event_filter::category("account")),
            (std::vector<uint64_t>{1, 3, 4, 6}));
  EXPECT_EQ(this->positions_of(event_filter::category("order")), (std::vector<uint64_t>{2, 5}));
  EXPECT_TRUE(this->positions_of(event_filter::category("acc")).empty());
}

TYPED_TEST(journal_reads, read_all_by_event_type_returns_only_that_type) {
  this->write_mixed();
  EXPECT_EQ(this->positions_of(event_filter::event_type("opened")), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(this->positions_of(event_filter::event_type("deposited"), 5),
            (std::vector<uint64_t>{6}));
}

TYPED_TEST(journal_reads, read_all_by_tag_returns_only_tagged_events) {
  this->write_mixed();
  EXPECT_EQ(this->positions_of(event_filter::tag("vip")), (std::vector<uint64_t>{1, 4, 5}));
  EXPECT_TRUE(this->positions_of(event_filter::tag("none")).empty());
}

TYPED_TEST(journal_reads, read_all_reports_how_far_it_examined_so_a_subscriber_can_resume) {
  this->write_mixed();
  // With a limit, examination stops at the last matching event returned.
  auto first = read_all_events(this->events(), 1, 2, event_filter::category("account"));
  ESR_ASSERT_OK(first);
  EXPECT_EQ(first->positions(), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(first->examined, 3u);
  auto rest = read_all_events(this->events(), first->examined + 1, max_seq,
                              event_filter::category("account"));
  ESR_ASSERT_OK(rest);
  EXPECT_EQ(rest->positions(), (std::vector<uint64_t>{4, 6}));
  // Nothing matches: the whole log was still examined.
  auto none = read_all_events(this->events(), 1, max_seq, event_filter::tag("none"));
  ESR_ASSERT_OK(none);
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->examined, 6u);
  // A visitor that stops early: examined is the last position it saw.
  uint64_t seen = 0;
  auto stopped = this->events().read_all(1, max_seq, event_filter::all(),
                                         [&](const event_envelope&) { return ++seen < 2; });
  ESR_ASSERT_OK(stopped);
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(*stopped, 2u);
}

TYPED_TEST(journal_reads, a_shared_commit_listener_keeps_the_groups_a_plain_one_reads) {
  std::mutex mtx;
  std::vector<uint64_t> plain;
  std::vector<event_group> kept;
  auto t1 = this->events().add_commit_listener([&](const std::vector<event_envelope>& evs) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& e : evs)
      plain.push_back(e.global_position);
  });
  auto t2 = this->events().add_shared_commit_listener([&](const event_group& g) {
    std::lock_guard<std::mutex> guard{mtx};
    kept.push_back(g);
  });
  for (int n = 0; n < 10; ++n) {
    std::vector<atomic_write> ws;
    ws.push_back(single("account-" + std::to_string(n % 3), "deposited", std::to_string(n)));
    ws.push_back(single("account-9", "noted", std::to_string(n)));
    for (auto& out : this->events().write(std::move(ws)))
      ESR_ASSERT_OK(out);
  }
  this->events().remove_commit_listener(t2);
  ESR_ASSERT_OK(this->events().write(single("account-0", "closed", "after")));
  this->events().remove_commit_listener(t1);
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(plain, range(1, 21));
  // The groups kept are intact after later commits, in order, and end where
  // the shared listener was removed.
  std::vector<uint64_t> shared;
  std::vector<std::string> payloads;
  for (auto& g : kept)
    for (auto& e : *g) {
      shared.push_back(e.global_position);
      payloads.push_back(e.payload);
    }
  EXPECT_EQ(shared, range(1, 20));
  ASSERT_EQ(payloads.size(), 20u);
  EXPECT_EQ(payloads[0], "0");
  EXPECT_EQ(payloads[19], "9");
}

TEST(leveldb_commit_listeners, shared_listeners_share_one_group_instead_of_copying_it) {
  // The store open_leveldb hands out builds one vector per commit group and
  // gives every shared listener a share of it: no copy per listener.
  leveldb_backend backend;
  auto s = backend.open();
  ESR_ASSERT_OK(s);
  std::mutex mtx;
  std::vector<event_group> first, second;
  auto keep = [&](std::vector<event_group>& into) {
    return [&mtx, &into](const event_group& g) {
      std::lock_guard<std::mutex> guard{mtx};
      into.push_back(g);
    };
  };
  auto t1 = s->events->add_shared_commit_listener(keep(first));
  auto t2 = s->events->add_shared_commit_listener(keep(second));
  for (int n = 0; n < 5; ++n)
    ESR_ASSERT_OK(s->events->write(single("account-1", "deposited", std::to_string(n))));
  s->events->remove_commit_listener(t1);
  s->events->remove_commit_listener(t2);
  std::lock_guard<std::mutex> guard{mtx};
  ASSERT_EQ(first.size(), 5u);
  ASSERT_EQ(second.size(), 5u);
  for (size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(first[i].get(), second[i].get()) << "group " << i << " was copied";
}

TYPED_TEST(journal_reads, the_commit_listener_sees_every_committed_event_once_in_global_order) {
  ESR_ASSERT_OK(this->events().write(single("account-0", "opened", "before")));
  std::mutex mtx;
  std::vector<uint64_t> seen;
  std::vector<std::string> pids;
  auto token = this->events().add_commit_listener([&](const std::vector<event_envelope>& evs) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& e : evs) {
      seen.push_back(e.global_position);
      pids.push_back(e.persistence_id);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int n = 0; n < 25; ++n) {
        auto pid = "account-" + std::to_string(t + 1);
        std::vector<atomic_write> ws;
        ws.push_back(single(pid, "deposited", std::to_string(n)));
        ws.push_back(make_write(pid, {make_event("", "rejected")}));
        auto out = this->events().write(std::move(ws));
        EXPECT_TRUE(out[0]);
        EXPECT_FALSE(out[1]);
      }
    });
  for (auto& th : threads)
    th.join();
  this->events().remove_commit_listener(token);
  ESR_ASSERT_OK(this->events().write(single("account-0", "closed", "after")));
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(seen, range(2, 101)) << "not every committed event, or not in order";
  for (auto& pid : pids)
    EXPECT_NE(pid, "account-0");
}

TYPED_TEST(journal_reads, side_writes_commit_atomically_with_the_events) {
  auto w = single("saga-1", "step_done", "s1");
  w.side_writes.push_back(side_write{"outbox/saga-1/1", std::string{"send payment"}});
  w.side_writes.push_back(side_write{"checkpoint/saga", std::string{"1"}});
  ESR_ASSERT_OK(this->events().write(std::move(w)));
  // Side writes alone are a valid atomic write; nullopt deletes.
  atomic_write only_side;
  only_side.side_writes.push_back(side_write{"outbox/saga-1/1", std::nullopt});
  only_side.side_writes.push_back(side_write{"outbox/saga-1/2", std::string{"ship"}});
  auto res = this->events().write(std::move(only_side));
  ESR_ASSERT_OK(res);
  EXPECT_EQ(res->first_sequence_nr, 0u);
  // A rejected write applies none of its side writes.
  auto bad = make_write("saga-1", {make_event("", "invalid")});
  bad.side_writes.push_back(side_write{"checkpoint/saga", std::string{"2"}});
  ASSERT_FALSE(this->events().write(std::move(bad)));
  for (int round = 0; round < 2; ++round) {
    auto cp = this->events().get_side("checkpoint/saga");
    ESR_ASSERT_OK(cp);
    ASSERT_TRUE(*cp);
    EXPECT_EQ(**cp, "1");
    auto gone = this->events().get_side("outbox/saga-1/1");
    ESR_ASSERT_OK(gone);
    EXPECT_FALSE(*gone);
    std::vector<std::string> keys;
    ESR_ASSERT_NO_ERROR(this->events().scan_side("outbox/", [&](std::string_view k,
                                                                std::string_view v) {
      keys.emplace_back(k);
      EXPECT_EQ(v, "ship");
      return true;
    }));
    EXPECT_EQ(keys, (std::vector<std::string>{"outbox/saga-1/2"}));
    auto h = this->events().highest_sequence_nr("saga-1");
    ESR_ASSERT_OK(h);
    EXPECT_EQ(*h, 1u);
    ASSERT_NO_FATAL_FAILURE(this->reopen());
  }
}

TYPED_TEST(journal_reads, scan_side_visits_a_prefix_in_key_order_and_stops_when_told) {
  atomic_write w;
  for (auto k : {"p/c", "p/a", "q/a", "p/b", "o/z"})
    w.side_writes.push_back(side_write{k, std::string{k}});
  ESR_ASSERT_OK(this->events().write(std::move(w)));
  std::vector<std::string> keys;
  ESR_ASSERT_NO_ERROR(this->events().scan_side("p/", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  }));
  EXPECT_EQ(keys, (std::vector<std::string>{"p/a", "p/b", "p/c"}));
  keys.clear();
  ESR_ASSERT_NO_ERROR(this->events().scan_side("p/", [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return keys.size() < 2;
  }));
  EXPECT_EQ(keys, (std::vector<std::string>{"p/a", "p/b"}));
}

} // namespace
} // namespace esr::persistence::test
