#include "run.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "bench_util.hpp"
#include "esr/actors/errc.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::loadtest {

namespace fs = std::filesystem;

double run_report::commands_per_s() const {
  return load.measured_s > 0 ? static_cast<double>(load.commands()) / load.measured_s : 0;
}

std::optional<double> run_report::ratio_to_raw() const {
  if (!raw_sync_events_per_s || *raw_sync_events_per_s <= 0)
    return std::nullopt;
  return commands_per_s() / *raw_sync_events_per_s;
}

double run_report::events_per_s() const {
  return journal_span_s > 0 ? static_cast<double>(journal.events) / journal_span_s : 0;
}

namespace {

// Makes (or wipes) the base directory. Returns its path and whether the tool
// made it (then it removes it at the end).
caf::expected<std::pair<std::string, bool>> prepare_base(const std::string& dir) {
  std::error_code ec;
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    fs::remove_all(fs::path{dir} / "data", ec);
    fs::remove_all(fs::path{dir} / "raw", ec);
    return std::make_pair(dir, false);
  }
  std::string tmpl = (fs::temp_directory_path() / "esr-loadtest-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return caf::make_error(caf::sec::runtime_error, "cannot create a temporary directory");
  return std::make_pair(tmpl, true);
}

// Counts live aggregates over every shard.
uint64_t live_count(caf::actor_system& sys, const runtime::aggregates::aggregate_registry& reg) {
  caf::scoped_actor self{sys};
  uint64_t n = 0;
  for (auto& s : reg.shards())
    self->request(s, std::chrono::seconds{10}, runtime::aggregates::live_count_atom::value)
      .receive([&](uint64_t x) { n += x; }, [](caf::error&) {});
  return n;
}

// The runtime part: starts an actor system and registry on `store_opts`,
// runs the load and fills the run figures of `rep`.
caf::error run_runtime(const loadtest_options& opts, const persistence::leveldb_options& store_opts,
                       const type_list& types, workload& w, const key_distribution& keys,
                       const progress_fn& progress, run_report& rep) {
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  if (opts.threads > 0)
    cfg.set("scheduler.max-threads", static_cast<caf::config_value::integer>(opts.threads));
  caf::actor_system sys{cfg};
  auto store = persistence::open_leveldb(store_opts);
  if (!store)
    return std::move(store.error());
  runtime::aggregates::registry_options ro;
  ro.shards = opts.shards;
  ro.max_live = opts.max_live;
  ro.idle_timeout = std::chrono::milliseconds{static_cast<int64_t>(opts.idle_timeout_s * 1000)};
  ro.aggregate.max_batch = opts.max_batch;
  ro.aggregate.stash_capacity = opts.stash_capacity;
  auto reg = runtime::aggregates::aggregate_registry::start(sys, *store, types, ro);
  if (!reg)
    return std::move(reg.error());
  workload_context ctx{&sys, &*reg, opts.aggregates, opts.snapshot_every};
  if (auto err = w.start(ctx)) {
    reg->stop();
    return err;
  }
  auto io0 = read_io_write_bytes();
  auto t0 = std::chrono::steady_clock::now();
  auto res = run_load(sys, *reg, w, keys, opts.load, progress);
  if (!res) {
    w.stop();
    reg->stop();
    return std::move(res.error());
  }
  rep.load = std::move(*res);
  auto t_settle = std::chrono::steady_clock::now();
  auto settled = w.settle(600000);
  rep.settle_s
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_settle).count();
  rep.journal_span_s
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.journal = store->events->stats();
  rep.memory = read_memory_usage();
  rep.live_aggregates = live_count(sys, *reg);
  if (auto io1 = read_io_write_bytes(); io0 && io1)
    rep.io_write_bytes = *io1 - *io0;
  w.stop();
  reg->stop();
  return settled;
  // The actor system's destructor waits for every actor, which releases the
  // store so that it can be reopened for the verification.
}

} // namespace

caf::expected<run_report> run_loadtest(const loadtest_options& opts,
                                       const run_progress_fn& progress, const phase_fn& phase) {
  auto say = [&](const std::string& what) {
    if (phase)
      phase(what);
  };
  run_report rep;
  rep.options = opts;
  rep.started_unix_s = static_cast<int64_t>(std::time(nullptr));
  auto w = make_workload(opts.workload, opts.params);
  if (!w)
    return std::move(w.error());
  auto keys = make_key_distribution(opts.keys, opts.aggregates, opts.skew);
  if (!keys)
    return caf::make_error(caf::sec::invalid_argument, "bad key distribution");
  rep.keys = keys->describe();
  auto base = prepare_base(opts.dir);
  if (!base)
    return std::move(base.error());
  auto data = (fs::path{base->first} / "data").string();
  auto raw = (fs::path{base->first} / "raw").string();
  rep.data_dir = data;
  struct cleanup {
    std::string dir;
    bool remove;
    ~cleanup() {
      if (remove)
        bench::remove_dir(dir);
    }
  } guard{base->first, base->second && !opts.keep};
  // 1. The raw ceiling of this disk (same payload size as esr-bench).
  if (opts.raw_events > 0) {
    say("measuring the raw LevelDB ceiling (" + std::to_string(opts.raw_events)
        + " events)...");
    fs::create_directories(raw);
    auto r = bench::raw_leveldb_sync_events_per_s(raw, opts.raw_events, 100, 1000);
    if (r > 0)
      rep.raw_sync_events_per_s = r;
    bench::remove_dir(raw);
  }
  // 2. The load against the runtime.
  auto types = (*w)->types(opts.snapshot_every);
  persistence::leveldb_options so;
  so.path = data;
  so.durability = opts.durability;
  so.sync_interval = std::chrono::milliseconds{opts.sync_interval_ms};
  say("starting the runtime, warming up...");
  if (auto err = run_runtime(opts, so, types, **w, *keys, progress, rep))
    return err;
  rep.data_dir_bytes = directory_bytes(data);
  rep.workload_figures = (*w)->figures();
  // 3. Recover every aggregate from storage and check the result.
  recovery_options ro;
  ro.store = so;
  ro.through_runtime = opts.restart;
  ro.shards = opts.shards;
  ro.threads = opts.threads;
  say(opts.restart ? "restarting the runtime, recovering every aggregate..."
                   : "recovering every aggregate from storage...");
  auto fig = recover_and_verify(ro, types, **w);
  if (!fig) {
    rep.verify_error = actors::render(fig.error());
    rep.verify.ok = false;
    rep.verify.description = "could not recover from storage: " + rep.verify_error;
    return rep;
  }
  rep.recovery = *fig;
  rep.verify = (*w)->finish_verify();
  return rep;
}

} // namespace esr::loadtest
