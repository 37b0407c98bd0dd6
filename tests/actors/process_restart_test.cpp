// Recovery across a real process restart on LevelDB: a child process runs
// commands and exits abruptly (std::_Exit, no shutdown); this process then
// opens the same directory and finds every acknowledged command, and a
// retried command id gets its original reply.
#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "counter_model.hpp"
#include "esr/actors/errc.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "esr/runtime/aggregates/registry.hpp"

extern char** environ;

using namespace esr;
using namespace esr::runtime::aggregates;

namespace {

constexpr int child_commands = 300;

struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<aggregate_registry> reg;
  std::unique_ptr<aggregate_client> client;

  explicit node(const std::string& dir, uint64_t snapshot_every) {
    actors::register_errors(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    persistence::leveldb_options o;
    o.path = dir;
    auto store = persistence::open_leveldb(o);
    if (!store)
      throw std::runtime_error(actors::render(store.error()));
    counter::model_options mo;
    mo.snapshot_every = snapshot_every;
    auto r = aggregate_registry::start(*sys, *store, {counter::make_type(mo)});
    if (!r)
      throw std::runtime_error(actors::render(r.error()));
    reg = *r;
    client = std::make_unique<aggregate_client>(*reg);
  }
};

int run_child(const std::string& dir) {
  pid_t pid;
  std::string exe = std::filesystem::read_symlink("/proc/self/exe");
  std::string filter = "--gtest_filter=process_restart.DISABLED_child_writes_then_crashes";
  std::string also = "--gtest_also_run_disabled_tests";
  std::string env = "ESR_CHILD_DIR=" + dir;
  char* argv[] = {exe.data(), filter.data(), also.data(), nullptr};
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e)
    envp.push_back(*e);
  envp.push_back(env.data());
  envp.push_back(nullptr);
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()) != 0)
    return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

// Runs only inside the child process started below.
TEST(process_restart, DISABLED_child_writes_then_crashes) {
  auto dir = std::getenv("ESR_CHILD_DIR");
  ASSERT_NE(dir, nullptr);
  node n{dir, 50};
  for (int i = 1; i <= child_commands; ++i) {
    command_options o;
    o.command_id = "c" + std::to_string(i);
    auto r = n.client->call<counter::reply>("counter", "p" + std::to_string(i % 3),
                                            counter::command{counter::add{i}}, o);
    if (!r)
      std::_Exit(3);
  }
  std::_Exit(42); // Acknowledged means durable: no orderly shutdown.
}

TEST(process_restart, acknowledged_commands_survive_a_crash_of_the_process) {
  auto dir = (std::filesystem::temp_directory_path()
              / ("esr-actors-restart-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run_child(dir), 42);
  {
    node n{dir, 50};
    int64_t expected[3] = {0, 0, 0};
    for (int i = 1; i <= child_commands; ++i)
      expected[i % 3] += i;
    for (int k = 0; k < 3; ++k) {
      auto r = n.client->call<actors::command_reply>("counter", "p" + std::to_string(k),
                                                     counter::command{counter::get{}});
      ASSERT_TRUE(r) << actors::render(r.error());
      EXPECT_EQ(std::any_cast<int64_t>(r->value), expected[k]);
      EXPECT_EQ(r->version, static_cast<uint64_t>(child_commands / 3));
    }
    // The last command of p0, retried with its id: the original reply.
    command_options o;
    o.command_id = "c300";
    auto retry = n.client->call<counter::reply>("counter", "p0",
                                                counter::command{counter::add{300}}, o);
    ASSERT_TRUE(retry) << actors::render(retry.error());
    EXPECT_EQ(*retry, expected[0]);
    n.reg->stop();
  }
  std::filesystem::remove_all(dir);
}
