#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_registry.hpp"

namespace esr::bench {

/// Returns true if `flag` (e.g. "--json") is among `a`.
bool has_flag(const args& a, const std::string& flag);

/// Returns the value after `name` (e.g. "--events" "100000"), or `fallback`.
std::string option(const args& a, const std::string& name, const std::string& fallback);

/// Returns the integer value after `name`, or `fallback`.
int64_t int_option(const args& a, const std::string& name, int64_t fallback);

/// Makes a fresh, empty temporary directory and returns its path. With
/// `--dir D` among the args, uses D/<tag> instead (to measure another disk).
std::string fresh_dir(const args& a, const std::string& tag);

/// Removes a directory tree (ignores errors).
void remove_dir(const std::string& path);

/// A payload of `n` pseudo-random printable bytes (incompressible enough).
std::string make_payload(size_t n, uint64_t seed);

/// Seconds elapsed since `t0`.
/// CPU seconds (user + system, all threads) this process used so far.
double cpu_seconds();

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Raw LevelDB ceiling: writes `events` values of `payload_bytes` bytes under
/// 17-byte keys in WriteBatches of `batch` with sync=true, into a fresh DB in
/// `dir`. Returns events/s. Every subcommand reports it as raw_sync_events_per_s.
double raw_leveldb_sync_events_per_s(const std::string& dir, size_t events,
                                     size_t payload_bytes, size_t batch = 1000);

/// Returns the value at quantile `q` (0..1) of `sorted` (ascending).
double quantile(const std::vector<double>& sorted, double q);

} // namespace esr::bench
