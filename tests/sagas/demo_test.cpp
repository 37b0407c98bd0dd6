// The main demo (examples/order_payment) run twice on one data directory:
// both runs end with every order in a final state, the second one listing
// the first run's orders too (recovered from the journal).

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

/// Runs `cmd`, returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  auto* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    out.append(buf, n);
  return {::pclose(p), out};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST(order_payment_demo, runs_twice_on_the_same_directory) {
  auto dir = esr::sagas_test::temp_dir("demo");
  auto first = run(std::string{ESR_ORDER_PAYMENT_DEMO} + " " + dir);
  ASSERT_EQ(first.first, 0) << first.second;
  EXPECT_NE(first.second.find("customer owes $150.00"), std::string::npos);
  EXPECT_NE(first.second.find("customer owes $0.00"), std::string::npos);
  EXPECT_EQ(count(first.second, " CONFIRMED |"), 1u);
  EXPECT_EQ(count(first.second, " CANCELLED |"), 4u);
  EXPECT_NE(first.second.find("cancelled (payment timeout)"), std::string::npos);
  EXPECT_NE(first.second.find("REFUNDED"), std::string::npos);
  auto second = run(std::string{ESR_ORDER_PAYMENT_DEMO} + " " + dir);
  ASSERT_EQ(second.first, 0) << second.second;
  EXPECT_NE(second.second.find("(run 2)"), std::string::npos);
  EXPECT_EQ(count(second.second, " CONFIRMED |"), 2u);
  EXPECT_EQ(count(second.second, " CANCELLED |"), 8u);
  EXPECT_EQ(count(second.second, "saga: ?"), 0u);
}
