#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "esr/runtime/projections/projection.hpp"

namespace esr::runtime::projections {

/// Options of rebuild().
struct rebuild_options {
  /// Longest time to wait for the new view to catch up. Default: 10 minutes.
  std::chrono::milliseconds timeout{std::chrono::minutes{10}};
  /// Options of the new projection. Default: projection_options{}.
  projection_options runner;
};

/// What rebuild() produced.
struct rebuild_result {
  /// The new projection, running live on the new view.
  std::unique_ptr<projection_runner> runner;
  /// The view the alias named before the switch (nullopt if none). The caller
  /// stops the old projection and may drop this view (view_store::drop_view).
  std::optional<std::string> previous_view;
};

/// Rebuilds a view with new logic beside the old one: clears `next.view`,
/// runs `next` from position 1 while the old projection keeps serving
/// readers, waits until it has applied everything committed before the call,
/// then points `alias` at `next.view` (readers using a view_reader on `alias`
/// switch at once) and returns the new projection, which stays live.
/// Returns bus::errc::invalid_argument if `next.view` is what `alias` names
/// now, bus::errc::timeout if it does not catch up in time (the alias is
/// unchanged and the new projection stopped), or the projection's failure.
[[nodiscard]] caf::expected<rebuild_result>
rebuild(std::shared_ptr<bus::event_bus> bus, std::shared_ptr<view_store> store,
        const std::string& alias, projection next, rebuild_options opts = {});

} // namespace esr::runtime::projections
