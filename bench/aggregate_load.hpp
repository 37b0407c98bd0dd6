#pragma once

// The load of `esr-bench aggregates`, shared with the benchmarks that measure
// something under it (`esr-bench projections`): counter aggregates, each
// command one durable event, driven by two actors with many commands in
// flight (tagged commands, see runtime::aggregates::send_tagged).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <caf/fwd.hpp>
#include <google/protobuf/wrappers.pb.h>

#include "esr/actors/aggregate_type.hpp"
#include "esr/runtime/aggregates/registry.hpp"

namespace esr::bench {

using counter_state = google::protobuf::Int64Value;
using counter_event = google::protobuf::Int64Value;

struct incr { int64_t n; }; // persists one event
struct get {};              // replies without persisting
using command = std::variant<incr, get>;
using bench_type = actors::aggregate_type<counter_state, command, int64_t>;

/// The counter aggregate type `name`, snapshotting every `snapshot_every`
/// events (0: never), keeping one.
std::shared_ptr<bench_type> make_type(const std::string& name, uint64_t snapshot_every);

struct load_result {
  double per_s = 0;
  uint64_t errors = 0;
  std::vector<double> latencies_us; // sorted
};

/// Runs `total` commands `cmd` to random aggregates of `type` among `ids`
/// (or each in order with `sequential_ids`) with `in_flight` outstanding from
/// two driver actors, and blocks until all are answered; with `max_time`
/// (> 0), sends none after it and returns once those sent are answered.
load_result run_load(caf::actor_system& sys, const runtime::aggregates::aggregate_registry& reg,
                     const std::string& type, const std::vector<std::string>& ids, command cmd,
                     uint64_t total, size_t in_flight, bool sequential_ids = false,
                     std::chrono::milliseconds max_time = std::chrono::milliseconds{0});

/// `n` ids: prefix + 0 .. prefix + (n - 1).
std::vector<std::string> make_ids(size_t n, const std::string& prefix);

} // namespace esr::bench
