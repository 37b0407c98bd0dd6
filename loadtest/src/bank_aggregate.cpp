#include "bank_aggregate.hpp"

#include <string>

#include "bank.pb.h"

namespace esr::loadtest::bank {

std::shared_ptr<account_type> make_account_type(uint64_t snapshot_every) {
  using effect = account_type::effect;
  auto t = std::make_shared<account_type>(type_name);
  t->on_command([](const account& s, const command& c) -> effect {
    auto balance = [](const account& x) { return x.balance; };
    if (auto d = std::get_if<deposit>(&c)) {
      if (d->amount <= 0)
        return effect::reject("non-positive amount");
      Deposited e;
      e.set_amount(d->amount);
      return effect::persist(std::move(e)).then_reply(balance);
    }
    auto& w = std::get<withdraw>(c);
    if (w.amount <= 0)
      return effect::reject("non-positive amount");
    if (w.amount > s.balance)
      return effect::reject("insufficient funds");
    Withdrawn e;
    e.set_amount(w.amount);
    return effect::persist(std::move(e)).then_reply(balance);
  });
  t->on_event<Deposited>([](account& s, const Deposited& e) { s.balance += e.amount(); });
  t->on_event<Withdrawn>([](account& s, const Withdrawn& e) { s.balance -= e.amount(); });
  // Snapshots hold the balance as a decimal string.
  t->state_codec(
    "esr.loadtest.bank.account",
    [](const account& s) { return std::to_string(s.balance); },
    [](const std::string& b) -> std::optional<account> {
      try {
        size_t used = 0;
        auto v = std::stoll(b, &used);
        if (used != b.size())
          return std::nullopt;
        return account{v};
      } catch (...) {
        return std::nullopt;
      }
    });
  t->reply_codec([](const int64_t& r) { return std::to_string(r); },
                 [](const std::string& b) -> std::optional<int64_t> {
                   try {
                     return std::stoll(b);
                   } catch (...) {
                     return std::nullopt;
                   }
                 });
  if (snapshot_every > 0)
    t->snapshot_every(snapshot_every);
  return t;
}

} // namespace esr::loadtest::bank
