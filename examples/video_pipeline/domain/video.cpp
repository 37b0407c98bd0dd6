#include "video.hpp"

namespace video_pipeline {

namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

VideoState same(const VideoState& s) {
  return s;
}

void report_view_updated(esr::runtime::aggregates::aggregate_client& client,
                         const std::string& video_id) {
  RecordViewUpdated r;
  r.set_video_id(video_id);
  esr::runtime::aggregates::command_options co;
  co.command_id = "catalog/" + video_id;
  client.send<VideoState>("video", video_id, video_command{r},
                          [](caf::expected<VideoState>) {}, co);
}

} // namespace

std::shared_ptr<video_type> make_video_type() {
  auto t = std::make_shared<video_type>("video");
  // No stored replies: the aggregate would keep the binary reply in an event
  // header, which must be UTF-8. A command retried across a restart is then
  // answered with errc::duplicate_command, which the saga treats as done.
  t->reply_codec({}, {});
  using effect = video_type::effect;
  using S = VideoState;
  t->on_command([](const S& s, const video_command& c) -> effect {
    return std::visit(
      overloaded{
        [&](const UploadVideo& u) -> effect {
          if (s.status() != S::NONE)
            return effect::reply(s);
          VideoUploaded e;
          e.set_video_id(u.video_id());
          e.set_title(u.title());
          e.set_duration_s(u.duration_s());
          return effect::persist(e).then_reply(same);
        },
        [&](const StartProcessing& p) -> effect {
          if (s.status() != S::UPLOADED)
            return effect::reply(s);
          VideoProcessingStarted e;
          e.set_video_id(p.video_id());
          return effect::persist(e).then_reply(same);
        },
        [&](const CompleteProcessing& p) -> effect {
          if (s.status() != S::PROCESSING)
            return effect::reply(s);
          VideoProcessingCompleted e;
          e.set_video_id(p.video_id());
          *e.mutable_renditions() = p.renditions();
          return effect::persist(e).then_reply(same);
        },
        [&](const RecordViewUpdated& r) -> effect {
          if (s.status() != S::PROCESSED)
            return effect::reply(s);
          VideoViewUpdated e;
          e.set_video_id(r.video_id());
          return effect::persist(e).then_reply(same);
        },
        [&](const PublishVideo& p) -> effect {
          if (s.status() == S::AVAILABLE)
            return effect::reply(s);
          if (s.status() != S::LISTED)
            return effect::reject("video " + p.video_id() + " is not in the catalog yet");
          VideoAvailable e;
          e.set_video_id(p.video_id());
          e.set_url("https://videos.example/" + p.video_id());
          return effect::persist(e).then_reply(same);
        }},
      c);
  });
  t->on_event<VideoUploaded>([](S& s, const VideoUploaded& e) {
    s.set_video_id(e.video_id());
    s.set_title(e.title());
    s.set_duration_s(e.duration_s());
    s.set_status(S::UPLOADED);
  });
  t->on_event<VideoProcessingStarted>(
    [](S& s, const VideoProcessingStarted&) { s.set_status(S::PROCESSING); });
  t->on_event<VideoProcessingCompleted>([](S& s, const VideoProcessingCompleted& e) {
    s.set_status(S::PROCESSED);
    *s.mutable_renditions() = e.renditions();
  });
  t->on_event<VideoViewUpdated>([](S& s, const VideoViewUpdated&) { s.set_status(S::LISTED); });
  t->on_event<VideoAvailable>([](S& s, const VideoAvailable& e) {
    s.set_status(S::AVAILABLE);
    s.set_url(e.url());
  });
  return t;
}

std::shared_ptr<transcoder_type> make_transcoder_type() {
  auto t = std::make_shared<transcoder_type>("transcoder");
  t->reply_codec({}, {}); // See make_video_type().
  using effect = transcoder_type::effect;
  t->on_command([](const TranscoderState& s, const transcoder_command& c) -> effect {
    auto& job = std::get<Transcode>(c);
    if (s.done())
      return effect::reply(s);
    TranscodeFinished e;
    e.set_video_id(job.video_id());
    e.add_renditions("240p");
    e.add_renditions("480p");
    e.add_renditions("720p");
    if (job.duration_s() <= 600)
      e.add_renditions("1080p"); // Short videos also get full HD.
    return effect::persist(e).then_reply([](const TranscoderState& x) { return x; });
  });
  t->on_event<TranscodeFinished>([](TranscoderState& s, const TranscodeFinished& e) {
    s.set_video_id(e.video_id());
    s.set_done(true);
    *s.mutable_renditions() = e.renditions();
  });
  return t;
}

