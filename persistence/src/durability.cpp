#include "esr/persistence/durability.hpp"

#include <chrono>

#include "esr/persistence/event_envelope.hpp"

namespace esr::persistence {

std::string to_string(durability_mode x) {
  switch (x) {
    case durability_mode::sync: return "sync";
    case durability_mode::periodic: return "periodic";
    case durability_mode::none: return "none";
  }
  return "unknown";
}

std::optional<durability_mode> parse_durability_mode(std::string_view s) {
  if (s == "sync") return durability_mode::sync;
  if (s == "periodic") return durability_mode::periodic;
  if (s == "none") return durability_mode::none;
  return std::nullopt;
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace esr::persistence
