#include "esr/persistence/journal.hpp"

#include <future>

#include "esr/persistence/error.hpp"

namespace esr::persistence {

journal::~journal() = default;

uint64_t journal::add_shared_commit_listener(shared_commit_listener f) {
  return add_commit_listener([f = std::move(f)](const std::vector<event_envelope>& events) {
    f(std::make_shared<const std::vector<event_envelope>>(events));
  });
}

journal_stats journal::stats() const {
  return {};
}

caf::expected<write_result> journal::write(atomic_write w) {
  std::vector<atomic_write> ws;
  ws.emplace_back(std::move(w));
  auto outcomes = write(std::move(ws));
  if (outcomes.size() != 1)
    return make_error(errc::closed, "journal returned no outcome");
  return std::move(outcomes.front());
}

write_outcomes journal::write(std::vector<atomic_write> ws) {
  std::promise<write_outcomes> promise;
  auto future = promise.get_future();
  write_async(std::move(ws),
              [&promise](write_outcomes xs) { promise.set_value(std::move(xs)); });
  return future.get();
}

caf::expected<std::vector<event_envelope>>
journal::read_stream(std::string_view persistence_id, uint64_t from, uint64_t to,
                     uint64_t max) {
  std::vector<event_envelope> result;
  auto highest = replay(persistence_id, from, to, max, [&](const event_envelope& e) {
    result.push_back(e);
    return true;
  });
  if (!highest)
    return std::move(highest.error());
  return result;
}

} // namespace esr::persistence
