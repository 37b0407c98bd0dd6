#include "esr/runtime/projections/projection.hpp"

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::projections {

projection_runner::projection_runner(std::shared_ptr<bus::event_bus> bus, std::string view)
  : bus_(std::move(bus)), view_(std::move(view)) {
  // nop
}

caf::expected<std::unique_ptr<projection_runner>>
projection_runner::start(std::shared_ptr<bus::event_bus> bus,
                         std::shared_ptr<view_store> store, projection p,
                         projection_options opts) {
  if (!p.apply || p.view.empty() || p.view.find('\0') != std::string::npos)
    return bus::make_error(bus::errc::invalid_argument, "invalid projection", p.view);
  auto cp = store->checkpoint(p.view);
  if (!cp)
    return std::move(cp.error());
  std::unique_ptr<projection_runner> result{new projection_runner(bus, p.view)};
  bus::subscription_options so;
  so.name = "projection/" + p.view;
  so.filter = p.filter;
  so.start = bus::start_position::after(cp->value_or(0));
  so.max_batch = opts.max_batch;
  so.handler_retries = opts.handler_retries;
  so.retry_backoff = opts.retry_backoff;
  auto handler = [store, view = p.view, apply = std::move(p.apply),
                  on_committed = std::move(opts.on_committed),
                  txn = std::optional<view_txn>{}](const bus::event_batch& b) mutable
    -> caf::error {
    if (!txn)
      txn.emplace(store->begin(view));
    txn->clear();
    for (auto& e : b.events)
      if (auto err = apply(*txn, e)) {
        txn->clear();
        return err;
      }
    if (auto err = store->commit(*txn, b.last_position))
      return err;
    if (on_committed)
      on_committed(b);
    return caf::none;
  };
  auto sub = bus->subscribe(std::move(so), std::move(handler));
  if (!sub)
    return std::move(sub.error());
  result->sub_ = std::move(*sub);
  return result;
}

projection_runner::~projection_runner() {
  stop();
}

void projection_runner::stop() {
  if (sub_)
    sub_->stop();
}

uint64_t projection_runner::position() const {
  return sub_->position();
}

caf::error projection_runner::wait_for(uint64_t p, std::chrono::milliseconds timeout) const {
  return sub_->wait_for(p, timeout);
}

caf::error projection_runner::wait_caught_up(std::chrono::milliseconds timeout) const {
  return sub_->wait_for(bus_->source()->last_position(), timeout);
}

caf::error projection_runner::failure() const {
  return sub_->failure();
}

bool projection_runner::running() const {
  return sub_->running();
}

bus::subscription::stats projection_runner::statistics() const {
  return sub_->statistics();
}

} // namespace esr::runtime::projections
