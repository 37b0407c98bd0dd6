// The `bank` workload: deposits and withdrawals on accounts. Withdrawals that
// would overdraw an account are rejected by the aggregate. At the end the
// balances recovered from storage must add up to the acknowledged deposits
// minus the acknowledged withdrawals.

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <mutex>

#include "bank_aggregate.hpp"
#include "esr/runtime/aggregates/client.hpp"
#include "outcome.hpp"
#include "params.hpp"
#include "workload.hpp"

namespace esr::loadtest::bank {

namespace {

enum tag_kind : uint32_t { deposit_kind = 0, withdraw_kind = 1 };

// What one generator saw; read by the workload after the run has drained.
struct ledger {
  int64_t deposited = 0;       // Acknowledged deposits.
  int64_t withdrawn = 0;       // Acknowledged withdrawals.
  int64_t unknown_deposits = 0;    // Deposits whose outcome is unknown.
  int64_t unknown_withdrawals = 0; // Withdrawals whose outcome is unknown.
  uint64_t overdrafts = 0;     // Withdrawals rejected for insufficient funds.
};

class generator final : public command_generator {
public:
  generator(std::shared_ptr<ledger> l, double withdraw_fraction, int64_t max_amount)
    : ledger_(std::move(l)), withdraw_(withdraw_fraction), max_amount_(max_amount) {
    // nop
  }

  planned_command next(uint64_t key, rng& r) override {
    planned_command result;
    auto amount = std::uniform_int_distribution<int64_t>{1, max_amount_}(r);
    auto is_withdraw = std::uniform_real_distribution<double>{0, 1}(r) < withdraw_;
    char id[24];
    std::snprintf(id, sizeof id, "%" PRIu64, key);
    command cmd;
    if (is_withdraw)
      cmd = withdraw{amount};
    else
      cmd = deposit{amount};
    result.envelope = runtime::aggregates::make_command(type_name, id, std::move(cmd));
    result.tag = command_tag{is_withdraw ? withdraw_kind : deposit_kind, amount};
    return result;
  }

  void completed(const command_tag& tag,
                 const caf::expected<actors::command_reply>& outcome) override {
    auto& l = *ledger_;
    bool withdrawal = tag.kind == withdraw_kind;
    if (outcome) {
      (withdrawal ? l.withdrawn : l.deposited) += tag.value;
      return;
    }
    if (classify(outcome.error()) == error_kind::rejected && withdrawal)
      ++l.overdrafts;
    if (!definitely_not_applied(outcome.error()))
      (withdrawal ? l.unknown_withdrawals : l.unknown_deposits) += tag.value;
  }

private:
  std::shared_ptr<ledger> ledger_;
  double withdraw_;
  int64_t max_amount_;
};

class bank_workload final : public workload {
public:
  bank_workload(double withdraw_fraction, int64_t max_amount)
    : withdraw_(withdraw_fraction), max_amount_(max_amount) {
    // nop
  }

  std::string name() const override {
    return "bank";
  }

  std::vector<std::shared_ptr<const actors::aggregate_model>>
  types(uint64_t snapshot_every) override {
    return {make_account_type(snapshot_every)};
  }

  std::unique_ptr<command_generator> make_generator(size_t) override {
    auto l = std::make_shared<ledger>();
    std::lock_guard<std::mutex> guard{mtx_};
    ledgers_.push_back(l);
    return std::make_unique<generator>(std::move(l), withdraw_, max_amount_);
  }

  void begin_verify() override {
    stored_sum_ = 0;
    accounts_ = 0;
    negative_ = 0;
  }

  void add_state(const std::string& type, const std::string&,
                 const std::any& state) override {
    if (type != type_name)
      return;
    if (auto a = std::any_cast<account>(&state)) {
      stored_sum_ += a->balance;
      ++accounts_;
      if (a->balance < 0)
        ++negative_;
    }
  }

  verification finish_verify() override {
    auto t = totals();
    auto expected = t.deposited - t.withdrawn;
    auto diff = stored_sum_ - expected;
    verification v;
    v.aggregates = accounts_;
    // Commands with an unknown outcome (timeouts, failed writes) may or may
    // not be stored: the difference must lie within what they could add.
    v.ok = negative_ == 0 && diff <= t.unknown_deposits && -diff <= t.unknown_withdrawals;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "sum of %" PRIu64 " recovered balances = %" PRId64
                  "; acknowledged deposits %" PRId64 " - withdrawals %" PRId64 " = %" PRId64
                  "%s; unknown-outcome deposits %" PRId64 ", withdrawals %" PRId64
                  "; negative balances: %" PRIu64,
                  accounts_, stored_sum_, t.deposited, t.withdrawn, expected,
                  diff == 0 ? " (equal)" : " (DIFFERENT)", t.unknown_deposits,
                  t.unknown_withdrawals, negative_);
    v.description = buf;
    return v;
  }

  std::map<std::string, double> figures() const override {
    auto t = totals();
    return {{"acknowledged_deposits", static_cast<double>(t.deposited)},
            {"acknowledged_withdrawals", static_cast<double>(t.withdrawn)},
            {"rejected_overdrafts", static_cast<double>(t.overdrafts)},
            {"unknown_outcome_amount",
             static_cast<double>(t.unknown_deposits + t.unknown_withdrawals)}};
  }

private:
  ledger totals() const {
    std::lock_guard<std::mutex> guard{mtx_};
    ledger sum;
    for (auto& l : ledgers_) {
      sum.deposited += l->deposited;
      sum.withdrawn += l->withdrawn;
      sum.unknown_deposits += l->unknown_deposits;
      sum.unknown_withdrawals += l->unknown_withdrawals;
      sum.overdrafts += l->overdrafts;
    }
    return sum;
  }

  double withdraw_;
  int64_t max_amount_;
  mutable std::mutex mtx_;
  std::vector<std::shared_ptr<ledger>> ledgers_;
  int64_t stored_sum_ = 0;
  uint64_t accounts_ = 0;
  uint64_t negative_ = 0;
};

caf::expected<std::unique_ptr<workload>> make_bank(const workload_params& p) {
  param_reader r{p};
  auto w = r.number("withdraw", 0.4, 0.0, 1.0);
  if (!w)
    return std::move(w.error());
  auto m = r.number("max-amount", 100, 1, 1e12);
  if (!m)
    return std::move(m.error());
  if (auto err = r.unknown_left())
    return err;
  return std::unique_ptr<workload>{
    std::make_unique<bank_workload>(*w, static_cast<int64_t>(*m))};
}

} // namespace

ESR_LOADTEST_WORKLOAD(bank,
                      "deposits and withdrawals on accounts; overdrafts are rejected. "
                      "Options: --withdraw F (fraction of withdrawals, default 0.4), "
                      "--max-amount N (amounts uniform in [1, N] cents, default 100)",
                      make_bank);

} // namespace esr::loadtest::bank
