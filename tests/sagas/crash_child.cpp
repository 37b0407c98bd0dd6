// The child process of crash_test.cpp: runs one order of a scenario on a
// data directory, printing "STEP n" after each saga step is durable (from
// the saga's observer, before the step's commands are sent). With a pause
// step it prints "PAUSED" after that step and blocks (the parent kills it
// with SIGKILL); otherwise it prints "DONE <outcome>" once the saga ended.
//
//   esr-sagas-tests --crash-child <dir> <scenario> <pause-step>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "esr/sagas/error.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace order_payment;
using namespace esr::sagas_test;

namespace {

/// The order of scenario `name` (see crash_test.cpp).
PlaceOrder scenario_order(const std::string& name) {
  if (name == "declined")
    return make_order("c1", "headphones", 1, 20000, card_declined);
  if (name == "express")
    return make_order("c1", "turntable", 3, 90000, card_ok, true);
  if (name == "timeout")
    return make_order("c1", "headphones", 1, 20000, card_3ds);
  return make_order("c1", "headphones", 1, 20000, card_ok, false, "SPRING50", 5000);
}

} // namespace

int crash_child_main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: --crash-child <dir> <scenario> <pause-step>\n");
    return 2;
  }
  std::string dir = argv[1];
  std::string scenario = argv[2];
  int pause_at = std::atoi(argv[3]);
  world_options o;
  // Short for the timeout scenario; long enough elsewhere that a restart
  // never races the deadline.
  o.payment_timeout = scenario == "timeout" ? 300ms : 20000ms;
  auto steps = std::make_shared<std::atomic<int>>(0);
  o.saga_opts.observer = [steps, pause_at](const esr::sagas::saga_note& n) {
    if (n.what != esr::sagas::saga_note::kind::event)
      return;
    auto k = ++*steps;
    std::printf("STEP %d\n", k);
    std::fflush(stdout);
    if (k == pause_at) {
      std::printf("PAUSED\n");
      std::fflush(stdout);
      for (;;)
        std::this_thread::sleep_for(1s); // Killed here by the parent.
    }
  };
  world w{dir, o};
  for (auto [sku, qty] : {std::pair<const char*, int>{"headphones", 5}, {"turntable", 1}}) {
    AddStock a;
    a.set_sku(sku);
    a.set_quantity(qty);
    esr::runtime::aggregates::command_options co;
    co.command_id = std::string{"crash/stock/"} + sku;
    auto r = w.client().call<StockLevel>("inventory", sku, inventory_command{a}, co);
    if (!r) {
      std::fprintf(stderr, "stock: %s\n", esr::sagas::render(r.error()).c_str());
      return 3;
    }
  }
  auto placed = w.place(scenario_order(scenario));
  if (!placed) {
    std::fprintf(stderr, "place: %s\n", esr::sagas::render(placed.error()).c_str());
    return 3;
  }
  auto info = w.wait_completed("c1", 20s);
  if (!info || !info->completed) {
    std::fprintf(stderr, "saga did not complete\n");
    return 4;
  }
  if (auto err = w.saga().wait_idle(10s)) {
    std::fprintf(stderr, "idle: %s\n", esr::sagas::render(err).c_str());
    return 5;
  }
  w.stop();
  std::printf("DONE %s\n", info->outcome.c_str());
  std::fflush(stdout);
  return 0;
}
