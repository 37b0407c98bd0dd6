#pragma once

// The account aggregate of the bank_account example.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "bank.pb.h"
#include "esr/actors/aggregate_type.hpp"

namespace bank {

/// Commands: plain C++ types.
struct open_account { std::string owner; };
struct deposit { int64_t amount; };
struct withdraw { int64_t amount; };
struct block { std::string reason; };
struct get_balance {};

using command = std::variant<open_account, deposit, withdraw, block, get_balance>;

/// The reply to every command: the balance afterwards, in cents.
using reply = int64_t;

using account_type = esr::actors::aggregate_type<Account, command, reply>;

/// Returns the definition of the "account" aggregate type: snapshots every
/// `snapshot_every` events, keeps two.
std::shared_ptr<account_type> make_account_type(uint64_t snapshot_every = 3);

} // namespace bank
