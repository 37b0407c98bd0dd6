#include "esr/persistence/testing/fault_injection_env.hpp"

#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "tracked_file.hpp"

namespace esr::persistence::testing {

namespace {

const char* name_of(file_op op) {
  switch (op) {
    case file_op::append: return "injected Append failure";
    case file_op::sync: return "injected Sync failure";
    case file_op::create: return "injected file creation failure";
  }
  return "injected failure";
}

} // namespace

fault_injection_env::fault_injection_env(leveldb::Env* base)
  : leveldb::EnvWrapper(base) {
}

fault_injection_env::~fault_injection_env() = default;

// -- injecting errors ---------------------------------------------------------

void fault_injection_env::fail_next(file_op op, size_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  faults_[static_cast<size_t>(op)].remaining = n;
}

void fault_injection_env::fail_always(file_op op) {
  std::lock_guard<std::mutex> guard{mtx_};
  faults_[static_cast<size_t>(op)].always = true;
}

void fault_injection_env::set_disk_full(bool full) {
  std::lock_guard<std::mutex> guard{mtx_};
  disk_full_ = full;
}

void fault_injection_env::heal() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& f : faults_) {
    f.remaining = 0;
    f.always = false;
  }
  disk_full_ = false;
}

size_t fault_injection_env::injected_failures(file_op op) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return faults_[static_cast<size_t>(op)].injected;
}

leveldb::Status fault_injection_env::take_fault(file_op op, const std::string& fname) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& f = faults_[static_cast<size_t>(op)];
  if (op == file_op::append && disk_full_) {
    ++f.injected;
    return leveldb::Status::IOError(fname, "No space left on device");
  }
  if (f.always || f.remaining > 0) {
    if (!f.always)
      --f.remaining;
    ++f.injected;
    return leveldb::Status::IOError(fname, name_of(op));
  }
  return leveldb::Status::OK();
}

// -- tracking -----------------------------------------------------------------

void fault_injection_env::on_appended(const std::string& fname, uint64_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = files_.find(fname); i != files_.end())
    i->second.size += n;
}

void fault_injection_env::on_synced(const std::string& fname) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = files_.find(fname); i != files_.end()) {
    i->second.synced_size = i->second.size;
    i->second.ever_synced = true;
  }
}

uint64_t fault_injection_env::unsynced_bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  uint64_t result = 0;
  for (auto& [name, st] : files_)
    result += st.size - st.synced_size;
  return result;
}

size_t fault_injection_env::tracked_files() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return files_.size();
}

// -- simulating a crash -------------------------------------------------------

leveldb::Status fault_injection_env::truncate(const std::string& fname, uint64_t size) {
  // Through the base Env only, so this works on any Env (also an in-memory one).
  leveldb::SequentialFile* raw_in = nullptr;
  auto st = target()->NewSequentialFile(fname, &raw_in);
  if (!st.ok())
    return st;
  std::unique_ptr<leveldb::SequentialFile> in{raw_in};
  std::string kept;
  std::vector<char> buf(64 * 1024);
  while (kept.size() < size) {
    leveldb::Slice chunk;
    auto want = std::min<uint64_t>(buf.size(), size - kept.size());
    st = in->Read(static_cast<size_t>(want), &chunk, buf.data());
    if (!st.ok())
      return st;
    if (chunk.empty())
      break;
    kept.append(chunk.data(), chunk.size());
  }
  in.reset();
  leveldb::WritableFile* raw_out = nullptr;
  st = target()->NewWritableFile(fname, &raw_out);
  if (!st.ok())
    return st;
  std::unique_ptr<leveldb::WritableFile> out{raw_out};
  st = out->Append(kept);
  if (st.ok())
    st = out->Sync();
  if (st.ok())
    st = out->Close();
  return st;
}

leveldb::Status fault_injection_env::drop_unsynced_data(double keep_fraction) {
  std::lock_guard<std::mutex> guard{mtx_};
  leveldb::Status first_error;
  for (auto i = files_.begin(); i != files_.end();) {
    auto& [fname, st] = *i;
    auto tail = st.size - st.synced_size;
    auto keep = st.synced_size
                + static_cast<uint64_t>(std::floor(static_cast<double>(tail) * keep_fraction));
    leveldb::Status res;
    if (!st.ever_synced && keep == 0) {
      res = target()->RemoveFile(fname);
      if (res.ok() || res.IsNotFound()) {
        i = files_.erase(i);
        continue;
      }
    } else if (keep < st.size) {
      res = truncate(fname, keep);
    }
    if (res.ok()) {
      st.size = keep;
      st.synced_size = keep;
      st.ever_synced = true;
    } else if (first_error.ok()) {
      first_error = res;
    }
    ++i;
  }
  return first_error;
}

// -- leveldb::Env -------------------------------------------------------------

leveldb::Status fault_injection_env::NewWritableFile(const std::string& fname,
                                                     leveldb::WritableFile** result) {
  *result = nullptr;
  if (auto st = take_fault(file_op::create, fname); !st.ok())
    return st;
  leveldb::WritableFile* base = nullptr;
  auto st = target()->NewWritableFile(fname, &base);
  if (!st.ok())
    return st;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    files_[fname] = file_state{};
  }
  *result = new detail::tracked_file(this, fname,
                                     std::unique_ptr<leveldb::WritableFile>{base});
  return st;
}

leveldb::Status fault_injection_env::NewAppendableFile(const std::string& fname,
                                                       leveldb::WritableFile** result) {
  *result = nullptr;
  if (auto st = take_fault(file_op::create, fname); !st.ok())
    return st;
  uint64_t existing = 0;
  if (target()->FileExists(fname) && !target()->GetFileSize(fname, &existing).ok())
    existing = 0;
  leveldb::WritableFile* base = nullptr;
  auto st = target()->NewAppendableFile(fname, &base);
  if (!st.ok())
    return st;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto [pos, added] = files_.emplace(fname, file_state{});
    if (added)
      pos->second = file_state{existing, existing, existing > 0};
  }
  *result = new detail::tracked_file(this, fname,
                                     std::unique_ptr<leveldb::WritableFile>{base});
  return st;
}

leveldb::Status fault_injection_env::RemoveFile(const std::string& fname) {
  auto st = target()->RemoveFile(fname);
  if (st.ok()) {
    std::lock_guard<std::mutex> guard{mtx_};
    files_.erase(fname);
  }
  return st;
}

leveldb::Status fault_injection_env::RenameFile(const std::string& src,
                                                const std::string& target_name) {
  auto st = target()->RenameFile(src, target_name);
  if (st.ok()) {
    std::lock_guard<std::mutex> guard{mtx_};
    files_.erase(target_name);
    if (auto i = files_.find(src); i != files_.end()) {
      auto state = i->second;
      files_.erase(i);
      files_.emplace(target_name, state);
    }
  }
  return st;
}

} // namespace esr::persistence::testing
