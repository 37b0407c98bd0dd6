#include "esr/actors/testkit/faulty_journal.hpp"

namespace esr::actors::testkit {

using namespace persistence;

faulty_journal::faulty_journal(std::shared_ptr<journal> inner) : inner_(std::move(inner)) {
  // nop
}

namespace {

bool first_stream_starts_with(const std::vector<atomic_write>& writes,
                              const std::string& prefix) {
  return prefix.empty()
         || (!writes.empty()
             && writes.front().persistence_id.compare(0, prefix.size(), prefix) == 0);
}

} // namespace

void faulty_journal::fail_next_write(errc code, bool store_anyway, std::string prefix) {
  std::lock_guard<std::mutex> guard{mtx_};
  next_ = code;
  store_anyway_ = store_anyway;
  fail_prefix_ = std::move(prefix);
}

bool faulty_journal::fault_pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_.has_value();
}

void faulty_journal::hold_writes(std::string prefix) {
  std::lock_guard<std::mutex> guard{mtx_};
  holding_ = true;
  hold_prefix_ = std::move(prefix);
}

void faulty_journal::release_writes() {
  decltype(held_) held;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    holding_ = false;
    held.swap(held_);
  }
  for (auto& [writes, done] : held) {
    --calls_; // Counted when held.
    write_async(std::move(writes), std::move(done));
  }
}

void faulty_journal::write_async(std::vector<atomic_write> writes, write_callback done) {
  ++calls_;
  std::optional<errc> fault;
  bool store = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (holding_ && first_stream_starts_with(writes, hold_prefix_)) {
      held_.emplace_back(std::move(writes), std::move(done));
      return;
    }
    if (first_stream_starts_with(writes, fail_prefix_))
      std::swap(fault, next_);
    store = store_anyway_;
  }
  if (!fault) {
    inner_->write_async(std::move(writes), std::move(done));
    return;
  }
  auto n = writes.size();
  auto code = *fault;
  auto fail = [n, code, done] {
    write_outcomes out;
    for (size_t i = 0; i < n; ++i)
      out.emplace_back(make_error(code, "injected by faulty_journal"));
    done(std::move(out));
  };
  if (store)
    inner_->write_async(std::move(writes), [fail](write_outcomes) { fail(); });
  else
    fail();
}

caf::expected<uint64_t> faulty_journal::replay(std::string_view pid, uint64_t from,
                                               uint64_t to, uint64_t max,
                                               const event_visitor& f) {
  return inner_->replay(pid, from, to, max, f);
}

caf::expected<uint64_t> faulty_journal::highest_sequence_nr(std::string_view pid) {
  return inner_->highest_sequence_nr(pid);
}

caf::error faulty_journal::delete_up_to(std::string_view pid, uint64_t to) {
  return inner_->delete_up_to(pid, to);
}

caf::expected<uint64_t> faulty_journal::read_all(uint64_t from, uint64_t max,
                                                 const event_filter& filter,
                                                 const event_visitor& f) {
  return inner_->read_all(from, max, filter, f);
}

uint64_t faulty_journal::last_position() const {
  return inner_->last_position();
}

uint64_t faulty_journal::add_commit_listener(commit_listener f) {
  return inner_->add_commit_listener(std::move(f));
}

uint64_t faulty_journal::add_shared_commit_listener(persistence::shared_commit_listener f) {
  return inner_->add_shared_commit_listener(std::move(f));
}

void faulty_journal::remove_commit_listener(uint64_t token) {
  inner_->remove_commit_listener(token);
}

caf::expected<std::optional<std::string>> faulty_journal::get_side(std::string_view key) {
  return inner_->get_side(key);
}

caf::error
faulty_journal::scan_side(std::string_view prefix,
                          const std::function<bool(std::string_view, std::string_view)>& f) {
  return inner_->scan_side(prefix, f);
}

} // namespace esr::actors::testkit
