#include "esr/runtime/aggregates/client.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace esr::runtime::aggregates {

namespace {

// Issues the requests of non-actor callers; any number may be in flight.
caf::behavior pump(caf::event_based_actor* self) {
  return {
    [self](client_job& job) {
      if (job.get_state) {
        auto done = std::move(job.done_state);
        self->request(job.shard, job.timeout, actors::get_state_atom::value,
                      std::move(job.cmd.persistence_id))
          .then([done](actors::state_copy& s) { done(std::move(s)); },
                [done](caf::error& e) { done(std::move(e)); });
        return;
      }
      auto done = std::move(job.done_cmd);
      self->request(job.shard, job.timeout, std::move(job.cmd))
        .then([done](actors::command_reply& r) { done(std::move(r)); },
              [done](caf::error& e) { done(std::move(e)); });
    },
  };
}

} // namespace

aggregate_client::aggregate_client(aggregate_registry reg)
  : reg_(std::move(reg)), pump_(reg_.system().spawn(pump)) {
  // nop
}

aggregate_client::~aggregate_client() {
  caf::anon_send_exit(pump_, caf::exit_reason::user_shutdown);
}

void aggregate_client::submit_command(
  actors::command_envelope env, caf::duration timeout,
  std::function<void(caf::expected<actors::command_reply>)> done) {
  client_job job;
  job.shard = reg_.shard_for(env.persistence_id);
  job.cmd = std::move(env);
  job.timeout = timeout;
  job.done_cmd = std::move(done);
  caf::anon_send(pump_, std::move(job));
}

caf::expected<actors::state_copy> aggregate_client::fetch_state(std::string pid) {
  auto p = std::make_shared<std::promise<caf::expected<actors::state_copy>>>();
  auto f = p->get_future();
  client_job job;
  job.shard = reg_.shard_for(pid);
  job.cmd.persistence_id = std::move(pid);
  job.get_state = true;
  job.timeout = caf::duration{std::chrono::seconds{30}};
  job.done_state = [p](caf::expected<actors::state_copy> s) { p->set_value(std::move(s)); };
  caf::anon_send(pump_, std::move(job));
  return f.get();
}

} // namespace esr::runtime::aggregates
