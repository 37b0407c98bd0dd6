#pragma once

// What esr-crash-writer (crash_writer.cpp) and the crash test (crash_test.cpp)
// agree on.
//
// Writer stdout, one line per message, each written with one write(2) after
// the fact it reports:
//   "READY\n"                                   the store is open
//   "ACK <write-id> <stream> <last-seq> <n>\n"  an atomic write of n events is
//                                               acknowledged (durable)
//   "ERR <write-id> <error>\n"                  an atomic write failed
//
// Every event of an atomic write carries the payload
//   "<write-id> <k>/<n>" followed by padding dots,
// with k = 1..n its index in the write, so a reader can tell which write an
// event belongs to and whether that write is complete.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace esr::persistence::test::crash {

/// The event payload of event `k` of `n` of write `write_id`.
inline std::string payload(const std::string& write_id, uint32_t k, uint32_t n,
                           size_t padding) {
  auto result = write_id + " " + std::to_string(k) + "/" + std::to_string(n) + " ";
  result.append(padding, '.');
  return result;
}

/// A payload taken apart.
struct payload_fields {
  std::string write_id;
  uint32_t k = 0;
  uint32_t n = 0;
};

/// Parses a payload; nullopt if it does not have the shape above.
inline std::optional<payload_fields> parse_payload(std::string_view p) {
  auto space = p.find(' ');
  if (space == std::string_view::npos || space == 0)
    return std::nullopt;
  payload_fields f;
  f.write_id = std::string{p.substr(0, space)};
  std::string rest{p.substr(space + 1)};
  unsigned k = 0;
  unsigned n = 0;
  if (std::sscanf(rest.c_str(), "%u/%u", &k, &n) != 2 || k == 0 || k > n)
    return std::nullopt;
  f.k = k;
  f.n = n;
  return f;
}

} // namespace esr::persistence::test::crash
