// Crash at every step: for each scenario and each step k of its saga run, a
// child process (crash_child.cpp) is SIGKILLed right after step k is durable
// - either paused before the step's commands are sent, or racing on while
// the parent reacts - then a fresh child recovers and finishes the saga.
// Each side effect must have happened exactly once, and each event must
// have been handled by the saga exactly once.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace esr::sagas_test;

namespace {

/// A running child with a pipe to its stdout.
struct child {
  pid_t pid = -1;
  int out = -1;
  std::string buf;

  /// Reads the next line; empty string on EOF or timeout.
  std::string line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        auto l = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return {};
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char tmp[512];
      auto n = ::read(out, tmp, sizeof(tmp));
      if (n <= 0)
        return {};
      buf.append(tmp, static_cast<size_t>(n));
    }
  }

  /// Kills the child (SIGKILL) and reaps it.
  void kill9() {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out);
  }

  /// Waits for a normal exit; returns the exit code (-1 if signalled).
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

child spawn(const std::string& dir, const std::string& scenario, int pause_at) {
  int fds[2];
  if (::pipe(fds) != 0)
    return {};
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    auto pause = std::to_string(pause_at);
    ::execl("/proc/self/exe", "esr-sagas-tests", "--crash-child", dir.c_str(),
            scenario.c_str(), pause.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  child c;
  c.pid = pid;
  c.out = fds[0];
  return c;
}

struct scenario {
  std::string name;
  std::string outcome;
  size_t saga_steps; ///< Events the saga handles in this scenario.
  /// Stream -> (event type -> expected count).
  std::map<std::string, std::map<std::string, size_t>> effects;
};

std::vector<scenario> scenarios() {
  return {
    {"happy", "confirmed", 5,
     {{"order-c1", {{"OrderPlaced", 1}, {"DiscountApplied", 1}, {"OrderConfirmed", 1},
                    {"OrderCancelled", 0}}},
      {"inventory-headphones", {{"StockReserved", 1}, {"StockReleased", 0}}},
      {"payment-c1", {{"PaymentCharged", 1}, {"PaymentRefunded", 0}}}}},
    {"declined", "cancelled (payment declined)", 4,
     {{"order-c1", {{"OrderCancelled", 1}, {"OrderConfirmed", 0}}},
      {"inventory-headphones", {{"StockReserved", 1}, {"StockReleased", 1}}},
      {"payment-c1", {{"PaymentDeclined", 1}, {"PaymentCharged", 0}}}}},
    {"express", "cancelled (out of stock)", 4,
     {{"order-c1", {{"OrderCancelled", 1}}},
      {"inventory-turntable", {{"StockReservationFailed", 1}, {"StockReserved", 0}}},
      {"payment-c1", {{"PaymentCharged", 1}, {"PaymentRefunded", 1}}}}},
    {"timeout", "cancelled (payment timeout)", 5,
     {{"order-c1", {{"OrderCancelled", 1}}},
      {"inventory-headphones", {{"StockReserved", 1}, {"StockReleased", 1}}},
      {"payment-c1", {{"PaymentAuthorizationRequested", 1}, {"PaymentVoided", 1}}}}},
  };
}

/// Checks the data a scenario left in `dir`.
void verify(const std::string& dir, const scenario& s, const std::string& label) {
  world_options o;
  o.start_saga = false;
  world w{dir, o};
  EXPECT_EQ(w.count("saga.order_fulfilment-c1"), s.saga_steps) << label;
  for (auto& [stream, types] : s.effects)
    for (auto& [type, n] : types)
      EXPECT_EQ(w.count(stream, type), n) << label << ": " << stream << " " << type;
  EXPECT_EQ(w.side_keys("esr.saga/order_fulfilment/outbox/"), 0u) << label;
  EXPECT_EQ(w.side_keys("esr.saga/order_fulfilment/timer/"), 0u) << label;
}

/// Runs scenario `s` killing the first child after step k (paused before the
/// step's commands are sent, or racing), then finishes it with a second
/// child. Returns false once k is past the last step.
bool crash_after_step(const scenario& s, int k, bool pause) {
  auto label = s.name + (pause ? " paused" : " racing") + " kill after step " + std::to_string(k);
  auto dir = temp_dir("crash-" + s.name);
  auto c = spawn(dir, s.name, pause ? k : 0);
  bool killed = false;
  for (;;) {
    auto l = c.line(30s);
    if (l.empty()) {
      ADD_FAILURE() << label << ": child gave no output";
      c.kill9();
      return false;
    }
    if ((pause && l == "PAUSED") || (!pause && l == "STEP " + std::to_string(k))) {
      c.kill9();
      killed = true;
      break;
    }
    if (l.rfind("DONE", 0) == 0) {
      c.wait();
      break;
    }
  }
  if (!killed)
    return false; // k is past the last step.
  auto r = spawn(dir, s.name, 0);
  std::string done;
  for (;;) {
    auto l = r.line(30s);
    if (l.empty() || l.rfind("DONE", 0) == 0) {
      done = l;
      break;
    }
  }
  EXPECT_EQ(r.wait(), 0) << label;
  EXPECT_EQ(done, "DONE " + s.outcome) << label;
  verify(dir, s, label);
  return true;
}

} // namespace

class crash_at_every_step : public ::testing::TestWithParam<std::string> {};

TEST_P(crash_at_every_step, each_side_effect_happens_exactly_once) {
  for (auto& s : scenarios()) {
    if (s.name != GetParam())
      continue;
    int steps = 0;
    for (int k = 1; crash_after_step(s, k, true); ++k)
      ++steps;
    EXPECT_EQ(static_cast<size_t>(steps), s.saga_steps);
    for (int k = 1; k <= steps; ++k)
      crash_after_step(s, k, false);
  }
}

INSTANTIATE_TEST_SUITE_P(scenarios, crash_at_every_step,
                         ::testing::Values("happy", "declined", "express", "timeout"));
