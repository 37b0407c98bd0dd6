#include "caf_tuning.hpp"

#include <cstddef>

#include <caf/actor_system_config.hpp>

#include "bench_util.hpp"

namespace esr::bench {

void apply_scheduler_options(caf::actor_system_config& cfg, const args& a) {
  if (auto n = int_option(a, "--scheduler-threads", 0); n > 0)
    cfg.set("scheduler.max-threads", static_cast<size_t>(n));
  if (auto n = int_option(a, "--aggressive-polls", -1); n >= 0)
    cfg.set("work-stealing.aggressive-poll-attempts", static_cast<size_t>(n));
  if (auto n = int_option(a, "--moderate-polls", -1); n >= 0)
    cfg.set("work-stealing.moderate-poll-attempts", static_cast<size_t>(n));
}

} // namespace esr::bench
