#pragma once

#include <caf/fwd.hpp>

#include "bench_registry.hpp"

namespace esr::bench {

/// Applies the CAF scheduler options every esr-bench subcommand accepts:
///   --scheduler-threads N   CAF worker threads (default: one per core)
///   --aggressive-polls N, --moderate-polls N   work-stealing poll attempts
/// (esr's journal writer and LevelDB's compaction run on their own threads
/// next to the CAF workers; see README "Performance".)
void apply_scheduler_options(caf::actor_system_config& cfg, const args& a);

} // namespace esr::bench
