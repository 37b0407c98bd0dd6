#include "memory_journal.hpp"

#include "esr/persistence/error.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

namespace {

/// The in-memory journal accepts payloads up to the LevelDB default.
constexpr size_t max_payload = 16u << 20;

} // namespace

void memory_journal::write_async(std::vector<atomic_write> writes, write_callback done) {
  std::unique_lock<std::mutex> commit{commit_mutex_};
  write_outcomes outcomes;
  std::vector<event_envelope> committed;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto ts = now_us();
    for (auto& w : writes) {
      if (w.events.empty() && w.side_writes.empty()) {
        outcomes.emplace_back(make_error(errc::invalid_argument, "empty atomic write"));
        continue;
      }
      caf::error invalid;
      if (!w.events.empty() && !valid_persistence_id(w.persistence_id))
        invalid = make_error(errc::serialization_failed, "invalid persistence id");
      for (size_t i = 0; !invalid && i < w.events.size(); ++i)
        invalid = validate_event(w.events[i], max_payload);
      if (invalid) {
        outcomes.emplace_back(std::move(invalid));
        continue;
      }
      write_result res;
      res.timestamp_us = ts;
      if (!w.events.empty()) {
        auto& s = streams_[w.persistence_id];
        if (w.expected_sequence_nr && *w.expected_sequence_nr != s.highest) {
          outcomes.emplace_back(make_error(errc::concurrency_conflict, w.persistence_id,
                                           "expected", *w.expected_sequence_nr,
                                           "actual", s.highest));
          continue;
        }
        res.first_sequence_nr = s.highest + 1;
        res.first_global_position = log_.size() + 1;
        for (auto& e : w.events) {
          e.persistence_id = w.persistence_id;
          e.sequence_nr = ++s.highest;
          e.global_position = log_.size() + 1;
          if (e.timestamp_us == 0)
            e.timestamp_us = ts;
          s.positions.emplace(e.sequence_nr, log_.size());
          log_.push_back(e);
          committed.push_back(e);
        }
        res.last_sequence_nr = s.highest;
        res.last_global_position = log_.size();
      }
      for (auto& sw : w.side_writes) {
        if (sw.value)
          side_[sw.key] = *sw.value;
        else
          side_.erase(sw.key);
      }
      outcomes.emplace_back(res);
    }
  }
  if (!committed.empty()) {
    std::lock_guard<std::mutex> guard{listeners_mutex_};
    for (auto& [token, f] : listeners_)
      f(committed);
  }
  commit.unlock();
  done(std::move(outcomes));
}

caf::expected<uint64_t> memory_journal::replay(std::string_view pid, uint64_t from,
                                               uint64_t to, uint64_t max,
                                               const event_visitor& f) {
  std::vector<event_envelope> selected;
  uint64_t highest = 0;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = streams_.find(std::string{pid});
    if (i == streams_.end())
      return uint64_t{0};
    highest = i->second.highest;
    if (max == 0 || from > to)
      return highest;
    for (auto j = i->second.positions.lower_bound(from);
         j != i->second.positions.end() && j->first <= to && selected.size() < max; ++j)
      selected.push_back(log_[j->second]);
  }
  for (auto& e : selected)
    if (!f(e))
      break;
  return highest;
}

caf::expected<uint64_t> memory_journal::highest_sequence_nr(std::string_view pid) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = streams_.find(std::string{pid});
  return i == streams_.end() ? uint64_t{0} : i->second.highest;
}

caf::error memory_journal::delete_up_to(std::string_view pid, uint64_t to) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = streams_.find(std::string{pid});
  if (i == streams_.end())
    return caf::none;
  auto& s = i->second;
  s.positions.erase(s.positions.begin(), s.positions.upper_bound(to));
  s.deleted_to = std::max(s.deleted_to, std::min(to, s.highest));
  return caf::none;
}

caf::expected<uint64_t> memory_journal::read_all(uint64_t from, uint64_t max,
                                                 const event_filter& filter,
                                                 const event_visitor& f) {
  from = std::max<uint64_t>(from, 1);
  uint64_t examined = from - 1;
  if (max == 0)
    return examined;
  std::vector<event_envelope> selected;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto pos = from; pos <= log_.size(); ++pos) {
      examined = pos;
      auto& e = log_[pos - 1];
      if (filter.matches(e)) {
        selected.push_back(e);
        if (selected.size() >= max)
          break;
      }
    }
  }
  for (size_t i = 0; i < selected.size(); ++i)
    if (!f(selected[i]))
      return selected[i].global_position;
  return examined;
}

uint64_t memory_journal::last_position() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return log_.size();
}

uint64_t memory_journal::add_commit_listener(commit_listener f) {
  std::lock_guard<std::mutex> guard{listeners_mutex_};
  auto token = next_token_++;
  listeners_.emplace(token, std::move(f));
  return token;
}

void memory_journal::remove_commit_listener(uint64_t token) {
  std::lock_guard<std::mutex> guard{listeners_mutex_};
  listeners_.erase(token);
}

caf::expected<std::optional<std::string>> memory_journal::get_side(std::string_view key) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = side_.find(key);
  if (i == side_.end())
    return std::optional<std::string>{};
  return std::optional<std::string>{i->second};
}

caf::error memory_journal::scan_side(
  std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) {
  std::vector<std::pair<std::string, std::string>> selected;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto i = side_.lower_bound(prefix);
         i != side_.end() && std::string_view{i->first}.substr(0, prefix.size()) == prefix; ++i)
      selected.emplace_back(i->first, i->second);
  }
  for (auto& [k, v] : selected)
    if (!f(k, v))
      break;
  return caf::none;
}

} // namespace esr::persistence::detail
