#include "aggregate_load.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "bench_util.hpp"
#include "esr/runtime/aggregates/client.hpp"

namespace esr::bench {

using namespace esr::runtime::aggregates;

std::shared_ptr<bench_type> make_type(const std::string& name, uint64_t snapshot_every) {
  auto t = std::make_shared<bench_type>(name);
  using effect = bench_type::effect;
  t->on_command([](const counter_state& s, const command& c) -> effect {
    if (auto x = std::get_if<incr>(&c)) {
      counter_event e;
      e.set_value(x->n);
      return effect::persist(e).then_reply([](const counter_state& s) { return s.value(); });
    }
    return effect::reply(s.value());
  });
  t->on_event<counter_event>(
    [](counter_state& s, const counter_event& e) { s.set_value(s.value() + e.value()); });
  t->snapshot_every(snapshot_every).keep_snapshots(1);
  return t;
}


namespace {

/// Shared by the driver actors of one load run.
struct load_run {
  explicit load_run(aggregate_registry r) : reg(std::move(r)) {}
  aggregate_registry reg;
  std::string type;
  std::vector<std::string> ids;
  command cmd;
  uint64_t total = 0;
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> errors{0};
  /// No command is sent after this (the run ends early).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::atomic<int64_t> outstanding{0};
  std::atomic<bool> finished{false};
  std::promise<void> done;
  bool sequential_ids = false; // ids in order (each once) instead of random
};

struct driver_data {
  std::vector<double> latencies_us;
  uint64_t rng = 0;
  /// Commands in flight by reply tag: when each was sent.
  std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> in_flight;
  uint64_t next_tag = 0;
};

void issue(caf::event_based_actor* self, std::shared_ptr<load_run> run,
           std::shared_ptr<driver_data> d) {
  // Counted before the decision, so the count never reads 0 while another
  // driver is about to send.
  ++run->outstanding;
  auto n = run->issued.fetch_add(1);
  if (n >= run->total
      || (run->deadline != std::chrono::steady_clock::time_point::max()
          && std::chrono::steady_clock::now() >= run->deadline)) {
    // Done issuing: the last answer ends the run.
    if (--run->outstanding == 0 && !run->finished.exchange(true))
      run->done.set_value();
    return;
  }
  size_t idx;
  if (run->sequential_ids) {
    idx = n % run->ids.size();
  } else {
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    idx = d->rng % run->ids.size();
  }
  auto tag = ++d->next_tag;
  d->in_flight.emplace(tag, std::chrono::steady_clock::now());
  send_tagged(self, run->reg, make_command(run->type, run->ids[idx], run->cmd), tag);
}

/// The behavior of a driver actor: records each answer and sends the next.
caf::behavior driver(caf::event_based_actor* self, std::shared_ptr<load_run> run,
                     std::shared_ptr<driver_data> d, size_t slots) {
  for (size_t i = 0; i < slots; ++i)
    issue(self, run, d);
  return {[self, run, d](actors::tagged_reply& r) {
    auto i = d->in_flight.find(r.tag);
    if (i == d->in_flight.end())
      return;
    d->latencies_us.push_back(
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - i->second)
        .count());
    d->in_flight.erase(i);
    if (r.error || !std::any_cast<int64_t>(&r.reply.value))
      ++run->errors;
    run->completed.fetch_add(1);
    --run->outstanding;
    issue(self, run, d);
  }};
}

} // namespace

/// Runs `total` commands with `in_flight` outstanding from two driver actors.
load_result run_load(caf::actor_system& sys, const aggregate_registry& reg,
                     const std::string& type, const std::vector<std::string>& ids, command cmd,
                     uint64_t total, size_t in_flight, bool sequential_ids,
                     std::chrono::milliseconds max_time) {
  auto run = std::make_shared<load_run>(reg);
  if (max_time.count() > 0)
    run->deadline = std::chrono::steady_clock::now() + max_time;
  run->type = type;
  run->ids = ids;
  run->cmd = cmd;
  run->total = total;
  run->sequential_ids = sequential_ids;
  auto finished = run->done.get_future();
  constexpr size_t drivers = 2;
  std::vector<std::shared_ptr<driver_data>> ds;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t k = 0; k < drivers; ++k) {
    auto d = std::make_shared<driver_data>();
    d->rng = 0x9E3779B97F4A7C15ull * (k + 1);
    d->latencies_us.reserve(std::min<uint64_t>(total, 4000000) / drivers + 1);
    ds.push_back(d);
    auto slots = in_flight / drivers + (k < in_flight % drivers ? 1 : 0);
    sys.spawn(driver, run, d, slots);
  }
  finished.wait();
  load_result result;
  result.per_s = static_cast<double>(run->completed.load()) / seconds_since(t0);
  result.errors = run->errors.load();
  for (auto& d : ds)
    result.latencies_us.insert(result.latencies_us.end(), d->latencies_us.begin(),
                               d->latencies_us.end());
  std::sort(result.latencies_us.begin(), result.latencies_us.end());
  return result;
}


std::vector<std::string> make_ids(size_t n, const std::string& prefix) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i)
    ids.push_back(prefix + std::to_string(i));
  return ids;
}

} // namespace esr::bench
