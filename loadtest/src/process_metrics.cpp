#include "process_metrics.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace esr::loadtest {

namespace {

// Returns the number after "<key>:" in a /proc file, times `unit`.
std::optional<uint64_t> proc_field(const char* file, const std::string& key, uint64_t unit) {
  std::ifstream in{file};
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size()
        && line[key.size()] == ':') {
      std::istringstream rest{line.substr(key.size() + 1)};
      uint64_t v = 0;
      if (rest >> v)
        return v * unit;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<memory_usage> read_memory_usage() {
  auto rss = proc_field("/proc/self/status", "VmRSS", 1024);
  auto hwm = proc_field("/proc/self/status", "VmHWM", 1024);
  if (!rss || !hwm)
    return std::nullopt;
  return memory_usage{*rss, *hwm};
}

std::optional<uint64_t> read_io_write_bytes() {
  return proc_field("/proc/self/io", "write_bytes", 1);
}

uint64_t directory_bytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (fs::recursive_directory_iterator i{dir, ec}, e; !ec && i != e; i.increment(ec)) {
    std::error_code ec2;
    if (i->is_regular_file(ec2))
      total += i->file_size(ec2);
  }
  return total;
}

} // namespace esr::loadtest
