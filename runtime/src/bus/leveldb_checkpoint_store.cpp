// The LevelDB checkpoint store: its own database, one key per subscription.
//   key   := name                 (the subscription's name, raw bytes)
//   value := position:be64        (see encode_position)
#include <memory>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::bus {

namespace {

class leveldb_checkpoint_store final : public checkpoint_store {
public:
  leveldb_checkpoint_store(std::unique_ptr<leveldb::DB> db, bool sync)
    : db_(std::move(db)) {
    write_opts_.sync = sync;
  }

  caf::expected<std::optional<uint64_t>> load(std::string_view name) override {
    std::string value;
    auto st = db_->Get(leveldb::ReadOptions{}, leveldb::Slice{name.data(), name.size()},
                       &value);
    if (st.IsNotFound())
      return std::optional<uint64_t>{};
    if (!st.ok())
      return make_error(errc::store_io_error, std::string{name}, st.ToString());
    auto pos = decode_position(value);
    if (!pos)
      return make_error(errc::store_corruption, "checkpoint", std::string{name});
    return std::optional<uint64_t>{*pos};
  }

  caf::error save(std::string_view name, uint64_t position) override {
    if (name.empty())
      return make_error(errc::invalid_argument, "empty checkpoint name");
    auto st = db_->Put(write_opts_, leveldb::Slice{name.data(), name.size()},
                       encode_position(position));
    if (!st.ok())
      return make_error(errc::store_io_error, std::string{name}, st.ToString());
    return caf::none;
  }

  caf::error remove(std::string_view name) override {
    auto st = db_->Delete(write_opts_, leveldb::Slice{name.data(), name.size()});
    if (!st.ok())
      return make_error(errc::store_io_error, std::string{name}, st.ToString());
    return caf::none;
  }

private:
  std::unique_ptr<leveldb::DB> db_;
  leveldb::WriteOptions write_opts_;
};

} // namespace

caf::expected<std::shared_ptr<checkpoint_store>>
open_leveldb_checkpoint_store(const leveldb_checkpoint_options& opts) {
  if (opts.path.empty())
    return make_error(errc::invalid_argument, "empty checkpoint store path");
  leveldb::Options lo;
  lo.create_if_missing = true;
  if (opts.env != nullptr)
    lo.env = opts.env;
  leveldb::DB* raw = nullptr;
  auto st = leveldb::DB::Open(lo, opts.path, &raw);
  if (!st.ok())
    return make_error(errc::store_io_error, opts.path, st.ToString());
  std::shared_ptr<checkpoint_store> result
    = std::make_shared<leveldb_checkpoint_store>(std::unique_ptr<leveldb::DB>{raw}, opts.sync);
  return result;
}

} // namespace esr::runtime::bus
