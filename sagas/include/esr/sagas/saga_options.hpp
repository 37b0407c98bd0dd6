#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace esr::sagas {

/// What the runtime reports to an observer (the story of a run).
struct saga_note {
  enum class kind : uint8_t {
    event,      ///< An event was handled: `text` names it, `state` is the new state.
    command,    ///< A command was sent to an aggregate (or re-sent after a restart).
    reply,      ///< An aggregate answered a command (ok or rejected).
    timeout,    ///< A timeout was armed, cancelled or fired.
    completed,  ///< An instance ended; `text` is its outcome.
    parked,     ///< An event was parked as a dead letter; `text` holds the error.
    ignored,    ///< An event was ignored (unknown or finished instance).
    info,       ///< A line a handler added with ctx.note().
  };
  kind what = kind::info;
  std::string saga;     ///< The saga's name.
  std::string instance; ///< The instance key ("" if none).
  std::string text;     ///< Human-readable description.
  std::string state;    ///< For kind::event: the state after the step.
};

/// Options of a saga runtime.
struct saga_options {
  /// Receives the story of the run. Called from several threads (the
  /// subscription thread, the journal's acknowledging thread and CAF
  /// workers), possibly concurrently; must not block for long. Default: none.
  std::function<void(const saga_note&)> observer;
  /// Called when an instance ended, with its key and outcome, as soon as the
  /// final step is durable: on the journal thread that acknowledges it (or
  /// the processor thread, when it redoes a batch); must be short. Cheaper
  /// than an observer (no story is rendered). Default: none.
  std::function<void(const std::string& instance, const std::string& outcome)> on_completed;
  /// Attempts of a failing handler before the event is parked. Default: 3.
  size_t handler_attempts = 3;
  /// Delay before the second attempt; doubles per attempt. Default: 5 ms.
  std::chrono::milliseconds handler_backoff{5};
  /// How long a command may wait for the aggregate's answer before it is
  /// re-sent (with the same command id). Default: 10 s.
  std::chrono::milliseconds command_timeout{10000};
  /// First delay before a failed command is re-sent; doubles per failure up
  /// to max_command_backoff. Default: 20 ms.
  std::chrono::milliseconds command_backoff{20};
  /// Largest delay between re-sends of a failing command. Default: 2 s.
  std::chrono::milliseconds max_command_backoff{2000};
  /// Most events handled per step batch (one write_async call). Larger
  /// batches make larger group commits: fewer fsyncs and checkpoint writes
  /// per event (esr-bench sagas, sustained: 4096 gave 1.1x-1.3x the
  /// completions/s of 1024). Default: 4096.
  size_t max_batch = 4096;
  /// How long answered commands are collected before the outbox-done
  /// position and the deletion of answered outbox keys are written (one
  /// side-only write). Default: 2 ms.
  std::chrono::milliseconds outbox_flush_interval{2};
  /// Most finished instances remembered in memory (older ones are looked up
  /// in the journal again). Default: 100,000.
  size_t finished_cache = 100000;
};

} // namespace esr::sagas
