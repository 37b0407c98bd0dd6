// esr-loadtest: load-tests the esr runtime with a workload (see --help and
// README.md). Exit codes: 0 verified, 1 verification failed, 2 usage or
// setup error.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli_options.hpp"
#include "esr/actors/errc.hpp"
#include "output.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  using namespace esr::loadtest;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = parse_options(args);
  if (!opts) {
    std::cerr << "esr-loadtest: " << esr::actors::render(opts.error()) << "\n\n" << usage();
    return 2;
  }
  if (opts->help) {
    std::cout << usage();
    return 0;
  }
  bool live = !opts->no_progress && ::isatty(STDOUT_FILENO) == 1;
  progress_fn progress;
  if (live)
    progress = [](const interval_sample& last, const load_result& total) {
      std::printf("\r%s\033[K", render_progress(last, total).c_str());
      std::fflush(stdout);
    };
  phase_fn phase;
  if (live)
    phase = [](const std::string& what) {
      std::printf("\r%s\033[K", what.c_str());
      std::fflush(stdout);
    };
  auto rep = run_loadtest(*opts, progress, phase);
  if (live) {
    std::printf("\r\033[K");
    std::fflush(stdout);
  }
  if (!rep) {
    std::cerr << "esr-loadtest: " << esr::actors::render(rep.error()) << "\n";
    return 2;
  }
  auto summary = render_summary(*rep);
  if (opts->json) {
    std::cerr << summary;
    std::cout << render_json(*rep) << std::endl;
  } else {
    std::cout << summary;
  }
  if (!opts->report.empty()) {
    std::ofstream out{opts->report};
    out << render_html(*rep);
    if (!out) {
      std::cerr << "esr-loadtest: cannot write " << opts->report << "\n";
      return 2;
    }
  }
  return rep->verify.ok ? 0 : 1;
}
