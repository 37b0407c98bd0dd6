#pragma once

// esr::util::string_table: a hash map from strings to values for the large
// tables of hot paths (the journal's streams, the registry's aggregates, a
// saga's instances), which std::unordered_map serves with three or four
// cache misses per lookup (bucket, the node before the bucket's first, the
// node, its key).
//
// Open addressing with linear probing over slots of (hash, node pointer):
// a lookup reads one slot, usually in the same cache line as its
// neighbours, and then the one node whose cached hash matches. Nodes are
// allocated one by one and never move, so pointers to a key or a value stay
// valid until the element is erased (growing moves slots only, without
// touching a node). Callers that look up many keys at once can prefetch
// their slots and nodes first (prefetch, prefetch_node) and hash the keys
// outside their locks (find and try_emplace take the hash).
//
// Not thread-safe; erasing invalidates only the erased element.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esr::util {

template <class V>
class string_table {
public:
  /// An element: its key and value never move while it is in the table.
  struct node {
    std::string key;
    V value;
  };

  /// The hash find/try_emplace/erase expect for `key` (any function of the
  /// key works if used consistently; this is the default).
  static uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  string_table() : slots_(16), mask_(15) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// The element of `key` (whose hash is `h`), or nullptr.
  node* find(std::string_view key, uint64_t h) const {
    for (auto i = h & mask_;; i = (i + 1) & mask_) {
      auto& s = slots_[i];
      if (!s.n)
        return nullptr;
      if (s.hash == h && s.n->key == key)
        return s.n.get();
    }
  }
  node* find(std::string_view key) const { return find(key, hash(key)); }

  /// The element of `key`, added with a value-initialized value if absent;
  /// second is true if it was added.
  std::pair<node*, bool> try_emplace(std::string_view key, uint64_t h) {
    if (auto n = find(key, h))
      return {n, false};
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    auto i = h & mask_;
    while (slots_[i].n)
      i = (i + 1) & mask_;
    slots_[i].hash = h;
    slots_[i].n = std::make_unique<node>(node{std::string{key}, V{}});
    ++size_;
    return {slots_[i].n.get(), true};
  }
  std::pair<node*, bool> try_emplace(std::string_view key) { return try_emplace(key, hash(key)); }

  /// Removes the element of `key`; false if there was none.
  bool erase(std::string_view key, uint64_t h) {
    for (auto i = h & mask_;; i = (i + 1) & mask_) {
      auto& s = slots_[i];
      if (!s.n)
        return false;
      if (s.hash == h && s.n->key == key) {
        remove_at(i);
        return true;
      }
    }
  }
  bool erase(std::string_view key) { return erase(key, hash(key)); }

  /// Removes the elements for which `pred(key, value)` is true; returns how
  /// many. Visits every slot.
  template <class Pred>
  size_t erase_if(Pred&& pred) {
    size_t removed = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
      // remove_at shifts a later element into slot i: look at it too. (An
      // element shifted into a slot before i, around the end of the array,
      // was looked at in its old slot already.)
      while (slots_[i].n && pred(std::as_const(slots_[i].n->key), slots_[i].n->value)) {
        remove_at(i);
        ++removed;
      }
    }
    return removed;
  }

  /// Calls `f(key, value)` for every element, in no particular order.
  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_)
      if (s.n)
        f(std::as_const(s.n->key), s.n->value);
  }

  /// Removes every element.
  void clear() {
    std::vector<slot>(16).swap(slots_);
    mask_ = 15;
    size_ = 0;
  }

  /// Starts loading the slot where a lookup of hash `h` begins.
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }

  /// Starts loading the node in the slot where a lookup of hash `h` begins,
  /// if that slot holds one with this hash (call after prefetch(h)).
  void prefetch_node(uint64_t h) const {
    auto& s = slots_[h & mask_];
    if (s.n && s.hash == h)
      __builtin_prefetch(s.n.get());
  }

private:
  struct slot {
    uint64_t hash = 0;
    std::unique_ptr<node> n; ///< Empty slot if null.
  };

  /// Empties slot `i` and shifts the elements after it back (no tombstones).
  void remove_at(size_t i) {
    slots_[i].n.reset();
    --size_;
    for (auto j = (i + 1) & mask_; slots_[j].n; j = (j + 1) & mask_) {
      auto home = slots_[j].hash & mask_;
      // The element at j stays if its home lies cyclically in (i, j].
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays)
        continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
  }

  void grow() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (auto& s : old) {
      if (!s.n)
        continue;
      auto i = s.hash & mask_;
      while (slots_[i].n)
        i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<slot> slots_;
  size_t mask_;
  size_t size_ = 0;
};

} // namespace esr::util
