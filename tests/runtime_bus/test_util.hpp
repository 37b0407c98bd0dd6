#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "esr/persistence/storage.hpp"

namespace esr::bus_test {

/// A fresh empty directory under the system temp dir, removed on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

/// Opens a LevelDB store at `path` (durability none unless told otherwise);
/// aborts the test on failure.
persistence::storage open_store(const std::string& path,
                                persistence::durability_mode mode
                                = persistence::durability_mode::none);

/// An event of `type` with `payload` (no positions; the journal assigns them).
persistence::event_envelope make_event(std::string type, std::string payload,
                                       uint32_t schema_version = 1);

/// Appends `n` events "value <k>" (payload: decimal k) to stream `pid`
/// without a sequence check, one write per event. Returns the last position.
uint64_t append_events(persistence::journal& j, const std::string& pid, size_t n,
                       uint64_t first_value = 1);

/// The path of the running test binary (for child processes).
std::string self_exe();

/// Runs the test binary as a child process with `args` after "--child";
/// returns its pid.
int spawn_child(const std::vector<std::string>& args);

} // namespace esr::bus_test
