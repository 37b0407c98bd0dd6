#include "key_distribution.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace esr::loadtest {

namespace {

// log1p(x) / x, accurate near 0.
double helper1(double x) {
  if (std::abs(x) > 1e-8)
    return std::log1p(x) / x;
  return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

// expm1(x) / x, accurate near 0.
double helper2(double x) {
  if (std::abs(x) > 1e-8)
    return std::expm1(x) / x;
  return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

double unit(rng& r) {
  return std::uniform_real_distribution<double>{0.0, 1.0}(r);
}

} // namespace

key_distribution::~key_distribution() = default;

// -- uniform ------------------------------------------------------------------

uniform_keys::uniform_keys(uint64_t n) : n_(n) {
  // nop
}

uint64_t uniform_keys::next(rng& r) const {
  return std::uniform_int_distribution<uint64_t>{0, n_ - 1}(r);
}

std::string uniform_keys::describe() const {
  return "uniform";
}

// -- zipfian ------------------------------------------------------------------

// Ranks are 1-based inside the sampler (rank 1 = key 0). h is the unnormalized
// density x^-skew, h_integral its antiderivative shifted so that it is
// continuous at skew = 1.
zipfian_keys::zipfian_keys(uint64_t n, double skew) : n_(n), skew_(skew) {
  h_integral_x1_ = h_integral(1.5) - 1.0;
  h_integral_n_ = h_integral(static_cast<double>(n_) + 0.5);
  s_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
}

double zipfian_keys::h(double x) const {
  return std::exp(-skew_ * std::log(x));
}

double zipfian_keys::h_integral(double x) const {
  auto log_x = std::log(x);
  return helper2((1.0 - skew_) * log_x) * log_x;
}

double zipfian_keys::h_integral_inverse(double x) const {
  auto t = x * (1.0 - skew_);
  if (t < -1.0)
    t = -1.0; // Guards against rounding; the exact value is > -1.
  return std::exp(helper1(t) * x);
}

uint64_t zipfian_keys::next(rng& r) const {
  for (;;) {
    auto u = h_integral_n_ + unit(r) * (h_integral_x1_ - h_integral_n_);
    auto x = h_integral_inverse(u);
    auto k = static_cast<uint64_t>(std::max(1.0, x + 0.5));
    k = std::clamp<uint64_t>(k, 1, n_);
    auto kd = static_cast<double>(k);
    if (kd - x <= s_ || u >= h_integral(kd + 0.5) - h(kd))
      return k - 1;
  }
}

std::string zipfian_keys::describe() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "zipfian(%g)", skew_);
  return buf;
}

double zipfian_keys::probability(uint64_t k) const {
  double norm = 0;
  for (uint64_t i = 1; i <= n_; ++i)
    norm += std::pow(static_cast<double>(i), -skew_);
  return std::pow(static_cast<double>(k + 1), -skew_) / norm;
}

// -- factory ------------------------------------------------------------------

std::unique_ptr<key_distribution> make_key_distribution(std::string_view name, uint64_t n,
                                                        double skew) {
  if (n == 0)
    return nullptr;
  if (name == "uniform")
    return std::make_unique<uniform_keys>(n);
  if (name == "zipfian" && skew > 0)
    return std::make_unique<zipfian_keys>(n, skew);
  return nullptr;
}

} // namespace esr::loadtest
