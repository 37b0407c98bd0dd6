// The recovery limiter: at most N permits, FIFO hand-over, dead waiters
// skipped.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "esr/actors/recovery_limiter.hpp"

using namespace esr::actors;

TEST(recovery_limiter, grants_at_most_n_permits_and_hands_them_over_in_order) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  recovery_limiter lim{2};
  caf::scoped_actor a{sys};
  caf::scoped_actor b{sys};
  caf::scoped_actor c{sys};
  caf::scoped_actor d{sys};
  EXPECT_TRUE(lim.acquire_or_wait(a));
  EXPECT_TRUE(lim.acquire_or_wait(b));
  EXPECT_FALSE(lim.acquire_or_wait(c));
  EXPECT_FALSE(lim.acquire_or_wait(d));
  EXPECT_EQ(lim.in_use(), 2u);
  lim.release(); // a's permit goes to c
  bool got = false;
  c->receive([&](recovery_permit_atom) { got = true; });
  EXPECT_TRUE(got);
  EXPECT_EQ(lim.in_use(), 2u);
  lim.release(); // b's permit goes to d
  got = false;
  d->receive([&](recovery_permit_atom) { got = true; });
  EXPECT_TRUE(got);
  lim.release();
  lim.release();
  EXPECT_EQ(lim.in_use(), 0u);
}

TEST(recovery_limiter, skips_waiters_that_no_longer_exist) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  recovery_limiter lim{1};
  caf::scoped_actor a{sys};
  EXPECT_TRUE(lim.acquire_or_wait(a));
  {
    caf::scoped_actor gone{sys};
    EXPECT_FALSE(lim.acquire_or_wait(gone));
  }
  lim.release(); // nobody alive waits: the permit is free again
  EXPECT_EQ(lim.in_use(), 0u);
  EXPECT_TRUE(lim.acquire_or_wait(a));
}
