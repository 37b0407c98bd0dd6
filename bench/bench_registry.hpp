#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace esr::bench {

/// Command-line arguments after the subcommand name, e.g. {"--json"}.
using args = std::vector<std::string>;

/// A subcommand: runs the benchmark and returns the process exit code.
using bench_fn = std::function<int(const args&)>;

/// The registered subcommands, by name.
std::map<std::string, std::pair<std::string, bench_fn>>& registry();

/// Registers a subcommand at static-initialisation time.
struct registrar {
  registrar(std::string name, std::string help, bench_fn f);
};

} // namespace esr::bench

/// Registers `fn` as `esr-bench <name>`; `help` is one line for --help.
#define ESR_BENCH_REGISTER(name, help, fn)                                     \
  static ::esr::bench::registrar esr_bench_registrar_##fn{name, help, fn}
