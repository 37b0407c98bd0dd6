#include "outcome.hpp"

#include <caf/atom.hpp>
#include <caf/sec.hpp>

#include "esr/actors/errc.hpp"

namespace esr::loadtest {

namespace {

bool is_sec(const caf::error& err, caf::sec x) {
  return err.category() == caf::atom("system") && err.code() == static_cast<uint8_t>(x);
}

} // namespace

const char* to_string(error_kind x) {
  switch (x) {
    case error_kind::conflict: return "conflict";
    case error_kind::rejected: return "rejected";
    case error_kind::unavailable: return "unavailable";
    case error_kind::timeout: return "timeout";
  }
  return "unknown";
}

error_kind classify(const caf::error& err) {
  using actors::errc;
  if (actors::is(err, errc::rejected))
    return error_kind::rejected;
  if (actors::is(err, errc::wrong_expected_version) || actors::is(err, errc::write_rejected))
    return error_kind::conflict;
  if (is_sec(err, caf::sec::request_timeout))
    return error_kind::timeout;
  return error_kind::unavailable;
}

bool definitely_not_applied(const caf::error& err) {
  using actors::errc;
  for (auto x : {errc::rejected, errc::wrong_expected_version, errc::write_rejected,
                 errc::stash_overflow, errc::unknown_aggregate_type, errc::wrong_command_type,
                 errc::handler_failed, errc::invalid_argument})
    if (actors::is(err, x))
      return true;
  return false;
}

void error_counts::add(error_kind k) {
  switch (k) {
    case error_kind::conflict: ++conflict; break;
    case error_kind::rejected: ++rejected; break;
    case error_kind::unavailable: ++unavailable; break;
    case error_kind::timeout: ++timeout; break;
  }
}

void error_counts::merge(const error_counts& other) {
  conflict += other.conflict;
  rejected += other.rejected;
  unavailable += other.unavailable;
  timeout += other.timeout;
}

} // namespace esr::loadtest
