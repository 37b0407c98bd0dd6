// The video pipeline (seed 004): VideoUploaded -> VideoProcessingStarted ->
// VideoProcessingCompleted -> catalog view updated -> VideoAvailable, and
// the catalog's reconciliation after a report lost between the view commit
// and the RecordViewUpdated command.

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <gtest/gtest.h>

#include "esr/runtime/bus/event_bus.hpp"
#include "esr/sagas/error.hpp"
#include "esr/sagas/saga_runtime.hpp"
#include "support.hpp"
#include "video.hpp"

using namespace std::chrono_literals;
using namespace video_pipeline;
namespace agg = esr::runtime::aggregates;
namespace proj = esr::runtime::projections;

namespace {

/// The video pipeline on a directory: aggregates, saga, catalog projection.
struct pipeline {
  explicit pipeline(const std::string& dir, bool report_view = true) {
    esr::sagas::register_errors(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    esr::persistence::leveldb_options lo;
    lo.path = dir + "/journal";
    store = *esr::persistence::open_leveldb(lo);
    proj::view_store_options vo;
    vo.path = dir + "/views";
    views = *proj::view_store::open(vo);
    reg.emplace(*agg::aggregate_registry::start(*sys, store,
                                                {make_video_type(), make_transcoder_type()}));
    bus = esr::runtime::bus::event_bus::make(store.events);
    client = std::make_unique<agg::aggregate_client>(*reg);
    saga = std::move(*esr::sagas::saga_runtime::start(*sys, bus, *reg, make_pipeline_saga()));
    auto opts = report_view ? catalog_options(*client) : proj::projection_options{};
    catalog = std::move(*proj::projection_runner::start(bus, views, make_catalog_projection(),
                                                        opts));
  }

  ~pipeline() {
    catalog->stop();
    saga->stop();
    client.reset();
    reg->stop();
    catalog.reset();
    saga.reset();
    bus.reset();
    reg.reset();
    views.reset();
    store = {};
    sys.reset();
  }

  void upload(const std::string& id, int duration) {
    UploadVideo u;
    u.set_video_id(id);
    u.set_title("title of " + id);
    u.set_duration_s(duration);
    ASSERT_TRUE(client->call<VideoState>("video", id, video_command{u}));
  }

  CatalogEntry entry(const std::string& id) {
    CatalogEntry e;
    auto v = views->get(catalog_view, id);
    if (v && *v)
      e.ParseFromString(**v);
    return e;
  }

  std::vector<std::string> stream_types(const std::string& stream) {
    std::vector<std::string> types;
    (void) store.events->replay(stream, 1, esr::persistence::max_seq, esr::persistence::max_seq,
                                [&](const esr::persistence::event_envelope& e) {
                                  types.push_back(e.event_type.substr(15));
                                  return true;
                                });
    return types;
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  esr::persistence::storage store;
  std::shared_ptr<proj::view_store> views;
  std::optional<agg::aggregate_registry> reg;
  std::shared_ptr<esr::runtime::bus::event_bus> bus;
  std::unique_ptr<agg::aggregate_client> client;
  std::unique_ptr<esr::sagas::saga_runtime> saga;
  std::unique_ptr<proj::projection_runner> catalog;
};

bool wait_completed(esr::sagas::saga_runtime& rt, const std::string& id,
                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = rt.instance(id);
    if (info && *info && (*info)->completed)
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

} // namespace

TEST(video_pipeline, an_uploaded_video_becomes_available_after_the_view_is_updated) {
  pipeline p{esr::sagas_test::temp_dir("video")};
  p.upload("v1", 95);
  ASSERT_TRUE(wait_completed(*p.saga, "v1", 10s));
  EXPECT_EQ(p.stream_types("video-v1"),
            (std::vector<std::string>{"VideoUploaded", "VideoProcessingStarted",
                                      "VideoProcessingCompleted", "VideoViewUpdated",
                                      "VideoAvailable"}));
  ASSERT_FALSE(p.catalog->wait_caught_up(10s));
  auto e = p.entry("v1");
  EXPECT_EQ(e.status(), "available");
  EXPECT_EQ(e.url(), "https://videos.example/v1");
  EXPECT_EQ(e.renditions_size(), 4);
  auto s = p.client->live_state<VideoState>("video", "v1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state.status(), VideoState::AVAILABLE);
}

TEST(video_pipeline, a_lost_view_report_is_reconciled_on_restart) {
  auto dir = esr::sagas_test::temp_dir("video-reconcile");
  {
    pipeline p{dir, false}; // The report after the view commit is "lost".
    p.upload("v2", 4000);
    ASSERT_FALSE(p.saga->wait_idle(10s));
    ASSERT_FALSE(p.catalog->wait_caught_up(10s));
    EXPECT_EQ(p.entry("v2").status(), "ready");
    auto info = p.saga->instance("v2");
    ASSERT_TRUE(info && *info);
    EXPECT_FALSE((*info)->completed);
    EXPECT_EQ((*info)->state, "stage=waiting for the catalog view");
  }
  pipeline p{dir};
  EXPECT_EQ(reconcile_catalog(*p.views, *p.client), 1u);
  ASSERT_TRUE(wait_completed(*p.saga, "v2", 10s));
  ASSERT_FALSE(p.catalog->wait_caught_up(10s));
  EXPECT_EQ(p.entry("v2").status(), "available");
  EXPECT_EQ(p.entry("v2").renditions_size(), 3);
}
