// esr-bench journal: group-commit append throughput against the raw LevelDB
// ceiling, and stream replay against raw LevelDB iteration, in one run.
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <string>

#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include "bench_util.hpp"
#include "esr/persistence/error.hpp"
#include "esr/persistence/storage.hpp"

namespace esr::bench {

namespace {

using namespace esr::persistence;

constexpr size_t payload_bytes = 100;

/// One client thread of append_rate: owns a share of the writers and
/// resubmits each one's next append when the previous one is acknowledged.
struct append_client {
  std::mutex m;
  std::condition_variable cv;
  std::vector<size_t> ready; // writers whose previous append was acknowledged
  uint64_t acked = 0;
  uint64_t acked_at_end = 0;
  size_t in_flight = 0;

  void run(journal& j, const std::vector<std::string>& names, std::vector<uint64_t>& seqs,
           const std::string& payload, std::chrono::steady_clock::time_point deadline) {
    std::vector<size_t> batch;
    bool done = false;
    std::unique_lock<std::mutex> lock{m};
    for (;;) {
      cv.wait(lock, [&] { return !ready.empty() || in_flight == 0; });
      if (!done && std::chrono::steady_clock::now() >= deadline) {
        done = true;
        acked_at_end = acked;
      }
      if (done) {
        if (in_flight == 0)
          return;
        ready.clear();
        continue;
      }
      batch.swap(ready);
      in_flight += batch.size();
      lock.unlock();
      for (auto w : batch) {
        atomic_write aw;
        aw.persistence_id = names[w];
        aw.expected_sequence_nr = seqs[w]; // as an aggregate would
        aw.events.resize(1);
        aw.events[0].event_type = "bench.Event";
        aw.events[0].payload = payload;
        std::vector<atomic_write> ws;
        ws.push_back(std::move(aw));
        j.write_async(std::move(ws), [this, w, &seqs](write_outcomes out) {
          std::lock_guard<std::mutex> guard{m};
          --in_flight;
          auto wake = ready.empty() || in_flight == 0;
          if (out.size() == 1 && out[0]) {
            ++acked;
            seqs[w] = out[0]->last_sequence_nr;
            ready.push_back(w);
          }
          if (wake)
            cv.notify_one();
        });
      }
      batch.clear();
      lock.lock();
    }
  }
};

/// Keeps `writers` single-event appends in flight for `seconds` (writer w
/// appends to stream "bench-w" with its expected sequence number, as an
/// aggregate does) and returns acknowledged events/s. Like application code,
/// client threads (two, as many as this machine has cores for the
/// application) build and submit the writes; the journal's completion
/// callbacks only hand the writer back to its client.
double append_rate(journal& j, int writers, double seconds, const std::string& payload) {
  auto n = static_cast<size_t>(writers);
  std::vector<std::string> names;
  for (size_t w = 0; w < n; ++w)
    names.push_back("bench-" + std::to_string(w));
  std::vector<uint64_t> seqs(n, 0); // last acknowledged per writer
  size_t client_count = std::min<size_t>(2, n);
  std::vector<std::unique_ptr<append_client>> clients;
  for (size_t c = 0; c < client_count; ++c)
    clients.push_back(std::make_unique<append_client>());
  for (size_t w = 0; w < n; ++w)
    clients[w % client_count]->ready.push_back(w);
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (auto& c : clients)
    threads.emplace_back([&, c = c.get()] { c->run(j, names, seqs, payload, deadline); });
  for (auto& t : threads)
    t.join();
  uint64_t acked = 0;
  for (auto& c : clients)
    acked += c->acked_at_end;
  return static_cast<double>(acked) / seconds;
}

/// Iterates every entry of the raw LevelDB at `dir`, copying key and value
/// (what a reader must do at least). Returns entries/s.
double raw_scan_rate(const std::string& dir, uint64_t& entries) {
  leveldb::DB* raw = nullptr;
  leveldb::Options opts;
  if (!leveldb::DB::Open(opts, dir, &raw).ok())
    return 0;
  std::unique_ptr<leveldb::DB> db{raw};
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<leveldb::Iterator> it{db->NewIterator(leveldb::ReadOptions{})};
    std::string k, v;
    entries = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      k.assign(it->key().data(), it->key().size());
      v.assign(it->value().data(), it->value().size());
      ++entries;
    }
    best = std::max(best, static_cast<double>(entries) / seconds_since(t0));
  }
  return best;
}

