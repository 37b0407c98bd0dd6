#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace esr::loadtest {

/// The random number engine every generator of the tool uses.
using rng = std::mt19937_64;

/// Chooses which aggregate (a key in [0, n)) the next command goes to.
/// Implementations are immutable after construction and thread-safe; the
/// caller passes its own engine.
class key_distribution {
public:
  virtual ~key_distribution();

  /// Returns a key in [0, size()).
  virtual uint64_t next(rng& r) const = 0;

  /// Returns the number of keys.
  virtual uint64_t size() const = 0;

  /// Returns a description, e.g. "uniform" or "zipfian(0.99)".
  virtual std::string describe() const = 0;
};

/// Every key equally likely.
class uniform_keys final : public key_distribution {
public:
  /// Precondition: n > 0.
  explicit uniform_keys(uint64_t n);
  uint64_t next(rng& r) const override;
  uint64_t size() const override { return n_; }
  std::string describe() const override;

private:
  uint64_t n_;
};

/// Zipf's law: key k (0-based) has probability proportional to
/// 1 / (k + 1)^skew, so key 0 is the hottest. Sampled in O(1) by rejection
/// inversion (W. Hörmann, G. Derflinger, "Rejection-inversion to generate
/// variates from monotone discrete distributions", 1996), valid for any
/// skew > 0 including 1; no O(n) setup, so 10^9 keys cost nothing.
class zipfian_keys final : public key_distribution {
public:
  /// Preconditions: n > 0, skew > 0.
  zipfian_keys(uint64_t n, double skew);
  uint64_t next(rng& r) const override;
  uint64_t size() const override { return n_; }
  std::string describe() const override;

  /// Returns the exact probability of key `k` (O(n): for tests).
  double probability(uint64_t k) const;

private:
  double h(double x) const;
  double h_integral(double x) const;
  double h_integral_inverse(double x) const;

  uint64_t n_;
  double skew_;
  double h_integral_x1_;
  double h_integral_n_;
  double s_;
};

/// Makes a distribution from its command-line name: "uniform" or "zipfian"
/// with `skew`. Returns nullptr for an unknown name, n == 0 or skew <= 0.
std::unique_ptr<key_distribution> make_key_distribution(std::string_view name, uint64_t n,
                                                        double skew);

} // namespace esr::loadtest
