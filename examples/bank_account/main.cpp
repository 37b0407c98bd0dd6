// bank_account: an event-sourced account as a persistent aggregate actor.
//
//   bank_account [DATA_DIR]
//
// First run: opens alice's account, deposits 100, withdraws 30 (balance 70),
// has an overdraft rejected, asks for the balance at an earlier time, and
// blocks the account. Run it again on the same directory: the account is
// recovered from its snapshot (not replayed from the start) and, blocked,
// refuses a deposit.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "account.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"

using namespace esr;
using runtime::aggregates::aggregate_client;

namespace {

std::string describe(const persistence::event_envelope& e) {
  if (e.event_type == "bank.AccountOpened") {
    bank::AccountOpened x;
    x.ParseFromString(e.payload);
    return "AccountOpened{owner: " + x.owner() + "}";
  }
  if (e.event_type == "bank.Deposited") {
    bank::Deposited x;
    x.ParseFromString(e.payload);
    return "Deposited{amount: " + std::to_string(x.amount()) + "}";
  }
  if (e.event_type == "bank.Withdrawn") {
    bank::Withdrawn x;
    x.ParseFromString(e.payload);
    return "Withdrawn{amount: " + std::to_string(x.amount()) + "}";
  }
  if (e.event_type == "bank.AccountBlocked") {
    bank::AccountBlocked x;
    x.ParseFromString(e.payload);
    return "AccountBlocked{reason: " + x.reason() + "}";
  }
  return e.event_type;
}

void show(const char* what, const caf::expected<bank::reply>& r) {
  if (r)
    std::printf("  %-28s -> ok, balance %lld\n", what, static_cast<long long>(*r));
  else
    std::printf("  %-28s -> %s\n", what, actors::render(r.error()).c_str());
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "bank_data";
  persistence::leveldb_options lopts;
  lopts.path = dir;
  auto store = persistence::open_leveldb(lopts);
  if (!store) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(),
                 actors::render(store.error()).c_str());
    return 1;
  }
  // Tell the story of every persisted event as the journal commits it.
  store->events->add_commit_listener([](const std::vector<persistence::event_envelope>& es) {
    for (auto& e : es)
      std::printf("    persisted %s #%llu %s\n", e.persistence_id.c_str(),
                  static_cast<unsigned long long>(e.sequence_nr), describe(e).c_str());
  });
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  caf::actor_system sys{cfg};
  auto account = bank::make_account_type(3);
  runtime::aggregates::registry_options ropts;
  ropts.aggregate.on_recovered = [](const std::string& pid, uint64_t snap, uint64_t version) {
    if (snap > 0)
      std::printf("    recovered %s from the snapshot at #%llu, replaying %llu event(s) "
                  "after it (version %llu)\n",
                  pid.c_str(), static_cast<unsigned long long>(snap),
                  static_cast<unsigned long long>(version - snap),
                  static_cast<unsigned long long>(version));
    else
      std::printf("    recovered %s by replaying %llu event(s) (no snapshot)\n", pid.c_str(),
                  static_cast<unsigned long long>(version));
  };
  auto reg = runtime::aggregates::aggregate_registry::start(sys, *store, {account}, ropts);
  if (!reg) {
    std::fprintf(stderr, "cannot start the registry: %s\n", actors::render(reg.error()).c_str());
    return 1;
  }
  aggregate_client client{*reg};
  auto state = client.live_state<bank::Account>("account", "alice");
  if (!state) {
    std::fprintf(stderr, "%s\n", actors::render(state.error()).c_str());
    return 1;
  }
  if (state->version == 0) {
    std::printf("First run (data in %s): alice opens an account.\n", dir.c_str());
    show("open_account{alice}", client.call<bank::reply>("account", "alice",
                                                          bank::command{bank::open_account{"alice"}}));
    show("deposit{100}",
         client.call<bank::reply>("account", "alice", bank::command{bank::deposit{100}}));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto after_deposit = persistence::now_us();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    show("withdraw{30}",
         client.call<bank::reply>("account", "alice", bank::command{bank::withdraw{30}}));
    show("withdraw{500} (overdraft)",
         client.call<bank::reply>("account", "alice", bank::command{bank::withdraw{500}}));
    auto then = client.state_at(*account, "alice", actors::as_of::time(after_deposit));
    if (then)
      std::printf("  time travel: the balance right after the deposit was %lld (version %llu)\n",
                  static_cast<long long>(then->state.balance()),
                  static_cast<unsigned long long>(then->version));
    auto v2 = client.state_at(*account, "alice", actors::as_of::sequence(1));
    if (v2)
      std::printf("  time travel: after event #1 the balance was %lld\n",
                  static_cast<long long>(v2->state.balance()));
    show("block{suspicious activity}",
         client.call<bank::reply>("account", "alice",
                                  bank::command{bank::block{"suspicious activity"}}));
    std::printf("Run me again with the same directory to see the recovery.\n");
  } else {
    std::printf("Second run: alice's account was recovered: balance %lld, %s, version %llu.\n",
                static_cast<long long>(state->state.balance()),
                state->state.blocked() ? "blocked" : "not blocked",
                static_cast<unsigned long long>(state->version));
    show("deposit{10}",
         client.call<bank::reply>("account", "alice", bank::command{bank::deposit{10}}));
    show("get_balance",
         client.call<bank::reply>("account", "alice", bank::command{bank::get_balance{}}));
    auto snaps = store->snapshots->list("account-alice", persistence::snapshot_criteria::latest());
    if (snaps) {
      std::printf("  snapshots kept:");
      for (auto& s : *snaps)
        std::printf(" #%llu", static_cast<unsigned long long>(s.sequence_nr));
      std::printf("\n");
    }
  }
  reg->stop();
  return 0;
}
