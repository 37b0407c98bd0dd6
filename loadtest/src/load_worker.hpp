#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "esr/runtime/aggregates/registry.hpp"
#include "histogram.hpp"
#include "key_distribution.hpp"
#include "outcome.hpp"
#include "workload.hpp"

namespace esr::loadtest {

/// Starts a worker's load (no answer).
using go_atom = caf::atom_constant<caf::atom("lt_go")>;
/// Open loop timer of a worker (internal).
using tick_atom = caf::atom_constant<caf::atom("lt_tick")>;
/// Asks a worker for its worker_sample since the last one (answers one).
using sample_atom = caf::atom_constant<caf::atom("lt_sample")>;
/// Asks a worker to stop sending; answered with the number of due commands it
/// dropped (open loop backlog) once every command it sent was answered.
using stop_atom = caf::atom_constant<caf::atom("lt_stop")>;

/// State shared by the driver and its workers.
struct load_control {
  /// Set (release) when the warm-up ends; commands sent afterwards count.
  std::atomic<bool> measuring{false};
  /// Measured commands still to send (count mode); may go negative.
  std::atomic<int64_t> budget{INT64_MAX};
};

/// What a worker measured since its previous sample.
struct worker_sample {
  histogram latency;          ///< Handled measured commands, nanoseconds.
  uint64_t acknowledged = 0;  ///< Measured commands acknowledged.
  error_counts errors;        ///< Measured commands failed, by kind.
  uint64_t warmup = 0;        ///< Warm-up commands completed.
  uint64_t outstanding = 0;   ///< Commands in flight at sampling time.
  int64_t last_completion_ns = 0; ///< steady_clock time of the last measured reply.
};

/// Configuration of one worker.
struct worker_config {
  runtime::aggregates::aggregate_registry registry;
  const key_distribution* keys = nullptr;    ///< Outlives the worker.
  std::unique_ptr<command_generator> generator;
  std::shared_ptr<load_control> control;
  size_t in_flight = 1;        ///< Closed loop: this worker's commands in flight.
  double rate = 0;             ///< Open loop if > 0: this worker's commands/s.
  size_t max_outstanding = 1;  ///< Open loop: this worker's bound.
  caf::duration timeout;       ///< Per-command timeout.
  uint64_t seed = 1;
};

/// Returns the steady_clock time in nanoseconds.
int64_t now_ns();

/// An event-based actor that issues commands with many in flight and
/// measures their latency (from the intended send time in the open loop).
class load_worker : public caf::event_based_actor {
public:
  load_worker(caf::actor_config& cfg, std::shared_ptr<worker_config> conf);

  caf::behavior make_behavior() override;

private:
  void on_tick();
  void due(int64_t intended_ns);
  bool send_one(int64_t intended_ns);
  void on_done(int64_t intended_ns, bool measured, command_tag tag,
               caf::expected<actors::command_reply> outcome);

  std::shared_ptr<worker_config> conf_;
  rng rng_;
  worker_sample sample_;
  uint64_t outstanding_ = 0;
  bool stopping_ = false;
  int64_t next_due_ns_ = 0;
  int64_t period_ns_ = 0;
  std::deque<int64_t> backlog_;
  uint64_t dropped_ = 0;
  caf::response_promise stop_rp_;
};

} // namespace esr::loadtest

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::loadtest::worker_sample)
