// esr-bench: `esr-bench <subcommand> [--json] [options]`. Each subcommand
// measures one layer of esr and, in the same run, the raw LevelDB ceiling, so
// results can be read as ratios on any machine.
#include <cstdio>
#include <string>

#include "bench_registry.hpp"

int main(int argc, char** argv) {
  auto& reg = esr::bench::registry();
  if (argc < 2 || std::string{argv[1]} == "--help" || std::string{argv[1]} == "-h") {
    std::printf("usage: esr-bench <subcommand> [--json] [options]\n\nsubcommands:\n");
    for (auto& [name, entry] : reg)
      std::printf("  %-12s %s\n", name.c_str(), entry.first.c_str());
    return argc < 2 ? 2 : 0;
  }
  auto i = reg.find(argv[1]);
  if (i == reg.end()) {
    std::fprintf(stderr, "esr-bench: unknown subcommand '%s' (try --help)\n", argv[1]);
    return 2;
  }
  esr::bench::args rest(argv + 2, argv + argc);
  return i->second.second(rest);
}
