#include "key_distribution.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace esr::loadtest;

namespace {

std::vector<uint64_t> histogram_of(const key_distribution& d, size_t samples, uint64_t seed) {
  std::vector<uint64_t> counts(d.size(), 0);
  rng r{seed};
  for (size_t i = 0; i < samples; ++i) {
    auto k = d.next(r);
    EXPECT_LT(k, d.size());
    if (k < d.size())
      ++counts[k];
  }
  return counts;
}

TEST(uniform_keys, covers_every_key_evenly) {
  uniform_keys d{100};
  const size_t n = 1000000;
  auto counts = histogram_of(d, n, 1);
  // Chi-squared with 99 degrees of freedom: the 99.99th percentile is ~157.
  double expected = static_cast<double>(n) / 100, chi2 = 0;
  for (auto c : counts)
    chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 160.0);
  EXPECT_EQ(d.describe(), "uniform");
}

TEST(uniform_keys, with_one_key_always_returns_it) {
  uniform_keys d{1};
  rng r{5};
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(d.next(r), 0u);
}

class zipfian_skews : public testing::TestWithParam<double> {};

TEST_P(zipfian_skews, frequencies_match_zipfs_law) {
  zipfian_keys d{100, GetParam()};
  const size_t n = 1000000;
  auto counts = histogram_of(d, n, 11);
  for (uint64_t k : {0, 1, 2, 5, 10, 50, 99}) {
    auto p = d.probability(k);
    auto sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(counts[k]), n * p, 5 * sd + 1) << "key " << k;
  }
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[10]);
  EXPECT_GT(counts[10], counts[99]);
}

INSTANTIATE_TEST_SUITE_P(skews, zipfian_skews, testing::Values(0.5, 0.99, 1.0, 1.5));

TEST(zipfian_keys, higher_skew_concentrates_more_on_the_hottest_key) {
  auto hot = [](double skew) {
    zipfian_keys d{10000, skew};
    return histogram_of(d, 200000, 3)[0];
  };
  EXPECT_LT(hot(0.5), hot(0.99));
  EXPECT_LT(hot(0.99), hot(1.5));
}

TEST(zipfian_keys, needs_no_setup_for_a_billion_keys) {
  zipfian_keys d{1000000000, 0.99};
  rng r{9};
  uint64_t zeros = 0, big = 0;
  for (int i = 0; i < 100000; ++i) {
    auto k = d.next(r);
    ASSERT_LT(k, 1000000000u);
    zeros += k == 0;
    big += k > 1000000;
  }
  EXPECT_GT(zeros, 1000u); // p(0) is about 4.6% for this n and skew
  EXPECT_GT(big, 10000u);  // and the tail is long
  EXPECT_EQ(d.describe(), "zipfian(0.99)");
}

TEST(key_distribution, factory_refuses_bad_arguments) {
  EXPECT_NE(make_key_distribution("uniform", 10, 0), nullptr);
  EXPECT_NE(make_key_distribution("zipfian", 10, 0.99), nullptr);
  EXPECT_EQ(make_key_distribution("zipfian", 10, 0), nullptr);
  EXPECT_EQ(make_key_distribution("zipfian", 10, -1), nullptr);
  EXPECT_EQ(make_key_distribution("uniform", 0, 0), nullptr);
  EXPECT_EQ(make_key_distribution("gaussian", 10, 1), nullptr);
}

} // namespace
