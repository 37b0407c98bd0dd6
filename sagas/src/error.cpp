#include "esr/sagas/error.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/deep_to_string.hpp>

#include "esr/actors/errc.hpp"
#include "esr/persistence/error.hpp"
#include "esr/runtime/bus/error.hpp"

namespace esr::sagas {

std::string to_string(errc x) {
  switch (x) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::handler_failed: return "handler_failed";
    case errc::corrupt_record: return "corrupt_record";
    case errc::unknown_command: return "unknown_command";
    case errc::unknown_instance: return "unknown_instance";
    case errc::not_found: return "not_found";
    case errc::stopped: return "stopped";
    case errc::timeout: return "timeout";
  }
  return "errc(" + std::to_string(static_cast<int>(x)) + ")";
}

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == error_category)
    return persistence::render_code("esr_saga", to_string(static_cast<errc>(err.code())),
                                    err.context());
  if (err.category() == runtime::bus::error_category)
    return runtime::bus::render(err);
  return actors::render(err);
}

void register_errors(caf::actor_system_config& cfg) {
  actors::register_errors(cfg);
  runtime::bus::register_errors(cfg);
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return render(caf::error{code, error_category, ctx});
                         });
}

} // namespace esr::sagas
