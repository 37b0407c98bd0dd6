// esr-bench projections: how fast subscriptions and projections catch up
// from the journal, and how far a live projection lags behind the writers
// under the aggregate benchmark's load (its counter aggregates driven the
// same way: 1,024 commands in flight over 10,000 aggregates, one durable
// event per command, sync mode), with the raw LevelDB ceiling measured in
// the same run.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "aggregate_load.hpp"
#include "bench_util.hpp"
#include "caf_tuning.hpp"
#include "esr/actors/errc.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/projections/projection.hpp"

namespace esr::bench {

namespace {

using namespace esr::persistence;
using namespace esr::runtime;

constexpr size_t payload_bytes = 100;

caf::expected<storage> open_store(const std::string& dir, durability_mode mode) {
  leveldb_options opts;
  opts.path = dir;
  opts.durability = mode;
  return open_leveldb(opts);
}

/// The projection both measurements run: the last sequence number per stream.
projections::projection last_seq_projection(std::string view) {
  projections::projection p;
  p.view = std::move(view);
  p.apply = [](projections::view_txn& txn, const event_envelope& e) -> caf::error {
    txn.put(e.persistence_id, std::to_string(e.sequence_nr));
    return caf::none;
  };
  return p;
}

/// Appends `n` events over `streams` streams in calls of 1,000 writes.
bool fill(journal& j, size_t n, size_t streams, const std::string& payload) {
  for (size_t done = 0; done < n;) {
    std::vector<atomic_write> ws;
    for (size_t k = 0; k < 1000 && done < n; ++k, ++done) {
      atomic_write w;
      w.persistence_id = "bench-" + std::to_string(done % streams);
      event_envelope e;
      e.event_type = "bench.Event";
      e.payload = payload;
      w.events.push_back(std::move(e));
      ws.push_back(std::move(w));
    }
    for (auto& r : j.write(std::move(ws)))
      if (!r) {
        std::fprintf(stderr, "esr-bench: %s\n", render(r.error()).c_str());
        return false;
      }
  }
  return true;
}

struct catchup_result {
  double read_all = 0;     ///< journal::read_all, events/s
  double subscription = 0; ///< bus subscription from the start, events/s
  double projection = 0;   ///< projection into the LevelDB view store, events/s
};

caf::expected<catchup_result> measure_catchup(const args& a, size_t n,
                                              const std::string& payload) {
  auto st = open_store(fresh_dir(a, "catchup"), durability_mode::none);
  if (!st)
    return std::move(st.error());
  auto& j = *st->events;
  if (!fill(j, n, 10000, payload))
    return make_error(errc::io_error, "fill failed");
  catchup_result r;
  auto last = j.last_position();
  // Raw journal read of the global log.
  uint64_t seen = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto res = j.read_all(1, max_seq, event_filter::all(), [&](const event_envelope&) {
    ++seen;
    return true;
  });
  if (!res)
    return std::move(res.error());
  r.read_all = static_cast<double>(seen) / seconds_since(t0);
  // A subscription from the start.
  auto bus = runtime::bus::event_bus::make(st->events);
  std::atomic<uint64_t> delivered{0};
  t0 = std::chrono::steady_clock::now();
  auto sub = bus->subscribe({}, [&](const runtime::bus::event_batch& b) {
    delivered += b.events.size();
    return caf::error{};
  });
  if (!sub)
    return std::move(sub.error());
  if (auto err = (*sub)->wait_for(last, std::chrono::minutes{5}))
    return err;
  r.subscription = static_cast<double>(delivered.load()) / seconds_since(t0);
  (*sub)->stop();
  // A projection into the view store.
  projections::view_store_options vo;
  vo.path = fresh_dir(a, "catchup-views");
  auto views = projections::view_store::open(vo);
  if (!views)
    return std::move(views.error());
  t0 = std::chrono::steady_clock::now();
  auto runner = projections::projection_runner::start(bus, *views, last_seq_projection("v"));
  if (!runner)
    return std::move(runner.error());
  if (auto err = (*runner)->wait_for(last, std::chrono::minutes{5}))
    return err;
  r.projection = static_cast<double>(last) / seconds_since(t0);
  return r;
}

struct live_result {
  double write_events_per_s = 0;
  std::vector<double> lag_ms;        ///< durable commit -> view committed
  std::vector<double> lag_commit_ms; ///< commit start (event timestamp) -> view committed
  uint64_t live_batches = 0;    ///< Batches the projection took from the live buffer.
  uint64_t catchup_batches = 0; ///< Batches it read from the journal.
};

/// When each group became durable (the commit listener's call), by position.
struct publish_log {
  std::mutex mtx;
  std::vector<std::pair<uint64_t, int64_t>> groups; ///< (last position, time us)

