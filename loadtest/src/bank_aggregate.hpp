#pragma once

#include <cstdint>
#include <memory>
#include <variant>

#include "esr/actors/aggregate_type.hpp"

namespace esr::loadtest::bank {

/// The state of an account: its balance in cents (never negative).
struct account {
  int64_t balance = 0;
};

/// Pays `amount` (> 0) into the account.
struct deposit {
  int64_t amount = 0;
};

/// Takes `amount` (> 0) out; rejected ("insufficient funds") if the balance
/// is smaller.
struct withdraw {
  int64_t amount = 0;
};

/// The commands of an account.
using command = std::variant<deposit, withdraw>;

/// The aggregate type: replies with the balance after the command.
using account_type = actors::aggregate_type<account, command, int64_t>;

/// The aggregate type name, the category of its persistence ids.
inline constexpr const char* type_name = "account";

/// Makes the account aggregate type; snapshots every `snapshot_every`
/// events (0: never). Commands with a non-positive amount are rejected.
std::shared_ptr<account_type> make_account_type(uint64_t snapshot_every);

} // namespace esr::loadtest::bank
