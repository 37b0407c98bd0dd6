#include "background_env.hpp"

#include <pthread.h>

namespace esr::persistence::detail {

background_env::background_env(leveldb::Env* base, std::string name)
  : leveldb::EnvWrapper(base), name_(std::move(name)), thread_([this] { run(); }) {
}

background_env::~background_env() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void background_env::Schedule(void (*f)(void*), void* arg) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    queue_.emplace_back(f, arg);
  }
  cv_.notify_one();
}

void background_env::run() {
  pthread_setname_np(pthread_self(), name_.c_str());
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty())
      return; // stopping, nothing left
    auto [f, arg] = queue_.front();
    queue_.pop_front();
    lock.unlock();
    f(arg);
    lock.lock();
  }
}

} // namespace esr::persistence::detail
