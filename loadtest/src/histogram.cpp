#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace esr::loadtest {

namespace {

// Values below 2^sub_bits have a bucket each; above, each power of two is
// split into 2^(sub_bits-1) buckets.
constexpr int sub_bits = 8;
constexpr uint64_t half = uint64_t{1} << (sub_bits - 1); // 128

int msb(uint64_t v) {
  return 63 - __builtin_clzll(v);
}

} // namespace

histogram::histogram() : buckets_(bucket_count, 0) {
  // nop
}

size_t histogram::index_of(uint64_t value) {
  if (value < 2 * half)
    return static_cast<size_t>(value);
  auto shift = msb(value) - (sub_bits - 1); // >= 1; value >> shift in [128, 256)
  return static_cast<size_t>(shift) * half + static_cast<size_t>(value >> shift);
}

uint64_t histogram::lowest_in(size_t index) {
  if (index < 2 * half)
    return index;
  auto shift = index / half - 1;
  auto mantissa = index % half + half;
  return static_cast<uint64_t>(mantissa) << shift;
}

uint64_t histogram::highest_in(size_t index) {
  if (index + 1 >= bucket_count)
    return UINT64_MAX;
  return lowest_in(index + 1) - 1;
}

void histogram::record_n(uint64_t value, uint64_t n) {
  if (n == 0)
    return;
  buckets_[index_of(value)] += n;
  if (count_ == 0 || value < min_)
    min_ = value;
  max_ = std::max(max_, value);
  count_ += n;
  sum_ += static_cast<long double>(value) * n;
}

void histogram::merge(const histogram& other) {
  if (other.count_ == 0)
    return;
  for (size_t i = 0; i < bucket_count; ++i)
    buckets_[i] += other.buckets_[i];
  if (count_ == 0 || other.min_ < min_)
    min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void histogram::reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

double histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

uint64_t histogram::quantile(double q) const {
  if (count_ == 0)
    return 0;
  q = std::clamp(q, 0.0, 1.0);
  if (q >= 1.0)
    return max_;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      auto lo = lowest_in(i);
      auto hi = highest_in(i);
      auto mid = lo + (hi - lo) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

} // namespace esr::loadtest
