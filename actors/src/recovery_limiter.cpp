#include "esr/actors/recovery_limiter.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

namespace esr::actors {

recovery_limiter::recovery_limiter(size_t max_concurrent)
  : free_(max_concurrent < 1 ? 1 : max_concurrent), max_(free_) {
  // nop
}

bool recovery_limiter::acquire_or_wait(const caf::actor& waiter) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (free_ > 0) {
    --free_;
    return true;
  }
  waiters_.push_back(caf::actor_cast<caf::weak_actor_ptr>(waiter));
  return false;
}

void recovery_limiter::release() {
  caf::actor next;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    while (!next && !waiters_.empty()) {
      next = caf::actor_cast<caf::actor>(waiters_.front());
      waiters_.pop_front();
    }
    if (!next) {
      if (free_ < max_)
        ++free_;
      return;
    }
  }
  // The permit passes directly to the waiter; `free_` stays unchanged.
  caf::anon_send(next, recovery_permit_atom::value);
}

size_t recovery_limiter::in_use() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return max_ - free_;
}

} // namespace esr::actors
