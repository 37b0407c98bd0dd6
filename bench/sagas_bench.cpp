// esr-bench sagas: order-fulfilment saga completions/s with N concurrent
// orders (happy path: reserve stock -> charge -> confirm), and the time from
// OrderPlaced (the PlaceOrder reply: the event is durable) to the saga's
// completion after OrderConfirmed (p50/p99), on a LevelDB journal in sync
// mode (each acknowledged write fsynced, group commit), in the same run as
// the raw LevelDB sync ceiling.
//
// Sustained (the figure the goal is about): a closed loop, N orders are
// placed and each completion places a new one, so N sagas are always in
// flight; completions are counted in a window after a warm-up, with the
// pipeline full and LevelDB's background work (memtable flushes,
// compactions) and the stream index's flushes running as they do in
// production; CPU is that of the window. Burst (also reported): N orders
// placed at once and timed until the last completes; it is shorter than one
// memtable, so most of LevelDB's background work for it comes after it.
//
//   esr-bench sagas [--json] [--orders 1000,10000] [--skus 100] [--dir D]
//                   [--durability sync|periodic] [--batch 4096 (saga step batch)]
//                   [--warmup-ms 1000] [--window-ms 3000]
//                   [--recoveries 64 (registry max_concurrent_recoveries)]
//                   [--idle-ms 120000 (registry idle_timeout: finished orders'
//                    aggregates passivate after it)]

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "caf_tuning.hpp"

#ifdef ESR_HAVE_ORDER_PAYMENT

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "aggregates.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/error.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "fulfilment_saga.hpp"

namespace esr::bench {

namespace {

using namespace order_payment;
namespace agg = esr::runtime::aggregates;
using clock_type = std::chrono::steady_clock;

struct saga_result {
  size_t orders = 0;    ///< Orders kept in flight.
  size_t completed = 0; ///< Sagas completed in the measurement window.
  double seconds = 0;
  double completions_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t groups = 0; ///< Journal group commits during the run.
  uint64_t events = 0; ///< Events stored during the run.
  double cpu_us_per_completion = 0; ///< All threads' CPU during the run.
  /// The same orders placed at once (run_burst), if measured.
  std::unique_ptr<saga_result> burst;
  bool ok = false;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

/// The PlaceOrder of order `i`.
PlaceOrder order_of(size_t i, size_t skus) {
  PlaceOrder p;
  p.set_order_id("b" + std::to_string(i));
  p.set_customer("c" + std::to_string(i % 1000));
  p.set_sku("sku" + std::to_string(i % skus));
  p.set_quantity(1);
  p.set_total_cents(1999);
  p.set_card(card_ok);
  return p;
}

/// Places orders `first`, `first + step`, ... below `n`, all at once, as
/// tagged commands (an actor with thousands of CAF requests in flight spends
/// its time in CAF's linear search of pending requests); `placed(i, ok)` is
/// called with each answer.
caf::behavior order_placer(caf::event_based_actor* self, agg::aggregate_registry reg,
                           size_t first, size_t step, size_t n, size_t skus,
                           std::function<void(size_t, bool)> placed) {
  for (auto i = first; i < n; i += step) {
    auto p = order_of(i, skus);
    agg::command_options co;
    co.command_id = "bench/" + p.order_id();
    auto id = p.order_id();
    agg::send_tagged(self, reg, agg::make_command("order", id, order_command{std::move(p)}, co),
                     i + 1);
  }
  return {[placed](actors::tagged_reply& r) {
    placed(static_cast<size_t>(r.tag - 1), !r.error);
  }};
}

/// Stocks SKUs sku0 .. sku<skus-1> with plenty of every item.
void add_stock(agg::aggregate_registry& reg, int skus) {
  agg::aggregate_client client{reg};
  for (int s = 0; s < skus; ++s) {
    AddStock st;
    st.set_sku("sku" + std::to_string(s));
    st.set_quantity(1000000000);
    (void) client.call<StockLevel>("inventory", st.sku(), inventory_command{st});
  }
}

/// The actor system, store, registry and bus of one run, on a fresh
/// directory.
struct saga_stack {
  caf::actor_system_config cfg; ///< Outlives sys (CAF keeps a reference).
  std::unique_ptr<caf::actor_system> sys;
  persistence::storage store;
  std::optional<agg::aggregate_registry> reg;
  std::shared_ptr<runtime::bus::event_bus> bus;
  std::string dir;

