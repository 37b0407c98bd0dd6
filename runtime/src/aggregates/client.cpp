#include "esr/runtime/aggregates/client.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace esr::runtime::aggregates {

namespace {

// Issues the requests of non-actor callers; any number may be in flight.
caf::behavior pump(caf::event_based_actor* self, aggregate_registry reg) {
  return {
    [self, reg](client_job& job) {
      // The handlers are built before dispatch(), whose callback may run
      // under a lock; the request is made inside it.
      auto& pid = job.cmd.persistence_id;
      if (job.get_state) {
        auto on_state = [done = job.done_state](actors::state_copy& s) { done(std::move(s)); };
        auto on_error = [done = std::move(job.done_state)](caf::error& e) { done(std::move(e)); };
        reg.dispatch(pid, [&](const caf::actor& dest, dispatch_target target) {
          // An aggregate takes get_state_atom alone; its shard needs the id too.
          if (target == dispatch_target::aggregate)
            self->request(dest, job.timeout, actors::get_state_atom::value)
              .then(std::move(on_state), std::move(on_error));
          else
            self->request(dest, job.timeout, actors::get_state_atom::value, std::move(pid))
              .then(std::move(on_state), std::move(on_error));
        });
        return;
      }
      auto on_reply = [done = job.done_cmd](actors::command_reply& r) { done(std::move(r)); };
      auto on_error = [done = std::move(job.done_cmd)](caf::error& e) { done(std::move(e)); };
      reg.dispatch(pid, [&](const caf::actor& dest) {
        self->request(dest, job.timeout, std::move(job.cmd))
          .then(std::move(on_reply), std::move(on_error));
      });
    },
  };
}

} // namespace

/// Pumps per client: with 10,000 commands in flight, about 600 each.
constexpr size_t pump_count = 16;

aggregate_client::aggregate_client(aggregate_registry reg) : reg_(std::move(reg)) {
  pumps_.reserve(pump_count);
  for (size_t i = 0; i < pump_count; ++i)
    pumps_.push_back(reg_.system().spawn(pump, reg_));
}

aggregate_client::~aggregate_client() {
  for (auto& p : pumps_)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

const caf::actor& aggregate_client::pump_for(std::string_view pid) const {
  return pumps_[std::hash<std::string_view>{}(pid) % pumps_.size()];
}

void aggregate_client::submit_command(
  actors::command_envelope env, caf::duration timeout,
  std::function<void(caf::expected<actors::command_reply>)> done) {
  client_job job;
  job.cmd = std::move(env);
  job.timeout = timeout;
  job.done_cmd = std::move(done);
  auto& pump = pump_for(job.cmd.persistence_id);
  caf::anon_send(pump, std::move(job));
}

caf::expected<actors::state_copy> aggregate_client::fetch_state(std::string pid) {
  auto p = std::make_shared<std::promise<caf::expected<actors::state_copy>>>();
  auto f = p->get_future();
  client_job job;
  job.cmd.persistence_id = std::move(pid);
  job.get_state = true;
  job.timeout = caf::duration{std::chrono::seconds{30}};
  job.done_state = [p](caf::expected<actors::state_copy> s) { p->set_value(std::move(s)); };
  auto& pump = pump_for(job.cmd.persistence_id);
  caf::anon_send(pump, std::move(job));
  return f.get();
}

} // namespace esr::runtime::aggregates
