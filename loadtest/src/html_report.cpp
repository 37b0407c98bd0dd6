// The HTML report: one self-contained page with inline SVG charts (no
// scripts, fonts or anything fetched over the network).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "output.hpp"

namespace esr::loadtest {

namespace {

struct tick {
  double at;
  std::string label;
};

struct chart {
  std::string title;
  std::string y_label;
  std::vector<std::pair<double, double>> points; // (x, y)
  std::vector<tick> x_ticks;
  double x_min = 0;
  double x_max = 1;
};

std::string num(double v, const char* f = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Rounds `v` up to 1, 2 or 5 times a power of ten.
double nice_ceiling(double v) {
  if (v <= 0)
    return 1;
  auto p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v)
      return m * p;
  return 10 * p;
}

std::string render_chart(const chart& c) {
  const double w = 760, h = 300, left = 70, right = 20, top = 30, bottom = 45;
  double y_max = 0;
  for (auto& p : c.points)
    y_max = std::max(y_max, p.second);
  y_max = nice_ceiling(y_max * 1.05);
  auto x_of = [&](double x) {
    auto span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
    return left + (x - c.x_min) / span * (w - left - right);
  };
  auto y_of = [&](double y) { return h - bottom - y / y_max * (h - top - bottom); };
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(w, "%.0f")
                  + "' height='" + num(h, "%.0f") + "' role='img'>";
  s += "<text x='" + num(left, "%.0f") + "' y='18' class='title'>" + escape(c.title)
       + "</text>";
  for (int i = 0; i <= 5; ++i) {
    auto v = y_max * i / 5;
    auto y = num(y_of(v), "%.1f");
    s += "<line x1='" + num(left, "%.0f") + "' x2='" + num(w - right, "%.0f") + "' y1='" + y
         + "' y2='" + y + "' class='grid'/>";
    s += "<text x='" + num(left - 6, "%.0f") + "' y='" + y + "' class='ylab' dy='4'>"
         + (v >= 1000 ? with_commas(v) : num(v, "%.4g")) + "</text>";
  }
  for (auto& t : c.x_ticks) {
    auto x = num(x_of(t.at), "%.1f");
    s += "<line x1='" + x + "' x2='" + x + "' y1='" + num(top, "%.0f") + "' y2='"
         + num(h - bottom, "%.0f") + "' class='grid'/>";
    s += "<text x='" + x + "' y='" + num(h - bottom + 16, "%.0f") + "' class='xlab'>"
         + escape(t.label) + "</text>";
  }
  s += "<text x='14' y='" + num((top + h - bottom) / 2, "%.0f")
       + "' class='axis' transform='rotate(-90 14 " + num((top + h - bottom) / 2, "%.0f")
       + ")'>" + escape(c.y_label) + "</text>";
  std::string path;
  for (auto& p : c.points)
    path += (path.empty() ? "M" : " L") + num(x_of(p.first), "%.1f") + " "
            + num(y_of(p.second), "%.1f");
  s += "<path d='" + path + "' class='line'/>";
  for (auto& p : c.points)
    s += "<circle cx='" + num(x_of(p.first), "%.1f") + "' cy='" + num(y_of(p.second), "%.1f")
         + "' r='2.5' class='dot'><title>" + num(p.second, "%.4g") + "</title></circle>";
  s += "</svg>";
  return s;
}

// x position of quantile q on the percentile curve: log10(1 / (1 - q)).
double curve_x(double q) {
  return std::log10(1.0 / std::max(1.0 - q, 1e-6));
}

} // namespace

std::string render_html(const run_report& r) {
  chart tp{"Throughput over time", "commands/s", {}, {}, 0, 1};
  chart p99{"p99 latency per interval", "ms", {}, {}, 0, 1};
  for (auto& t : r.load.timeline) {
    tp.points.emplace_back(t.end_s, t.commands_per_s);
    p99.points.emplace_back(t.end_s, t.p99_ms);
  }
  auto end = r.load.timeline.empty() ? 1.0 : r.load.timeline.back().end_s;
  for (auto* c : {&tp, &p99}) {
    c->x_max = std::max(end, 1e-3);
    auto step = nice_ceiling(c->x_max / 6);
    for (double at = 0; at <= c->x_max + 1e-9; at += step)
      c->x_ticks.push_back({at, num(at, "%.4g") + " s"});
  }
  chart curve{"Latency by percentile (whole measured run)", "ms", {}, {}, 0, curve_x(0.999999)};
  for (auto q : curve_quantiles())
    curve.points.emplace_back(q >= 1.0 ? curve_x(0.999999) : curve_x(q),
                              static_cast<double>(r.load.latency.quantile(q)) / 1e6);
  for (auto [q, label] : std::vector<std::pair<double, const char*>>{
         {0.0, "0%"}, {0.9, "90%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"},
         {0.99999, "99.999%"}, {0.999999, "max"}})
    curve.x_ticks.push_back({curve_x(q), label});
  std::string s = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>esr-loadtest report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:820px}
h1{font-size:1.4em} pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
.ok{color:#070;font-weight:bold} .bad{color:#b00;font-weight:bold}
table{border-collapse:collapse} td{padding:2px 12px 2px 0}
svg{display:block;margin:1.5em 0} .grid{stroke:#ddd} .line{fill:none;stroke:#2a6fb0;stroke-width:2}
.dot{fill:#2a6fb0} .title{font-weight:bold;font-size:14px}
.ylab{font-size:11px;text-anchor:end} .xlab{font-size:11px;text-anchor:middle}
.axis{font-size:12px;text-anchor:middle}
</style></head><body>
)";
  auto& h = r.load.latency;
  s += "<h1>esr-loadtest " + escape(r.options.workload) + "</h1>\n";
  s += std::string{"<p>Verification: <span class='"} + (r.verify.ok ? "ok'>OK" : "bad'>FAILED")
       + "</span> &mdash; " + escape(r.verify.description) + "</p>\n<table>";
  auto row = [&](const std::string& k, const std::string& v) {
    s += "<tr><td>" + escape(k) + "</td><td><b>" + escape(v) + "</b></td></tr>";
  };
  row("commands/s", with_commas(r.commands_per_s()));
  row("commands", with_commas(static_cast<double>(r.load.commands())));
  row("p50 / p99 / p99.9 / max",
      num(h.quantile(0.5) / 1e6, "%.3f") + " / " + num(h.quantile(0.99) / 1e6, "%.3f") + " / "
        + num(h.quantile(0.999) / 1e6, "%.3f") + " / " + num(h.max() / 1e6, "%.3f") + " ms");
  if (r.raw_sync_events_per_s)
    row("raw LevelDB sync ceiling",
        with_commas(*r.raw_sync_events_per_s) + " events/s (ratio "
          + num(r.ratio_to_raw().value_or(0), "%.3f") + ")");
  s += "</table>\n";
  s += render_chart(tp) + "\n" + render_chart(p99) + "\n" + render_chart(curve) + "\n";
  s += "<h2>Summary</h2><pre>" + escape(render_summary(r)) + "</pre>\n";
  s += "<h2>JSON</h2><pre>" + escape(render_json(r)) + "</pre>\n</body></html>\n";
  return s;
}

} // namespace esr::loadtest
