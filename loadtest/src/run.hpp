#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "cli_options.hpp"
#include "driver.hpp"
#include "esr/persistence/journal.hpp"
#include "process_metrics.hpp"
#include "recovery.hpp"
#include "workload.hpp"

namespace esr::loadtest {

/// Everything one run measured, for the summary, JSON and HTML outputs.
struct run_report {
  loadtest_options options;
  std::string keys;              ///< Key distribution, e.g. "zipfian(0.99)".
  std::string data_dir;          ///< Where the runtime stored its data.
  int64_t started_unix_s = 0;    ///< Wall-clock start.
  load_result load;              ///< Driver measurements.
  /// Raw LevelDB WriteBatch(1000)+fsync events/s on the same disk, measured
  /// just before the run; nullopt if skipped (--raw-events 0) or failed.
  std::optional<double> raw_sync_events_per_s;
  persistence::journal_stats journal; ///< Counters over warm-up and run.
  double journal_span_s = 0;     ///< Warm-up, measured and settle time.
  double settle_s = 0;           ///< After the last reply, until the workload settled
                                 ///< (e.g. every saga finished).
  uint64_t data_dir_bytes = 0;   ///< Size of the data directory after the run.
  std::optional<uint64_t> io_write_bytes; ///< Bytes written to storage during the run.
  std::optional<memory_usage> memory;     ///< Right after the run.
  uint64_t live_aggregates = 0;  ///< Live (not passivated) aggregates at the end.
  std::optional<recovery_figures> recovery; ///< End-of-run recovery.
  verification verify;           ///< The end-of-run check.
  std::string verify_error;      ///< Why the check could not run (if it could not).
  std::map<std::string, double> workload_figures;

  /// Handled commands per second of measured time.
  double commands_per_s() const;
  /// commands_per_s / raw_sync_events_per_s (nullopt without the ceiling).
  std::optional<double> ratio_to_raw() const;
  /// Events the journal stored per second over warm-up and run.
  double events_per_s() const;
};

/// Called with each measured interval (for the progress line).
using run_progress_fn = progress_fn;

/// Called when a phase of the run begins ("measuring the raw ceiling",
/// "warming up", "recovering ..."), for the progress line.
using phase_fn = std::function<void(const std::string& what)>;

/// Runs the whole load test described by `opts`: the raw ceiling, the
/// runtime with the workload's aggregates, the load, the end-of-run
/// recovery and verification. Returns caf::sec::invalid_argument for a bad
/// workload or parameter, the storage error if the store cannot be opened.
/// A failed verification is not an error: see run_report::verify.
[[nodiscard]] caf::expected<run_report> run_loadtest(const loadtest_options& opts,
                                                     const run_progress_fn& progress,
                                                     const phase_fn& phase = {});

} // namespace esr::loadtest
