#include "recovery.hpp"

#include <chrono>
#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "esr/actors/errc.hpp"
#include "esr/actors/messages.hpp"
#include "esr/actors/time_travel.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::loadtest {

namespace {

using clock = std::chrono::steady_clock;

double since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

using model_map = std::unordered_map<std::string, const actors::aggregate_model*>;

// Activates every aggregate of `pids` through `reg`, `in_flight` at a time,
// handing each recovered state to `w`. Completes `done` with the first error.
// The returned behavior keeps the request loop alive until the actor quits.
caf::behavior recover_all(caf::event_based_actor* self, runtime::aggregates::aggregate_registry reg,
                 std::shared_ptr<std::vector<std::string>> pids, size_t in_flight,
                 workload* w, std::shared_ptr<std::promise<caf::error>> done) {
  struct progress {
    size_t next = 0;
    size_t answered = 0;
    caf::error first_error;
  };
  auto st = std::make_shared<progress>();
  auto issue = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> next_one = issue;
  auto again = [next_one] {
    if (auto f = next_one.lock())
      (*f)();
  };
  *issue = [=] {
    if (st->next == pids->size()) {
      if (st->answered == pids->size()) {
        done->set_value(st->first_error);
        self->quit();
      }
      return;
    }
    auto& pid = (*pids)[st->next++];
    auto type = std::string{persistence::category_of(pid)};
    auto on_state = [=](actors::state_copy& s) {
      ++st->answered;
      w->add_state(type, pid, s.state);
      again();
    };
    auto on_error = [=](caf::error& e) {
      ++st->answered;
      if (!st->first_error)
        st->first_error = std::move(e);
      again();
    };
    // An aggregate takes get_state_atom alone; its shard needs the id too.
    reg.dispatch(pid, [&](const caf::actor& dest, runtime::aggregates::dispatch_target to) {
      auto timeout = std::chrono::seconds{60};
      if (to == runtime::aggregates::dispatch_target::aggregate)
        self->request(dest, timeout, actors::get_state_atom::value).then(on_state, on_error);
      else
        self->request(dest, timeout, actors::get_state_atom::value, pid).then(on_state, on_error);
    });
  };
  for (size_t i = 0; i < in_flight && i < pids->size(); ++i)
    (*issue)();
  if (pids->empty()) {
    done->set_value(caf::none);
    self->quit();
  }
  return {[issue](int) {}};
}

caf::error recover_through_runtime(const recovery_options& opts, const type_list& types,
                                   persistence::storage store,
                                   std::shared_ptr<std::vector<std::string>> pids,
                                   workload& w) {
  caf::actor_system_config cfg;
  actors::register_errors(cfg);
  if (opts.threads > 0)
    cfg.set("scheduler.max-threads", static_cast<caf::config_value::integer>(opts.threads));
  caf::actor_system sys{cfg};
  runtime::aggregates::registry_options ro;
  ro.shards = opts.shards;
  ro.idle_timeout = std::chrono::milliseconds{0};
  auto reg = runtime::aggregates::aggregate_registry::start(sys, std::move(store), types, ro);
  if (!reg)
    return std::move(reg.error());
  auto done = std::make_shared<std::promise<caf::error>>();
  auto result = done->get_future();
  auto r = *reg;
  auto wp = &w;
  auto in_flight = opts.in_flight;
  sys.spawn([r, pids, in_flight, wp, done](caf::event_based_actor* self) {
    return recover_all(self, r, pids, in_flight, wp, done);
  });
  auto err = result.get();
  reg->stop();
  return err;
}

// Opens the store. The previous runtime's handles are released when its
// actor system is gone, but the store may finish closing on one of its own
// background threads (snapshot saver, group-commit writer) a moment later:
// while LevelDB still reports its LOCK as held, retry for up to 10 s.
// `open_s` is set to the duration of the last (successful) attempt.
caf::expected<persistence::storage> open_when_released(const persistence::leveldb_options& o,
                                                       double& open_s) {
  auto deadline = clock::now() + std::chrono::seconds{10};
  for (;;) {
    auto t0 = clock::now();
    auto store = persistence::open_leveldb(o);
    open_s = since(t0);
    if (store || clock::now() > deadline
        || actors::render(store.error()).find("lock") == std::string::npos)
      return store;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

// Rebuilds every state of `pids` from `store` on `threads` threads (0: one
// per core), handing them to `w` one at a time. Returns the first error.
caf::error rebuild_all(const persistence::storage& store, const model_map& models,
                       const std::vector<std::string>& pids, size_t threads, workload& w) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::mutex mtx; // Guards w and first_error.
  caf::error first_error;
  auto work = [&] {
    for (size_t i = next++; i < pids.size(); i = next++) {
      auto& pid = pids[i];
      auto& model = *models.at(std::string{persistence::category_of(pid)});
      auto r = actors::rebuild_state(model, store, pid, actors::as_of::now());
      std::lock_guard<std::mutex> guard{mtx};
      if (!r) {
        if (!first_error)
          first_error = std::move(r.error());
        next = pids.size();
        return;
      }
      w.add_state(model.type_name(), pid, model.copy_state(*r->state));
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (auto& t : pool)
    t.join();
  return first_error;
}

} // namespace

caf::expected<recovery_figures>
recover_and_verify(const recovery_options& opts, const type_list& types, workload& w) {
  recovery_figures fig;
  fig.through_runtime = opts.through_runtime;
  auto store = open_when_released(opts.store, fig.open_s);
  if (!store)
    return std::move(store.error());
  model_map models;
  for (auto& t : types)
    models.emplace(t->type_name(), t.get());
  // Every stream of our types, in order of first appearance.
  auto t0 = clock::now();
  auto pids = std::make_shared<std::vector<std::string>>();
  {
    std::unordered_set<std::string> seen;
    auto read = store->events->read_all(
      1, persistence::max_seq, persistence::event_filter::all(),
      [&](const persistence::event_envelope& e) {
        if (models.count(std::string{persistence::category_of(e.persistence_id)}) > 0
            && seen.insert(e.persistence_id).second)
          pids->push_back(e.persistence_id);
        return true;
      });
    if (!read)
      return std::move(read.error());
  }
  fig.scan_s = since(t0);
  fig.aggregates = pids->size();
  w.begin_verify();
  t0 = clock::now();
  if (opts.through_runtime) {
    if (auto err = recover_through_runtime(opts, types, std::move(*store), pids, w))
      return err;
  } else if (auto err = rebuild_all(*store, models, *pids, opts.threads, w)) {
    return err;
  }
  fig.recover_s = since(t0);
  return fig;
}

} // namespace esr::loadtest
