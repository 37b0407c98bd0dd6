#include "cli_options.hpp"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include <caf/sec.hpp>

namespace esr::loadtest {

namespace {

caf::error bad(const std::string& what) {
  return caf::make_error(caf::sec::invalid_argument, what);
}

// Parses a number; false if `s` is not entirely a finite number.
bool to_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0' && std::isfinite(out);
}

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds{static_cast<int64_t>(std::llround(s * 1000))};
}

} // namespace

caf::expected<loadtest_options> parse_options(const std::vector<std::string>& args) {
  loadtest_options o;
  // A numeric option's setter returns a complaint, empty if the value fits.
  using setter = std::function<std::string(double)>;
  auto count = [](auto& field, double min) {
    return [&field, min](double v) -> std::string {
      if (v < min || v != std::floor(v))
        return "expected an integer >= " + std::to_string(static_cast<int64_t>(min));
      field = static_cast<std::decay_t<decltype(field)>>(v);
      return {};
    };
  };
  auto secs = [](std::chrono::milliseconds& field, double min) {
    return [&field, min](double v) -> std::string {
      if (v < min)
        return "expected seconds >= " + std::to_string(min);
      field = seconds(v);
      return {};
    };
  };
  std::map<std::string, setter> numeric{
    {"--aggregates", count(o.aggregates, 1)},
    {"--skew", [&](double v) { o.skew = v; return std::string{v > 0 ? "" : "must be > 0"}; }},
    {"--workers", count(o.load.workers, 1)},
    {"--in-flight", count(o.load.in_flight, 1)},
    {"--rate", [&](double v) { o.load.rate = v; return std::string{v >= 0 ? "" : "must be >= 0"}; }},
    {"--max-outstanding", count(o.load.max_outstanding, 1)},
    {"--duration", secs(o.load.duration, 0.01)},
    {"--warmup", secs(o.load.warmup, 0)},
    {"--count", count(o.load.count, 0)},
    {"--timeout", secs(o.load.timeout, 0)},
    {"--interval", secs(o.load.interval, 0.05)},
    {"--seed", count(o.load.seed, 0)},
    {"--sync-interval-ms", count(o.sync_interval_ms, 1)},
    {"--snapshot-every", count(o.snapshot_every, 0)},
    {"--shards", count(o.shards, 1)},
    {"--max-live", count(o.max_live, 0)},
    {"--idle-timeout", [&](double v) { o.idle_timeout_s = v; return std::string{v >= 0 ? "" : "must be >= 0"}; }},
    {"--max-batch", count(o.max_batch, 1)},
    {"--stash-capacity", count(o.stash_capacity, 1)},
    {"--threads", count(o.threads, 0)},
    {"--raw-events", count(o.raw_events, 0)},
  };
  std::map<std::string, std::string*> text{
    {"--keys", &o.keys}, {"--target", &o.target}, {"--dir", &o.dir}, {"--report", &o.report}};
  std::map<std::string, bool*> flags{{"--keep", &o.keep},         {"--restart", &o.restart},
                                     {"--json", &o.json},         {"--no-progress", &o.no_progress},
                                     {"--help", &o.help},         {"-h", &o.help}};
  for (size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    if (auto f = flags.find(a); f != flags.end()) {
      *f->second = true;
      continue;
    }
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      if (!o.workload.empty())
        return bad("unexpected argument: " + a);
      o.workload = a;
      continue;
    }
    if (i + 1 == args.size())
      return bad(a + " needs a value");
    auto& v = args[++i];
    if (auto n = numeric.find(a); n != numeric.end()) {
      double x = 0;
      if (!to_number(v, x))
        return bad(a + ": not a number: " + v);
      if (auto complaint = n->second(x); !complaint.empty())
        return bad(a + ": " + complaint + " (got " + v + ")");
      continue;
    }
    if (auto t = text.find(a); t != text.end()) {
      *t->second = v;
      continue;
    }
    if (a == "--durability") {
      auto m = persistence::parse_durability_mode(v);
      if (!m)
        return bad("--durability: expected sync, periodic or none, got " + v);
      o.durability = *m;
      continue;
    }
    o.params[a.substr(2)] = v;
  }
  if (o.help)
    return o;
  if (o.workload.empty())
    return bad("no workload given (see --help)");
  if (o.keys != "uniform" && o.keys != "zipfian")
    return bad("--keys: expected uniform or zipfian, got " + o.keys);
  if (o.target != "embedded")
    return bad("--target " + o.target
               + ": only the embedded target exists (esr has no cluster module yet)");
  if (o.load.count > 0 && o.load.duration == driver_options{}.duration) {
    // --count without --duration: the count decides (duration is a cap).
    o.load.duration = std::chrono::hours{24};
  }
  return o;
}

std::string usage() {
  std::string s =
    R"(usage: esr-loadtest WORKLOAD [options] [workload options]

Drives the esr runtime in-process on a data directory and reports throughput,
latency percentiles, errors, memory and bytes written, next to the raw
LevelDB WriteBatch(1000)+fsync ceiling of the same disk. Verifies the stored
result at the end and exits 1 if it does not hold (2: usage or setup error).

load shape:
  --aggregates N        number of aggregates (default 10000)
  --keys uniform|zipfian  key distribution (default uniform)
  --skew S              zipfian exponent, > 0 (default 0.99)
  --in-flight C         closed loop: commands in flight (default 1024)
  --rate R              open loop: R commands/s on a fixed schedule; latency is
                        measured from the intended send time (default: closed)
  --max-outstanding N   open loop: most commands in flight (default 100000)
  --workers N           driver actors (default 4)
  --duration S          measured seconds (default 10)
  --warmup S            unmeasured warm-up seconds (default 1)
  --count N             stop after N measured commands
  --timeout S           per-command timeout (default 30)
  --interval S          sampling interval (default 1)
  --seed N              random seed (default 1)
runtime:
  --durability sync|periodic|none  (default sync)
  --sync-interval-ms N  periodic mode fsync interval (default 10)
  --snapshot-every N    snapshot every N events per aggregate (default 0: off)
  --shards N            registry shards (default 16)
  --max-live N          most live aggregates, LRU passivation (default 1000000)
  --idle-timeout S      passivate after S idle seconds, 0 never (default 120)
  --max-batch N         commands per journal call per aggregate (default 64)
  --stash-capacity N    commands waiting per aggregate (default 1000)
  --threads N           CAF scheduler threads (default: one per core)
  --target embedded     where the runtime runs (only embedded exists)
  --dir D               use D/data and D/raw (wiped first; default: a temp dir)
  --keep                keep the data directory
  --restart             restart the runtime on the data directory after the run
                        and time the recovery of every aggregate
  --raw-events N        events for the raw ceiling (default 200000; 0 skips)
output:
  --json                one JSON object on stdout (summary on stderr)
  --report FILE.html    self-contained HTML report
  --no-progress         no live progress line

workloads:
)";
  for (auto& [name, help] : workload_names())
    s += "  " + name + ": " + help + "\n";
  return s;
}

} // namespace esr::loadtest
