#include "support.hpp"

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "esr/sagas/error.hpp"

namespace esr::sagas_test {

using namespace order_payment;
namespace agg = runtime::aggregates;

std::string temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path()
             / ("esr-sagas-" + name + "-" + std::to_string(::getpid()) + "-"
                + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

world::world(std::string dir, world_options opts) {
  sagas::register_errors(cfg_);
  sys_ = std::make_unique<caf::actor_system>(cfg_);
  persistence::leveldb_options lo;
  lo.path = dir + "/journal";
  auto st = persistence::open_leveldb(lo);
  if (!st)
    throw std::runtime_error("open_leveldb: " + sagas::render(st.error()));
  store_ = *st;
  if (opts.faulty_journal) {
    faulty_ = std::make_shared<actors::testkit::faulty_journal>(store_.events);
    store_.events = faulty_;
  }
  agg::registry_options ro;
  ro.aggregate.dedup_window = 256;
  auto reg = agg::aggregate_registry::start(
    *sys_, store_, {make_order_type(), make_inventory_type(), make_payment_type()}, ro);
  if (!reg)
    throw std::runtime_error("registry: " + sagas::render(reg.error()));
  reg_ = *reg;
  bus_ = runtime::bus::event_bus::make(store_.events);
  client_ = std::make_unique<agg::aggregate_client>(*reg_);
  if (!opts.start_saga)
    return;
  auto model = opts.saga;
  if (!model) {
    fulfilment_options fo;
    fo.payment_timeout = opts.payment_timeout;
    model = make_fulfilment_saga(fo);
  }
  auto so = opts.saga_opts;
  auto user = so.observer;
  auto mtx = notes_mtx_;
  auto notes = notes_;
  so.observer = [user, mtx, notes](const sagas::saga_note& n) {
    {
      std::lock_guard<std::mutex> guard{*mtx};
      notes->push_back(n);
    }
    if (user)
      user(n);
  };
  auto rt = sagas::saga_runtime::start(*sys_, bus_, *reg_, model, so);
  if (!rt)
    throw std::runtime_error("saga: " + sagas::render(rt.error()));
  saga_ = std::move(*rt);
}

world::~world() {
  stop();
  // Release every handle on the store, then wait for the actors to finish,
  // so the database is closed (unlocked) when the world is gone.
  saga_.reset();
  client_.reset();
  bus_.reset();
  reg_.reset();
  store_ = persistence::storage{};
  sys_.reset();
}

void world::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (saga_)
    saga_->stop();
  client_.reset();
  if (reg_)
    reg_->stop();
  // Every write submitted so far is answered, and its callback (which may
  // hold the last reference to an aggregate, and through it to the store)
  // destroyed, before this write is: the store closes when the world goes.
  if (store_.events)
    (void) store_.events->write(persistence::atomic_write{});
}

caf::expected<OrderState> world::place(const PlaceOrder& p) {
  agg::command_options co;
  co.command_id = "test/place/" + p.order_id();
  return client_->call<OrderState>("order", p.order_id(), order_command{p}, co);
}

void world::add_stock(const std::string& sku, int quantity) {
  AddStock a;
  a.set_sku(sku);
  a.set_quantity(quantity);
  auto r = client_->call<StockLevel>("inventory", sku, inventory_command{a});
  if (!r)
    throw std::runtime_error("add_stock: " + sagas::render(r.error()));
}

OrderState world::order(const std::string& id) {
  auto s = client_->live_state<OrderState>("order", id);
  return s ? s->state : OrderState{};
}

PaymentState world::payment(const std::string& id) {
  auto s = client_->live_state<PaymentState>("payment", id);
  return s ? s->state : PaymentState{};
}

InventoryState world::inventory(const std::string& sku) {
  auto s = client_->live_state<InventoryState>("inventory", sku);
  return s ? s->state : InventoryState{};
}

std::optional<sagas::instance_info> world::wait_completed(const std::string& id,
                                                          std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto info = saga_->instance(id);
    if (info && *info && (*info)->completed)
      return **info;
    if (std::chrono::steady_clock::now() > deadline)
      return info && *info ? std::optional<sagas::instance_info>{**info} : std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

size_t world::count(const std::string& stream, const std::string& type) {
  size_t n = 0;
  auto full = type.empty() ? std::string{} : "order_payment." + type;
  auto r = store_.events->replay(stream, 1, persistence::max_seq, persistence::max_seq,
                                 [&](const persistence::event_envelope& e) {
                                   if (full.empty() || e.event_type == full)
                                     ++n;
                                   return true;
                                 });
  return r ? n : static_cast<size_t>(-1);
}

size_t world::side_keys(const std::string& prefix) {
  size_t n = 0;
  auto err = store_.events->scan_side(prefix, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  return err ? static_cast<size_t>(-1) : n;
}

std::vector<sagas::saga_note> world::notes() {
  std::lock_guard<std::mutex> guard{*notes_mtx_};
  return *notes_;
}

PlaceOrder make_order(const std::string& id, const std::string& sku, int qty,
                      int64_t total_cents, const std::string& card, bool pay_first,
                      const std::string& code, int64_t discount_cents) {
  PlaceOrder p;
  p.set_order_id(id);
  p.set_customer("c-" + id);
  p.set_sku(sku);
  p.set_quantity(qty);
  p.set_total_cents(total_cents);
  p.set_card(card);
  p.set_pay_first(pay_first);
  p.set_discount_code(code);
  p.set_discount_cents(discount_cents);
  return p;
}

} // namespace esr::sagas_test
