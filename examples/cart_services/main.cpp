// cart_services (seed 003): one stream of cart events, three independent
// consumers - fraud, billing and email - each with its own durable
// checkpoint.
//
//   cart_services [DATA_DIR]
//
// First run: the fraud and billing services are up, the email service is
// down. Alice and Bob check out, Carol leaves her cart open. Then the email
// service comes up and catches up from its own checkpoint (none yet: from
// the start). Run it again on the same directory: every service resumes
// after its own checkpoint, so when Carol checks out, each service handles
// only her checkout - nobody is charged or mailed twice.
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cart.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "esr/runtime/bus/error.hpp"
#include "services.hpp"

using namespace esr;
using namespace std::chrono_literals;
using cart::service_kind;

namespace {

std::mutex print_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{print_mtx};
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int fail(const std::string& what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), runtime::bus::render(err).c_str());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "cart_services_data";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  persistence::leveldb_options lopts;
  lopts.path = dir + "/journal";
  auto store = persistence::open_leveldb(lopts);
  if (!store)
    return fail("cannot open the event store", store.error());
  runtime::bus::leveldb_checkpoint_options copts;
  copts.path = dir + "/checkpoints";
  auto checkpoints = runtime::bus::open_leveldb_checkpoint_store(copts);
  if (!checkpoints)
    return fail("cannot open the checkpoint store", checkpoints.error());
  std::map<service_kind, std::shared_ptr<cart::external_system>> systems{
    {service_kind::fraud, std::make_shared<cart::external_system>(dir + "/fraud_desk.log")},
    {service_kind::billing, std::make_shared<cart::external_system>(dir + "/payments.log")},
    {service_kind::email, std::make_shared<cart::external_system>(dir + "/mail_outbox.log")}};
  auto bus = runtime::bus::event_bus::make(store->events);
  std::map<service_kind, std::unique_ptr<runtime::bus::subscription>> services;
  auto start = [&](service_kind k) -> caf::error {
    auto cp = (*checkpoints)->load(cart::name_of(k));
    if (!cp)
      return cp.error();
    say("[" + cart::name_of(k) + "] up, resuming after position "
        + std::to_string(cp->value_or(0)) + (*cp ? " (its checkpoint)" : " (no checkpoint yet)"));
    auto sub = cart::start_service(k, bus, *checkpoints, systems[k], say);
    if (!sub)
      return sub.error();
    services[k] = std::move(*sub);
    return caf::none;
  };
  auto settle = [&]() -> caf::error {
    for (auto& [k, s] : services)
      if (auto err = s->wait_for(store->events->last_position(), 10s))
        return err;
    return caf::none;
  };
  // The write side: carts are aggregates.
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  caf::actor_system sys{cfg};
  auto reg = runtime::aggregates::aggregate_registry::start(sys, *store, {cart::make_cart_type()});
  if (!reg)
    return fail("cannot start the registry", reg.error());
  runtime::aggregates::aggregate_client client{*reg};
  auto run = [&](const std::string& id, cart::command c, const std::string& story) -> caf::error {
    auto r = client.call<cart::reply>("cart", id, std::move(c));
    if (!r)
      return r.error();
    say(story + "  -> cart-" + id + " total " + cart::dollars(*r));
    return caf::none;
  };
  auto alice = client.live_state<cart::Cart>("cart", "alice");
  if (!alice)
    return fail("cannot load cart-alice", alice.error());
  caf::error err;
  if (alice->version == 0) {
    say("First run. The email service is down for now.");
    for (auto k : {service_kind::fraud, service_kind::billing})
      if ((err = start(k)))
        return fail("cannot start " + cart::name_of(k), err);
    if ((err = run("alice", cart::create{"alice", "alice@example.com"}, "Alice opens a cart"))
        || (err = run("alice", cart::add_item{"book", 2, 1250}, "Alice adds 2 x book $12.50"))
        || (err = run("alice", cart::add_item{"pen", 1, 1000}, "Alice adds 1 x pen $10.00"))
        || (err = run("alice", cart::checkout{}, "Alice checks out"))
        || (err = run("bob", cart::create{"bob", "bob@example.com"}, "Bob opens a cart"))
        || (err = run("bob", cart::add_item{"giftcard", 12, 5000},
                      "Bob adds 12 x giftcard $50.00"))
        || (err = run("bob", cart::checkout{}, "Bob checks out"))
        || (err = run("carol", cart::create{"carol", "carol@example.com"}, "Carol opens a cart"))
        || (err = run("carol", cart::add_item{"mug", 1, 800}, "Carol adds 1 x mug $8.00")))
      return fail("command failed", err);
    if ((err = settle()))
      return fail("services did not catch up", err);
    say("The email service comes back and catches up on its own.");
    if ((err = start(service_kind::email)) || (err = settle()))
      return fail("email service", err);
  } else {
    say("Second run: every service resumes after its own checkpoint.");
    for (auto k : {service_kind::fraud, service_kind::billing, service_kind::email})
      if ((err = start(k)))
        return fail("cannot start " + cart::name_of(k), err);
    if ((err = settle()))
      return fail("services did not catch up", err);
    if ((err = run("carol", cart::checkout{}, "Carol checks out")))
      say("Carol's checkout: " + runtime::bus::render(err));
    if ((err = settle()))
      return fail("services did not catch up", err);
  }
  say("Summary:");
  for (auto& [k, s] : services) {
    auto cp = (*checkpoints)->load(cart::name_of(k));
    say("  " + cart::name_of(k) + ": checkpoint at position "
        + std::to_string(cp ? cp->value_or(0) : 0) + ", "
        + std::to_string(systems[k]->performed()) + " request(s) in its external system");
  }
  services.clear();
  reg->stop();
  return 0;
}
