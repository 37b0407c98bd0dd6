// Child programs of the crash tests (run as `esr-bus-tests --child <mode> ...`
// and killed with SIGKILL at random points by crash_test.cpp):
//
//   checkpoint <journal_dir> <checkpoint_dir> <out_file> <max_batch>
//     A checkpointed subscription ("crashy") over the journal that appends
//     "start <first position>\n" and then each delivered position ("<p>\n")
//     to out_file, slowly; writes "done\n" and exits 0 once caught up.
//   project <journal_dir> <view_dir> <writes | "endless">
//     Writes `writes` events (or events until killed) (decimal payloads) to streams acct-0..acct-9
//     while a projection "totals" counts and sums them into the view store
//     and counts per-stream sequence violations; exits 0 once caught up.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/projection.hpp"

using namespace std::chrono_literals;
using namespace esr::runtime;

namespace esr::bus_test {

namespace {

caf::expected<persistence::storage> open_journal(const std::string& path) {
  persistence::leveldb_options opts;
  opts.path = path;
  opts.durability = persistence::durability_mode::none;
  opts.shard_count = 16;
  return persistence::open_leveldb(opts);
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    auto n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0)
      std::abort();
    off += static_cast<size_t>(n);
  }
}

int run_checkpoint(char** argv) {
  auto store = open_journal(argv[0]);
  if (!store)
    return 3;
  bus::leveldb_checkpoint_options co;
  co.path = argv[1];
  auto checkpoints = bus::open_leveldb_checkpoint_store(co);
  if (!checkpoints)
    return 4;
  int fd = ::open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0)
    return 5;
  auto cp = (*checkpoints)->load("crashy");
  if (!cp)
    return 6;
  write_all(fd, "start " + std::to_string(cp->value_or(0) + 1) + "\n");
  auto bus = bus::event_bus::make(store->events);
  bus::subscription_options o;
  o.name = "crashy";
  o.checkpoints = *checkpoints;
  o.max_batch = std::stoul(argv[3]);
  auto sub = bus->subscribe(o, [fd](const bus::event_batch& b) {
    std::string lines;
    for (auto& e : b.events)
      lines += std::to_string(e.global_position) + "\n";
    write_all(fd, lines);
    std::this_thread::sleep_for(1ms);
    return caf::error{};
  });
  if (!sub)
    return 7;
  if (auto err = (*sub)->wait_for(store->events->last_position(), 120s))
    return 8;
  write_all(fd, "done\n");
  ::close(fd);
  return 0;
}

int64_t get_int(const projections::view_txn& txn, const std::string& key) {
  auto v = txn.get(key);
  return v && *v ? std::stoll(**v) : 0;
}

int run_project(char** argv) {
  auto store = open_journal(argv[0]);
  if (!store)
    return 3;
  projections::view_store_options vo;
  vo.path = argv[1];
  auto views = projections::view_store::open(vo);
  if (!views)
    return 4;
  std::string writes_arg = argv[2];
  auto writes = writes_arg == "endless" ? std::numeric_limits<size_t>::max()
                                        : std::stoul(writes_arg);
  auto bus = bus::event_bus::make(store->events);
  projections::projection p;
  p.view = "totals";
  p.apply = [](projections::view_txn& txn, const persistence::event_envelope& e)
    -> caf::error {
    txn.put("count", std::to_string(get_int(txn, "count") + 1));
    txn.put("sum", std::to_string(get_int(txn, "sum") + std::stoll(e.payload)));
    auto key = "seq/" + e.persistence_id;
    auto last = get_int(txn, key);
    if (static_cast<uint64_t>(last) + 1 != e.sequence_nr)
      txn.put("violations", std::to_string(get_int(txn, "violations") + 1));
    txn.put(key, std::to_string(e.sequence_nr));
    return caf::none;
  };
  projections::projection_options po;
  po.max_batch = 64;
  auto runner = projections::projection_runner::start(bus, *views, p, po);
  if (!runner)
    return 5;
  std::mt19937_64 rng{std::random_device{}()};
  for (size_t i = 0; i < writes;) {
    std::vector<persistence::atomic_write> ws;
    auto n = 1 + rng() % 5;
    for (size_t k = 0; k < n && i < writes; ++k, ++i) {
      persistence::atomic_write w;
      w.persistence_id = "acct-" + std::to_string(rng() % 10);
      persistence::event_envelope e;
      e.event_type = "value";
      e.payload = std::to_string(1 + rng() % 1000);
      w.events.push_back(std::move(e));
      ws.push_back(std::move(w));
    }
    for (auto& r : store->events->write(std::move(ws)))
      if (!r)
        return 6;
  }
  if (auto err = (*runner)->wait_caught_up(120s))
    return 7;
  return 0;
}

} // namespace

int run_child(int argc, char** argv) {
  std::string mode = argc > 0 ? argv[0] : "";
  if (mode == "checkpoint" && argc == 5)
    return run_checkpoint(argv + 1);
  if (mode == "project" && argc == 4)
    return run_project(argv + 1);
  std::fprintf(stderr, "unknown child mode\n");
  return 2;
}

} // namespace esr::bus_test
