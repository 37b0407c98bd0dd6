// The real-process crash test: esr-crash-writer appends in sync mode from many
// concurrent writers and reports each acknowledgement over a pipe; this test
// kill -9s it at a random moment, reopens the store and checks that every
// acknowledged event is there and no atomic write is partial. It repeats that
// on the same store (up to 25 kills each), so recovery is crashed into again
// and again.
//
// ESR_CRASH_ITERATIONS (default 20) sets the number of kills, ESR_CRASH_SEED
// the seed of the kill moments (printed on failure, to replay a run).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crash_protocol.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"

namespace esr::persistence::test {
namespace {

using clock_type = std::chrono::steady_clock;

/// Kills that crash into the same store before the test starts a fresh one.
constexpr uint64_t runs_per_store = 25;

uint64_t env_or(const char* name, uint64_t fallback) {
  auto v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

/// An acknowledgement reported by the child.
struct ack {
  std::string stream;
  uint64_t last_seq = 0;
  uint32_t n = 0;
};

/// A running esr-crash-writer and the read end of its stdout.
class child_process {
public:
  child_process(const std::string& db, uint64_t run, uint64_t seed, int chains) {
    int fds[2];
    if (::pipe(fds) != 0)
      return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      auto run_s = std::to_string(run);
      auto seed_s = std::to_string(seed);
      auto chains_s = std::to_string(chains);
      ::execl(ESR_CRASH_WRITER_PATH, ESR_CRASH_WRITER_PATH, db.c_str(), run_s.c_str(),
              seed_s.c_str(), chains_s.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0)
      ::close(fd_);
  }

  bool started() const { return pid_ > 0 && fd_ >= 0; }

  /// Reads what is available until `deadline` or EOF; complete lines go to
  /// `lines`. Returns false on EOF.
  bool read_until(clock_type::time_point deadline, std::vector<std::string>& lines) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() < 0)
        return true;
      pollfd p{fd_, POLLIN, 0};
      auto r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r == 0)
        return true;
      if (r < 0)
        continue;
      char buf[65536];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0)
        return false;
      partial_.append(buf, static_cast<size_t>(n));
      size_t pos;
      while ((pos = partial_.find('\n')) != std::string::npos) {
        lines.push_back(partial_.substr(0, pos));
        partial_.erase(0, pos + 1);
      }
    }
  }

  /// kill -9, then reads the rest of the pipe and reaps the child. Returns
  /// true if the child died of the SIGKILL (and not earlier by itself).
  bool kill_and_drain(std::vector<std::string>& lines) {
    ::kill(pid_, SIGKILL);
    while (read_until(clock_type::now() + std::chrono::seconds{10}, lines)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string partial_;
};

/// Opens the store and verifies it against every acknowledgement so far:
/// the global log is dense, every atomic write in it is whole and contiguous,
/// every stream replays its part of the log, every acknowledged write is
/// there. Sets `events_in_store` (a void function, so gtest ASSERTs work).
void verify_store(const std::string& db, const std::map<std::string, ack>& acks,
                  uint64_t& events_in_store) {
  leveldb_options opts;
  opts.path = db;
  opts.shard_count = 16;
  auto store = open_leveldb(opts);
  ESR_ASSERT_OK(store);
  auto& j = *store->events;
  auto all = read_all_events(j);
  ESR_ASSERT_OK(all);
  events_in_store = all->events.size();
  ASSERT_EQ(all->positions(), range(1, all->events.size())) << "gaps in the global log";
  ASSERT_EQ(j.last_position(), all->events.size());
  // Group the global log by atomic write and check each write is whole.
  struct seen_write {
    std::string stream;
    uint64_t first_seq = 0;
    uint64_t first_pos = 0;
    uint32_t n = 0;
    uint32_t count = 0;
  };
  std::map<std::string, seen_write> writes;
  std::map<std::string, std::vector<std::string>> by_stream;
  for (auto& e : all->events) {
    auto f = crash::parse_payload(e.payload);
    ASSERT_TRUE(f) << "garbage payload at " << e.global_position;
    by_stream[e.persistence_id].push_back(e.payload);
    auto& w = writes[f->write_id];
    if (w.count == 0) {
      ASSERT_EQ(f->k, 1u) << f->write_id << " does not start with its first event";
      w = seen_write{e.persistence_id, e.sequence_nr, e.global_position, f->n, 0};
    }
    ASSERT_EQ(f->k, w.count + 1) << f->write_id << " events out of order";
    ASSERT_EQ(f->n, w.n);
    ASSERT_EQ(e.persistence_id, w.stream);
    ASSERT_EQ(e.sequence_nr, w.first_seq + w.count) << f->write_id << " not contiguous";
    ASSERT_EQ(e.global_position, w.first_pos + w.count) << f->write_id << " not contiguous";
    ++w.count;
  }
  for (auto& [id, w] : writes)
    ASSERT_EQ(w.count, w.n) << "atomic write " << id << " is partial: " << w.count << " of " << w.n;
  // Each stream replays exactly its part of the global log, from 1.
  for (auto& [stream, payloads] : by_stream) {
    auto r = replay_all(j, stream);
    ESR_ASSERT_OK(r);
    ASSERT_EQ(r->seqs, range(1, payloads.size())) << stream;
    ASSERT_EQ(r->highest, payloads.size()) << stream;
    for (size_t i = 0; i < payloads.size(); ++i)
      ASSERT_EQ(r->events[i].payload, payloads[i]) << stream << " at " << i + 1;
  }
  // Every acknowledged write is there, where its acknowledgement said.
  for (auto& [id, a] : acks) {
    auto i = writes.find(id);
    ASSERT_NE(i, writes.end()) << "acknowledged write " << id << " was lost";
    EXPECT_EQ(i->second.stream, a.stream) << id;
    EXPECT_EQ(i->second.n, a.n) << id;
    EXPECT_EQ(i->second.first_seq + i->second.n - 1, a.last_seq) << id;
  }
}

TEST(crash, acknowledged_writes_survive_kill_9_and_no_atomic_write_is_partial) {
  auto iterations = env_or("ESR_CRASH_ITERATIONS", 20);
  auto seed = env_or("ESR_CRASH_SEED", 20261124);
  SCOPED_TRACE("ESR_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 rng{seed};
  std::optional<temp_dir> dir;
  std::string db;
  std::map<std::string, ack> acks;
  size_t total_acks = 0;
  uint64_t events_in_store = 0;
  size_t killed_with_acks = 0;
  for (uint64_t run = 1; run <= iterations; ++run) {
    SCOPED_TRACE("iteration " + std::to_string(run));
    if ((run - 1) % runs_per_store == 0) {
      // A fresh store now and then keeps long soak runs linear in time.
      acks.clear();
      dir.reset();
      dir.emplace();
      db = dir->sub("db");
    }
    child_process child{db, run, seed + run, 64};
    ASSERT_TRUE(child.started());
    std::vector<std::string> lines;
    // The kill moment: one run in five 0..30 ms after the start (often while
    // the store is still being opened and recovered); the others 0..150 ms
    // after the first acknowledgement, while group commits are under way.
    if (rng() % 5 == 0) {
      child.read_until(clock_type::now() + std::chrono::milliseconds{rng() % 31}, lines);
    } else {
      auto first_ack_by = clock_type::now() + std::chrono::seconds{20};
      while (lines.size() < 2 && clock_type::now() < first_ack_by)
        ASSERT_TRUE(child.read_until(clock_type::now() + std::chrono::milliseconds{10}, lines))
          << "esr-crash-writer exited by itself";
      ASSERT_GE(lines.size(), 2u) << "esr-crash-writer acknowledged nothing within 20 s";
      ASSERT_EQ(lines.front(), "READY");
      ASSERT_TRUE(child.read_until(clock_type::now()
                                     + std::chrono::milliseconds{rng() % 151}, lines))
        << "esr-crash-writer exited by itself";
    }
    ASSERT_TRUE(child.kill_and_drain(lines)) << "esr-crash-writer did not die of the kill";
    size_t new_acks = 0;
    for (auto& line : lines) {
      if (line.rfind("ERR ", 0) == 0)
        ADD_FAILURE() << "esr-crash-writer reported " << line;
      if (line.rfind("ACK ", 0) != 0)
        continue;
      char id[128];
      char stream[128];
      unsigned long long last = 0;
      unsigned n = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "ACK %127s %127s %llu %u", id, stream, &last, &n), 4)
        << line;
      acks[id] = ack{stream, last, n};
      ++new_acks;
      ++total_acks;
    }
    killed_with_acks += new_acks > 0 ? 1 : 0;
    verify_store(db, acks, events_in_store);
    if (HasFatalFailure())
      return;
  }
  std::printf("[ crash    ] %zu kills, %zu with acknowledged writes, %zu writes acknowledged, "
              "%llu events in the last store\n",
              static_cast<size_t>(iterations), killed_with_acks, total_acks,
              static_cast<unsigned long long>(events_in_store));
  EXPECT_GE(killed_with_acks, 1u) << "no run got any write acknowledged";
}

} // namespace
} // namespace esr::persistence::test
