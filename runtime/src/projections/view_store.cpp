// The LevelDB view store. DO NOT CHANGE the key layout: it is the on-disk
// format of every view.
//
//   key            := view_key | checkpoint_key | alias_key
//   view_key       := 'v' view_name 0x00 user_key   -> user value
//   checkpoint_key := 'c' view_name                 -> position:be64
//   alias_key      := 'a' alias                     -> view_name
//
// View names hold no NUL byte, so one view's keys are one contiguous range
// ('v' view_name 0x00 is a prefix no other view shares). A commit writes a
// view's changes and its checkpoint_key in one WriteBatch.
#include "esr/runtime/projections/view_store.hpp"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::projections {

using bus::errc;
using bus::make_error;

namespace {

std::string view_prefix(std::string_view view) {
  std::string key;
  key.reserve(view.size() + 2);
  key += 'v';
  key += view;
  key += '\0';
  return key;
}

std::string view_key(std::string_view view, std::string_view user_key) {
  auto key = view_prefix(view);
  key += user_key;
  return key;
}

std::string tagged_key(char tag, std::string_view name) {
  std::string key;
  key += tag;
  key += name;
  return key;
}

leveldb::Slice slice(std::string_view s) {
  return leveldb::Slice{s.data(), s.size()};
}

caf::expected<std::optional<std::string>> get_raw(leveldb::DB& db, const std::string& key) {
  std::string value;
  auto st = db.Get(leveldb::ReadOptions{}, key, &value);
  if (st.IsNotFound())
    return std::optional<std::string>{};
  if (!st.ok())
    return make_error(errc::store_io_error, st.ToString());
  return std::optional<std::string>{std::move(value)};
}

} // namespace

// -- view_txn -----------------------------------------------------------------

view_txn::view_txn(std::shared_ptr<const view_store> store, std::string view)
  : store_(std::move(store)), view_(std::move(view)) {
  // nop
}

caf::expected<std::optional<std::string>> view_txn::get(std::string_view key) const {
  auto i = pending_.find(key);
  if (i != pending_.end())
    return i->second;
  return store_->get(view_, key);
}

void view_txn::put(std::string_view key, std::string value) {
  pending_[std::string{key}] = std::move(value);
}

void view_txn::erase(std::string_view key) {
  pending_[std::string{key}] = std::nullopt;
}

// -- view_store ---------------------------------------------------------------

view_store::view_store(std::unique_ptr<leveldb::Cache> cache,
                       std::unique_ptr<leveldb::DB> db, view_store_options opts)
  : cache_(std::move(cache)), db_(std::move(db)), opts_(std::move(opts)) {
  // nop
}

view_store::~view_store() = default;

caf::expected<std::shared_ptr<view_store>> view_store::open(const view_store_options& opts) {
  if (opts.path.empty())
    return make_error(errc::invalid_argument, "empty view store path");
  std::unique_ptr<leveldb::Cache> cache{leveldb::NewLRUCache(opts.block_cache_bytes)};
  leveldb::Options lo;
  lo.create_if_missing = opts.create_if_missing;
  lo.block_cache = cache.get();
  lo.write_buffer_size = opts.write_buffer_bytes;
  if (opts.env != nullptr)
    lo.env = opts.env;
  leveldb::DB* raw = nullptr;
  auto st = leveldb::DB::Open(lo, opts.path, &raw);
  if (!st.ok())
    return make_error(errc::store_io_error, opts.path, st.ToString());
  return std::shared_ptr<view_store>{
    new view_store(std::move(cache), std::unique_ptr<leveldb::DB>{raw}, opts)};
}

caf::expected<std::optional<std::string>> view_store::get(std::string_view view,
                                                          std::string_view key) const {
  return get_raw(*db_, view_key(view, key));
}

