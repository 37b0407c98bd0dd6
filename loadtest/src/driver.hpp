#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "esr/runtime/aggregates/registry.hpp"
#include "histogram.hpp"
#include "key_distribution.hpp"
#include "outcome.hpp"
#include "workload.hpp"

namespace esr::loadtest {

/// The shape of the load.
struct driver_options {
  /// Event-based actors issuing commands (each owns a generator and a share
  /// of the load). Default: 4.
  size_t workers = 4;
  /// Closed loop: commands in flight in total (each reply triggers the next
  /// command). Default: 1024.
  size_t in_flight = 1024;
  /// Open loop when > 0: commands per second in total, sent on a fixed
  /// schedule whether or not earlier commands were answered; latency is
  /// measured from each command's intended send time. Default: 0 (closed).
  double rate = 0;
  /// Open loop: most commands outstanding; commands due beyond it wait in a
  /// backlog (their latency still counts from the intended time). Default:
  /// 100000.
  size_t max_outstanding = 100000;
  /// Measured run time (after the warm-up). Default: 10 s.
  std::chrono::milliseconds duration{10000};
  /// Warm-up before measuring; its commands are not counted. Default: 1 s.
  std::chrono::milliseconds warmup{1000};
  /// If > 0, stop after this many measured commands (or the duration,
  /// whichever comes first). Default: 0.
  uint64_t count = 0;
  /// Per-command timeout. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  /// Sampling interval of the throughput time series and progress line.
  /// Default: 1 s.
  std::chrono::milliseconds interval{1000};
  /// Seed of the workers' engines (worker i uses seed + i). Default: 1.
  uint64_t seed = 1;
};

/// One sampling interval of the measured run.
struct interval_sample {
  double end_s = 0;          ///< Seconds since measuring began.
  uint64_t commands = 0;     ///< Commands handled (acknowledged or rejected).
  uint64_t failures = 0;     ///< Conflicts, unavailable and timeouts.
  double commands_per_s = 0; ///< commands / interval length.
  double p50_ms = 0;         ///< Median latency in the interval.
  double p99_ms = 0;         ///< 99th percentile latency in the interval.
};

/// What the driver measured.
struct load_result {
  histogram latency;        ///< Handled measured commands, in nanoseconds.
  uint64_t acknowledged = 0; ///< Measured commands the aggregate acknowledged.
  error_counts errors;      ///< Measured commands that failed, by kind.
  uint64_t warmup_commands = 0; ///< Commands completed during the warm-up.
  uint64_t backlog_dropped = 0; ///< Open loop: due commands never sent at the end.
  double measured_s = 0;    ///< From measuring start until the last reply.
  std::vector<interval_sample> timeline; ///< One entry per interval.

  /// Handled commands (acknowledged + rejected).
  uint64_t commands() const { return acknowledged + errors.rejected; }
};

/// Called after each measured interval (progress line); `total` is the
/// result so far.
using progress_fn = std::function<void(const interval_sample& last, const load_result& total)>;

/// Runs the load against `reg` and blocks until every command sent was
/// answered (or timed out). Commands go to keys drawn from `keys`; `w` makes
/// a generator per worker. Returns caf::sec::invalid_argument for zero
/// workers or (closed loop) zero in_flight.
[[nodiscard]] caf::expected<load_result>
run_load(caf::actor_system& sys, const runtime::aggregates::aggregate_registry& reg,
         workload& w, const key_distribution& keys, const driver_options& opts,
         const progress_fn& progress);

} // namespace esr::loadtest
