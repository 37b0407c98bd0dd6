#pragma once

// The "counter" aggregate used by the tests: adds amounts, can reset, keeps
// its history (so that states differ when event order differs).

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "counter.pb.h"
#include "esr/actors/aggregate_type.hpp"

namespace counter {

struct state {
  int64_t value = 0;
  std::vector<int64_t> history;
  friend bool operator==(const state& x, const state& y) {
    return x.value == y.value && x.history == y.history;
  }
};

struct add { int64_t amount; };      // 0 is rejected; persists Added
struct add_twice { int64_t amount; }; // persists two Added atomically
struct reset {};                      // persists Reset
struct get {};                        // replies the value

using command = std::variant<add, add_twice, reset, get>;
using reply = int64_t;
using type = esr::actors::aggregate_type<state, command, reply>;

/// Options of the test type.
struct model_options {
  uint64_t snapshot_every = 0;
  size_t keep = 2;
  bool delete_events = false;
  bool reply_codec = true;
};

/// Returns a new counter type.
std::shared_ptr<type> make_type(model_options opts = {});

/// Encodes a state as a snapshot payload.
std::string encode(const state& s);

} // namespace counter
