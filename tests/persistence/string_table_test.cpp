// esr::util::string_table against std::unordered_map as the reference: the
// same answers through growth, erasure (backward shifts, also around the end
// of the slot array) and erase_if, and element addresses that never move.

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "esr/util/string_table.hpp"

using esr::util::string_table;

namespace {

/// Checks that `t` holds exactly the elements of `ref`.
void expect_same(string_table<int>& t, const std::unordered_map<std::string, int>& ref) {
  ASSERT_EQ(t.size(), ref.size());
  for (auto& [k, v] : ref) {
    auto n = t.find(k);
    ASSERT_NE(n, nullptr) << k;
    EXPECT_EQ(n->value, v) << k;
  }
  size_t seen = 0;
  t.for_each([&](const std::string& k, int v) {
    ++seen;
    auto i = ref.find(k);
    ASSERT_NE(i, ref.end()) << k;
    EXPECT_EQ(i->second, v);
  });
  EXPECT_EQ(seen, ref.size());
}

} // namespace

TEST(string_table, agrees_with_unordered_map_through_inserts_erases_and_growth) {
  string_table<int> t;
  std::unordered_map<std::string, int> ref;
  std::mt19937 rng{42};
  for (int round = 0; round < 20000; ++round) {
    auto key = "stream-" + std::to_string(rng() % 3000);
    switch (rng() % 4) {
      case 0:
      case 1: {
        auto [n, added] = t.try_emplace(key);
        EXPECT_EQ(added, ref.count(key) == 0) << key;
        n->value = round;
        ref[key] = round;
        break;
      }
      case 2:
        EXPECT_EQ(t.erase(key), ref.erase(key) == 1) << key;
        break;
      default: {
        auto n = t.find(key);
        auto i = ref.find(key);
        ASSERT_EQ(n != nullptr, i != ref.end()) << key;
        if (n)
          EXPECT_EQ(n->value, i->second);
      }
    }
  }
  expect_same(t, ref);
}

TEST(string_table, erasing_shifts_back_colliding_keys_also_around_the_end_of_the_slots) {
  // A hash function of our own: every key lands near the last slot, so runs
  // of colliding keys wrap around the end of the array.
  string_table<int> t;
  std::unordered_map<std::string, int> ref;
  auto h = [](const std::string& k) { return uint64_t{13} + (k.size() % 3); };
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i)
    keys.push_back(std::string(static_cast<size_t>(i + 1), 'k'));
  for (size_t i = 0; i < keys.size(); ++i)
    t.try_emplace(keys[i], h(keys[i])).first->value = static_cast<int>(i);
  for (size_t i = 0; i < keys.size(); i += 2) {
    ASSERT_TRUE(t.erase(keys[i], h(keys[i])));
    EXPECT_FALSE(t.erase(keys[i], h(keys[i])));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    auto n = t.find(keys[i], h(keys[i]));
    if (i % 2 == 0) {
      EXPECT_EQ(n, nullptr) << keys[i];
    } else {
      ASSERT_NE(n, nullptr) << keys[i];
      EXPECT_EQ(n->value, static_cast<int>(i));
    }
  }
  EXPECT_EQ(t.size(), 3u);
}

TEST(string_table, elements_keep_their_address_while_the_table_grows) {
  string_table<std::string> t;
  auto first = t.try_emplace("first").first;
  first->value = "value";
  const std::string* key = &first->key;
  for (int i = 0; i < 100000; ++i)
    t.try_emplace("k" + std::to_string(i));
  auto again = t.find("first");
  EXPECT_EQ(again, first);
  EXPECT_EQ(&again->key, key);
  EXPECT_EQ(again->value, "value");
  EXPECT_EQ(t.size(), 100001u);
}

TEST(string_table, erase_if_removes_exactly_the_matching_elements) {
  string_table<int> t;
  std::unordered_map<std::string, int> ref;
  for (int i = 0; i < 5000; ++i) {
    auto k = "i" + std::to_string(i);
    t.try_emplace(k).first->value = i;
    ref[k] = i;
  }
  auto removed = t.erase_if([](const std::string&, int v) { return v % 3 != 0; });
  for (auto i = ref.begin(); i != ref.end();)
    i = i->second % 3 != 0 ? ref.erase(i) : std::next(i);
  EXPECT_EQ(removed, 5000u - ref.size());
  expect_same(t, ref);
  t.clear();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find("i0"), nullptr);
}
