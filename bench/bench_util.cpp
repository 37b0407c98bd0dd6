#include "bench_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

#include <sys/resource.h>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

namespace esr::bench {

bool has_flag(const args& a, const std::string& flag) {
  return std::find(a.begin(), a.end(), flag) != a.end();
}

std::string option(const args& a, const std::string& name, const std::string& fallback) {
  auto i = std::find(a.begin(), a.end(), name);
  if (i == a.end() || i + 1 == a.end())
    return fallback;
  return *(i + 1);
}

int64_t int_option(const args& a, const std::string& name, int64_t fallback) {
  auto s = option(a, name, "");
  return s.empty() ? fallback : std::strtoll(s.c_str(), nullptr, 10);
}

std::string fresh_dir(const args& a, const std::string& tag) {
  namespace fs = std::filesystem;
  auto base = option(a, "--dir", "");
  fs::path p;
  if (base.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "esr-bench-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    p = fs::path{made ? made : tmpl} / tag;
  } else {
    p = fs::path{base} / tag;
  }
  std::error_code ec;
  fs::remove_all(p, ec);
  fs::create_directories(p, ec);
  return p.string();
}

void remove_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string make_payload(size_t n, uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::string s(n, ' ');
  for (auto& c : s)
    c = static_cast<char>('!' + rng() % 90);
  return s;
}

double raw_leveldb_sync_events_per_s(const std::string& dir, size_t events,
                                     size_t payload_bytes, size_t batch) {
  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.write_buffer_size = 32u << 20;
  leveldb::DB* raw = nullptr;
  if (!leveldb::DB::Open(opts, dir, &raw).ok())
    return 0;
  std::unique_ptr<leveldb::DB> db{raw};
  auto payload = make_payload(payload_bytes, 42);
  leveldb::WriteOptions wo;
  wo.sync = true;
  char key[17];
  key[0] = 'e';
  auto t0 = std::chrono::steady_clock::now();
  uint64_t n = 0;
  while (n < events) {
    leveldb::WriteBatch wb;
    for (size_t i = 0; i < batch && n < events; ++i, ++n) {
      uint64_t stream = n % 1024, seq = n / 1024 + 1;
      for (int b = 0; b < 8; ++b) {
        key[1 + b] = static_cast<char>(stream >> (56 - 8 * b));
        key[9 + b] = static_cast<char>(seq >> (56 - 8 * b));
      }
      wb.Put(leveldb::Slice{key, sizeof key}, payload);
    }
    if (!db->Write(wo, &wb).ok())
      return 0;
  }
  return static_cast<double>(events) / seconds_since(t0);
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto idx = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

} // namespace esr::bench
