#include "esr/runtime/bus/error.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

#include "esr/persistence/error.hpp"

namespace esr::runtime::bus {

std::string to_string(errc x) {
  switch (x) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::upcast_failed: return "upcast_failed";
    case errc::store_io_error: return "store_io_error";
    case errc::store_corruption: return "store_corruption";
    case errc::handler_failed: return "handler_failed";
    case errc::closed: return "closed";
    case errc::timeout: return "timeout";
  }
  return "unknown_error_" + std::to_string(static_cast<int>(x));
}

namespace {

std::string render_impl(uint8_t code, caf::atom_value, const caf::message& ctx) {
  return persistence::render_code("esr_bus", to_string(static_cast<errc>(code)), ctx);
}

} // namespace

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == error_category)
    return render_impl(err.code(), err.category(), err.context());
  return persistence::render(err);
}

void register_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category, render_impl);
}

} // namespace esr::runtime::bus
