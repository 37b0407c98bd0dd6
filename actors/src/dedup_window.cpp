#include "dedup_window.hpp"

#include <cstdlib>
#include <optional>
#include <string_view>

#include "esr/actors/aggregate_model.hpp"

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

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int nibble(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

} // namespace

std::string to_hex(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += hex_digits[c >> 4];
    out += hex_digits[c & 0x0f];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto hi = nibble(hex[i]);
    auto lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}


std::string dedup_window::encode(const aggregate_model& model) const {
  std::string result;
  auto append = [&](const entry& e) {
    if (e.what == known::error)
      return; // Rejections are not stored: a retry is decided again.
    result += e.id;
    result += '\t';
    result += std::to_string(e.version);
    std::optional<std::string> bytes;
    if (e.what == known::reply)
      bytes = model.encode_reply(e.reply);
    else if (e.what == known::stored_reply)
      bytes = e.bytes;
    if (bytes) {
      result += '\t';
      result += to_hex(*bytes);
    }
    result += '\n';
  };
  // Oldest first, so that decode() restores the same eviction order.
  for (size_t i = 0; i < entries_.size(); ++i)
    append(entries_[(next_ + i) % entries_.size()]);
  return result;
}

void dedup_window::decode(const std::string& text) {
  std::string_view rest{text};
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    auto tab = line.find('\t');
    if (tab == std::string_view::npos)
      continue;
    entry e;
    e.id = std::string{line.substr(0, tab)};
    auto tail = line.substr(tab + 1);
    auto tab2 = tail.find('\t');
    e.version = std::strtoull(std::string{tail.substr(0, tab2)}.c_str(), nullptr, 10);
    e.what = known::version_only;
    if (tab2 != std::string_view::npos) {
      if (auto bytes = from_hex(tail.substr(tab2 + 1))) {
        e.what = known::stored_reply;
        e.bytes = std::move(*bytes);
      }
    }
    record(std::move(e));
  }
}

} // namespace esr::actors
