#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using esr::loadtest::histogram;

namespace {

TEST(histogram, is_empty_when_new) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(histogram, is_exact_below_256) {
  histogram h;
  for (uint64_t v = 1; v <= 100; ++v)
    h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50u);
  EXPECT_EQ(h.quantile(0.99), 99u);
  EXPECT_EQ(h.quantile(0.0), 1u);
  EXPECT_EQ(h.quantile(1.0), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(histogram, buckets_tile_the_whole_range_without_gaps) {
  EXPECT_EQ(histogram::lowest_in(0), 0u);
  for (size_t i = 0; i + 1 < histogram::bucket_count; ++i)
    ASSERT_EQ(histogram::highest_in(i) + 1, histogram::lowest_in(i + 1)) << "bucket " << i;
  EXPECT_EQ(histogram::highest_in(histogram::bucket_count - 1), UINT64_MAX);
  EXPECT_EQ(histogram::index_of(UINT64_MAX), histogram::bucket_count - 1);
}

TEST(histogram, every_value_falls_into_a_bucket_narrower_than_one_128th) {
  std::mt19937_64 rng{7};
  std::vector<uint64_t> values{0, 1, 255, 256, 257, 511, 512, UINT64_MAX, UINT64_MAX - 1};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(uint64_t{1} << shift);
    values.push_back((uint64_t{1} << shift) - 1);
  }
  for (int i = 0; i < 100000; ++i)
    values.push_back(rng() >> (rng() % 64));
  for (auto v : values) {
    auto i = histogram::index_of(v);
    ASSERT_LT(i, histogram::bucket_count);
    auto lo = histogram::lowest_in(i);
    auto hi = histogram::highest_in(i);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    if (v >= 256)
      ASSERT_LE(static_cast<double>(hi - lo), static_cast<double>(v) / 128.0) << v;
    else
      ASSERT_EQ(lo, hi);
  }
}

TEST(histogram, quantiles_are_within_half_a_percent_of_the_exact_ones) {
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> latency{std::log(2e6), 1.0}; // ns, median 2 ms
  histogram h;
  std::vector<uint64_t> exact;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<uint64_t>(latency(rng));
    h.record(v);
    exact.push_back(v);
  }
  std::sort(exact.begin(), exact.end());
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    auto rank = static_cast<size_t>(std::ceil(q * exact.size()));
    auto truth = static_cast<double>(exact[rank - 1]);
    auto got = static_cast<double>(h.quantile(q));
    EXPECT_NEAR(got, truth, truth * 0.005) << "q=" << q;
  }
  EXPECT_EQ(h.max(), exact.back());
  EXPECT_EQ(h.min(), exact.front());
  EXPECT_EQ(h.quantile(1.0), exact.back());
}

TEST(histogram, merge_equals_recording_everything_in_one) {
  std::mt19937_64 rng{3};
  histogram a, b, all;
  for (int i = 0; i < 10000; ++i) {
    auto v = rng() % 100000000;
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double q : {0.1, 0.5, 0.99, 0.999})
    EXPECT_EQ(a.quantile(q), all.quantile(q));
}

TEST(histogram, record_n_counts_n_times_and_reset_forgets) {
  histogram h;
  h.record_n(1000, 99);
  h.record(5000000);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 1000.0, 4.0);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.995)), 5e6, 5e6 * 0.004);
  h.record_n(7, 0);
  EXPECT_EQ(h.count(), 100u);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
}

} // namespace
