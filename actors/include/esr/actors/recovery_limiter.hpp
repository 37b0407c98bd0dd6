#pragma once

#include <cstddef>
#include <deque>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/weak_intrusive_ptr.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/atom.hpp>

namespace esr::actors {

/// Sent by a recovery_limiter to a waiting actor when it grants a permit.
using recovery_permit_atom = caf::atom_constant<caf::atom("esr_permit")>;

/// Bounds the number of aggregates recovering at the same time, so that
/// reactivating many aggregates (e.g. 100k after a restart) cannot occupy
/// every scheduler thread with storage reads. A counting semaphore whose
/// waiters are actors: granting a permit to a waiter is an asynchronous
/// message (recovery_permit_atom).
///
/// Thread-safety: every member function may be called from any thread.
class recovery_limiter {
public:
  /// Allows `max_concurrent` (at least 1) recoveries at a time.
  explicit recovery_limiter(size_t max_concurrent);

  /// Takes a permit and returns true if one is free. Otherwise queues
  /// `waiter` (FIFO, weakly referenced), returns false, and later sends it
  /// recovery_permit_atom; from then on the waiter holds a permit and must
  /// call release() (also when it stops). Waiters that no longer exist are
  /// skipped; a waiter stopping while its permit message is in flight loses
  /// that permit (a narrow race, only on kill during recovery).
  bool acquire_or_wait(const caf::actor& waiter);

  /// Returns a permit; hands it to the oldest waiter, if any.
  void release();

  /// Returns the number of permits currently taken (for tests and metrics).
  size_t in_use() const;

private:
  mutable std::mutex mtx_;
  size_t free_;
  size_t max_;
  std::deque<caf::weak_actor_ptr> waiters_;
};

} // namespace esr::actors
