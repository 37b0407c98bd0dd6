// esr-bench aggregates: durable commands/s through persistent aggregate
// actors (registry -> shard -> aggregate -> group commit -> reply) against
// the raw LevelDB WriteBatch(1000)+fsync ceiling in the same run; command
// latency; recovery of a 1M-event aggregate with and without snapshots;
// activations/s of passivated aggregates; heap bytes per idle aggregate.
//
//   esr-bench aggregates [--json] [--aggregates 10000] [--in-flight 1024]
//                        [--commands 300000] [--recovery-events 1000000]
//                        [--idle-aggregates 20000] [--activations 50000]
//                        [--durability sync] [--dir D]
//                        [--aggressive-polls N] [--moderate-polls N]
//                        [--scheduler-threads N]   (CAF scheduler tuning)
//
// cpu_us_per_command (user + system CPU of every thread during the command
// phase, divided by the commands) does not depend on other load on the
// machine; the raw ceiling is measured right before and after that phase.
#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <google/protobuf/wrappers.pb.h>

#include "bench_util.hpp"
#include "aggregate_load.hpp"
#include "caf_tuning.hpp"
#include "esr/actors/aggregate_type.hpp"
#include "esr/actors/errc.hpp"
#include "esr/persistence/storage.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::bench {

namespace {

using namespace esr::runtime::aggregates;
uint64_t live_count(caf::actor_system& sys, const aggregate_registry& reg) {
  uint64_t n = 0;
  caf::scoped_actor self{sys};
  for (auto& s : reg.shards())
    self->request(s, caf::infinite, live_count_atom::value)
      .receive([&](uint64_t x) { n += x; }, [](caf::error&) {});
  return n;
}

void passivate_all(caf::actor_system& sys, const aggregate_registry& reg) {
  caf::scoped_actor self{sys};
  for (auto& s : reg.shards())
    self->request(s, caf::infinite, passivate_all_atom::value)
      .receive([](uint64_t) {}, [](caf::error&) {});
  while (live_count(sys, reg) > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

/// Waits until every shard of `reg` (and so every aggregate) has stopped.
void wait_stopped(caf::actor_system& sys, const aggregate_registry& reg) {
  caf::scoped_actor self{sys};
  for (auto& s : reg.shards())
    self->wait_for(s);
}


/// Writes `events` one-unit events to `pid` (1000 per atomic write) and, if
/// `snapshot_every`, the matching snapshots. Returns false on error.
bool write_history(persistence::storage& st, const std::string& pid, uint64_t events,
                   uint64_t snapshot_every) {
  counter_event e;
  e.set_value(1);
  auto payload = e.SerializeAsString();
  uint64_t written = 0;
  while (written < events) {
    std::vector<persistence::atomic_write> ws;
    for (int k = 0; k < 16 && written < events; ++k) {
      persistence::atomic_write w;
      w.persistence_id = pid;
      auto n = std::min<uint64_t>(1000, events - written);
      w.events.resize(n);
      for (auto& ev : w.events) {
        ev.event_type = counter_event::default_instance().GetTypeName();
        ev.payload = payload;
      }
      written += n;
      ws.push_back(std::move(w));
    }
    for (auto& o : st.events->write(std::move(ws)))
      if (!o)
        return false;
  }
  if (snapshot_every > 0) {
    for (uint64_t seq = snapshot_every; seq <= events; seq += snapshot_every) {
      if (seq + 3 * snapshot_every <= events)
        continue; // Only the newest few matter for recovery.
      counter_state s;
      s.set_value(static_cast<int64_t>(seq));
      persistence::snapshot_envelope env;
      env.persistence_id = pid;
      env.sequence_nr = seq;
      env.state_type = counter_state::default_instance().GetTypeName();
      env.payload = s.SerializeAsString();
      if (st.snapshots->save(env))
        return false;
    }
  }
  return true;
}

/// Bytes the program has allocated and not freed: jemalloc's
/// stats.allocated when esr-bench runs on jemalloc (see
/// esr_use_program_allocator), else glibc's mallinfo2.
size_t heap_in_use() {
  using mallctl_fn = int (*)(const char*, void*, size_t*, void*, size_t);
  static auto mallctl = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl != nullptr) {
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len); // refreshes the statistics
    size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0)
      return allocated;
  }
  auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

int run(const args& a) {
  auto json = has_flag(a, "--json");
  auto aggregates = static_cast<size_t>(int_option(a, "--aggregates", 10000));
  auto in_flight = static_cast<size_t>(int_option(a, "--in-flight", 1024));
  auto commands = static_cast<uint64_t>(int_option(a, "--commands", 300000));
  auto recovery_events = static_cast<uint64_t>(int_option(a, "--recovery-events", 1000000));
  auto idle_n = static_cast<size_t>(int_option(a, "--idle-aggregates", 20000));
  auto activation_n = static_cast<size_t>(int_option(a, "--activations", 50000));
  constexpr size_t raw_payload_bytes = 64;

  // The raw ceiling is measured right before and right after the command
  // phase (the machine's load may change); the mean is the reference.
  auto raw_ceiling = [&] {
    auto raw_dir = fresh_dir(a, "raw");
    auto r = raw_leveldb_sync_events_per_s(raw_dir, 300000, raw_payload_bytes);
    remove_dir(raw_dir);
    return r;
  };

  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  apply_scheduler_options(cfg, a);
  caf::actor_system sys{cfg};

  // 1. Recovery of one aggregate with a long history, in a quiet system.
  auto rec_dir = fresh_dir(a, "recovery");
  persistence::leveldb_options lo;
  lo.path = rec_dir;
  auto rstore = persistence::open_leveldb(lo);
  if (!rstore)
    return 1;
  if (!write_history(*rstore, "snap-big", recovery_events, 1000)
      || !write_history(*rstore, "nosnap-big", recovery_events, 0))
    return 1;
  auto rreg = aggregate_registry::start(sys, *rstore,
                                        {make_type("snap", 1000), make_type("nosnap", 0)});
  if (!rreg)
    return 1;
  double recovery_snap_ms = 0;
  double recovery_nosnap_ms = 0;
  bool recovery_ok = true;
  {
    aggregate_client client{*rreg};
    // Warm up the shards and the client (not part of a recovery).
    static_cast<void>(client.call<int64_t>("snap", "warm", command{get{}}));
    static_cast<void>(client.call<int64_t>("nosnap", "warm", command{get{}}));
    auto t0 = std::chrono::steady_clock::now();
    auto r1 = client.call<int64_t>("snap", "big", command{get{}});
    recovery_snap_ms = seconds_since(t0) * 1000;
    t0 = std::chrono::steady_clock::now();
    auto r2 = client.call<int64_t>("nosnap", "big", command{get{}});
    recovery_nosnap_ms = seconds_since(t0) * 1000;
    auto want = static_cast<int64_t>(recovery_events);
    recovery_ok = r1 && r2 && *r1 == want && *r2 == want;
  }
  rreg->stop();
  wait_stopped(sys, *rreg);

  // 2. Durable commands/s and latency; then activations of passivated ones.
  auto cmd_dir = fresh_dir(a, "commands");
  lo = persistence::leveldb_options{};
  lo.path = cmd_dir;
  auto mode = persistence::parse_durability_mode(option(a, "--durability", "sync"));
  if (!mode) {
    std::fprintf(stderr, "--durability: sync, periodic or none\n");
    return 2;
  }
  lo.durability = *mode;
  auto store = persistence::open_leveldb(lo);
  if (!store) {
    std::fprintf(stderr, "open_leveldb: %s\n", actors::render(store.error()).c_str());
    return 1;
  }
  registry_options ro;
  auto reg = aggregate_registry::start(sys, *store,
                                       {make_type("bench", 0), make_type("snapbench", 16)}, ro);
  if (!reg)
    return 1;
  auto ids = make_ids(aggregates, "a");
  run_load(sys, *reg, "bench", ids, incr{1}, aggregates, in_flight, true); // activate all
  auto raw_before = raw_ceiling();
  auto cpu0 = cpu_seconds();
  auto load = run_load(sys, *reg, "bench", ids, incr{1}, commands, in_flight);
  // CPU per command (all threads: clients, shards, aggregates, journal) is
  // independent of other load on the machine.
  auto cpu_us_per_command = (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(commands);
  auto raw_after = raw_ceiling();
  auto raw_sync = (raw_before + raw_after) / 2;
  passivate_all(sys, *reg);
  auto act_loaded = run_load(sys, *reg, "bench", ids, get{}, aggregates, in_flight, true);
  // Activations of passivated aggregates with a short history (one event
  // each, the common case with snapshots): spawn + snapshot lookup + replay.
  auto short_ids = make_ids(activation_n, "s");
  run_load(sys, *reg, "snapbench", short_ids, incr{1}, activation_n, in_flight, true);
  passivate_all(sys, *reg);
  auto act = run_load(sys, *reg, "snapbench", short_ids, get{}, activation_n, in_flight, true);
  reg->stop();
  wait_stopped(sys, *reg);

  // 3. Heap bytes per idle live aggregate (in-memory store: no block cache).
  double bytes_per_idle = 0;
  {
    auto mreg = aggregate_registry::start(sys, persistence::open_memory(), {make_type("idle", 0)});
    if (!mreg)
      return 1;
    auto idle_ids = make_ids(idle_n, "i");
    run_load(sys, *mreg, "idle", make_ids(1000, "w"), get{}, 1000, 64, true); // warm up
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto before = heap_in_use();
    run_load(sys, *mreg, "idle", idle_ids, get{}, idle_n, in_flight, true);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto after = heap_in_use();
    if (live_count(sys, *mreg) < idle_n)
      return 1;
    bytes_per_idle = (static_cast<double>(after) - static_cast<double>(before))
                     / static_cast<double>(idle_n);
    mreg->stop();
  }
  remove_dir(cmd_dir);
  remove_dir(rec_dir);

  auto ratio = raw_sync > 0 ? load.per_s / raw_sync : 0;
  auto events_per_loaded = static_cast<double>(commands + aggregates) / static_cast<double>(aggregates);
  auto p = [&](double q) { return quantile(load.latencies_us, q); };
  if (json) {
    std::printf(
      "{\"aggregates\":%zu,\"in_flight\":%zu,\"commands\":%llu,\"durability\":\"%s\","
      "\"commands_sync_per_s\":%.0f,\"raw_sync_events_per_s\":%.0f,"
      "\"raw_sync_before_after\":[%.0f,%.0f],\"raw_payload_bytes\":%zu,"
      "\"command_ratio\":%.3f,\"command_errors\":%llu,\"cpu_us_per_command\":%.1f,"
      "\"latency_us\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f},"
      "\"recovery_events\":%llu,\"recovery_with_snapshots_ms\":%.2f,"
      "\"recovery_without_snapshots_ms\":%.1f,\"recovery_correct\":%s,"
      "\"activations\":%zu,\"activations_per_s\":%.0f,\"activation_errors\":%llu,"
      "\"activations_after_load_per_s\":%.0f,\"events_per_aggregate_after_load\":%.1f,"
      "\"bytes_per_idle_aggregate\":%.0f,"
      "\"goals\":{\"commands_sync_per_s\":200000,\"command_ratio\":0.25,"
      "\"recovery_with_snapshots_ms\":10,\"activations_per_s\":100000,"
      "\"bytes_per_idle_aggregate\":2048}}\n",
      aggregates, in_flight, static_cast<unsigned long long>(commands),
      persistence::to_string(*mode).c_str(), load.per_s, raw_sync, raw_before, raw_after,
      raw_payload_bytes, ratio, static_cast<unsigned long long>(load.errors),
      cpu_us_per_command, p(0.5), p(0.99),
      p(0.999), static_cast<unsigned long long>(recovery_events), recovery_snap_ms,
      recovery_nosnap_ms, recovery_ok ? "true" : "false", activation_n, act.per_s,
      static_cast<unsigned long long>(act.errors + act_loaded.errors), act_loaded.per_s,
      events_per_loaded, bytes_per_idle);
    return 0;
  }
  std::printf("esr-bench aggregates (%zu aggregates, %zu in flight, %s)\n\n", aggregates,
              in_flight, persistence::to_string(*mode).c_str());
  std::printf("  %-44s %12.0f events/s  (before %.0f, after %.0f)\n",
              "raw LevelDB WriteBatch(1000)+fsync", raw_sync, raw_before, raw_after);
  std::printf("  %-44s %12.0f commands/s  (%.3f of raw, goal >= 0.25 and 200k/s)\n",
              "durable commands through aggregates", load.per_s, ratio);
  std::printf("  %-44s %12.1f us (all threads)\n", "CPU per command", cpu_us_per_command);
  std::printf("  %-44s p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n", "command latency", p(0.5),
              p(0.99), p(0.999));
  std::printf("  %-44s %12.2f ms  (goal <= 10 ms)\n", "recovery, 1M events, snapshot/1000",
              recovery_snap_ms);
  std::printf("  %-44s %12.1f ms\n", "recovery, 1M events, no snapshot", recovery_nosnap_ms);
  std::printf("  %-44s %12.0f /s  (goal >= 100k/s)\n", "activations of passivated aggregates",
              act.per_s);
  std::printf("  %-44s %12.0f /s  (%.0f events each, no snapshots)\n",
              "activations after the load", act_loaded.per_s, events_per_loaded);
  std::printf("  %-44s %12.0f bytes  (goal <= 2048)\n", "heap per idle live aggregate",
              bytes_per_idle);
  if (load.errors || act.errors || act_loaded.errors || !recovery_ok)
    std::printf("\n  errors: %llu commands, %llu activations, recovery %s\n",
                static_cast<unsigned long long>(load.errors),
                static_cast<unsigned long long>(act.errors + act_loaded.errors),
                recovery_ok ? "ok" : "WRONG");
  return 0;
}

} // namespace

ESR_BENCH_REGISTER("aggregates", "durable commands/s through aggregate actors, recovery, "
                                 "activation, memory",
                   run);

} // namespace esr::bench
