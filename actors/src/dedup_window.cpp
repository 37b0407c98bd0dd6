#include "dedup_window.hpp"

namespace esr::actors {

const dedup_window::entry* dedup_window::find(const std::string& id) const {
  for (auto& e : entries_)
    if (e.id == id)
      return &e;
  return nullptr;
}

void dedup_window::record(entry e) {
  if (capacity_ == 0 || e.id.empty())
    return;
  for (auto& x : entries_)
    if (x.id == e.id) {
      x = std::move(e);
      return;
    }
  if (entries_.size() < capacity_) {
    entries_.push_back(std::move(e));
    return;
  }
  entries_[next_] = std::move(e);
  next_ = (next_ + 1) % capacity_;
}

void dedup_window::clear() {
  entries_.clear();
  entries_.shrink_to_fit();
  next_ = 0;
}

std::string dedup_window::encode() const {
  std::string result;
  auto append = [&](const entry& e) {
    result += e.id;
    result += '\t';
    result += std::to_string(e.version);
    result += '\n';
  };
  // Oldest first, so that decode() restores the same eviction order.
  for (size_t i = 0; i < entries_.size(); ++i)
    append(entries_[(next_ + i) % entries_.size()]);
  return result;
}

void dedup_window::decode(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos)
      nl = text.size();
    auto tab = text.find('\t', pos);
    if (tab != std::string::npos && tab < nl) {
      entry e;
      e.id = text.substr(pos, tab - pos);
      e.version = std::strtoull(text.c_str() + tab + 1, nullptr, 10);
      e.what = known::version_only;
      record(std::move(e));
    }
    pos = nl + 1;
  }
}

} // namespace esr::actors
