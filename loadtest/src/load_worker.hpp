#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <deque>
#include <unordered_map>
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
/// Times out a worker's commands past their deadline (internal).
using sweep_atom = caf::atom_constant<caf::atom("lt_sweep")>;
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
  /// Per-command timeout; 0: none.
  std::chrono::nanoseconds timeout{0};
  uint64_t seed = 1;
};

/// Returns the steady_clock time in nanoseconds.
int64_t now_ns();

/// An event-based actor that issues commands with many in flight and
/// measures their latency (from the intended send time in the open loop).
/// Commands go as tagged messages (runtime::aggregates::send_tagged), not
/// CAF requests: CAF 0.17 searches an actor's pending requests linearly per
/// response and gives each request with a timeout its own timer. The worker
/// keeps its commands by tag and times them out with one periodic sweep.
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
  void on_reply(actors::tagged_reply& r);
  void sweep();
  /// Schedules sweep() once, a tenth of the timeout from now.
  void schedule_sweep();

  /// A command in flight.
  struct pending {
    int64_t intended_ns;
    int64_t deadline_ns; ///< INT64_MAX: no timeout.
    command_tag tag;
    bool measured;
  };

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
  std::unordered_map<uint64_t, pending> pending_; ///< By reply tag.
  uint64_t next_tag_ = 0;
  bool sweep_scheduled_ = false;
};

} // namespace esr::loadtest

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(esr::loadtest::worker_sample)
