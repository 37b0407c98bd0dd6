#include "bench_registry.hpp"

namespace esr::bench {

std::map<std::string, std::pair<std::string, bench_fn>>& registry() {
  static std::map<std::string, std::pair<std::string, bench_fn>> instance;
  return instance;
}

registrar::registrar(std::string name, std::string help, bench_fn f) {
  registry().emplace(std::move(name), std::make_pair(std::move(help), std::move(f)));
}

} // namespace esr::bench