  /// Starts the fulfilment saga with `so` and stocks `skus` SKUs; nullptr
  /// (after printing why, and stopping the registry) on failure.
  std::unique_ptr<esr::sagas::saga_runtime> start_saga(esr::sagas::saga_options so, int skus) {
    auto rt = esr::sagas::saga_runtime::start(*sys, bus, *reg, make_fulfilment_saga(), so);
    if (!rt) {
      std::fprintf(stderr, "esr-bench: %s\n", esr::sagas::render(rt.error()).c_str());
      reg->stop();
      return nullptr;
    }
    add_stock(*reg, skus);
    return std::move(*rt);
  }

  /// Stops `rt` (if any), the registry and the actor system; removes the
  /// directory.
  void close(std::unique_ptr<esr::sagas::saga_runtime> rt) {
    if (rt)
      rt->stop();
    reg->stop();
    rt.reset();
    sys.reset();
    remove_dir(dir);
  }
};

/// Opens a saga_stack with the order, inventory and payment types on the
/// fresh directory `tag`; nullptr (after printing why) on failure.
std::unique_ptr<saga_stack> open_stack(const args& a, const std::string& tag,
                                       persistence::durability_mode mode) {
  auto st = std::make_unique<saga_stack>();
  st->dir = fresh_dir(a, tag);
  esr::sagas::register_errors(st->cfg);
  apply_scheduler_options(st->cfg, a);
  st->sys = std::make_unique<caf::actor_system>(st->cfg);
  persistence::leveldb_options lo;
  lo.path = st->dir;
  lo.durability = mode;
  auto store = persistence::open_leveldb(lo);
  if (!store) {
    std::fprintf(stderr, "esr-bench: %s\n", esr::sagas::render(store.error()).c_str());
    return nullptr;
  }
  st->store = *store;
  agg::registry_options ro;
  ro.max_concurrent_recoveries = static_cast<size_t>(int_option(a, "--recoveries", 64));
  ro.idle_timeout = std::chrono::milliseconds{
    int_option(a, "--idle-ms", static_cast<int64_t>(ro.idle_timeout.count()))};
  auto reg = agg::aggregate_registry::start(
    *st->sys, st->store, {make_order_type(), make_inventory_type(), make_payment_type()}, ro);
  if (!reg) {
    std::fprintf(stderr, "esr-bench: %s\n", esr::sagas::render(reg.error()).c_str());
    return nullptr;
  }
  st->reg.emplace(std::move(*reg));
  st->bus = runtime::bus::event_bus::make(st->store.events);
  return st;
}

/// Burst: all `n` orders placed at once, timed until the last completes
/// (the pipeline fills and drains; LevelDB's background work of the run
/// mostly comes after it).
saga_result run_burst(const args& a, size_t n, int skus, persistence::durability_mode mode) {
  saga_result res;
  res.orders = n;
  auto st = open_stack(a, "sagas-burst-" + std::to_string(n), mode);
  if (!st)
    return res;
  auto& sys = st->sys;
  auto& store = st->store;
  auto& reg = st->reg;
  std::vector<std::atomic<int64_t>> placed(n);
  std::vector<double> latencies_ms;
  latencies_ms.reserve(n);
  std::mutex m;
  std::condition_variable cv;
  size_t done = 0;
  esr::sagas::saga_options so;
  so.max_batch = static_cast<size_t>(int_option(a, "--batch", 4096));
  so.on_completed = [&](const std::string& instance, const std::string&) {
    auto idx = std::stoul(instance.substr(1));
    auto t = now_ns();
    std::lock_guard<std::mutex> guard{m};
    if (idx < n && placed[idx].load() > 0)
      latencies_ms.push_back(static_cast<double>(t - placed[idx].load()) / 1e6);
    if (++done == n)
      cv.notify_one();
  };
  auto rt = st->start_saga(std::move(so), skus);
  if (!rt)
    return res;
  {
    auto before = store.events->stats();
    auto cpu0 = cpu_seconds();
    auto t0 = clock_type::now();
    std::function<void(size_t, bool)> on_placed = [&placed](size_t i, bool ok) {
      if (ok)
        placed[i].store(now_ns());
    };
    constexpr size_t placers = 2;
    std::vector<caf::actor> drivers;
    for (size_t k = 0; k < placers; ++k)
      drivers.push_back(sys->spawn(order_placer, *reg, k, placers, n,
                                   static_cast<size_t>(skus), on_placed));
    std::unique_lock<std::mutex> lock{m};
    res.ok = cv.wait_for(lock, std::chrono::seconds{300}, [&] { return done == n; });
    res.seconds = seconds_since(t0);
    res.cpu_us_per_completion = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(n);
    auto after = store.events->stats();
    res.groups = after.groups - before.groups;
    res.events = after.events - before.events;
    for (auto& d : drivers)
      caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  }
  st->close(std::move(rt));
  std::sort(latencies_ms.begin(), latencies_ms.end());
  res.completed = done;
  res.completions_per_s = res.seconds > 0 ? static_cast<double>(done) / res.seconds : 0;
  res.p50_ms = quantile(latencies_ms, 0.50);
  res.p99_ms = quantile(latencies_ms, 0.99);
  return res;
}

/// The state shared by a closed-loop run's placer, the saga's completion
/// callback and the main thread.
struct closed_loop {
  size_t skus = 0;
  size_t capacity = 0;            ///< Most orders the run may place.
  std::atomic<size_t> next{0};    ///< Index of the next order to place.
  std::atomic<bool> placing{true};  ///< False once the window is over.
  std::atomic<int64_t> in_flight{0}; ///< Placed (or being placed), not completed.
  std::unique_ptr<std::atomic<int64_t>[]> placed; ///< PlaceOrder answered (ns), by index.
};

using place_next_atom = caf::atom_constant<caf::atom("sb_next")>;

/// Places the next order of `run` (if the run is still placing) as a tagged
/// command from `self`.
void place_next(caf::event_based_actor* self, const agg::aggregate_registry& reg,
                closed_loop& run) {
  if (!run.placing.load())
    return;
  auto i = run.next.fetch_add(1);
  if (i >= run.capacity) {
    run.placing = false;
    return;
  }
  ++run.in_flight;
  auto p = order_of(i, run.skus);
  agg::command_options co;
  co.command_id = "bench/" + p.order_id();
  auto id = p.order_id();
  agg::send_tagged(self, reg, agg::make_command("order", id, order_command{std::move(p)}, co),
                   i + 1);
}

/// The closed loop's placer: places `count` orders when told
/// (place_next_atom, count), then one more each time it is told that an
/// order completed (place_next_atom), and records when each PlaceOrder was
/// answered (the OrderPlaced event is durable).
caf::behavior loop_placer(caf::event_based_actor* self, agg::aggregate_registry reg,
                          std::shared_ptr<closed_loop> run) {
  return {
    [self, reg, run](place_next_atom, size_t count) {
      for (size_t k = 0; k < count; ++k)
        place_next(self, reg, *run);
    },
    [self, reg, run](place_next_atom) { place_next(self, reg, *run); },
    [run](actors::tagged_reply& r) {
      if (!r.error)
        run->placed[r.tag - 1].store(now_ns());
    },
  };
}

/// Closed loop with `n` orders in flight: each completion places a new
/// order. Completions are counted in a window of `seconds` after `warmup`
/// seconds, so the pipeline is full (neither filling nor draining).
saga_result run_orders(const args& a, size_t n, int skus, persistence::durability_mode mode) {
  saga_result res;
  res.orders = n;
  auto warmup = std::chrono::milliseconds{int_option(a, "--warmup-ms", 1000)};
  auto window = std::chrono::milliseconds{int_option(a, "--window-ms", 3000)};
  auto st = open_stack(a, "sagas-" + std::to_string(n), mode);
  if (!st)
    return res;
  auto& sys = st->sys;
  auto& store = st->store;
  auto& reg = st->reg;
  auto run = std::make_shared<closed_loop>();
  run->skus = static_cast<size_t>(skus);
  // Room for 100k completions/s over the whole run.
  run->capacity = n + static_cast<size_t>((warmup + window).count()) * 100 + 100000;
  run->placed.reset(new std::atomic<int64_t>[run->capacity]);
  for (size_t i = 0; i < run->capacity; ++i)
    run->placed[i].store(0);
  std::atomic<int64_t> window_start{INT64_MAX}, window_end{INT64_MAX};
  std::vector<double> latencies_ms;
  std::mutex m;
  std::condition_variable cv;
  size_t counted = 0;
  caf::actor placer;
  esr::sagas::saga_options so;
  so.max_batch = static_cast<size_t>(int_option(a, "--batch", 4096));
  so.on_completed = [&](const std::string& instance, const std::string&) {
    // Once the final step is durable: count it if it completed in the window, and
    // keep `n` orders in flight.
    auto idx = std::stoul(instance.substr(1));
    auto t = now_ns();
    if (t >= window_start.load() && t < window_end.load() && idx < run->capacity) {
      std::lock_guard<std::mutex> guard{m};
      ++counted;
      if (auto p = run->placed[idx].load(); p > 0)
        latencies_ms.push_back(static_cast<double>(t - p) / 1e6);
    }
    if (--run->in_flight == 0 && !run->placing.load())
      cv.notify_one();
    if (run->placing.load())
      caf::anon_send(placer, place_next_atom::value);
  };
  auto rt = st->start_saga(std::move(so), skus);
  if (!rt)
    return res;
  placer = sys->spawn(loop_placer, *reg, run);
  caf::anon_send(placer, place_next_atom::value, n);
  std::this_thread::sleep_for(warmup);
  auto before = store.events->stats();
  auto cpu0 = cpu_seconds();
  auto t0 = clock_type::now();
  window_start = now_ns();
  window_end = window_start.load() + std::chrono::nanoseconds{window}.count();
  std::this_thread::sleep_for(window);
  res.seconds = seconds_since(t0);
  auto cpu = cpu_seconds() - cpu0;
  auto after = store.events->stats();
  run->placing = false;
  {
    std::unique_lock<std::mutex> lock{m};
    // The orders still in flight finish (not counted) before the teardown.
    res.ok = cv.wait_for(lock, std::chrono::seconds{120},
                         [&] { return run->in_flight.load() <= 0; })
             && run->next.load() < run->capacity;
    res.completed = counted;
  }
  res.groups = after.groups - before.groups;
  res.events = after.events - before.events;
  res.cpu_us_per_completion = res.completed ? cpu * 1e6 / static_cast<double>(res.completed) : 0;
  caf::anon_send_exit(placer, caf::exit_reason::user_shutdown);
  st->close(std::move(rt));
  std::sort(latencies_ms.begin(), latencies_ms.end());
  res.completions_per_s = res.seconds > 0 ? static_cast<double>(res.completed) / res.seconds : 0;
  res.p50_ms = quantile(latencies_ms, 0.50);
  res.p99_ms = quantile(latencies_ms, 0.99);
  return res;
}

/// Baseline without the saga: `n` PlaceOrder commands to new Order
/// aggregates, all in flight (sent as by run_orders), on the same store
/// setup. Returns commands/s.
double command_rate(const args& a, size_t n, persistence::durability_mode mode) {
  auto st = open_stack(a, "commands-" + std::to_string(n), mode);
  if (!st)
    return 0;
  auto& sys = st->sys;
  auto& reg = st->reg;
  double rate = 0;
  {
    std::mutex m;
    std::condition_variable cv;
    size_t answered = 0;
    std::function<void(size_t, bool)> on_placed = [&](size_t, bool) {
      std::lock_guard<std::mutex> guard{m};
      if (++answered == n)
        cv.notify_one();
    };
    auto t0 = clock_type::now();
    std::vector<caf::actor> drivers;
    for (size_t k = 0; k < 2; ++k)
      drivers.push_back(sys->spawn(order_placer, *reg, k, size_t{2}, n, size_t{100}, on_placed));
    std::unique_lock<std::mutex> lock{m};
    if (cv.wait_for(lock, std::chrono::seconds{120}, [&] { return answered == n; }))
      rate = static_cast<double>(n) / seconds_since(t0);
    lock.unlock();
    for (auto& d : drivers)
      caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  }
  st->close(nullptr);
  return rate;
}

std::vector<size_t> parse_counts(const std::string& s) {
  std::vector<size_t> result;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      result.push_back(static_cast<size_t>(std::stoull(item)));
  return result;
}

int run(const args& a) {
  auto json = has_flag(a, "--json");
  auto counts = parse_counts(option(a, "--orders", "1000,10000"));
  auto skus = static_cast<int>(int_option(a, "--skus", 100));
  auto mode_name = option(a, "--durability", "sync");
  auto mode = mode_name == "periodic" ? persistence::durability_mode::periodic
                                      : persistence::durability_mode::sync;
  auto raw_dir = fresh_dir(a, "raw");
  auto raw_sync = raw_leveldb_sync_events_per_s(raw_dir, 200000, 100, 1000);
  remove_dir(raw_dir);
  // Each completion costs 4 aggregate commands (place, reserve, charge,
  // confirm) and 8 stored events (4 aggregate events, 4 saga steps).
  auto baseline_n = counts.empty() ? size_t{10000} : counts.back();
  auto commands = command_rate(a, baseline_n, mode);
  std::vector<saga_result> results;
  for (auto n : counts) {
    auto burst = run_burst(a, n, skus, mode);
    results.push_back(run_orders(a, n, skus, mode));
    results.back().burst = std::make_unique<saga_result>(std::move(burst));
  }
  bool ok = true;
  for (auto& r : results)
    ok = ok && r.ok && r.burst->ok;
  if (json) {
    std::printf("{\"durability\":\"%s\",\"raw_sync_events_per_s\":%.0f,"
                "\"events_per_completion\":8,\"raw_ceiling_completions_per_s\":%.0f,"
                "\"aggregate_commands_per_s\":%.0f,\"commands_per_completion\":4,"
                "\"goal_completions_per_s\":20000,\"runs\":[",
                mode_name.c_str(), raw_sync, raw_sync / 8, commands);
    for (size_t i = 0; i < results.size(); ++i) {
      auto& r = results[i];
      std::printf("%s{\"concurrent_orders\":%zu,\"ok\":%s,\"seconds\":%.3f,"
                  "\"completed\":%zu,\"completions_per_s\":%.0f,\"p50_placed_to_confirmed_ms\":%.2f,"
                  "\"p99_placed_to_confirmed_ms\":%.2f,\"events_stored\":%llu,"
                  "\"group_commits\":%llu,\"cpu_us_per_completion\":%.1f,"
                  "\"burst\":{\"ok\":%s,\"seconds\":%.3f,\"completions_per_s\":%.0f,"
                  "\"p50_placed_to_confirmed_ms\":%.2f,\"p99_placed_to_confirmed_ms\":%.2f,"
                  "\"cpu_us_per_completion\":%.1f}}",
                  i ? "," : "", r.orders, r.ok ? "true" : "false", r.seconds,
                  r.completed, r.completions_per_s, r.p50_ms, r.p99_ms,
                  static_cast<unsigned long long>(r.events),
                  static_cast<unsigned long long>(r.groups), r.cpu_us_per_completion,
                  r.burst->ok ? "true" : "false", r.burst->seconds, r.burst->completions_per_s,
                  r.burst->p50_ms, r.burst->p99_ms, r.burst->cpu_us_per_completion);
    }
    std::printf("]}\n");
    return ok ? 0 : 1;
  }
  std::printf("esr-bench sagas (order fulfilment, %s durability, %d SKUs; sustained: a "
              "closed loop, each completed order replaced by a new one)\n\n",
              mode_name.c_str(), skus);
  std::printf("  %-36s %12.0f events/s  (/8 events per completion: %.0f/s)\n",
              "raw LevelDB WriteBatch(1000)+fsync", raw_sync, raw_sync / 8);
  std::printf("  %-36s %12.0f commands/s  (/4 commands per completion: %.0f/s)\n",
              "PlaceOrder to new aggregates", commands, commands / 4);
  for (auto& r : results) {
    std::printf("  %6zu concurrent orders, sustained: %8.0f completions/s  (%zu in %.2f s; "
                "placed->confirmed p50 %.1f ms, p99 %.1f ms; %llu events in %llu group "
                "commits; %.0f us CPU each)%s\n",
                r.orders, r.completions_per_s, r.completed, r.seconds, r.p50_ms, r.p99_ms,
                static_cast<unsigned long long>(r.events),
                static_cast<unsigned long long>(r.groups), r.cpu_us_per_completion,
                r.ok ? "" : "  INCOMPLETE");
    auto& b = *r.burst;
    std::printf("  %6zu orders placed at once:   %8.0f completions/s  (all done in %.2f s; "
                "placed->confirmed p50 %.1f ms, p99 %.1f ms; %.0f us CPU each)%s\n",
                b.orders, b.completions_per_s, b.seconds, b.p50_ms, b.p99_ms,
                b.cpu_us_per_completion, b.ok ? "" : "  INCOMPLETE");
  }
  std::printf("\n  goal: >= 20000 completions/s in sync mode (sustained)\n");
  return ok ? 0 : 1;
}

} // namespace

ESR_BENCH_REGISTER("sagas", "order-fulfilment saga completions/s and placed->confirmed p99", run);

} // namespace esr::bench

#else // ESR_HAVE_ORDER_PAYMENT

namespace esr::bench {
namespace {
int run_unavailable(const args&) {
  std::fprintf(stderr, "esr-bench sagas needs the order_payment example "
                       "(configure with ESR_BUILD_EXAMPLES=ON)\n");
  return 2;
}
} // namespace
ESR_BENCH_REGISTER("sagas", "order-fulfilment saga benchmark (needs the examples)",
                   run_unavailable);
} // namespace esr::bench

#endif
