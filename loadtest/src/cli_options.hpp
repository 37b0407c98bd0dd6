#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "driver.hpp"
#include "esr/persistence/durability.hpp"
#include "workload.hpp"

namespace esr::loadtest {

/// Everything `esr-loadtest` can be told on its command line.
struct loadtest_options {
  /// Workload name (first positional argument). Required.
  std::string workload;
  /// Options the tool does not know, passed to the workload.
  esr::loadtest::workload_params params;
  /// --aggregates: number of aggregates (keys). Default: 10000.
  uint64_t aggregates = 10000;
  /// --keys: "uniform" or "zipfian". Default: uniform.
  std::string keys = "uniform";
  /// --skew: zipfian exponent (> 0). Default: 0.99.
  double skew = 0.99;
  /// Load shape: --workers, --in-flight, --rate, --max-outstanding,
  /// --duration, --warmup, --count, --timeout, --interval, --seed.
  driver_options load;
  /// --durability: sync, periodic or none. Default: sync.
  persistence::durability_mode durability = persistence::durability_mode::sync;
  /// --sync-interval-ms: fsync interval in periodic mode. Default: 10.
  int64_t sync_interval_ms = 10;
  /// --snapshot-every: snapshot each aggregate every N events (0: never).
  /// Default: 0.
  uint64_t snapshot_every = 0;
  /// --shards: registry shards. Default: 16.
  size_t shards = 16;
  /// --max-live: most live aggregates before LRU passivation. Default:
  /// 1,000,000 (the registry's default).
  size_t max_live = 1000000;
  /// --idle-timeout: passivate aggregates idle this many seconds (0: never).
  /// Default: 120.
  double idle_timeout_s = 120;
  /// --max-batch: commands batched into one journal call per aggregate.
  /// Default: 64.
  size_t max_batch = 64;
  /// --stash-capacity: commands waiting per aggregate. Default: 1000.
  size_t stash_capacity = 1000;
  /// --threads: CAF scheduler threads (0: CAF's default, one per core).
  /// Default: 0.
  size_t threads = 0;
  /// --target: "embedded" (in-process on --dir). Default: embedded.
  std::string target = "embedded";
  /// --dir: data directory's parent; the tool uses <dir>/data and
  /// <dir>/raw, wiping both first. Default: a fresh directory under $TMPDIR,
  /// removed at exit.
  std::string dir;
  /// --keep: keep the data directory at exit. Default: false.
  bool keep = false;
  /// --raw-events: events of the raw LevelDB ceiling measurement (0 skips
  /// it). Default: 200000.
  uint64_t raw_events = 200000;
  /// --restart: after the run, restart the runtime on the same data
  /// directory, recover every aggregate through it and time that; the
  /// verification then uses those recovered states. Without it, states are
  /// rebuilt from the reopened storage directly. Default: false.
  bool restart = false;
  /// --json: print one JSON object on stdout (the summary goes to stderr).
  bool json = false;
  /// --report FILE: write a self-contained HTML report. Default: none.
  std::string report;
  /// --no-progress: no live progress line even on a terminal.
  bool no_progress = false;
  /// --help.
  bool help = false;
};

/// Parses `args` (without the program name). Unknown `--key value` pairs go
/// to `params`. Returns caf::sec::invalid_argument naming the bad
/// option.
[[nodiscard]] caf::expected<loadtest_options> parse_options(const std::vector<std::string>& args);

/// Returns the --help text (lists the registered workloads).
std::string usage();

} // namespace esr::loadtest
