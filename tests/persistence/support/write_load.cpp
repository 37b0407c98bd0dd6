#include "support/write_load.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "esr/persistence/error.hpp"
#include "support/events.hpp"

namespace esr::persistence::test {

namespace {

/// Makes payloads unique across every load of the process.
std::atomic<uint64_t> next_write_id{0};

} // namespace

size_t load_outcome::acked() const {
  size_t n = 0;
  for (auto& w : writes)
    n += w.error ? 0 : 1;
  return n;
}

size_t load_outcome::failed() const {
  return writes.size() - acked();
}

bool load_outcome::all_failures_are(uint8_t code) const {
  for (auto& w : writes)
    if (w.error && (w.error.category() != error_category || w.error.code() != code))
      return false;
  return true;
}

load_outcome run_write_load(journal& j, const std::string& prefix, size_t calls,
                            size_t payload_bytes) {
  load_outcome result;
  std::vector<std::pair<size_t, size_t>> spans; // per call: first write, count
  std::vector<std::vector<atomic_write>> batches;
  for (size_t c = 0; c < calls; ++c) {
    spans.emplace_back(result.writes.size(), 1 + c % 3);
    std::vector<atomic_write> ws;
    for (size_t w = 0; w < 1 + c % 3; ++w) {
      auto id = ++next_write_id;
      load_write lw;
      lw.persistence_id = prefix + "-" + std::to_string((c * 3 + w) % 8);
      std::vector<event_envelope> evs;
      for (size_t k = 0; k < 1 + (c + w) % 3; ++k) {
        auto payload = prefix + "/" + std::to_string(id) + "/" + std::to_string(k);
        if (payload.size() < payload_bytes)
          payload.append(payload_bytes - payload.size(), '.');
        lw.payloads.push_back(payload);
        evs.push_back(make_event("loaded", payload));
      }
      ws.push_back(make_write(lw.persistence_id, std::move(evs)));
      result.writes.push_back(std::move(lw));
    }
    batches.push_back(std::move(ws));
  }
  std::mutex mtx;
  std::condition_variable cv;
  size_t pending = calls;
  for (size_t c = 0; c < calls; ++c)
    j.write_async(std::move(batches[c]), [&, c](write_outcomes out) {
      std::lock_guard<std::mutex> guard{mtx};
      auto [first, count] = spans[c];
      for (size_t i = 0; i < count; ++i) {
        auto& lw = result.writes[first + i];
        if (i >= out.size())
          lw.error = make_error(errc::closed, "no outcome");
        else if (out[i])
          lw.last_sequence_nr = out[i]->last_sequence_nr;
        else
          lw.error = out[i].error();
      }
      if (--pending == 0)
        cv.notify_all();
    });
  std::unique_lock<std::mutex> lock{mtx};
  cv.wait(lock, [&] { return pending == 0; });
  return result;
}

std::string verify_load(journal& j, const load_outcome& o) {
  // Per stream: payload -> sequence number as stored.
  std::map<std::string, std::map<std::string, uint64_t>> stored;
  std::set<std::string> known;
  for (auto& w : o.writes) {
    known.insert(w.payloads.begin(), w.payloads.end());
    if (stored.count(w.persistence_id) > 0)
      continue;
    auto& m = stored[w.persistence_id];
    auto r = replay_all(j, w.persistence_id);
    if (!r)
      return "replay of " + w.persistence_id + " failed: " + render(r.error());
    for (auto& e : r->events)
      m.emplace(e.payload, e.sequence_nr);
  }
  for (auto& [pid, m] : stored)
    for (auto& [payload, seq] : m)
      if (known.count(payload) == 0)
        return pid + " holds an event nobody wrote at " + std::to_string(seq);
  for (auto& w : o.writes) {
    auto& m = stored[w.persistence_id];
    size_t present = 0;
    for (auto& p : w.payloads)
      present += m.count(p);
    auto n = w.payloads.size();
    if (!w.error) {
      for (size_t k = 0; k < n; ++k) {
        auto i = m.find(w.payloads[k]);
        auto want = w.last_sequence_nr - n + 1 + k;
        if (i == m.end())
          return "acknowledged event " + w.payloads[k] + " is missing";
        if (i->second != want)
          return "acknowledged event " + w.payloads[k] + " is at " + std::to_string(i->second)
                 + ", acknowledged at " + std::to_string(want);
      }
    } else if (present != 0 && present != n) {
      return "failed write " + w.payloads[0] + " is partially stored (" + std::to_string(present)
             + " of " + std::to_string(n) + ")";
    } else if (present == n) {
      auto first = m[w.payloads[0]];
      for (size_t k = 1; k < n; ++k)
        if (m[w.payloads[k]] != first + k)
          return "failed write " + w.payloads[0] + " is stored out of order";
    }
  }
  return {};
}

} // namespace esr::persistence::test