  int64_t time_of(uint64_t pos) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = std::lower_bound(groups.begin(), groups.end(), std::make_pair(pos, int64_t{0}),
                              [](auto& x, auto& y) { return x.first < y.first; });
    return i == groups.end() ? 0 : i->second;
  }
};

caf::expected<live_result> measure_live(const args& a, double seconds, int in_flight_max,
                                        size_t streams) {
  auto st = open_store(fresh_dir(a, "live"), durability_mode::sync);
  if (!st)
    return std::move(st.error());
  auto& j = *st->events;
  publish_log published;
  auto token = j.add_commit_listener([&](const std::vector<event_envelope>& g) {
    std::lock_guard<std::mutex> guard{published.mtx};
    published.groups.emplace_back(g.back().global_position, now_us());
  });
  projections::view_store_options vo;
  vo.path = fresh_dir(a, "live-views");
  auto views = projections::view_store::open(vo);
  if (!views)
    return std::move(views.error());
  live_result r;
  std::atomic<bool> sampling{false};
  std::mutex samples_mtx;
  projections::projection_options po;
  po.on_committed = [&](const runtime::bus::event_batch& b) {
    if (!sampling.load())
      return;
    auto now = now_us();
    std::lock_guard<std::mutex> guard{samples_mtx};
    for (auto& e : b.events) {
      r.lag_ms.push_back(static_cast<double>(now - published.time_of(e.global_position))
                         / 1000.0);
      r.lag_commit_ms.push_back(static_cast<double>(now - e.timestamp_us) / 1000.0);
    }
  };
  auto bus = runtime::bus::event_bus::make(st->events);
  auto runner
    = projections::projection_runner::start(bus, *views, last_seq_projection("v"), po);
  if (!runner)
    return std::move(runner.error());
  // The load of `esr-bench aggregates`: `in_flight_max` commands in flight
  // to `streams` counter aggregates, one durable event each.
  {
    caf::actor_system_config cfg;
    actors::register_errors(cfg);
    apply_scheduler_options(cfg, a);
    caf::actor_system sys{cfg};
    auto reg = runtime::aggregates::aggregate_registry::start(sys, *st, {make_type("live", 0)});
    if (!reg)
      return std::move(reg.error());
    auto ids = make_ids(streams, "s");
    double warmup = std::min(1.0, seconds / 4);
    std::thread sampler{[&] {
      std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
      sampling = true;
    }};
    auto load = run_load(sys, *reg, "live", ids, command{incr{1}}, UINT64_MAX,
                         static_cast<size_t>(in_flight_max), false,
                         std::chrono::milliseconds{static_cast<int64_t>(seconds * 1000)});
    sampler.join();
    sampling = false;
    r.write_events_per_s = load.per_s;
    reg->stop();
    caf::scoped_actor self{sys};
    for (auto& s : reg->shards())
      self->wait_for(s);
  }
  if (auto err = (*runner)->wait_caught_up(std::chrono::minutes{1}))
    return err;
  (*runner)->stop();
  auto stats = (*runner)->statistics();
  r.live_batches = stats.live_batches;
  r.catchup_batches = stats.catchup_batches;
  j.remove_commit_listener(token);
  return r;
}

double ms_quantile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  return quantile(xs, q);
}

