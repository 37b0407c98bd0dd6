#include "esr/persistence/error.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

namespace esr::persistence {

std::string to_string(errc x) {
  switch (x) {
    case errc::concurrency_conflict: return "concurrency_conflict";
    case errc::serialization_failed: return "serialization_failed";
    case errc::corruption: return "corruption";
    case errc::io_error: return "io_error";
    case errc::invalid_argument: return "invalid_argument";
    case errc::closed: return "closed";
    case errc::incompatible_format: return "incompatible_format";
  }
  return "unknown_error_" + std::to_string(static_cast<int>(x));
}

namespace {

std::string render_impl(uint8_t code, caf::atom_value, const caf::message& ctx) {
  return render_code("esr_pers", to_string(static_cast<errc>(code)), ctx);
}

} // namespace

std::string render_code(const char* prefix, const std::string& name,
                        const caf::message& context) {
  std::string result = prefix;
  result += '.';
  result += name;
  if (!context.empty()) {
    result += ": ";
    result += caf::to_string(context);
  }
  return result;
}

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == error_category)
    return render_impl(err.code(), err.category(), err.context());
  return caf::to_string(err);
}

void register_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category, render_impl);
}

} // namespace esr::persistence
