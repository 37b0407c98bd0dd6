#include "esr/runtime/projections/rebuild.hpp"

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::projections {

caf::expected<rebuild_result> rebuild(std::shared_ptr<bus::event_bus> bus,
                                      std::shared_ptr<view_store> store,
                                      const std::string& alias, projection next,
                                      rebuild_options opts) {
  auto current = store->alias(alias);
  if (!current)
    return std::move(current.error());
  if (*current && **current == next.view)
    return bus::make_error(bus::errc::invalid_argument,
                           "rebuild target is the current view", alias, next.view);
  if (auto err = store->drop_view(next.view))
    return err;
  auto runner = projection_runner::start(bus, store, std::move(next), opts.runner);
  if (!runner)
    return std::move(runner.error());
  if (auto err = (*runner)->wait_caught_up(opts.timeout)) {
    (*runner)->stop();
    return err;
  }
  if (auto err = store->set_alias(alias, (*runner)->view())) {
    (*runner)->stop();
    return err;
  }
  rebuild_result result;
  result.runner = std::move(*runner);
  result.previous_view = std::move(*current);
  return result;
}

} // namespace esr::runtime::projections
