#pragma once

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "esr/persistence/journal.hpp"

namespace esr::persistence::detail {

/// The in-memory journal: the same contracts as the LevelDB journal, for
/// fast tests. Writes are decided inline, on the caller's thread; every write
/// is "durable" at once. Commit listeners run on the writing thread.
class memory_journal final : public journal {
public:
  void write_async(std::vector<atomic_write> writes, write_callback done) override;
  caf::expected<uint64_t> replay(std::string_view persistence_id, uint64_t from,
                                 uint64_t to, uint64_t max,
                                 const event_visitor& f) override;
  caf::expected<uint64_t> highest_sequence_nr(std::string_view persistence_id) override;
  caf::error delete_up_to(std::string_view persistence_id, uint64_t to) override;
  caf::expected<uint64_t> read_all(uint64_t from, uint64_t max,
                                   const event_filter& filter,
                                   const event_visitor& f) override;
  uint64_t last_position() const override;
  uint64_t add_commit_listener(commit_listener f) override;
  void remove_commit_listener(uint64_t token) override;
  caf::expected<std::optional<std::string>> get_side(std::string_view key) override;
  caf::error scan_side(std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& f) override;

private:
  struct stream {
    uint64_t highest = 0;
    uint64_t deleted_to = 0;
    std::map<uint64_t, uint64_t> positions; ///< seq -> index into log_
  };

  /// Serializes writers so listeners see groups in commit order.
  std::mutex commit_mutex_;
  /// Guards the data below.
  mutable std::mutex mutex_;
  std::vector<event_envelope> log_; ///< log_[pos - 1] is the event at pos.
  std::unordered_map<std::string, stream> streams_;
  std::map<std::string, std::string, std::less<>> side_;

  std::mutex listeners_mutex_;
  std::map<uint64_t, commit_listener> listeners_;
  uint64_t next_token_ = 1;
};

} // namespace esr::persistence::detail
