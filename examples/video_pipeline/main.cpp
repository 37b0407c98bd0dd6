// The video pipeline demo (seed 004): VideoUploaded -> VideoProcessingStarted
// -> transcoding -> VideoProcessingCompleted -> the catalog view is updated
// -> VideoAvailable, driven by the "video_pipeline" saga. Data lives in a
// directory (default ./data/video_pipeline: journal/ and views/); run it
// again and the earlier videos are listed with the new ones.
//
//   video_pipeline [data-dir]

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/error.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "video.hpp"

using namespace video_pipeline;
using namespace std::chrono_literals;
namespace agg = esr::runtime::aggregates;
namespace proj = esr::runtime::projections;

namespace {

std::mutex print_mtx;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard{print_mtx};
  std::cout << line << std::endl;
}

int fail(const std::string& what, const caf::error& err) {
  std::cerr << "video_pipeline: " << what << ": " << esr::sagas::render(err) << std::endl;
  return 1;
}

void print_catalog(const proj::view_store& views) {
  say("== the catalog view (" + std::string{catalog_view} + ")");
  (void) views.scan(catalog_view, "", [](std::string_view, std::string_view v) {
    CatalogEntry e;
    if (!e.ParseFromArray(v.data(), static_cast<int>(v.size())))
      return true;
    std::string renditions;
    for (auto& r : e.renditions())
      renditions += (renditions.empty() ? "" : ",") + r;
    char line[256];
    std::snprintf(line, sizeof(line), "  %-6s %-24s %-10s %-22s %s", e.video_id().c_str(),
                  e.title().c_str(), e.status().c_str(), renditions.c_str(), e.url().c_str());
    say(line);
    return true;
  });
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "./data/video_pipeline";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  caf::actor_system_config cfg;
  esr::sagas::register_errors(cfg);
  caf::actor_system sys{cfg};
  esr::persistence::leveldb_options lo;
  lo.path = dir + "/journal";
  auto store = esr::persistence::open_leveldb(lo);
  if (!store)
    return fail("cannot open " + lo.path, store.error());
  proj::view_store_options vo;
  vo.path = dir + "/views";
  auto views = proj::view_store::open(vo);
  if (!views)
    return fail("cannot open " + vo.path, views.error());
  auto reg = agg::aggregate_registry::start(sys, *store,
                                            {make_video_type(), make_transcoder_type()});
  if (!reg)
    return fail("cannot start the aggregates", reg.error());
  auto bus = esr::runtime::bus::event_bus::make(store->events);
  auto client = std::make_unique<agg::aggregate_client>(*reg);
  std::unique_ptr<esr::sagas::saga_runtime> saga;
  std::unique_ptr<proj::projection_runner> catalog;
  struct stopper {
    std::unique_ptr<esr::sagas::saga_runtime>& saga;
    std::unique_ptr<proj::projection_runner>& catalog;
    agg::aggregate_registry& reg;
    ~stopper() {
      if (catalog)
        catalog->stop();
      if (saga)
        saga->stop();
      reg.stop();
    }
  } stop_all{saga, catalog, *reg};

  esr::sagas::saga_options so;
  so.observer = [](const esr::sagas::saga_note& n) {
    using k = esr::sagas::saga_note::kind;
    if (n.what == k::reply)
      return; // Keep the story short: events, commands, state.
    std::string text = n.text;
    for (auto pos = text.find("video_pipeline."); pos != std::string::npos;
         pos = text.find("video_pipeline."))
      text.erase(pos, 15);
    say("  " + n.instance + "  " + text + (n.what == k::event ? "   [" + n.state + "]" : ""));
  };
  auto rt = esr::sagas::saga_runtime::start(sys, bus, *reg, make_pipeline_saga(), so);
  if (!rt)
    return fail("cannot start the saga", rt.error());
  saga = std::move(*rt);
  auto opts = catalog_options(*client);
  auto on_commit = opts.on_committed;
  opts.on_committed = [on_commit](const esr::runtime::bus::event_batch& b) {
    for (auto& e : b.events)
      if (e.event_type == VideoProcessingCompleted::default_instance().GetTypeName())
        say("  " + e.persistence_id.substr(6) + "  catalog view updated -> RecordViewUpdated");
    on_commit(b);
  };
  auto runner = proj::projection_runner::start(bus, *views, make_catalog_projection(), opts);
  if (!runner)
    return fail("cannot start the catalog projection", runner.error());
  catalog = std::move(*runner);
  if (auto n = reconcile_catalog(**views, *client))
    say("re-reported " + std::to_string(n) + " video(s) written to the view before a crash");

  uint64_t run = 1;
  while (true) {
    auto s = client->live_state<VideoState>("video", "v" + std::to_string(run) + ".1");
    if (!s || s->state.status() == VideoState::NONE)
      break;
    ++run;
  }
  say("esr video pipeline demo - data in " + dir + " (run " + std::to_string(run) + ")");
  std::vector<std::pair<std::string, std::pair<std::string, int>>> uploads = {
    {"v" + std::to_string(run) + ".1", {"Cat plays the piano", 95}},
    {"v" + std::to_string(run) + ".2", {"Conference keynote", 3600}},
  };
  for (auto& [id, meta] : uploads) {
    say("");
    say("== upload " + id + ": \"" + meta.first + "\" (" + std::to_string(meta.second) + " s)");
    UploadVideo u;
    u.set_video_id(id);
    u.set_title(meta.first);
    u.set_duration_s(meta.second);
    agg::command_options co;
    co.command_id = "demo/upload/" + id;
    auto r = client->call<VideoState>("video", id, video_command{u}, co);
    if (!r)
      return fail("upload " + id, r.error());
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto info = saga->instance(id);
      if (info && *info && (*info)->completed)
        break;
      if (std::chrono::steady_clock::now() > deadline) {
        say("  (pipeline of " + id + " did not finish in 10 s)");
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  if (auto err = saga->wait_idle(10s))
    return fail("waiting for the saga", err);
  if (auto err = catalog->wait_caught_up(10s))
    return fail("waiting for the catalog", err);
  say("");
  print_catalog(**views);
  return 0;
}
