// esr-sagas-tests: GoogleTest's main, or - with --crash-child - the child
// process of the crash tests (crash_child.cpp).
#include <cstring>

#include <gtest/gtest.h>

int crash_child_main(int argc, char** argv);

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--crash-child") == 0)
    return crash_child_main(argc - 1, argv + 1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
