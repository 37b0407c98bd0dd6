#include "workload.hpp"

#include <mutex>

#include <caf/sec.hpp>

namespace esr::loadtest {

namespace {

struct entry {
  std::string help;
  workload_factory factory;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, entry>& registry() {
  static std::map<std::string, entry> r;
  return r;
}

} // namespace

command_generator::~command_generator() = default;

workload::~workload() = default;

caf::error workload::start(const workload_context&) {
  return caf::none;
}

caf::error workload::settle(int64_t) {
  return caf::none;
}

void workload::stop() {
  // nop
}

std::map<std::string, double> workload::figures() const {
  return {};
}

void register_workload(const std::string& name, std::string help, workload_factory factory) {
  std::lock_guard<std::mutex> guard{registry_mutex()};
  registry()[name] = entry{std::move(help), std::move(factory)};
}

caf::expected<std::unique_ptr<workload>> make_workload(const std::string& name,
                                                       const workload_params& params) {
  workload_factory f;
  {
    std::lock_guard<std::mutex> guard{registry_mutex()};
    auto i = registry().find(name);
    if (i == registry().end())
      return invalid_param("unknown workload: " + name);
    f = i->second.factory;
  }
  return f(params);
}

caf::error invalid_param(std::string what) {
  return caf::make_error(caf::sec::invalid_argument, std::move(what));
}

std::vector<std::pair<std::string, std::string>> workload_names() {
  std::lock_guard<std::mutex> guard{registry_mutex()};
  std::vector<std::pair<std::string, std::string>> result;
  for (auto& kv : registry())
    result.emplace_back(kv.first, kv.second.help);
  return result;
}

} // namespace esr::loadtest
