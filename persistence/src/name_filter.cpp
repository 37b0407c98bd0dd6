#include "name_filter.hpp"

#include <algorithm>

#include "key_codec.hpp"

namespace esr::persistence::detail {

namespace {

/// Probes per name: about 1% false positives at 10 bits per name.
constexpr int probes = 7;

/// splitmix64's finalizer: spreads the bits of `x`.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

} // namespace

name_filter::name_filter(size_t expected) {
  auto bits = std::max<uint64_t>(1024, uint64_t{expected} * 10);
  bits_.assign((bits + 63) / 64, 0);
  nbits_ = bits_.size() * 64;
}

uint64_t name_filter::hash_of(std::string_view name) {
  return mix(stable_hash(name));
}

void name_filter::add(uint64_t h) {
  auto step = mix(h) | 1; // double hashing: probe i at h + i * step
  for (int i = 0; i < probes; ++i, h += step) {
    auto bit = h % nbits_;
    bits_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
}

bool name_filter::may_contain(uint64_t h) const {
  auto step = mix(h) | 1;
  for (int i = 0; i < probes; ++i, h += step) {
    auto bit = h % nbits_;
    if ((bits_[bit / 64] & (uint64_t{1} << (bit % 64))) == 0)
      return false;
  }
  return true;
}

} // namespace esr::persistence::detail
