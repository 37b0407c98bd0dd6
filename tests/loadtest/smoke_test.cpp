// Smoke runs of the esr-loadtest binary: a few seconds of each workload with
// --json; checks the required fields and that the end-of-run verification
// passed (exit code 0 and "ok":true).

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

namespace {

struct run_output {
  int exit_code = -1;
  std::string out;
};

// Runs esr-loadtest with `args`; returns its exit code and stdout.
run_output run_tool(const std::string& args) {
  run_output r;
  std::string cmd = std::string{ESR_LOADTEST_PATH} + " " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  auto status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Returns the first value of `"key":` in `json` (a number, true, false or
// null), or nullopt if the key is missing.
std::optional<std::string> field(const std::string& json, const std::string& key) {
  std::smatch m;
  std::regex re{"\"" + key + "\":(-?[0-9][0-9.eE+-]*|true|false|null)"};
  if (!std::regex_search(json, m, re))
    return std::nullopt;
  return m[1].str();
}

double number(const std::string& json, const std::string& key) {
  auto v = field(json, key);
  EXPECT_TRUE(v.has_value()) << "missing field " << key;
  if (!v || *v == "null" || *v == "true" || *v == "false") {
    ADD_FAILURE() << key << " is not a number: " << v.value_or("?");
    return -1;
  }
  return std::strtod(v->c_str(), nullptr);
}

// The fields every run must report, with plausible values.
void check_required_fields(const std::string& json) {
  EXPECT_EQ(json.front(), '{');
  EXPECT_GT(number(json, "commands"), 0);
  EXPECT_GT(number(json, "commands_per_s"), 0);
  auto p50 = number(json, "p50_ms"), p99 = number(json, "p99_ms"), p999 = number(json, "p999_ms");
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, p999);
  EXPECT_NE(json.find("\"errors\":{\"conflict\":"), std::string::npos);
  for (auto k : {"conflict", "rejected", "unavailable", "timeout"})
    EXPECT_GE(number(json, k), 0) << k;
  EXPECT_GT(number(json, "raw_sync_events_per_s"), 0);
  EXPECT_GT(number(json, "ratio_to_raw"), 0);
  EXPECT_GT(number(json, "events_persisted"), 0);
  EXPECT_GT(number(json, "rss_bytes"), 0);
  EXPECT_GT(number(json, "data_dir_bytes"), 0);
  EXPECT_EQ(field(json, "ok"), std::optional<std::string>{"true"}) << json;
}

TEST(smoke, bank_closed_loop_verifies_and_reports) {
  auto report = (std::filesystem::temp_directory_path()
                 / ("esr-loadtest-smoke-" + std::to_string(::getpid()) + ".html"))
                  .string();
  auto r = run_tool("bank --duration 2 --warmup 0.5 --aggregates 500 --in-flight 64 "
                    "--raw-events 20000 --json --report "
                    + report);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  check_required_fields(r.out);
  // Rejected overdrafts happen (40% withdrawals on fresh accounts).
  EXPECT_GT(number(r.out, "rejected"), 0);
  std::ifstream in{report};
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("<svg"), std::string::npos);
  EXPECT_NE(html.str().find("Verification"), std::string::npos);
  EXPECT_EQ(html.str().find("<script src"), std::string::npos); // self-contained
  std::filesystem::remove(report);
}

TEST(smoke, commands_past_their_timeout_count_as_timeouts_and_the_run_still_verifies) {
  // A 2 ms timeout under 256 commands in flight: many answers come later
  // (each worker times its commands out itself; they are tagged, not CAF
  // requests). Their outcome is unknown, which the verification allows for.
  auto r = run_tool("bank --duration 1 --warmup 0 --aggregates 500 --in-flight 256 "
                    "--timeout 0.002 --raw-events 20000 --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GT(number(r.out, "timeout"), 0) << r.out;
  EXPECT_GT(number(r.out, "acknowledged"), 0) << r.out;
  EXPECT_EQ(field(r.out, "ok"), std::optional<std::string>{"true"}) << r.out;
}

TEST(smoke, bank_open_loop_zipfian_with_restart_and_passivation_verifies) {
  auto r = run_tool("bank --duration 2 --warmup 0.2 --aggregates 2000 --rate 2000 "
                    "--keys zipfian --skew 1.2 --snapshot-every 10 --max-live 200 "
                    "--idle-timeout 1 --restart --raw-events 20000 --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  check_required_fields(r.out);
  EXPECT_NE(r.out.find("\"mode\":\"restarted_runtime\""), std::string::npos);
  EXPECT_NE(r.out.find("\"loop\":\"open\""), std::string::npos);
  // 2 s at 2,000/s: about 4,000 commands were due.
  EXPECT_NEAR(number(r.out, "commands"), 4000, 1000);
  EXPECT_GT(number(r.out, "aggregates_per_s"), 0);
}

#ifdef ESR_LOADTEST_HAVE_ORDERS
TEST(smoke, orders_sagas_finish_and_money_adds_up) {
  auto r = run_tool("orders --duration 2 --warmup 0.5 --aggregates 50 --in-flight 64 "
                    "--declined 0.2 --raw-events 20000 --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  check_required_fields(r.out);
  EXPECT_GT(number(r.out, "sagas_completed"), 0);
  EXPECT_EQ(number(r.out, "saga_events_parked"), 0);
}
#endif

TEST(smoke, usage_errors_exit_with_2) {
  EXPECT_EQ(run_tool("").exit_code, 2);
  EXPECT_EQ(run_tool("no-such-workload --duration 1").exit_code, 2);
  EXPECT_EQ(run_tool("bank --keys sideways").exit_code, 2);
  EXPECT_EQ(run_tool("bank --withdraw 2").exit_code, 2);
  EXPECT_EQ(run_tool("bank --no-such-option 1").exit_code, 2);
  EXPECT_EQ(run_tool("bank --target cluster:localhost:4242").exit_code, 2);
  EXPECT_EQ(run_tool("--help").exit_code, 0);
}

} // namespace
