#include "test_util.hpp"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include <gtest/gtest.h>

#include "esr/persistence/error.hpp"

namespace esr::bus_test {

temp_dir::temp_dir() {
  auto tmpl = (std::filesystem::temp_directory_path() / "esr-bus-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    std::abort();
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

persistence::storage open_store(const std::string& path, persistence::durability_mode mode) {
  persistence::leveldb_options opts;
  opts.path = path;
  opts.durability = mode;
  opts.shard_count = 16;
  auto st = persistence::open_leveldb(opts);
  if (!st) {
    ADD_FAILURE() << "open_leveldb(" << path << "): " << persistence::render(st.error());
    std::abort();
  }
  return std::move(*st);
}

persistence::event_envelope make_event(std::string type, std::string payload,
                                       uint32_t schema_version) {
  persistence::event_envelope e;
  e.event_type = std::move(type);
  e.payload = std::move(payload);
  e.schema_version = schema_version;
  return e;
}

uint64_t append_events(persistence::journal& j, const std::string& pid, size_t n,
                       uint64_t first_value) {
  uint64_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    persistence::atomic_write w;
    w.persistence_id = pid;
    w.events.push_back(make_event("value", std::to_string(first_value + i)));
    auto res = j.write(std::move(w));
    if (!res) {
      ADD_FAILURE() << "write failed: " << persistence::render(res.error());
      return last;
    }
    last = res->last_global_position;
  }
  return last;
}

std::string self_exe() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

int spawn_child(const std::vector<std::string>& args) {
  auto exe = self_exe();
  std::vector<std::string> all{exe, "--child"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto pid = ::fork();
  if (pid == 0) {
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

} // namespace esr::bus_test