caf::error view_store::scan(
  std::string_view view, std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) const {
  auto vp = view_prefix(view);
  auto start = vp;
  start += prefix;
  std::unique_ptr<leveldb::Iterator> it{db_->NewIterator(leveldb::ReadOptions{})};
  for (it->Seek(start); it->Valid(); it->Next()) {
    auto k = it->key();
    std::string_view key{k.data(), k.size()};
    if (key.compare(0, start.size(), start) != 0)
      break;
    auto v = it->value();
    if (!f(key.substr(vp.size()), std::string_view{v.data(), v.size()}))
      break;
  }
  if (!it->status().ok())
    return make_error(errc::store_io_error, it->status().ToString());
  return caf::none;
}

caf::expected<std::optional<uint64_t>> view_store::checkpoint(std::string_view view) const {
  auto raw = get_raw(*db_, tagged_key('c', view));
  if (!raw)
    return std::move(raw.error());
  if (!*raw)
    return std::optional<uint64_t>{};
  auto pos = bus::decode_position(**raw);
  if (!pos)
    return make_error(errc::store_corruption, "view checkpoint", std::string{view});
  return std::optional<uint64_t>{*pos};
}

view_txn view_store::begin(std::string view) const {
  return view_txn{shared_from_this(), std::move(view)};
}

caf::error view_store::commit(view_txn& txn, uint64_t position) {
  leveldb::WriteBatch wb;
  auto prefix = view_prefix(txn.view_);
  std::string key;
  for (auto& [k, v] : txn.pending_) {
    key.assign(prefix);
    key += k;
    if (v)
      wb.Put(key, *v);
    else
      wb.Delete(key);
  }
  wb.Put(tagged_key('c', txn.view_), bus::encode_position(position));
  leveldb::WriteOptions wo;
  wo.sync = opts_.sync;
  auto st = db_->Write(wo, &wb);
  if (!st.ok())
    return make_error(errc::store_io_error, txn.view_, position, st.ToString());
  txn.pending_.clear();
  return caf::none;
}

caf::error view_store::drop_view(std::string_view view) {
  auto prefix = view_prefix(view);
  std::unique_ptr<leveldb::Iterator> it{db_->NewIterator(leveldb::ReadOptions{})};
  leveldb::WriteBatch wb;
  size_t n = 0;
  leveldb::WriteOptions wo;
  wo.sync = opts_.sync;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    wb.Delete(it->key());
    if (++n % 4096 == 0) {
      if (auto st = db_->Write(wo, &wb); !st.ok())
        return make_error(errc::store_io_error, std::string{view}, st.ToString());
      wb.Clear();
    }
  }
  if (!it->status().ok())
    return make_error(errc::store_io_error, std::string{view}, it->status().ToString());
  wb.Delete(tagged_key('c', view));
  if (auto st = db_->Write(wo, &wb); !st.ok())
    return make_error(errc::store_io_error, std::string{view}, st.ToString());
  return caf::none;
}

caf::error view_store::set_alias(std::string_view alias, std::string_view view) {
  leveldb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Put(wo, tagged_key('a', alias), slice(view));
  if (!st.ok())
    return make_error(errc::store_io_error, std::string{alias}, st.ToString());
  return caf::none;
}

caf::expected<std::optional<std::string>> view_store::alias(std::string_view alias) const {
  return get_raw(*db_, tagged_key('a', alias));
}

caf::expected<std::string> view_store::resolve(std::string_view name) const {
  auto a = alias(name);
  if (!a)
    return std::move(a.error());
  if (*a)
    return std::move(**a);
  return std::string{name};
}

// -- view_reader --------------------------------------------------------------

caf::expected<std::optional<std::string>> view_reader::get(std::string_view key) const {
  auto view = store_->resolve(alias_);
  if (!view)
    return std::move(view.error());
  return store_->get(*view, key);
}

caf::error view_reader::scan(
  std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) const {
  auto view = store_->resolve(alias_);
  if (!view)
    return std::move(view.error());
  return store_->scan(*view, prefix, f);
}

caf::expected<std::string> view_reader::current_view() const {
  return store_->resolve(alias_);
}

} // namespace esr::runtime::projections