int run(const args& a) {
  auto json = has_flag(a, "--json");
  auto events = static_cast<size_t>(int_option(a, "--events", 300000));
  auto seconds = static_cast<double>(int_option(a, "--millis", 1500)) / 1000.0;
  auto payload = make_payload(payload_bytes, 7);
  // 1. Raw ceiling: WriteBatch(1000) + fsync, same payload size.
  auto raw_dir = fresh_dir(a, "raw");
  auto raw_sync = raw_leveldb_sync_events_per_s(raw_dir, events, payload_bytes, 1000);
  // 2. Journal appends: 1, 64, 1024 writers in each durability mode.
  struct row {
    std::string mode;
    int writers;
    double rate;
    double events_per_group;
  };
  std::vector<row> rows;
  auto only_mode = option(a, "--mode", "");
  auto only_writers = int_option(a, "--writers", 0);
  for (auto mode : {durability_mode::sync, durability_mode::periodic, durability_mode::none}) {
    for (int writers : {1, 64, 1024}) {
      if ((!only_mode.empty() && only_mode != to_string(mode))
          || (only_writers != 0 && only_writers != writers))
        continue;
      auto dir = fresh_dir(a, "journal-" + to_string(mode) + "-" + std::to_string(writers));
      leveldb_options opts;
      opts.path = dir;
      opts.durability = mode;
      if (auto g = int_option(a, "--max-group", 0); g > 0)
        opts.max_group_writes = static_cast<size_t>(g);
      auto st = open_leveldb(opts);
      if (!st) {
        std::fprintf(stderr, "esr-bench: %s\n", render(st.error()).c_str());
        return 1;
      }
      auto rate = append_rate(*st->events, writers, seconds, payload);
      auto stats = st->events->stats();
      rows.push_back({to_string(mode), writers, rate,
                      stats.groups ? double(stats.events) / double(stats.groups) : 0});
      st->events.reset();
      remove_dir(dir);
    }
  }
  double journal_sync = 0;
  for (auto& r : rows)
    if (r.mode == "sync" && r.writers == 1024)
      journal_sync = r.rate;
  // 3. Replay: one stream of `events` events vs. raw iteration of the raw DB.
  uint64_t raw_entries = 0;
  auto raw_scan = raw_scan_rate(raw_dir, raw_entries);
  auto replay_dir = fresh_dir(a, "replay");
  double replay = 0;
  double read_all_rate = 0;
  {
    leveldb_options opts;
    opts.path = replay_dir;
    opts.durability = durability_mode::none;
    {
      auto st = open_leveldb(opts);
      if (!st)
        return 1;
      for (size_t done = 0; done < raw_entries;) {
        atomic_write aw;
        aw.persistence_id = "replay-1";
        for (size_t i = 0; i < 1000 && done < raw_entries; ++i, ++done) {
          event_envelope e;
          e.event_type = "bench.Event";
          e.payload = payload;
          aw.events.push_back(std::move(e));
        }
        if (!st->events->write(std::move(aw)))
          return 1;
      }
    }
    auto st = open_leveldb(opts); // reopen: same state as the raw DB (recovered)
    if (!st)
      return 1;
    for (int round = 0; round < 3; ++round) {
      uint64_t n = 0;
      auto t0 = std::chrono::steady_clock::now();
      auto res = st->events->replay("replay-1", 1, max_seq, max_seq,
                                    [&](const event_envelope&) { ++n; return true; });
      if (!res || n != raw_entries)
        return 1;
      replay = std::max(replay, static_cast<double>(n) / seconds_since(t0));
      n = 0;
      t0 = std::chrono::steady_clock::now();
      auto ra = st->events->read_all(1, max_seq, event_filter::all(),
                                     [&](const event_envelope&) { ++n; return true; });
      if (!ra)
        return 1;
      read_all_rate = std::max(read_all_rate, static_cast<double>(n) / seconds_since(t0));
    }
  }
  remove_dir(raw_dir);
  remove_dir(replay_dir);
  auto sync_ratio = raw_sync > 0 ? journal_sync / raw_sync : 0;
  auto replay_ratio = raw_scan > 0 ? replay / raw_scan : 0;
  if (json) {
    std::printf("{\"payload_bytes\":%zu,\"raw_sync_events_per_s\":%.0f,"
                "\"journal_sync_events_per_s\":%.0f,\"sync_ratio\":%.3f,"
                "\"raw_scan_events_per_s\":%.0f,\"replay_events_per_s\":%.0f,"
                "\"replay_ratio\":%.3f,\"read_all_events_per_s\":%.0f,\"appends\":[",
                payload_bytes, raw_sync, journal_sync, sync_ratio, raw_scan, replay,
                replay_ratio, read_all_rate);
    for (size_t i = 0; i < rows.size(); ++i)
      std::printf("%s{\"mode\":\"%s\",\"writers\":%d,\"events_per_s\":%.0f,"
                  "\"events_per_group\":%.1f}",
                  i ? "," : "", rows[i].mode.c_str(), rows[i].writers, rows[i].rate,
                  rows[i].events_per_group);
    std::printf("]}\n");
    return 0;
  }
  std::printf("esr-bench journal (%zu-byte payloads)\n\n", payload_bytes);
  std::printf("  %-44s %12.0f events/s\n", "raw LevelDB WriteBatch(1000)+fsync", raw_sync);
  for (auto& r : rows) {
    auto label = "journal append, " + r.mode + ", " + std::to_string(r.writers) + " writers";
    std::printf("  %-44s %12.0f events/s  (%.2f of raw, %.0f events/group)\n", label.c_str(),
                r.rate, raw_sync > 0 ? r.rate / raw_sync : 0, r.events_per_group);
  }
  std::printf("  %-44s %12.0f events/s\n", "raw LevelDB iteration", raw_scan);
  std::printf("  %-44s %12.0f events/s  (%.2f of raw)\n", "journal replay (one stream)", replay,
              replay_ratio);
  std::printf("  %-44s %12.0f events/s\n", "journal read_all (global log)", read_all_rate);
  std::printf("\n  sync_ratio %.3f (goal >= 0.5), replay_ratio %.3f (goal >= 0.5)\n",
              sync_ratio, replay_ratio);
  return 0;
}

} // namespace

ESR_BENCH_REGISTER("journal", "group-commit appends and replay vs raw LevelDB", run);

} // namespace esr::bench