std::shared_ptr<pipeline_saga> make_pipeline_saga() {
  auto t = std::make_shared<pipeline_saga>("video_pipeline");
  using ctx_t = pipeline_saga::context;
  t->starts_with<VideoUploaded>([](const VideoUploaded& e) { return e.video_id(); },
                                [](ctx_t& ctx, const VideoUploaded& e) {
                                  auto& s = ctx.state();
                                  s.set_video_id(e.video_id());
                                  s.set_title(e.title());
                                  s.set_duration_s(e.duration_s());
                                  s.set_stage("starting processing");
                                  StartProcessing c;
                                  c.set_video_id(e.video_id());
                                  ctx.send("video", e.video_id(), c);
                                });
  t->on<VideoProcessingStarted>([](const VideoProcessingStarted& e) { return e.video_id(); },
                                [](ctx_t& ctx, const VideoProcessingStarted& e) {
                                  ctx.state().set_stage("transcoding");
                                  Transcode c;
                                  c.set_video_id(e.video_id());
                                  c.set_duration_s(ctx.state().duration_s());
                                  ctx.send("transcoder", e.video_id(), c);
                                });
  t->on<TranscodeFinished>([](const TranscodeFinished& e) { return e.video_id(); },
                           [](ctx_t& ctx, const TranscodeFinished& e) {
                             ctx.state().set_stage("completing processing");
                             CompleteProcessing c;
                             c.set_video_id(e.video_id());
                             *c.mutable_renditions() = e.renditions();
                             ctx.send("video", e.video_id(), c);
                           });
  t->on<VideoProcessingCompleted>([](const VideoProcessingCompleted& e) { return e.video_id(); },
                                  [](ctx_t& ctx, const VideoProcessingCompleted&) {
                                    ctx.state().set_stage("waiting for the catalog view");
                                  });
  t->on<VideoViewUpdated>([](const VideoViewUpdated& e) { return e.video_id(); },
                          [](ctx_t& ctx, const VideoViewUpdated& e) {
                            ctx.state().set_stage("publishing");
                            PublishVideo c;
                            c.set_video_id(e.video_id());
                            ctx.send("video", e.video_id(), c);
                          });
  t->on<VideoAvailable>([](const VideoAvailable& e) { return e.video_id(); },
                        [](ctx_t& ctx, const VideoAvailable& e) {
                          ctx.state().set_stage("available");
                          ctx.note("available at " + e.url());
                          ctx.complete("available");
                        });
  t->describe([](const PipelineState& s) { return "stage=" + s.stage(); });
  t->command<StartProcessing, video_command>();
  t->command<CompleteProcessing, video_command>();
  t->command<PublishVideo, video_command>();
  t->command<Transcode, transcoder_command>();
  return t;
}

esr::runtime::projections::projection make_catalog_projection() {
  esr::runtime::projections::projection p;
  p.view = catalog_view;
  p.filter = esr::persistence::event_filter::category("video");
  p.apply = [](esr::runtime::projections::view_txn& txn,
               const esr::persistence::event_envelope& e) -> caf::error {
    auto id = e.persistence_id.substr(e.persistence_id.find('-') + 1);
    CatalogEntry entry;
    auto old = txn.get(id);
    if (!old)
      return std::move(old.error());
    if (*old)
      entry.ParseFromString(**old);
    entry.set_video_id(id);
    if (e.event_type == VideoUploaded::default_instance().GetTypeName()) {
      VideoUploaded ev;
      ev.ParseFromString(e.payload);
      entry.set_title(ev.title());
      entry.set_status("uploaded");
    } else if (e.event_type == VideoProcessingStarted::default_instance().GetTypeName()) {
      entry.set_status("processing");
    } else if (e.event_type == VideoProcessingCompleted::default_instance().GetTypeName()) {
      VideoProcessingCompleted ev;
      ev.ParseFromString(e.payload);
      entry.set_status("ready");
      *entry.mutable_renditions() = ev.renditions();
    } else if (e.event_type == VideoAvailable::default_instance().GetTypeName()) {
      VideoAvailable ev;
      ev.ParseFromString(e.payload);
      entry.set_status("available");
      entry.set_url(ev.url());
    } else {
      return caf::none;
    }
    txn.put(id, entry.SerializeAsString());
    return caf::none;
  };
  return p;
}

esr::runtime::projections::projection_options
catalog_options(esr::runtime::aggregates::aggregate_client& client) {
  esr::runtime::projections::projection_options o;
  auto* c = &client;
  o.on_committed = [c](const esr::runtime::bus::event_batch& b) {
    for (auto& e : b.events)
      if (e.event_type == VideoProcessingCompleted::default_instance().GetTypeName())
        report_view_updated(*c, e.persistence_id.substr(e.persistence_id.find('-') + 1));
  };
  return o;
}

size_t reconcile_catalog(const esr::runtime::projections::view_store& views,
                         esr::runtime::aggregates::aggregate_client& client) {
  size_t n = 0;
  (void) views.scan(catalog_view, "", [&](std::string_view, std::string_view v) {
    CatalogEntry entry;
    if (entry.ParseFromArray(v.data(), static_cast<int>(v.size())) && entry.status() == "ready") {
      report_view_updated(client, entry.video_id());
      ++n;
    }
    return true;
  });
  return n;
}

} // namespace video_pipeline
