#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "esr/actors/aggregate_model.hpp"
#include "esr/actors/messages.hpp"
#include "esr/runtime/aggregates/registry.hpp"
#include "key_distribution.hpp"

namespace esr::loadtest {

/// What a command was, kept by the driver while the command is in flight and
/// handed back to the generator with the outcome (the envelope itself is
/// moved into the request). Meaning is up to the workload.
struct command_tag {
  uint32_t kind = 0; ///< E.g. deposit or withdrawal.
  int64_t value = 0; ///< E.g. the amount.
};

/// One command the driver sends.
struct planned_command {
  actors::command_envelope envelope; ///< Build with runtime::aggregates::make_command.
  command_tag tag;
};

/// Produces the commands of one driver worker and accounts for their
/// outcomes. Used only from that worker's actor (no locking needed), but
/// generators of one workload run concurrently on different threads.
class command_generator {
public:
  virtual ~command_generator();

  /// Returns the next command, addressed to the aggregate chosen by `key`
  /// (in [0, aggregates)). `r` is the worker's engine.
  virtual planned_command next(uint64_t key, rng& r) = 0;

  /// Called exactly once per command the driver sent, with the aggregate's
  /// reply or the error (also request timeouts). The workload counts what
  /// was acknowledged here, for verify().
  virtual void completed(const command_tag& tag,
                         const caf::expected<actors::command_reply>& outcome) = 0;
};

/// The outcome of the end-of-run check.
struct verification {
  bool ok = false;             ///< True if storage matches what was acknowledged.
  std::string description;     ///< What was compared, with both sides' figures.
  uint64_t aggregates = 0;     ///< Aggregates whose state was recovered.
};

/// Where a workload's aggregates run and what they were set up with.
struct workload_context {
  caf::actor_system* system = nullptr;                 ///< The tool's actor system.
  runtime::aggregates::aggregate_registry* registry = nullptr; ///< Started by the tool.
  uint64_t aggregates = 0;                             ///< --aggregates.
  uint64_t snapshot_every = 0;                         ///< --snapshot-every (0: none).
};

/// A load-test workload: its aggregate types, a command generator per
/// driver worker, and a check of the stored result. See README.md ("Plugging
/// in your own workload").
///
/// Lifecycle: types() once, then start() once the registry runs, then
/// make_generator() per worker, the run, settle() after the last reply, then
/// begin_verify(), one add_state() per recovered aggregate, and finish_verify().
class workload {
public:
  virtual ~workload();

  /// Returns the command-line name, e.g. "bank".
  virtual std::string name() const = 0;

  /// Returns the aggregate types to register. Called once, before start.
  /// `snapshot_every` is --snapshot-every (0: no snapshots).
  virtual std::vector<std::shared_ptr<const actors::aggregate_model>>
  types(uint64_t snapshot_every) = 0;

  /// Starts whatever else the workload needs (sagas, subscriptions) once the
  /// registry runs. Returns an error to abort the run. Default: nothing.
  [[nodiscard]] virtual caf::error start(const workload_context& ctx);

  /// Returns a generator for driver worker `worker`.
  virtual std::unique_ptr<command_generator> make_generator(size_t worker) = 0;

  /// Waits (blocking, up to `timeout_ms`) until asynchronous follow-up work
  /// of acknowledged commands is done (e.g. sagas reached a final state).
  /// Returns an error if it did not settle. Default: nothing to wait for.
  [[nodiscard]] virtual caf::error settle(int64_t timeout_ms);

  /// Stops what start() started. Default: nothing.
  virtual void stop();

  /// Prepares a check: called after the runtime was stopped and storage
  /// reopened, before add_state().
  virtual void begin_verify() = 0;

  /// Folds the state of one aggregate recovered from storage: `type` is its
  /// type name, `state` a copy of its State (as aggregate_model::copy_state).
  /// Called from one thread at a time.
  virtual void add_state(const std::string& type, const std::string& persistence_id,
                         const std::any& state) = 0;

  /// Compares the folded states with what the generators saw acknowledged.
  virtual verification finish_verify() = 0;

  /// Returns workload-specific figures for the JSON output and summary
  /// (e.g. acknowledged amounts). Default: none.
  virtual std::map<std::string, double> figures() const;
};

/// Workload-specific command-line options: every `--key value` the tool
/// itself does not know, without the leading dashes (e.g. {"withdraw", "0.4"}).
using workload_params = std::map<std::string, std::string>;

/// Creates a workload from its parameters; returns an error (e.g.
/// caf::sec::invalid_argument with a message) for unknown or malformed ones.
using workload_factory
  = std::function<caf::expected<std::unique_ptr<workload>>(const workload_params&)>;

/// Registers `factory` under `name` (last registration wins). Call before
/// run_loadtest / from a static initialiser (see ESR_LOADTEST_WORKLOAD).
void register_workload(const std::string& name, std::string help, workload_factory factory);

/// Returns a new workload named `name` made from `params`; the factory's
/// error, or caf::sec::invalid_argument if no workload has that name.
[[nodiscard]] caf::expected<std::unique_ptr<workload>>
make_workload(const std::string& name, const workload_params& params);

/// Makes a caf::sec::invalid_argument error carrying `what`, for factories.
caf::error invalid_param(std::string what);

/// Returns the registered names with their one-line help, sorted by name.
std::vector<std::pair<std::string, std::string>> workload_names();

} // namespace esr::loadtest

/// Registers a workload at static-initialisation time from any source file
/// linked into the tool: ESR_LOADTEST_WORKLOAD(bank, "help", [](const workload_params& p) { ... }).
/// The factory is variadic so that a lambda with commas may be written inline.
#define ESR_LOADTEST_WORKLOAD(id, help, ...)                                     \
  static const bool esr_loadtest_registered_##id                               \
    = (::esr::loadtest::register_workload(#id, help, __VA_ARGS__), true)
