// esr-bus-tests. With "--child <mode> ..." the binary runs one of the child
// programs of the crash tests (crash_child.cpp) instead of the test suite, so
// the tests can kill -9 a real process and check what it left on disk.
#include <cstring>

#include <gtest/gtest.h>

namespace esr::bus_test {
int run_child(int argc, char** argv);
} // namespace esr::bus_test

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0)
    return esr::bus_test::run_child(argc - 2, argv + 2);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
