#include "caf_tuning.hpp"

#include <algorithm>
#include <cstddef>
#include <thread>

#include <caf/actor_system_config.hpp>

#include "bench_util.hpp"

namespace esr::bench {

void apply_scheduler_options(caf::actor_system_config& cfg, const args& a) {
  // Default: one worker per core. CAF's own default (at least 4) makes the
  // workers, the journal's writer thread and LevelDB's compaction thread
  // preempt each other on small machines (measured: on 2 cores, 4 workers
  // gave 0.75-0.9x the durable commands/s of 2).
  auto cores = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  if (auto n = int_option(a, "--scheduler-threads", cores); n > 0)
    cfg.set("scheduler.max-threads", static_cast<size_t>(n));
  if (auto n = int_option(a, "--aggressive-polls", -1); n >= 0)
    cfg.set("work-stealing.aggressive-poll-attempts", static_cast<size_t>(n));
  if (auto n = int_option(a, "--moderate-polls", -1); n >= 0)
    cfg.set("work-stealing.moderate-poll-attempts", static_cast<size_t>(n));
}

} // namespace esr::bench
