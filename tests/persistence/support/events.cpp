#include "support/events.hpp"

#include <random>
#include <utility>

namespace esr::persistence::test {

event_envelope make_event(std::string type, std::string payload) {
  event_envelope e;
  e.event_type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

atomic_write make_write(std::string pid, std::vector<event_envelope> events,
                        std::optional<uint64_t> expected) {
  atomic_write w;
  w.persistence_id = std::move(pid);
  w.expected_sequence_nr = expected;
  w.events = std::move(events);
  return w;
}

atomic_write single(std::string pid, std::string type, std::string payload) {
  std::vector<event_envelope> evs;
  evs.emplace_back(make_event(std::move(type), std::move(payload)));
  return make_write(std::move(pid), std::move(evs));
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::string result;
  result.reserve(n + 8);
  while (result.size() < n) {
    auto x = rng();
    result.append(reinterpret_cast<const char*>(&x), sizeof(x));
  }
  result.resize(n);
  return result;
}

caf::expected<replayed> replay_all(journal& j, std::string_view pid, uint64_t from,
                                   uint64_t to, uint64_t max) {
  replayed result;
  auto highest = j.replay(pid, from, to, max, [&](const event_envelope& e) {
    result.seqs.push_back(e.sequence_nr);
    result.events.push_back(e);
    return true;
  });
  if (!highest)
    return std::move(highest.error());
  result.highest = *highest;
  return result;
}

std::vector<uint64_t> read_result::positions() const {
  std::vector<uint64_t> result;
  for (auto& e : events)
    result.push_back(e.global_position);
  return result;
}

caf::expected<read_result> read_all_events(journal& j, uint64_t from, uint64_t max,
                                           const event_filter& f) {
  read_result result;
  auto examined = j.read_all(from, max, f, [&](const event_envelope& e) {
    result.events.push_back(e);
    return true;
  });
  if (!examined)
    return std::move(examined.error());
  result.examined = *examined;
  return result;
}

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> result;
  for (auto i = from; i <= to; ++i)
    result.push_back(i);
  return result;
}

} // namespace esr::persistence::test
