#include "tracked_file.hpp"

#include <utility>

namespace esr::persistence::testing::detail {

tracked_file::tracked_file(fault_injection_env* env, std::string fname,
                           std::unique_ptr<leveldb::WritableFile> base)
  : env_(env), fname_(std::move(fname)), base_(std::move(base)) {
}

tracked_file::~tracked_file() = default;

leveldb::Status tracked_file::Append(const leveldb::Slice& data) {
  if (auto st = env_->take_fault(file_op::append, fname_); !st.ok())
    return st;
  auto st = base_->Append(data);
  if (st.ok())
    env_->on_appended(fname_, data.size());
  return st;
}

leveldb::Status tracked_file::Close() {
  return base_->Close();
}

leveldb::Status tracked_file::Flush() {
  return base_->Flush();
}

leveldb::Status tracked_file::Sync() {
  if (auto st = env_->take_fault(file_op::sync, fname_); !st.ok())
    return st;
  auto st = base_->Sync();
  if (st.ok())
    env_->on_synced(fname_);
  return st;
}

} // namespace esr::persistence::testing::detail
