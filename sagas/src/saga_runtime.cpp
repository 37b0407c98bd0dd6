#include "esr/sagas/saga_runtime.hpp"

#include <cstdlib>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "esr/persistence/event_filter.hpp"
#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/sagas/error.hpp"
#include "keys.hpp"
#include "runtime_impl.hpp"

namespace esr::sagas {

saga_model::~saga_model() = default;

void saga_runtime::impl::report(saga_note::kind k, const std::string& instance,
                                std::string text, std::string state) const {
  if (!opts.observer)
    return;
  saga_note n;
  n.what = k;
  n.saga = name;
  n.instance = instance;
  n.text = std::move(text);
  n.state = std::move(state);
  opts.observer(n);
}

caf::expected<instance_record> saga_runtime::impl::load(const std::string& key,
                                                        bool may_be_parked) const {
  instance_record rec;
  auto stream = keys::instance_stream(name, key);
  auto hi = journal->highest_sequence_nr(stream);
  if (!hi)
    return std::move(hi.error());
  if (*hi > 0) {
    pb::SagaStep step;
    bool found = false;
    auto r = journal->replay(stream, *hi, *hi, 1, [&](const persistence::event_envelope& e) {
      found = step.ParseFromString(e.payload);
      return false;
    });
    if (!r)
      return std::move(r.error());
    if (!found)
      return make_error(errc::corrupt_record, "saga step", stream, *hi);
    auto st = model->decode_state(step.state());
    if (!st)
      return make_error(errc::corrupt_record, "saga state", stream, *hi);
    rec.exists = true;
    rec.version = *hi;
    rec.completed = step.completed();
    rec.outcome = step.outcome();
    rec.state = std::move(*st);
    rec.last_position = step.last_position();
    rec.timers.assign(step.timers().begin(), step.timers().end());
    rec.done_steps.assign(step.done_steps().begin(), step.done_steps().end());
  }
  if (!may_be_parked)
    return rec;
  auto err = journal->scan_side(keys::parked_prefix(name, key),
                                [&](std::string_view k, std::string_view) {
                                  rec.parked.emplace_back(k);
                                  return true;
                                });
  if (err)
    return err;
  return rec;
}

namespace {

/// Where the steps whose commands are re-sent at start begin: after the
/// stored outbox-done position; without one, after the checkpoint (a store
/// written before steps carried their commands: its outbox keys hold them),
/// or at the start (no step batch was ever committed).
caf::expected<uint64_t> resend_from(persistence::journal& j, const std::string& saga,
                                    std::optional<uint64_t> checkpoint) {
  auto done = j.get_side(keys::outbox_done_key(saga));
  if (!done)
    return std::move(done.error());
  if (*done)
    return std::strtoull((*done)->c_str(), nullptr, 10) + 1;
  return checkpoint.value_or(0) + 1;
}

/// Collects the commands of the saga's step events from global position
/// `from` on (re-sent: the aggregates recognize the ones they applied by
/// their command ids).
caf::error steps_to_resend(persistence::journal& j, const std::string& saga, uint64_t from,
                           std::vector<outbox_item>& out) {
  auto filter = persistence::event_filter::category(keys::checkpoint_name(saga));
  auto step_type = pb::SagaStep::default_instance().GetTypeName();
  caf::error corrupt;
  auto visit = [&](const persistence::event_envelope& e) {
    if (e.event_type != step_type)
      return true;
    pb::SagaStep s;
    if (!s.ParseFromString(e.payload)) {
      corrupt = make_error(errc::corrupt_record, "saga step", e.persistence_id, e.sequence_nr);
      return false;
    }
    for (int k = 0; k < s.commands_size(); ++k) {
      outbox_item item;
      item.position = e.global_position;
      item.step = e.sequence_nr;
      item.index = static_cast<uint32_t>(k);
      item.entry = s.commands(k);
      item.resent = true;
      out.push_back(std::move(item));
    }
    return true;
  };
  auto end = j.last_position();
  while (from <= end) {
    auto seen = j.read_all(from, 4096, filter, visit);
    if (!seen)
      return std::move(seen.error());
    if (corrupt)
      return corrupt;
    if (*seen < from)
      break;
    from = *seen + 1;
  }
  return caf::none;
}

} // namespace

caf::expected<std::unique_ptr<saga_runtime>>
saga_runtime::start(caf::actor_system& sys, std::shared_ptr<runtime::bus::event_bus> bus,
                    runtime::aggregates::aggregate_registry reg,
                    std::shared_ptr<const saga_model> model, saga_options opts) {
  if (!model || !bus)
    return make_error(errc::invalid_argument, "saga model and bus are required");
  auto& n = model->name();
  if (n.empty() || n.find('-') != std::string::npos || n.find('/') != std::string::npos)
    return make_error(errc::invalid_argument, "invalid saga name", n);
  auto p = std::make_shared<impl>(std::move(reg));
  p->model = std::move(model);
  p->name = p->model->name();
  p->bus = bus;
  p->journal = bus->source();
  p->opts = std::move(opts);
  p->sys = &sys;
  auto cps = runtime::bus::make_journal_checkpoint_store(p->journal);
  auto cp = cps->load(keys::checkpoint_name(p->name));
  if (!cp)
    return std::move(cp.error());
  p->last_checkpoint = cp->value_or(0);
  // The outbox left by the last run: the commands of the steps after the
  // outbox-done position, the commands under outbox keys; and the stored
  // timeouts.
  auto work = std::make_shared<dispatch_work>();
  auto& items = work->items;
  auto from = resend_from(*p->journal, p->name, *cp);
  if (!from)
    return std::move(from.error());
  p->outbox_done = *from - 1;
  if (auto err = steps_to_resend(*p->journal, p->name, *from, items))
    return err;
  caf::error corrupt;
  auto err = p->journal->scan_side(keys::outbox_prefix(p->name),
                                   [&](std::string_view k, std::string_view v) {
                                     outbox_item item;
                                     item.key = std::string{k};
                                     item.resent = true;
                                     if (!item.entry.ParseFromArray(v.data(),
                                                                    static_cast<int>(v.size()))) {
                                       corrupt = make_error(errc::corrupt_record, "outbox",
                                                            item.key);
                                       return false;
                                     }
                                     items.push_back(std::move(item));
                                     return true;
                                   });
  if (!err)
    err = p->journal->scan_side(keys::timer_prefix(p->name),
                                [&](std::string_view k, std::string_view v) {
                                  pb::TimerRecord tr;
                                  if (!tr.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                    corrupt = make_error(errc::corrupt_record, "timer",
                                                         std::string{k});
                                    return false;
                                  }
                                  work->timers.push_back(timer_change{
                                    false, timer_item{tr.instance(), tr.name(), tr.seq(),
                                                      tr.deadline_us()}});
                                  return true;
                                });
  if (err)
    return err;
  if (corrupt)
    return corrupt;
  // The instances with parked events (see impl::maybe_parked).
  auto parked = keys::parked_prefix(p->name);
  err = p->journal->scan_side(parked, [&](std::string_view k, std::string_view) {
    auto rest = k.substr(parked.size());
    p->maybe_parked.insert(keys::unescape(rest.substr(0, rest.rfind('/'))));
    return true;
  });
  if (err)
    return err;
  p->weak_self = p;
  p->dispatcher = spawn_dispatcher(sys, p);
  p->in_flight += static_cast<int64_t>(items.size());
  caf::anon_send(p->dispatcher, saga_dispatch_atom::value, std::move(work));
  runtime::bus::subscription_options so;
  so.name = keys::checkpoint_name(p->name);
  so.start = runtime::bus::start_position::after(p->last_checkpoint);
  so.max_batch = p->opts.max_batch;
  so.handler_retries = 1000000; // A failed step batch is retried, not dropped.
  so.retry_backoff = std::chrono::milliseconds{10};
  so.idle_poll = std::chrono::milliseconds{10}; // Settles a lone step write promptly.
  auto raw = p.get();
  so.on_idle = [raw] { raw->on_idle(); };
  // Not even copied: events of types the saga has no handler for, among them
  // its own step events (about half of what a saga's workflow writes).
  so.accept = [model = p->model](const persistence::event_envelope& e) {
    static const std::string timeout_type = pb::TimeoutFired::default_instance().GetTypeName();
    static const std::string replay_type = pb::ReplayRequested::default_instance().GetTypeName();
    return e.event_type == timeout_type || e.event_type == replay_type
           || model->takes_part_in(e.event_type);
  };
  auto sub = bus->subscribe(std::move(so), [raw](const runtime::bus::event_batch& b) {
    return raw->process(b);
  });
  if (!sub) {
    caf::anon_send_exit(p->dispatcher, caf::exit_reason::user_shutdown);
    return std::move(sub.error());
  }
  p->sub = std::move(*sub);
  return std::unique_ptr<saga_runtime>{new saga_runtime(std::move(p))};
}

saga_runtime::~saga_runtime() {
  stop();
}

void saga_runtime::stop() {
  if (!impl_)
    return;
  std::lock_guard<std::mutex> guard{impl_->stop_mtx};
  if (impl_->stopped.exchange(true))
    return;
  if (impl_->sub)
    impl_->sub->stop();
  // Write the deletions of answered outbox keys and the outbox-done
  // position before leaving.
  caf::scoped_actor self{*impl_->sys};
  std::vector<std::string> deletes;
  self->request(impl_->dispatcher, std::chrono::seconds{5}, saga_drain_atom::value)
    .receive([&](std::vector<std::string>& xs) { deletes = std::move(xs); },
             [](caf::error&) {});
  // Let a step batch's write and a deletion already submitted by the
  // dispatcher finish (their callbacks use the dispatcher).
  for (int i = 0; i < 5000 && (impl_->flushing->load() > 0 || impl_->writing->load()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  {
    persistence::atomic_write w;
    w.persistence_id = keys::checkpoint_name(impl_->name);
    for (auto& k : deletes)
      w.side_writes.push_back({std::move(k), std::nullopt});
    w.side_writes.push_back(
      {keys::outbox_done_key(impl_->name), std::to_string(impl_->outbox_done.load())});
    (void) impl_->journal->write(std::move(w));
  }
  caf::anon_send_exit(impl_->dispatcher, caf::exit_reason::user_shutdown);
  impl_->dispatcher = nullptr;
}

caf::expected<std::optional<instance_info>>
saga_runtime::instance(const std::string& key) const {
  auto rec = impl_->load(key);
  if (!rec)
    return std::move(rec.error());
  if (!rec->exists && rec->parked.empty())
    return std::optional<instance_info>{};
  instance_info info;
  info.instance = key;
  info.version = rec->version;
  info.completed = rec->completed;
  info.stuck = !rec->parked.empty();
  info.outcome = rec->outcome;
  if (rec->exists)
    info.state = impl_->model->describe_state(rec->state);
  for (auto& t : rec->timers)
    info.timers.push_back(t.name());
  return std::optional<instance_info>{std::move(info)};
}

caf::expected<std::optional<std::any>> saga_runtime::state_of(const std::string& key) const {
  auto rec = impl_->load(key);
  if (!rec)
    return std::move(rec.error());
  if (!rec->exists)
    return std::optional<std::any>{};
  return std::optional<std::any>{std::move(rec->state)};
}

caf::expected<std::vector<dead_letter_info>> saga_runtime::parked() const {
  std::vector<dead_letter_info> result;
  caf::error corrupt;
  auto err = impl_->journal->scan_side(keys::parked_prefix(impl_->name),
                                       [&](std::string_view k, std::string_view v) {
                                         pb::DeadLetter dl;
                                         if (!dl.ParseFromArray(v.data(),
                                                                static_cast<int>(v.size()))) {
                                           corrupt = make_error(errc::corrupt_record,
                                                                "dead letter", std::string{k});
                                           return false;
                                         }
                                         dead_letter_info d;
                                         d.instance = dl.instance();
                                         d.error = dl.error();
                                         d.attempts = dl.attempts();
                                         d.persistence_id = dl.persistence_id();
                                         d.sequence_nr = dl.sequence_nr();
                                         d.global_position = dl.global_position();
                                         d.event_type = dl.event_type();
                                         result.push_back(std::move(d));
                                         return true;
                                       });
  if (err)
    return err;
  if (corrupt)
    return corrupt;
  return result;
}

caf::error saga_runtime::replay_parked(const std::string& key) {
  bool any = false;
  auto err = impl_->journal->scan_side(keys::parked_prefix(impl_->name, key),
                                       [&](std::string_view, std::string_view) {
                                         any = true;
                                         return false;
                                       });
  if (err)
    return err;
  if (!any)
    return make_error(errc::not_found, "no parked events", key);
  pb::ReplayRequested rr;
  rr.set_saga(impl_->name);
  rr.set_instance(key);
  persistence::atomic_write w;
  w.persistence_id = keys::dlq_stream(impl_->name, key);
  persistence::event_envelope env;
  env.persistence_id = w.persistence_id;
  env.event_type = pb::ReplayRequested::default_instance().GetTypeName();
  rr.SerializeToString(&env.payload);
  env.metadata.correlation_id = key;
  w.events.push_back(std::move(env));
  auto r = impl_->journal->write(std::move(w));
  if (!r)
    return std::move(r.error());
  return caf::none;
}

caf::error saga_runtime::wait_idle(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int stable = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!impl_->sub || !impl_->sub->running()) {
      auto f = impl_->sub ? impl_->sub->failure() : caf::error{};
      return f ? f : make_error(errc::stopped, impl_->name);
    }
    auto last = impl_->journal->last_position();
    if (impl_->sub->position() >= last && impl_->in_flight.load() == 0 && !impl_->busy.load()
        && !impl_->writing->load()) {
      if (++stable >= 3)
        return caf::none;
    } else {
      stable = 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
  return make_error(errc::timeout, impl_->name);
}

saga_stats saga_runtime::stats() const {
  saga_stats s;
  s.steps = impl_->steps.load();
  s.commands_sent = impl_->sent.load();
  s.commands_acked = impl_->acked.load();
  s.completed = impl_->completed.load();
  s.parked = impl_->parked_n.load();
  s.skipped = impl_->skipped.load();
  return s;
}

const saga_model& saga_runtime::model() const {
  return *impl_->model;
}

} // namespace esr::sagas
