#include "support/disk_corruption.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <leveldb/db.h>
#include <leveldb/options.h>

namespace esr::persistence::test {

leveldb::Status compact_database(const std::string& path) {
  leveldb::Options opts;
  opts.create_if_missing = false;
  leveldb::DB* raw = nullptr;
  auto st = leveldb::DB::Open(opts, path, &raw);
  if (!st.ok())
    return st;
  std::unique_ptr<leveldb::DB> db{raw};
  db->CompactRange(nullptr, nullptr);
  return leveldb::Status::OK();
}

size_t flip_byte_in_tables(const std::string& path, std::string_view needle) {
  size_t flipped = 0;
  for (auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() != ".ldb")
      continue;
    std::string bytes;
    {
      std::ifstream in{entry.path(), std::ios::binary};
      bytes.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
    size_t changed = 0;
    for (auto pos = bytes.find(needle); pos != std::string::npos;
         pos = bytes.find(needle, pos + needle.size())) {
      bytes[pos + needle.size() / 2] = static_cast<char>(~bytes[pos + needle.size() / 2]);
      ++changed;
    }
    if (changed > 0) {
      std::ofstream out{entry.path(), std::ios::binary | std::ios::trunc};
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      flipped += changed;
    }
  }
  return flipped;
}

} // namespace esr::persistence::test
