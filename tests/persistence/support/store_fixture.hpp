#pragma once

// The typed fixture of the conformance suites: a fresh store of one backend
// per test, which a test may close and reopen.

#include <gtest/gtest.h>

#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"
#include "support/backends.hpp"
#include "support/events.hpp"

/// Asserts that a caf::expected holds a value; prints the rendered error.
#define ESR_ASSERT_OK(expr)                                                    \
  do {                                                                         \
    const auto& esr_res_ = (expr);                                             \
    ASSERT_TRUE(esr_res_) << "error: " << ::esr::persistence::render(esr_res_.error()); \
  } while (false)

/// Asserts that a caf::error is empty; prints it otherwise.
#define ESR_ASSERT_NO_ERROR(expr)                                              \
  do {                                                                         \
    auto esr_err_ = (expr);                                                    \
    ASSERT_FALSE(esr_err_) << "error: " << ::esr::persistence::render(esr_err_); \
  } while (false)

namespace esr::persistence::test {

template <class Backend>
class store_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    open_store();
  }

  /// Opens the store of the backend; fails the test if that fails.
  void open_store() {
    auto s = backend_.open();
    ESR_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  /// Releases the store (closing a LevelDB database).
  void close_store() {
    store_ = storage{};
  }

  /// Closes and opens the store again.
  void reopen() {
    close_store();
    open_store();
  }

  journal& events() {
    return *store_.events;
  }

  snapshot_store& snapshots() {
    return *store_.snapshots;
  }

  Backend backend_; // declared first: outlives the store
  storage store_;
};

} // namespace esr::persistence::test
