#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <leveldb/env.h>

namespace esr::persistence::detail {

/// A leveldb::Env that forwards everything to `base` but runs background
/// work (memtable flushes, compactions) on a thread of its own. LevelDB's
/// default Env runs the background work of every database in the process on
/// one shared thread, so one database's long compaction holds up another's
/// memtable flush, and writes to that one stall (a view store's, measured as
/// projection lag). Must outlive the databases using it.
class background_env final : public leveldb::EnvWrapper {
public:
  /// Starts the thread, named `name` (at most 15 characters).
  background_env(leveldb::Env* base, std::string name);

  /// Runs what is queued, then joins the thread.
  ~background_env() override;

  background_env(const background_env&) = delete;
  background_env& operator=(const background_env&) = delete;

  /// Queues `f(arg)` for the background thread (as Env::Schedule).
  void Schedule(void (*f)(void*), void* arg) override;

private:
  void run();

  std::string name_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::pair<void (*)(void*), void*>> queue_;
  bool stopping_ = false;
  std::thread thread_; // declared last: started once the rest exists
};

} // namespace esr::persistence::detail
