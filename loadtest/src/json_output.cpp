#include <cmath>
#include <cstdio>
#include <optional>

#include "output.hpp"

namespace esr::loadtest {

namespace {

// A minimal JSON writer: objects and arrays with automatic commas.
class json_writer {
public:
  json_writer& open(const char* key, char bracket) {
    sep(key);
    out_ += bracket;
    first_ = true;
    return *this;
  }
  json_writer& close(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }
  json_writer& num(const char* key, double v) {
    sep(key);
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char buf[64];
    if (v == std::floor(v) && std::abs(v) < 1e15)
      std::snprintf(buf, sizeof buf, "%.0f", v);
    else
      std::snprintf(buf, sizeof buf, "%.6g", v);
    out_ += buf;
    return *this;
  }
  json_writer& opt(const char* key, std::optional<double> v) {
    if (v)
      return num(key, *v);
    sep(key);
    out_ += "null";
    return *this;
  }
  json_writer& boolean(const char* key, bool v) {
    sep(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  json_writer& str(const char* key, const std::string& v) {
    sep(key);
    out_ += '"';
    for (char c : v) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
    return *this;
  }
  std::string take() { return std::move(out_); }

private:
  void sep(const char* key) {
    if (!first_)
      out_ += ',';
    first_ = false;
    if (key != nullptr) {
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }
  }
  std::string out_;
  bool first_ = true;
};

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

} // namespace

std::string render_json(const run_report& r) {
  auto& o = r.options;
  auto& h = r.load.latency;
  json_writer j;
  j.open(nullptr, '{');
  j.str("workload", o.workload).str("target", o.target).str("keys", r.keys);
  j.num("aggregates", static_cast<double>(o.aggregates));
  j.str("loop", o.load.rate > 0 ? "open" : "closed");
  j.num("in_flight", static_cast<double>(o.load.in_flight)).num("rate", o.load.rate);
  j.str("durability", persistence::to_string(o.durability));
  j.num("snapshot_every", static_cast<double>(o.snapshot_every));
  j.num("max_live", static_cast<double>(o.max_live)).num("idle_timeout_s", o.idle_timeout_s);
  j.num("started_unix_s", static_cast<double>(r.started_unix_s));
  j.num("duration_s", r.load.measured_s);
  j.num("commands", static_cast<double>(r.load.commands()));
  j.num("acknowledged", static_cast<double>(r.load.acknowledged));
  j.num("warmup_commands", static_cast<double>(r.load.warmup_commands));
  j.num("commands_per_s", r.commands_per_s());
  j.num("p50_ms", ms(h.quantile(0.5))).num("p90_ms", ms(h.quantile(0.9)));
  j.num("p99_ms", ms(h.quantile(0.99))).num("p999_ms", ms(h.quantile(0.999)));
  j.num("max_ms", ms(h.max())).num("mean_ms", h.mean() / 1e6);
  j.open("errors", '{');
  j.num("conflict", static_cast<double>(r.load.errors.conflict));
  j.num("rejected", static_cast<double>(r.load.errors.rejected));
  j.num("unavailable", static_cast<double>(r.load.errors.unavailable));
  j.num("timeout", static_cast<double>(r.load.errors.timeout));
  j.close('}');
  j.num("backlog_dropped", static_cast<double>(r.load.backlog_dropped));
  j.opt("raw_sync_events_per_s", r.raw_sync_events_per_s);
  j.opt("ratio_to_raw", r.ratio_to_raw());
  j.num("settle_s", r.settle_s);
  j.num("events_persisted", static_cast<double>(r.journal.events));
  j.num("events_per_s", r.events_per_s());
  j.open("journal", '{');
  j.num("groups", static_cast<double>(r.journal.groups));
  j.num("writes", static_cast<double>(r.journal.writes));
  j.num("events", static_cast<double>(r.journal.events));
  j.num("syncs", static_cast<double>(r.journal.syncs));
  j.close('}');
  j.opt("bytes_written",
        r.io_write_bytes ? std::optional<double>{static_cast<double>(*r.io_write_bytes)}
                         : std::nullopt);
  j.num("data_dir_bytes", static_cast<double>(r.data_dir_bytes));
  j.opt("rss_bytes", r.memory ? std::optional<double>{static_cast<double>(
                                  r.memory->resident_bytes)}
                              : std::nullopt);
  j.opt("peak_rss_bytes", r.memory ? std::optional<double>{static_cast<double>(
                                       r.memory->peak_resident_bytes)}
                                   : std::nullopt);
  j.num("live_aggregates", static_cast<double>(r.live_aggregates));
  if (r.recovery) {
    j.open("recovery", '{');
    j.str("mode", r.recovery->through_runtime ? "restarted_runtime" : "rebuilt_from_storage");
    j.num("open_s", r.recovery->open_s).num("scan_s", r.recovery->scan_s);
    j.num("recover_s", r.recovery->recover_s);
    j.num("aggregates", static_cast<double>(r.recovery->aggregates));
    j.num("aggregates_per_s", r.recovery->aggregates_per_s());
    j.close('}');
  } else {
    j.str("recovery_error", r.verify_error);
  }
  j.open("verification", '{');
  j.boolean("ok", r.verify.ok).str("description", r.verify.description);
  j.num("aggregates", static_cast<double>(r.verify.aggregates));
  j.close('}');
  j.open("workload_figures", '{');
  for (auto& [k, v] : r.workload_figures)
    j.num(k.c_str(), v);
  j.close('}');
  j.open("timeline", '[');
  for (auto& t : r.load.timeline) {
    j.open(nullptr, '{');
    j.num("end_s", t.end_s).num("commands", static_cast<double>(t.commands));
    j.num("failures", static_cast<double>(t.failures)).num("commands_per_s", t.commands_per_s);
    j.num("p50_ms", t.p50_ms).num("p99_ms", t.p99_ms);
    j.close('}');
  }
  j.close(']');
  j.open("percentiles", '[');
  for (auto q : curve_quantiles()) {
    j.open(nullptr, '{');
    j.num("quantile", q).num("ms", ms(h.quantile(q)));
    j.close('}');
  }
  j.close(']');
  j.close('}');
  return j.take();
}

} // namespace esr::loadtest
