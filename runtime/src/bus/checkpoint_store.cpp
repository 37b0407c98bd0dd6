// Checkpoint stores. Value format of every checkpoint: 8 bytes, big-endian
// position. Key layout of the journal-backed store (inside the journal's side
// key space):
//   checkpoint_side_key := "esr.ckpt/" name
#include "esr/runtime/bus/checkpoint_store.hpp"

#include <map>
#include <mutex>

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::bus {

checkpoint_store::~checkpoint_store() = default;

std::string encode_position(uint64_t position) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(position & 0xFF);
    position >>= 8;
  }
  return out;
}

std::optional<uint64_t> decode_position(std::string_view bytes) {
  if (bytes.size() != 8)
    return std::nullopt;
  uint64_t result = 0;
  for (auto c : bytes)
    result = (result << 8) | static_cast<uint8_t>(c);
  return result;
}

namespace {

constexpr std::string_view side_prefix = "esr.ckpt/";

std::string side_key_of(std::string_view name) {
  std::string key{side_prefix};
  key += name;
  return key;
}

class memory_checkpoint_store final : public checkpoint_store {
public:
  caf::expected<std::optional<uint64_t>> load(std::string_view name) override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = positions_.find(std::string{name});
    if (i == positions_.end())
      return std::optional<uint64_t>{};
    return std::optional<uint64_t>{i->second};
  }

  caf::error save(std::string_view name, uint64_t position) override {
    if (name.empty())
      return make_error(errc::invalid_argument, "empty checkpoint name");
    std::lock_guard<std::mutex> guard{mtx_};
    positions_[std::string{name}] = position;
    return caf::none;
  }

  caf::error remove(std::string_view name) override {
    std::lock_guard<std::mutex> guard{mtx_};
    positions_.erase(std::string{name});
    return caf::none;
  }

private:
  std::mutex mtx_;
  std::map<std::string, uint64_t> positions_;
};

class journal_checkpoint_store final : public checkpoint_store {
public:
  explicit journal_checkpoint_store(std::shared_ptr<persistence::journal> j)
    : journal_(std::move(j)) {
    // nop
  }

  caf::expected<std::optional<uint64_t>> load(std::string_view name) override {
    auto value = journal_->get_side(side_key_of(name));
    if (!value)
      return make_error(errc::store_io_error, std::string{name},
                        render(value.error()));
    if (!*value)
      return std::optional<uint64_t>{};
    auto pos = decode_position(**value);
    if (!pos)
      return make_error(errc::store_corruption, "checkpoint", std::string{name});
    return std::optional<uint64_t>{*pos};
  }

  caf::error save(std::string_view name, uint64_t position) override {
    if (name.empty())
      return make_error(errc::invalid_argument, "empty checkpoint name");
    return write({checkpoint_side_write(name, position)}, name);
  }

  caf::error remove(std::string_view name) override {
    return write({persistence::side_write{side_key_of(name), std::nullopt}}, name);
  }

private:
  caf::error write(std::vector<persistence::side_write> xs, std::string_view name) {
    persistence::atomic_write w;
    w.side_writes = std::move(xs);
    auto res = journal_->write(std::move(w));
    if (!res)
      return make_error(errc::store_io_error, std::string{name}, render(res.error()));
    return caf::none;
  }

  std::shared_ptr<persistence::journal> journal_;
};

} // namespace

std::shared_ptr<checkpoint_store> make_memory_checkpoint_store() {
  return std::make_shared<memory_checkpoint_store>();
}

std::shared_ptr<checkpoint_store>
make_journal_checkpoint_store(std::shared_ptr<persistence::journal> j) {
  return std::make_shared<journal_checkpoint_store>(std::move(j));
}

persistence::side_write checkpoint_side_write(std::string_view name, uint64_t position) {
  return persistence::side_write{side_key_of(name), encode_position(position)};
}

} // namespace esr::runtime::bus
