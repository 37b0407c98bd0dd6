#pragma once

#include <string>

#include "driver.hpp"
#include "run.hpp"

namespace esr::loadtest {

/// Renders the final human-readable summary (several lines).
std::string render_summary(const run_report& r);

/// Renders the run as one JSON object. Fields (times in milliseconds, rates
/// per second): workload, keys, aggregates, in_flight, rate, durability,
/// duration_s, commands, acknowledged, commands_per_s, p50_ms, p90_ms,
/// p99_ms, p999_ms, max_ms, mean_ms, errors {conflict, rejected,
/// unavailable, timeout}, raw_sync_events_per_s, ratio_to_raw (null without
/// the ceiling), events_persisted, events_per_s, journal {groups, writes,
/// events, syncs}, bytes_written, data_dir_bytes, rss_bytes, peak_rss_bytes,
/// live_aggregates, recovery {...} (null if it failed), verification {ok,
/// description, aggregates}, workload figures, timeline [...], percentiles
/// [...].
std::string render_json(const run_report& r);

/// Renders a self-contained HTML page (inline SVG charts: throughput over
/// time and the latency percentile curve; no scripts, no network).
std::string render_html(const run_report& r);

/// Renders the live progress line (no newline): elapsed, commands done,
/// current rate, p99 of the last interval.
std::string render_progress(const interval_sample& last, const load_result& total);

/// The quantiles reported in the percentile curve (0.5 ... 0.99999, 1).
const std::vector<double>& curve_quantiles();

/// Formats `x` with thousands separators ("1,234,567").
std::string with_commas(double x);

} // namespace esr::loadtest
