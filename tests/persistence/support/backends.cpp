#include "support/backends.hpp"

namespace esr::persistence::test {

leveldb_backend::leveldb_backend()
  : env_(std::make_unique<testing::fault_injection_env>()) {
  opts_.path = dir_.sub("db");
  opts_.env = env_.get();
  opts_.max_payload_bytes = 2u << 20; // 2 MiB: room for S11's 1 MiB snapshot
  opts_.shard_count = 16;
  opts_.block_cache_bytes = 1u << 20;
  opts_.write_buffer_bytes = 1u << 20;
}

caf::expected<storage> leveldb_backend::open() {
  return open_leveldb(opts_);
}

caf::expected<storage> memory_backend::open() {
  if (!store_)
    store_ = open_memory();
  return *store_;
}

} // namespace esr::persistence::test
