#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "workload.hpp"

namespace esr::loadtest {

/// Reads workload parameters, remembering which ones were used so that a
/// misspelt one is reported instead of silently ignored.
class param_reader {
public:
  explicit param_reader(const workload_params& p) : params_(p) {}

  /// Returns the number under `key`, `fallback` if absent; an error if the
  /// value is not a number or outside [lo, hi].
  caf::expected<double> number(const std::string& key, double fallback, double lo, double hi);

  /// Returns an error naming the first parameter that was never read.
  caf::error unknown_left() const;

private:
  const workload_params& params_;
  std::vector<std::string> used_;
};

} // namespace esr::loadtest
