#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace esr::loadtest {

/// A high-dynamic-range histogram of non-negative integer values (the tool
/// records latencies in nanoseconds). Values are kept in log-linear buckets:
/// exact below 256, and 128 buckets per power of two above, so any value is
/// reported within 0.4% of its true value (the bucket midpoint) over the
/// whole 64-bit range, in a fixed 58 KiB. min, max, count and the mean are
/// exact.
///
/// A value type; not thread-safe (give each thread its own and merge()).
class histogram {
public:
  /// Number of buckets (covers every uint64_t value).
  static constexpr size_t bucket_count = 57 * 128 + 128;

  /// Creates an empty histogram.
  histogram();

  /// Records `value` once.
  void record(uint64_t value) { record_n(value, 1); }

  /// Records `value` `n` times.
  void record_n(uint64_t value, uint64_t n);

  /// Adds every value recorded in `other`.
  void merge(const histogram& other);

  /// Forgets every value.
  void reset();

  /// Number of values recorded.
  uint64_t count() const { return count_; }

  /// Smallest value recorded (0 if empty).
  uint64_t min() const { return count_ == 0 ? 0 : min_; }

  /// Largest value recorded (0 if empty).
  uint64_t max() const { return max_; }

  /// Arithmetic mean of the values (0 if empty).
  double mean() const;

  /// Returns the value at quantile `q` (clamped to [0, 1]): the smallest
  /// recorded value v such that at least q * count() values are <= v, as the
  /// midpoint of its bucket, clamped to [min(), max()]. quantile(1) is max().
  /// Returns 0 if empty.
  uint64_t quantile(double q) const;

  /// Returns the bucket index of `value` (exposed for tests).
  static size_t index_of(uint64_t value);

  /// Returns the smallest value that falls into bucket `index`.
  static uint64_t lowest_in(size_t index);

  /// Returns the largest value that falls into bucket `index`.
  static uint64_t highest_in(size_t index);

private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

} // namespace esr::loadtest
