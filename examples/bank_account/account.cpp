#include "account.hpp"

namespace bank {

namespace {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overload(Fs...) -> overload<Fs...>;

} // namespace

std::shared_ptr<account_type> make_account_type(uint64_t snapshot_every) {
  using effect = account_type::effect;
  auto t = std::make_shared<account_type>("account");
  auto balance = [](const Account& s) { return s.balance(); };
  t->on_command([balance](const Account& s, const command& c) -> effect {
    return std::visit(
      overload{
        [&](const open_account& x) {
          if (s.open())
            return effect::reject("account already open");
          AccountOpened e;
          e.set_owner(x.owner);
          return effect::persist(e).then_reply(balance);
        },
        [&](const deposit& x) {
          if (!s.open())
            return effect::reject("no such account");
          if (s.blocked())
            return effect::reject("account is blocked");
          if (x.amount <= 0)
            return effect::reject("amount must be positive");
          Deposited e;
          e.set_amount(x.amount);
          return effect::persist(e).then_reply(balance);
        },
        [&](const withdraw& x) {
          if (!s.open())
            return effect::reject("no such account");
          if (s.blocked())
            return effect::reject("account is blocked");
          if (x.amount > s.balance())
            return effect::reject("insufficient funds");
          Withdrawn e;
          e.set_amount(x.amount);
          return effect::persist(e).then_reply(balance);
        },
        [&](const block& x) {
          if (s.blocked())
            return effect::reply(s.balance());
          AccountBlocked e;
          e.set_reason(x.reason);
          return effect::persist(e).then_reply(balance);
        },
        [&](const get_balance&) { return effect::reply(s.balance()); },
      },
      c);
  });
  t->on_event<AccountOpened>([](Account& s, const AccountOpened& e) {
    s.set_open(true);
    s.set_owner(e.owner());
  });
  t->on_event<Deposited>([](Account& s, const Deposited& e) {
    s.set_balance(s.balance() + e.amount());
  });
  t->on_event<Withdrawn>([](Account& s, const Withdrawn& e) {
    s.set_balance(s.balance() - e.amount());
  });
  t->on_event<AccountBlocked>([](Account& s, const AccountBlocked&) { s.set_blocked(true); });
  t->snapshot_every(snapshot_every).keep_snapshots(2);
  t->reply_codec([](const reply& r) { return std::to_string(r); },
                 [](const std::string& b) -> std::optional<reply> {
                   try {
                     return std::stoll(b);
                   } catch (...) {
                     return std::nullopt;
                   }
                 });
  return t;
}

} // namespace bank
