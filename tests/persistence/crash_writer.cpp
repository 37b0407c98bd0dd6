// esr-crash-writer: the child process of the crash test (crash_test.cpp).
//
//   esr-crash-writer <db-path> <run-id> <seed> <chains>
//
// Opens a LevelDB store in sync mode and keeps <chains> write_async calls in
// flight at all times (so group commit coalesces many writers): each call
// holds one to three atomic writes of one to four events, to random streams
// "crash-0".."crash-11". Every acknowledgement is written to stdout at once
// (see crash_protocol.hpp). Runs until killed (or 60 s pass).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crash_protocol.hpp"
#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"

using namespace esr::persistence;

namespace {

/// Writes `line` to stdout with one write(2); exits if the reader is gone.
void emit(const std::string& line) {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    auto n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0)
      std::_Exit(4);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

/// One writer: issues a call, and the next one when the call is decided.
struct chain {
  journal* j = nullptr;
  std::string id_prefix;
  std::mt19937_64 rng;
  uint64_t next_write = 0;

  void issue() {
    std::vector<atomic_write> ws;
    auto writes = 1 + rng() % 3;
    auto ids = std::make_shared<std::vector<std::string>>();
    for (uint64_t w = 0; w < writes; ++w) {
      atomic_write aw;
      aw.persistence_id = "crash-" + std::to_string(rng() % 12);
      auto id = id_prefix + "." + std::to_string(++next_write);
      auto n = static_cast<uint32_t>(1 + rng() % 4);
      for (uint32_t k = 1; k <= n; ++k) {
        event_envelope e;
        e.event_type = "crash_event";
        e.payload = esr::persistence::test::crash::payload(id, k, n, rng() % 200);
        aw.events.push_back(std::move(e));
      }
      ids->push_back(id);
      ws.push_back(std::move(aw));
    }
    auto streams = std::make_shared<std::vector<std::string>>();
    auto counts = std::make_shared<std::vector<size_t>>();
    for (auto& aw : ws) {
      streams->push_back(aw.persistence_id);
      counts->push_back(aw.events.size());
    }
    j->write_async(std::move(ws), [this, ids, streams, counts](write_outcomes out) {
      for (size_t i = 0; i < ids->size(); ++i) {
        if (i < out.size() && out[i])
          emit("ACK " + (*ids)[i] + " " + (*streams)[i] + " "
               + std::to_string(out[i]->last_sequence_nr) + " "
               + std::to_string((*counts)[i]) + "\n");
        else
          emit("ERR " + (*ids)[i] + " "
               + (i < out.size() ? render(out[i].error()) : std::string{"no outcome"}) + "\n");
      }
      issue();
    });
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <db-path> <run-id> <seed> <chains>\n", argv[0]);
    return 2;
  }
  ::alarm(60); // never outlive a crashed parent for long
  leveldb_options opts;
  opts.path = argv[1];
  opts.durability = durability_mode::sync;
  opts.shard_count = 16;
  // Write the stream index out often, so kills land before, during and
  // after index flushes, and every reopen rebuilds a tail from the log.
  opts.index_flush_events = 97;
  auto store = open_leveldb(opts);
  if (!store) {
    std::fprintf(stderr, "esr-crash-writer: %s\n", render(store.error()).c_str());
    return 1;
  }
  auto seed = std::strtoull(argv[3], nullptr, 10);
  auto n = std::strtoul(argv[4], nullptr, 10);
  std::vector<chain> chains(n);
  for (size_t i = 0; i < n; ++i) {
    chains[i].j = store->events.get();
    chains[i].id_prefix = std::string{argv[2]} + "." + std::to_string(i);
    chains[i].rng.seed(seed * 1000 + i);
  }
  emit("READY\n");
  for (auto& c : chains)
    c.issue();
  for (;;)
    std::this_thread::sleep_for(std::chrono::seconds{1});
}