int run(const args& a) {
  auto json = has_flag(a, "--json");
  auto events = static_cast<size_t>(int_option(a, "--events", 1000000));
  auto seconds = static_cast<double>(int_option(a, "--millis", 5000)) / 1000.0;
  auto in_flight = static_cast<int>(int_option(a, "--in-flight", 1024));
  auto streams = static_cast<size_t>(int_option(a, "--streams", 10000));
  auto payload = make_payload(payload_bytes, 11);
  auto raw_sync = raw_leveldb_sync_events_per_s(fresh_dir(a, "raw"), 300000, payload_bytes);
  auto catchup = measure_catchup(a, events, payload);
  if (!catchup) {
    std::fprintf(stderr, "esr-bench: %s\n", runtime::bus::render(catchup.error()).c_str());
    return 1;
  }
  auto live = measure_live(a, seconds, in_flight, streams);
  if (!live) {
    std::fprintf(stderr, "esr-bench: %s\n", runtime::bus::render(live.error()).c_str());
    return 1;
  }
  auto p50 = ms_quantile(live->lag_ms, 0.5);
  auto p99 = ms_quantile(live->lag_ms, 0.99);
  auto p999 = ms_quantile(live->lag_ms, 0.999);
  auto max = ms_quantile(live->lag_ms, 1.0);
  auto c50 = ms_quantile(live->lag_commit_ms, 0.5);
  auto c99 = ms_quantile(live->lag_commit_ms, 0.99);
  if (json) {
    std::printf("{\"payload_bytes\":%zu,\"raw_sync_events_per_s\":%.0f,"
                "\"catchup_events\":%zu,\"read_all_events_per_s\":%.0f,"
                "\"catchup_events_per_s\":%.0f,\"projection_catchup_events_per_s\":%.0f,"
                "\"live_in_flight\":%d,\"live_streams\":%zu,\"live_write_events_per_s\":%.0f,"
                "\"live_lag_samples\":%zu,\"live_lag_p50_ms\":%.3f,\"live_lag_p99_ms\":%.3f,"
                "\"live_lag_p999_ms\":%.3f,\"live_lag_max_ms\":%.3f,"
                "\"live_lag_from_commit_start_p50_ms\":%.3f,"
                "\"live_lag_from_commit_start_p99_ms\":%.3f,"
                "\"live_batches\":%llu,\"live_catchup_batches\":%llu,"
                "\"goal_catchup_events_per_s\":1000000,\"goal_live_lag_p99_ms\":10}\n",
                payload_bytes, raw_sync, events, catchup->read_all, catchup->subscription,
                catchup->projection, in_flight, streams, live->write_events_per_s,
                live->lag_ms.size(), p50, p99, p999, max, c50, c99,
                static_cast<unsigned long long>(live->live_batches),
                static_cast<unsigned long long>(live->catchup_batches));
    return 0;
  }
  std::printf("esr-bench projections (%zu-byte payloads)\n\n", payload_bytes);
  std::printf("  %-52s %12.0f events/s\n", "raw LevelDB WriteBatch(1000)+fsync", raw_sync);
  std::printf("  %-52s %12.0f events/s\n", "journal read_all (global log)", catchup->read_all);
  std::printf("  %-52s %12.0f events/s  (goal >= 1M)\n",
              "subscription catch-up from position 1", catchup->subscription);
  std::printf("  %-52s %12.0f events/s\n", "projection catch-up into the LevelDB view store",
              catchup->projection);
  std::printf("\n  live, %d commands in flight over %zu aggregates, sync: %.0f events/s written\n",
              in_flight, streams, live->write_events_per_s);
  std::printf("  projection lag, durable commit -> view committed: p50 %.2f ms, p99 %.2f ms"
              " (goal <= 10), p99.9 %.2f ms, max %.2f ms (%zu samples)\n",
              p50, p99, p999, max, live->lag_ms.size());
  std::printf("  projection lag, commit start (incl. fsync) -> view committed: p50 %.2f ms,"
              " p99 %.2f ms\n", c50, c99);
  std::printf("  projection batches: %llu live, %llu read from the journal\n",
              static_cast<unsigned long long>(live->live_batches),
              static_cast<unsigned long long>(live->catchup_batches));
  return 0;
}

} // namespace

ESR_BENCH_REGISTER("projections",
                   "catch-up read events/s and live projection lag under write load", run);

} // namespace esr::bench
