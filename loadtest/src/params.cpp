#include "params.hpp"

#include <algorithm>
#include <cstdlib>

namespace esr::loadtest {

caf::expected<double> param_reader::number(const std::string& key, double fallback, double lo,
                                           double hi) {
  used_.push_back(key);
  auto i = params_.find(key);
  if (i == params_.end())
    return fallback;
  char* end = nullptr;
  auto v = std::strtod(i->second.c_str(), &end);
  if (i->second.empty() || *end != '\0')
    return invalid_param("--" + key + ": not a number: " + i->second);
  if (v < lo || v > hi)
    return invalid_param("--" + key + ": out of range [" + std::to_string(lo) + ", "
                         + std::to_string(hi) + "]: " + i->second);
  return v;
}

caf::error param_reader::unknown_left() const {
  for (auto& kv : params_)
    if (std::find(used_.begin(), used_.end(), kv.first) == used_.end())
      return invalid_param("unknown option --" + kv.first);
  return caf::none;
}

} // namespace esr::loadtest
