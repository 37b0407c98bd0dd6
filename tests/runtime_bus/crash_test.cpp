// Crash tests with real processes: a child (crash_child.cpp) is killed with
// SIGKILL at random points, restarted, and finally run to completion; then
// the test checks what it left on disk.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/projections/view_store.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using namespace esr::runtime;

namespace {

/// Waits for `pid`; returns its wait status, or kills it after `timeout`.
int wait_child(int pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << pid << " timed out";
      return status;
    }
    std::this_thread::sleep_for(5ms);
  }
  return status;
}

/// Runs the child `args`, SIGKILLs it after a random delay in [lo, hi] ms.
/// Returns true if the kill hit a running child.
bool run_and_kill(const std::vector<std::string>& args, std::mt19937_64& rng, int lo, int hi) {
  auto pid = esr::bus_test::spawn_child(args);
  std::this_thread::sleep_for(std::chrono::milliseconds(lo + rng() % (hi - lo + 1)));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/// Runs the child `args` and SIGKILLs it once `file` has grown by `growth`
/// bytes (i.e. in the middle of its work). Returns true if the kill hit a
/// running child.
bool run_and_kill_after_growth(const std::vector<std::string>& args, const std::string& file,
                               size_t growth) {
  auto size_of = [&file] {
    std::error_code ec;
    auto n = std::filesystem::file_size(file, ec);
    return ec ? size_t{0} : static_cast<size_t>(n);
  };
  auto target = size_of() + growth;
  auto pid = esr::bus_test::spawn_child(args);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (size_of() < target && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return false; // Finished (or failed) before the kill.
    std::this_thread::sleep_for(200us);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

void run_to_completion(const std::vector<std::string>& args) {
  auto pid = esr::bus_test::spawn_child(args);
  auto status = wait_child(pid, 120s);
  ASSERT_TRUE(WIFEXITED(status)) << "child did not exit normally";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child failed";
}

} // namespace

TEST(crash, checkpointed_subscription_resumes_after_kill_9) {
  auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng{seed};
  esr::bus_test::temp_dir dir;
  constexpr uint64_t n = 20000;
  constexpr uint64_t batch = 50;
  {
    auto store = esr::bus_test::open_store(dir.sub("journal"));
    for (uint64_t i = 0; i < n / 100; ++i) {
      std::vector<esr::persistence::atomic_write> ws;
      for (int k = 0; k < 100; ++k) {
        esr::persistence::atomic_write w;
        w.persistence_id = "s-" + std::to_string(k % 7);
        w.events.push_back(esr::bus_test::make_event("value", "1"));
        ws.push_back(std::move(w));
      }
      for (auto& r : store.events->write(std::move(ws)))
        ASSERT_TRUE(r);
    }
  }
  auto out = dir.sub("out.txt");
  std::vector<std::string> args{"checkpoint", dir.sub("journal"), dir.sub("checkpoints"), out,
                                std::to_string(batch)};
  int kills = 0;
  for (int round = 0; round < 6; ++round)
    kills += run_and_kill_after_growth(args, out, 100 + rng() % 15000) ? 1 : 0;
  run_to_completion(args);
  EXPECT_EQ(kills, 6) << "every kill hit a child in the middle of its work";
  // Parse "start S" segments of delivered positions.
  std::ifstream in{out};
  std::string line;
  struct segment {
    uint64_t start;
    std::vector<uint64_t> positions;
  };
  std::vector<segment> segments;
  bool done = false;
  while (std::getline(in, line)) {
    if (line.rfind("start ", 0) == 0)
      segments.push_back(segment{std::stoull(line.substr(6)), {}});
    else if (line == "done")
      done = true;
    else
      segments.back().positions.push_back(std::stoull(line));
  }
  ASSERT_TRUE(done);
  // One segment per run that got as far as loading its checkpoint.
  ASSERT_EQ(segments.size(), 7u);
  EXPECT_EQ(segments.front().start, 1u);
  uint64_t delivered_up_to = 0;
  int resumed = 0;
  for (auto& s : segments) {
    // No gap: it resumes at or before the first undelivered position...
    ASSERT_LE(s.start, delivered_up_to + 1);
    // ... and redelivers at most the one batch that was not checkpointed.
    ASSERT_LE(delivered_up_to + 1 - s.start, batch);
    if (s.start > 1)
      ++resumed;
    for (size_t i = 0; i < s.positions.size(); ++i)
      ASSERT_EQ(s.positions[i], s.start + i) << "in order, no gap";
    if (!s.positions.empty())
      delivered_up_to = std::max(delivered_up_to, s.positions.back());
  }
  EXPECT_EQ(delivered_up_to, n);
  EXPECT_GE(resumed, 2) << "restarts resumed from their checkpoint";
  bus::leveldb_checkpoint_options co;
  co.path = dir.sub("checkpoints");
  auto cs = bus::open_leveldb_checkpoint_store(co);
  ASSERT_TRUE(cs);
  EXPECT_EQ((*cs)->load("crashy")->value_or(0), n);
}

TEST(crash, projection_view_is_exactly_once_under_kill_9_at_random_points) {
  auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng{seed};
  esr::bus_test::temp_dir dir;
  // The child writes without end while projecting, until killed at a
  // random point (also during start-up and recovery); the last run writes
  // nothing and exits once the view has caught up.
  std::vector<std::string> args{"project", dir.sub("journal"), dir.sub("views"), "endless"};
  int kills = 0;
  for (int round = 0; round < 15; ++round)
    kills += run_and_kill(args, rng, 5, 300) ? 1 : 0;
  args.back() = "0";
  run_to_completion(args);
  EXPECT_EQ(kills, 15);
  auto store = esr::bus_test::open_store(dir.sub("journal"));
  int64_t count = 0, sum = 0;
  auto last = store.events->read_all(1, esr::persistence::max_seq,
                                     esr::persistence::event_filter::all(),
                                     [&](const esr::persistence::event_envelope& e) {
                                       ++count;
                                       sum += std::stoll(e.payload);
                                       return true;
                                     });
  ASSERT_TRUE(last);
  EXPECT_GT(count, 0);
  projections::view_store_options vo;
  vo.path = dir.sub("views");
  auto views = projections::view_store::open(vo);
  ASSERT_TRUE(views);
  auto get = [&](const std::string& key) {
    auto v = (*views)->get("totals", key);
    EXPECT_TRUE(v);
    return v && *v ? std::stoll(**v) : 0;
  };
  EXPECT_EQ(get("count"), count) << "each event applied exactly once";
  EXPECT_EQ(get("sum"), sum);
  EXPECT_EQ(get("violations"), 0) << "no event applied twice or skipped per stream";
  EXPECT_EQ((*views)->checkpoint("totals")->value_or(0), *last);
  for (int a = 0; a < 10; ++a) {
    auto pid = "acct-" + std::to_string(a);
    auto highest = store.events->highest_sequence_nr(pid);
    ASSERT_TRUE(highest);
    EXPECT_EQ(static_cast<uint64_t>(get("seq/" + pid)), *highest);
  }
}
