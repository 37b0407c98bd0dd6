#pragma once

// The video pipeline (seed 004): VideoUploaded -> VideoProcessingStarted ->
// (transcoder) -> VideoProcessingCompleted -> the catalog view is updated ->
// VideoAvailable. Aggregates "video" and "transcoder", the "video_pipeline"
// saga, and the catalog projection, which reports each processed video it
// has written to the view back to the video (RecordViewUpdated), so the
// saga publishes a video only once readers can see it.

#include <memory>
#include <string>
#include <variant>

#include "esr/actors/aggregate_type.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/projections/projection.hpp"
#include "esr/sagas/saga_type.hpp"
#include "video_pipeline/video.pb.h"

namespace video_pipeline {

using video_command = std::variant<UploadVideo, StartProcessing, CompleteProcessing,
                                   RecordViewUpdated, PublishVideo>;
using transcoder_command = std::variant<Transcode>;
using video_type = esr::actors::aggregate_type<VideoState, video_command, VideoState>;
using transcoder_type
  = esr::actors::aggregate_type<TranscoderState, transcoder_command, TranscoderState>;
using pipeline_saga = esr::sagas::saga_type<PipelineState>;

/// The view the catalog projection writes (key: video id; value: CatalogEntry).
inline constexpr const char* catalog_view = "video_catalog";

/// The Video type ("video"): each command moves it one status on (and is a
/// no-op if it already got there); PublishVideo needs the view updated.
std::shared_ptr<video_type> make_video_type();

/// The Transcoder type ("transcoder", one per video): Transcode ->
/// TranscodeFinished with the renditions the duration allows (simulated).
std::shared_ptr<transcoder_type> make_transcoder_type();

/// The pipeline saga ("video_pipeline"), keyed by video id.
std::shared_ptr<pipeline_saga> make_pipeline_saga();

/// The catalog projection: video events -> CatalogEntry in catalog_view.
esr::runtime::projections::projection make_catalog_projection();

/// Projection options whose on_committed hook sends RecordViewUpdated (command
/// id "catalog/<video id>") through `client` for every VideoProcessingCompleted
/// of a committed batch. `client` must outlive the projection.
esr::runtime::projections::projection_options
catalog_options(esr::runtime::aggregates::aggregate_client& client);

/// Re-sends RecordViewUpdated for every entry of the view that is "ready"
/// (covers a crash between the view commit and the report). Returns the
/// number of entries reported.
size_t reconcile_catalog(const esr::runtime::projections::view_store& views,
                         esr::runtime::aggregates::aggregate_client& client);

} // namespace video_pipeline
