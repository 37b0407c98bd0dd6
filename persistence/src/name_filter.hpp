#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace esr::persistence::detail {

/// A Bloom filter of stream names: the names a store held when it was
/// opened, so that looking up a stream that does not exist (every new
/// aggregate, every new saga instance) needs no LevelDB read.
///
/// Why: LevelDB charges a "seek" to a file whenever a read has to look at
/// more than one file, and compacts a file once it was charged about one
/// seek per 16 KiB of it. Every new stream's name lookup is such a read,
/// and in a sustained saga run (three new streams per order) those charges
/// made the index database compact its newest file into the whole next
/// level after every memtable flush: work that grew with the store.
class name_filter {
public:
  /// An empty filter sized for `expected` names (10 bits per name).
  explicit name_filter(size_t expected = 0);

  /// Adds the name whose hash (hash_of) is `h`.
  void add(uint64_t h);

  /// False only if no name with hash `h` was added.
  bool may_contain(uint64_t h) const;

  /// The hash of `name` that add and may_contain take.
  static uint64_t hash_of(std::string_view name);

  /// Memory held, in bytes.
  size_t size_bytes() const { return bits_.size() * sizeof(uint64_t); }

private:
  std::vector<uint64_t> bits_;
  uint64_t nbits_ = 0;
};

} // namespace esr::persistence::detail
