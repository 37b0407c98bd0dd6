// The group-commit writer of leveldb_journal (see leveldb_journal.hpp).
//
// One thread takes every write_async call queued since its last commit (up to
// max_group_writes atomic writes), validates each atomic write, assigns
// sequence numbers and global positions, puts every record of the group into
// one leveldb::WriteBatch and writes it with one fsync (sync mode). Only then
// are the calls acknowledged and the commit listeners told, in commit order,
// by a second thread (the completer), while the writer goes on with the next
// group. A failed batch fails every write in it; nothing is acknowledged that
// is not stored.
//
// The stream index is not part of the group's batch: each group adds its
// runs to the in-memory index tail once durable, and the tail is written out
// in sorted parts between groups every index_flush_events events
// (stream_index.cpp).
//
// Durability modes: sync (fsync per group), periodic (groups written without
// fsync are parked until the next fsync, at most sync_interval later), none
// (acknowledged after the write, no fsync).
#include <pthread.h>

#include <leveldb/write_batch.h>

#include "esr/persistence/error.hpp"
#include "key_codec.hpp"
#include "leveldb_journal.hpp"
#include "record_codec.hpp"

namespace esr::persistence::detail {

namespace {

/// Index entries the writer thread writes out between two group commits.
constexpr size_t index_flush_part = 256;

} // namespace

void leveldb_journal::prepare(pending_call& call) {
  auto n = call.writes.size();
  call.timestamp_us = now_us();
  call.rejected.resize(n);
  call.records.resize(n);
  call.streams.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& w = call.writes[i];
    auto& invalid = call.rejected[i];
    if (w.events.empty() && w.side_writes.empty())
      invalid = make_error(errc::invalid_argument, "empty atomic write");
    else if (!w.events.empty() && !valid_persistence_id(w.persistence_id))
      invalid = make_error(errc::serialization_failed, "invalid persistence id");
    for (size_t j = 0; !invalid && j < w.events.size(); ++j)
      invalid = validate_event(w.events[j], db_->opts.max_payload_bytes);
    if (invalid || !w.expected_sequence_nr || w.events.empty())
      continue;
    auto seq = *w.expected_sequence_nr;
    auto& records = call.records[i];
    records.resize(w.events.size());
    for (size_t j = 0; j < w.events.size(); ++j) {
      auto& e = w.events[j];
      e.persistence_id = w.persistence_id;
      e.sequence_nr = ++seq;
      if (e.timestamp_us == 0)
        e.timestamp_us = call.timestamp_us;
      encode_event(e, records[j]);
    }
  }
  // Hashed outside the lock; the lookups' cache misses overlap: all slots
  // are prefetched, then the nodes they hold, then the streams resolved.
  thread_local std::vector<uint64_t> hashes;
  hashes.resize(n);
  for (size_t i = 0; i < n; ++i)
    hashes[i] = name_filter::hash_of(call.writes[i].persistence_id);
  std::lock_guard<std::mutex> guard{streams_mutex_};
  if (n > 1) {
    for (size_t i = 0; i < n; ++i)
      streams_.prefetch(hashes[i]);
    for (size_t i = 0; i < n; ++i)
      streams_.prefetch_node(hashes[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    auto& w = call.writes[i];
    if (call.rejected[i] || w.events.empty())
      continue;
    auto st = resolve_locked(w.persistence_id, hashes[i]);
    if (st)
      call.streams[i] = *st;
    else
      call.rejected[i] = std::move(st.error());
  }
}

void leveldb_journal::write_async(std::vector<atomic_write> writes, write_callback done) {
  pending_call call{std::move(writes), std::move(done), {}, {}, {}, 0, {}};
  prepare(call);
  {
    std::lock_guard<std::mutex> guard{queue_mutex_};
    if (!stopping_) {
      queue_.emplace_back(std::move(call));
      queue_cv_.notify_one();
      return;
    }
  }
  write_outcomes outcomes;
  for (size_t i = 0; i < call.writes.size(); ++i)
    outcomes.emplace_back(make_error(errc::closed, "journal is closed"));
  call.done(std::move(outcomes));
}

void leveldb_journal::run_writer() {
  pthread_setname_np(pthread_self(), "esr-journal");
  auto periodic = db_->opts.durability == durability_mode::periodic;
  std::vector<pending_call> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{queue_mutex_};
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (flushing_.load())
        ; // go on with the index flush in progress
      else if (periodic && !parked_.empty())
        queue_cv_.wait_until(lock, last_sync_ + db_->opts.sync_interval, ready);
      else
        queue_cv_.wait(lock, ready);
      size_t taken = 0;
      while (!queue_.empty()
             && (taken == 0 || taken + queue_.front().writes.size() <= db_->opts.max_group_writes)) {
        taken += queue_.front().writes.size();
        group.emplace_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (stopping_ && group.empty()) {
        lock.unlock();
        sync_parked(true);
        flush_index(); // a clean close leaves nothing to rebuild
        {
          std::lock_guard<std::mutex> guard{done_mutex_};
          writer_done_ = true;
        }
        done_cv_.notify_one();
        return;
      }
    }
    if (!group.empty())
      commit_group(group);
    group.clear();
    if (periodic)
      sync_parked(false);
    bool due = flushing_.load();
    if (!due) {
      std::lock_guard<std::mutex> guard{streams_mutex_};
      due = tail_events_ >= db_->opts.index_flush_events;
    }
    // The index goes out in parts between groups; the tail holds durable
    // runs only, so parked groups need not wait. An error leaves the tail in
    // memory (readers still find it); the store refuses writes from now.
    if (due) {
      std::unique_lock<std::mutex> flush_lock{flush_mutex_, std::try_to_lock};
      if (flush_lock.owns_lock())
        flush_step_locked(index_flush_part);
    }
  }
}

void leveldb_journal::commit_group(std::vector<pending_call>& group) {
  auto& opts = db_->opts;
  leveldb::WriteBatch batch;
  // Stream states changed by this group (their new highest sequence number
  // is staged in them), applied only once the batch is stored.
  auto gid = ++groups_built_;
  std::vector<std::pair<stream_state*, uint64_t>> highs;
  run_list runs;
  std::vector<event_envelope> events;
  auto want_events = has_listeners_.load();
  if (want_events) {
    size_t n = 0;
    for (auto& call : group)
      for (auto& w : call.writes)
        n += w.events.size();
    events.reserve(n);
  }
  auto pos = next_position_;
  std::string record;
  std::vector<const side_write*> sides; // the group's, in write order
  {
    // No lock: prepare() found the streams, and a stream's `highest` and
    // staged fields are the writer thread's alone (streams_mutex_ held here
    // made every caller's prepare() wait for the whole group).
    for (auto& call : group) {
      call.outcomes.reserve(call.writes.size());
      for (size_t wi = 0; wi < call.writes.size(); ++wi) {
        auto& w = call.writes[wi];
        if (call.rejected[wi]) {
          call.outcomes.emplace_back(std::move(call.rejected[wi]));
          continue;
        }
        auto& prepared = call.records[wi];
        auto ts = call.timestamp_us;
        write_result res;
        res.timestamp_us = ts;
        if (!w.events.empty()) {
          auto* s = call.streams[wi];
          auto current = s->staged_group == gid ? s->staged_high : s->highest;
          if (w.expected_sequence_nr && *w.expected_sequence_nr != current) {
            call.outcomes.emplace_back(make_error(errc::concurrency_conflict,
                                                  w.persistence_id, "expected",
                                                  *w.expected_sequence_nr, "actual", current));
            continue;
          }
          res.first_sequence_nr = current + 1;
          res.first_global_position = pos + 1;
          for (size_t ei = 0; ei < w.events.size(); ++ei) {
            auto& e = w.events[ei];
            e.persistence_id = w.persistence_id;
            e.sequence_nr = ++current;
            e.global_position = ++pos;
            char key_buf[9];
            key_buf[0] = global_tag;
            store_be64(key_buf + 1, e.global_position);
            if (!prepared.empty()) { // encoded by prepare() with these numbers
              batch.Put(leveldb::Slice{key_buf, sizeof key_buf}, prepared[ei]);
              continue;
            }
            if (e.timestamp_us == 0)
              e.timestamp_us = ts;
            record.clear();
            encode_event(e, record);
            batch.Put(leveldb::Slice{key_buf, sizeof key_buf}, record);
          }
          runs.emplace_back(s, index_run{res.first_sequence_nr, current,
                                         res.first_global_position});
          res.last_sequence_nr = current;
          res.last_global_position = pos;
          if (s->staged_group != gid) {
            s->staged_group = gid;
            highs.emplace_back(s, 0);
          }
          s->staged_high = current;
        }
        for (auto& sw : w.side_writes)
          sides.push_back(&sw);
        if (want_events)
          for (auto& e : w.events)
            events.emplace_back(std::move(e));
        call.outcomes.emplace_back(res);
      }
    }
  }
  // The side writes: one record in the log after the group's last event
  // (committed with the events), applied to the side keys once durable.
  std::unique_ptr<leveldb::WriteBatch> apply;
  auto side_seq = side_position_ == pos ? side_seq_ + 1 : 1;
  if (!sides.empty()) {
    record.clear();
    encode_side_record(sides, record);
    batch.Put(side_record_key(pos, side_seq), record);
    apply = std::make_unique<leveldb::WriteBatch>();
    for (auto* sw : sides)
      add_side_write(*apply, sw->key, sw->value ? &*sw->value : nullptr);
  }
  if (pos == next_position_ && batch.ApproximateSize() <= 12) {
    // Nothing to store (every write rejected): answer at once.
    publish(group, events, 0);
    return;
  }
  auto periodic = opts.durability == durability_mode::periodic;
  auto sync_now = opts.durability == durability_mode::sync
                  || (periodic
                      && std::chrono::steady_clock::now() - last_sync_ >= opts.sync_interval);
  leveldb::WriteOptions wo;
  wo.sync = sync_now;
  auto st = db_->write(wo, &batch);
  if (!st.ok()) {
    auto err = from_status(st, "group commit");
    if (is(err, errc::corruption))
      err = make_error(errc::io_error, "group commit", st.ToString());
    fail_calls(group, err);
    drop_parked(err);
    return;
  }
  {
    std::lock_guard<std::mutex> guard{streams_mutex_};
    for (auto& [s, highest] : highs) {
      highest = s->staged_high;
      s->highest = highest;
    }
  }
  if (apply) {
    side_position_ = pos;
    side_seq_ = side_seq;
  }
  stat_groups_.fetch_add(1, std::memory_order_relaxed);
  stat_events_.fetch_add(pos - next_position_, std::memory_order_relaxed);
  for (auto& call : group)
    for (auto& outcome : call.outcomes)
      if (outcome)
        stat_writes_.fetch_add(1, std::memory_order_relaxed);
  if (sync_now)
    stat_syncs_.fetch_add(1, std::memory_order_relaxed);
  next_position_ = pos;
  if (sync_now) {
    last_sync_ = std::chrono::steady_clock::now();
    release_parked(); // the fsync above covered every parked group too
    // Applied before the runs reach the index tail: an index checkpoint
    // that covers them (see key_codec.hpp) is written after the apply.
    if (apply_side(apply.get(), group)) {
      make_durable(highs, runs);
      publish(group, events, pos);
    }
  } else if (periodic) {
    parked_.push_back(parked_group{std::move(group), std::move(events), std::move(apply), pos,
                                   std::move(highs), std::move(runs)});
  } else if (apply_side(apply.get(), group)) {
    make_durable(highs, runs);
    publish(group, events, pos);
  }
}

void leveldb_journal::add_side_write(leveldb::WriteBatch& apply, std::string_view key,
                                     const std::string* value) {
  if (value)
    apply.Put(side_key(key), *value);
  else
    apply.Delete(side_key(key));
}

bool leveldb_journal::apply_side(leveldb::WriteBatch* apply, std::vector<pending_call>& calls) {
  if (apply == nullptr)
    return true;
  // Not synced: the index checkpoint that follows makes it durable, and a
  // crash before that applies the side record again on open.
  auto st = db_->write_index(leveldb::WriteOptions{}, apply);
  if (st.ok())
    return true;
  fail_calls(calls, make_error(errc::io_error, "applying side writes", st.ToString()));
  return false;
}

void leveldb_journal::sync_parked(bool force) {
  if (parked_.empty())
    return;
  if (!force && std::chrono::steady_clock::now() - last_sync_ < db_->opts.sync_interval)
    return;
  leveldb::WriteBatch empty;
  leveldb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->write(wo, &empty);
  stat_syncs_.fetch_add(1, std::memory_order_relaxed);
  last_sync_ = std::chrono::steady_clock::now();
  if (!st.ok()) {
    drop_parked(make_error(errc::io_error, "periodic fsync", st.ToString()));
    return;
  }
  release_parked();
}

void leveldb_journal::release_parked() {
  auto groups = std::move(parked_);
  parked_.clear();
  for (auto& p : groups) {
    if (apply_side(p.apply.get(), p.calls)) {
      make_durable(p.highs, p.runs);
      publish(p.calls, p.events, p.last_position);
    }
  }
}

void leveldb_journal::make_durable(const std::vector<std::pair<stream_state*, uint64_t>>& highs,
                                   const run_list& runs) {
  std::lock_guard<std::mutex> guard{streams_mutex_};
  add_to_tail_locked(runs);
  for (auto& [s, highest] : highs)
    s->durable = std::max(s->durable, highest);
}

void leveldb_journal::drop_parked(const caf::error& err) {
  // Parked groups are not covered by an fsync any more: their outcome is unknown.
  {
    std::lock_guard<std::mutex> guard{streams_mutex_};
    for (auto& p : parked_)
      for (auto& [s, highest] : p.highs)
        s->highest = s->durable;
  }
  next_position_ = durable_position_.load();
  for (auto& p : parked_)
    fail_calls(p.calls, err);
  parked_.clear();
}

void leveldb_journal::publish(std::vector<pending_call>& calls,
                              std::vector<event_envelope>& events, uint64_t last_position) {
  if (last_position > durable_position_.load())
    durable_position_ = last_position;
  complete(calls, events);
}

void leveldb_journal::fail_calls(std::vector<pending_call>& calls, const caf::error& err) {
  for (auto& call : calls)
    for (auto& outcome : call.outcomes)
      if (outcome)
        outcome = err;
  std::vector<event_envelope> none;
  complete(calls, none);
}

void leveldb_journal::complete(std::vector<pending_call>& calls,
                               std::vector<event_envelope>& events) {
  {
    std::lock_guard<std::mutex> guard{done_mutex_};
    done_queue_.push_back(completion{std::move(calls), std::move(events)});
  }
  calls.clear();
  done_cv_.notify_one();
}

void leveldb_journal::run_completer() {
  pthread_setname_np(pthread_self(), "esr-journal-ack");
  std::deque<completion> ready;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{done_mutex_};
      done_cv_.wait(lock, [this] { return writer_done_ || !done_queue_.empty(); });
      if (done_queue_.empty())
        return; // the writer has finished and everything is completed
      ready.swap(done_queue_);
    }
    for (auto& c : ready) {
      if (!c.events.empty()) {
        std::lock_guard<std::mutex> guard{listeners_mutex_};
        // One shared group for every listener: the events are moved, not
        // copied (the bus keeps it in its live buffer as it is).
        auto group = std::make_shared<const std::vector<event_envelope>>(std::move(c.events));
        for (auto& [token, f] : listeners_)
          f(*group);
        for (auto& [token, f] : shared_listeners_)
          f(group);
      }
      for (auto& call : c.calls) {
        // Destroyed right after it ran: what it holds (an actor, a journal
        // handle) is released before the next call is answered, so a caller
        // whose write was answered after this one's finds it released.
        auto done = std::move(call.done);
        call.done = nullptr;
        done(std::move(call.outcomes));
      }
    }
    ready.clear();
  }
}

} // namespace esr::persistence::detail
