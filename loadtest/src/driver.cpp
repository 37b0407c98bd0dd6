#include "driver.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "esr/runtime/aggregates/client.hpp"
#include "load_worker.hpp"

namespace esr::loadtest {

namespace {

using clock = std::chrono::steady_clock;

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// Collects one sample from every worker and folds it into `total`. Returns
// the commands outstanding over all workers.
uint64_t collect(caf::scoped_actor& self, const std::vector<caf::actor>& workers,
                 load_result& total, interval_sample& row, int64_t& last_ns) {
  histogram interval;
  uint64_t outstanding = 0;
  for (auto& w : workers) {
    self->request(w, caf::infinite, sample_atom::value)
      .receive(
        [&](worker_sample& s) {
          interval.merge(s.latency);
          total.latency.merge(s.latency);
          total.acknowledged += s.acknowledged;
          total.errors.merge(s.errors);
          total.warmup_commands += s.warmup;
          row.commands += s.acknowledged + s.errors.rejected;
          row.failures += s.errors.failures();
          outstanding += s.outstanding;
          last_ns = std::max(last_ns, s.last_completion_ns);
        },
        [&](caf::error&) {
          // A worker that died is reported by its missing commands.
        });
  }
  row.p50_ms = ms(interval.quantile(0.5));
  row.p99_ms = ms(interval.quantile(0.99));
  return outstanding;
}

} // namespace

caf::expected<load_result> run_load(caf::actor_system& sys,
                                    const runtime::aggregates::aggregate_registry& reg,
                                    workload& w, const key_distribution& keys,
                                    const driver_options& opts, const progress_fn& progress) {
  if (opts.workers == 0 || (opts.rate <= 0 && opts.in_flight == 0))
    return caf::make_error(caf::sec::invalid_argument, "workers and in_flight must be > 0");
  auto workers_n = opts.rate > 0 ? opts.workers : std::min(opts.workers, opts.in_flight);
  auto control = std::make_shared<load_control>();
  std::vector<caf::actor> workers;
  for (size_t i = 0; i < workers_n; ++i) {
    auto conf = std::make_shared<worker_config>(worker_config{reg, &keys, w.make_generator(i),
                                                              control});
    // Split in_flight and the outstanding bound evenly, the remainder to the first.
    conf->in_flight = opts.in_flight / workers_n + (i < opts.in_flight % workers_n ? 1 : 0);
    conf->rate = opts.rate / static_cast<double>(workers_n);
    conf->max_outstanding = std::max<size_t>(1, opts.max_outstanding / workers_n);
    conf->timeout = opts.timeout;
    conf->seed = opts.seed + i;
    workers.push_back(sys.spawn<load_worker>(std::move(conf)));
  }
  caf::scoped_actor self{sys};
  for (auto& a : workers)
    caf::anon_send(a, go_atom::value);
  std::this_thread::sleep_for(opts.warmup);
  if (opts.count > 0)
    control->budget.store(static_cast<int64_t>(opts.count), std::memory_order_relaxed);
  auto start = clock::now();
  auto start_ns = now_ns();
  control->measuring.store(true, std::memory_order_release);
  load_result total;
  int64_t last_ns = start_ns;
  auto end = start + opts.duration;
  auto next = start + opts.interval;
  auto prev = start;
  for (;;) {
    auto stop_at = std::min(next, end);
    // Count mode: look for an exhausted budget every 10 ms.
    while (clock::now() < stop_at
           && (opts.count == 0 || control->budget.load(std::memory_order_relaxed) > 0))
      std::this_thread::sleep_for(
        std::min<clock::duration>(std::chrono::milliseconds{10}, stop_at - clock::now()));
    auto now = clock::now();
    bool finished = now >= end
                    || (opts.count > 0 && control->budget.load(std::memory_order_relaxed) <= 0);
    if (finished)
      break;
    interval_sample row;
    collect(self, workers, total, row, last_ns);
    row.end_s = std::chrono::duration<double>(now - start).count();
    row.commands_per_s
      = static_cast<double>(row.commands) / std::chrono::duration<double>(now - prev).count();
    prev = now;
    total.timeline.push_back(row);
    if (progress)
      progress(row, total);
    next += opts.interval;
  }
  // Stop sending, wait for every reply, then take the last sample.
  for (auto& a : workers) {
    self->request(a, caf::infinite, stop_atom::value)
      .receive([&](uint64_t dropped) { total.backlog_dropped += dropped; },
               [&](caf::error&) {});
  }
  interval_sample row;
  collect(self, workers, total, row, last_ns);
  auto now = clock::now();
  row.end_s = std::chrono::duration<double>(now - start).count();
  auto span = std::chrono::duration<double>(now - prev).count();
  row.commands_per_s = span > 0 ? static_cast<double>(row.commands) / span : 0;
  if (row.commands > 0 || total.timeline.empty())
    total.timeline.push_back(row);
  total.measured_s = static_cast<double>(std::max<int64_t>(last_ns - start_ns, 1)) / 1e9;
  for (auto& a : workers)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return total;
}

} // namespace esr::loadtest
