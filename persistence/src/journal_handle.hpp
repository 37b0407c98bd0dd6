#pragma once

#include <memory>

#include "esr/persistence/journal.hpp"

namespace esr::persistence::detail {

/// What open_leveldb hands out: forwards to a journal core whose background
/// thread keeps its own reference, and shuts that core down when the last
/// handle goes (join, or detach when dropped from the core's own thread).
template <class Core>
class journal_handle final : public journal {
public:
  explicit journal_handle(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  ~journal_handle() override { core_->shutdown(); }

  void write_async(std::vector<atomic_write> writes, write_callback done) override {
    core_->write_async(std::move(writes), std::move(done));
  }
  caf::expected<uint64_t> replay(std::string_view pid, uint64_t from, uint64_t to,
                                 uint64_t max, const event_visitor& f) override {
    return core_->replay(pid, from, to, max, f);
  }
  caf::expected<uint64_t> highest_sequence_nr(std::string_view pid) override {
    return core_->highest_sequence_nr(pid);
  }
  caf::error delete_up_to(std::string_view pid, uint64_t to) override {
    return core_->delete_up_to(pid, to);
  }
  caf::expected<uint64_t> read_all(uint64_t from, uint64_t max, const event_filter& filter,
                                   const event_visitor& f) override {
    return core_->read_all(from, max, filter, f);
  }
  uint64_t last_position() const override { return core_->last_position(); }
  journal_stats stats() const override { return core_->stats(); }
  uint64_t add_commit_listener(commit_listener f) override {
    return core_->add_commit_listener(std::move(f));
  }
  uint64_t add_shared_commit_listener(shared_commit_listener f) override {
    return core_->add_shared_commit_listener(std::move(f));
  }
  void remove_commit_listener(uint64_t token) override {
    core_->remove_commit_listener(token);
  }
  caf::expected<std::optional<std::string>> get_side(std::string_view key) override {
    return core_->get_side(key);
  }
  caf::error scan_side(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& f) override {
    return core_->scan_side(prefix, f);
  }

private:
  std::shared_ptr<Core> core_;
};

} // namespace esr::persistence::detail
