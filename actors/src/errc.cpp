#include "esr/actors/errc.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

#include "esr/persistence/error.hpp"

namespace esr::actors {

std::string to_string(errc x) {
  switch (x) {
    case errc::unknown_aggregate_type: return "unknown_aggregate_type";
    case errc::rejected: return "rejected";
    case errc::wrong_expected_version: return "wrong_expected_version";
    case errc::stash_overflow: return "stash_overflow";
    case errc::write_rejected: return "write_rejected";
    case errc::write_failed: return "write_failed";
    case errc::recovery_failed: return "recovery_failed";
    case errc::wrong_command_type: return "wrong_command_type";
    case errc::duplicate_command: return "duplicate_command";
    case errc::handler_failed: return "handler_failed";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
  }
  return "unknown_error_" + std::to_string(static_cast<int>(x));
}

namespace {

std::string render_impl(uint8_t code, caf::atom_value, const caf::message& ctx) {
  return persistence::render_code("esr_agg", to_string(static_cast<errc>(code)), ctx);
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
  persistence::register_errors(cfg);
}

} // namespace esr::actors
