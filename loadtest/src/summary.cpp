#include <cinttypes>
#include <cstdarg>
#include <cmath>
#include <cstdio>

#include "output.hpp"

namespace esr::loadtest {

namespace {

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));

std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string mib(uint64_t bytes) {
  return fmt("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

} // namespace

std::string with_commas(double x) {
  auto s = std::to_string(static_cast<int64_t>(std::llround(x)));
  std::string out;
  size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0)
      out += ',';
    out += s[i];
  }
  return out;
}

const std::vector<double>& curve_quantiles() {
  static const std::vector<double> qs{0.5,  0.75,  0.9,    0.95,    0.99,
                                      0.995, 0.999, 0.9995, 0.9999, 0.99999, 1.0};
  return qs;
}

std::string render_progress(const interval_sample& last, const load_result& total) {
  return fmt("[%6.1fs] %s commands | %s cmd/s | p99 %.2f ms | errors %s", last.end_s,
             with_commas(static_cast<double>(total.commands())).c_str(),
             with_commas(last.commands_per_s).c_str(), last.p99_ms,
             with_commas(static_cast<double>(total.errors.failures())).c_str());
}

std::string render_summary(const run_report& r) {
  auto& o = r.options;
  auto& h = r.load.latency;
  std::string s;
  s += fmt("esr-loadtest %s: %s aggregates (%s), ", o.workload.c_str(),
           with_commas(static_cast<double>(o.aggregates)).c_str(), r.keys.c_str());
  if (o.load.rate > 0)
    s += fmt("open loop at %s cmd/s", with_commas(o.load.rate).c_str());
  else
    s += fmt("closed loop, %zu in flight", o.load.in_flight);
  s += fmt(", durability %s, embedded on %s\n",
           persistence::to_string(o.durability).c_str(), r.data_dir.c_str());
  s += fmt("  commands     %s in %.2f s = %s cmd/s (%s acknowledged)\n",
           with_commas(static_cast<double>(r.load.commands())).c_str(), r.load.measured_s,
           with_commas(r.commands_per_s()).c_str(),
           with_commas(static_cast<double>(r.load.acknowledged)).c_str());
  s += fmt("  latency      p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
           ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)),
           ms(h.quantile(0.999)), ms(h.max()));
  auto& e = r.load.errors;
  s += fmt("  errors       conflict %" PRIu64 ", rejected %" PRIu64 ", unavailable %" PRIu64
           ", timeout %" PRIu64 "\n",
           e.conflict, e.rejected, e.unavailable, e.timeout);
  if (r.load.backlog_dropped > 0)
    s += fmt("  open loop    %" PRIu64 " due commands never sent (backlog at the end)\n",
             r.load.backlog_dropped);
  if (r.settle_s >= 0.01)
    s += fmt("  settle       %.2f s after the last reply until the workload settled\n",
             r.settle_s);
  if (r.raw_sync_events_per_s)
    s += fmt("  raw ceiling  %s events/s (LevelDB WriteBatch(1000)+fsync); ratio %.3f\n",
             with_commas(*r.raw_sync_events_per_s).c_str(), r.ratio_to_raw().value_or(0));
  s += fmt("  journal      %s events (%s/s), %s groups, %s fsyncs, %.1f events per group\n",
           with_commas(static_cast<double>(r.journal.events)).c_str(),
           with_commas(r.events_per_s()).c_str(),
           with_commas(static_cast<double>(r.journal.groups)).c_str(),
           with_commas(static_cast<double>(r.journal.syncs)).c_str(),
           r.journal.groups ? static_cast<double>(r.journal.events) / r.journal.groups : 0.0);
  s += fmt("  storage      data dir %s", mib(r.data_dir_bytes).c_str());
  if (r.io_write_bytes)
    s += fmt(", %s written during the run", mib(*r.io_write_bytes).c_str());
  s += "\n";
  if (r.memory)
    s += fmt("  memory       resident %s (peak %s), %s live aggregates\n",
             mib(r.memory->resident_bytes).c_str(), mib(r.memory->peak_resident_bytes).c_str(),
             with_commas(static_cast<double>(r.live_aggregates)).c_str());
  if (r.recovery)
    s += fmt("  recovery     %s: open %.3f s, scan %.3f s, %s aggregates in %.3f s (%s/s)\n",
             r.recovery->through_runtime ? "restarted runtime" : "rebuilt from storage",
             r.recovery->open_s, r.recovery->scan_s,
             with_commas(static_cast<double>(r.recovery->aggregates)).c_str(),
             r.recovery->recover_s, with_commas(r.recovery->aggregates_per_s()).c_str());
  if (!r.workload_figures.empty()) {
    s += "  workload    ";
    for (auto& [k, v] : r.workload_figures)
      s += " " + k + " " + with_commas(v);
    s += "\n";
  }
  s += fmt("  verification %s: %s\n", r.verify.ok ? "OK" : "FAILED",
           r.verify.description.c_str());
  return s;
}

} // namespace esr::loadtest
