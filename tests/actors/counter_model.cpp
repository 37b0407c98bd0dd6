#include "counter_model.hpp"

namespace counter {

std::string encode(const state& s) {
  CounterState pb;
  pb.set_value(s.value);
  for (auto h : s.history)
    pb.add_history(h);
  return pb.SerializeAsString();
}

std::shared_ptr<type> make_type(model_options opts) {
  using effect = type::effect;
  auto t = std::make_shared<type>("counter");
  auto value = [](const state& s) { return s.value; };
  t->on_command([value](const state& s, const command& c) -> effect {
    if (auto x = std::get_if<add>(&c)) {
      if (x->amount == 0)
        return effect::reject("zero");
      Added e;
      e.set_amount(x->amount);
      return effect::persist(e).then_reply(value);
    }
    if (auto x = std::get_if<add_twice>(&c)) {
      Added e;
      e.set_amount(x->amount);
      return effect::persist(e, e).then_reply(value);
    }
    if (std::holds_alternative<reset>(c))
      return effect::persist(Reset{}).then_reply(value);
    return effect::reply(s.value);
  });
  t->on_event<Added>([](state& s, const Added& e) {
    s.value += e.amount();
    s.history.push_back(e.amount());
  });
  t->on_event<Reset>([](state s, const Reset&) {
    s.value = 0;
    s.history.push_back(0);
    return s;
  });
  t->state_codec(
    "counter.CounterState", encode, [](const std::string& b) -> std::optional<state> {
      CounterState pb;
      if (!pb.ParseFromString(b))
        return std::nullopt;
      state s;
      s.value = pb.value();
      s.history.assign(pb.history().begin(), pb.history().end());
      return s;
    });
  t->snapshot_every(opts.snapshot_every).keep_snapshots(opts.keep);
  t->delete_events_on_snapshot(opts.delete_events);
  if (opts.reply_codec)
    // Binary on purpose (0xFF is never UTF-8), like a Protobuf reply's bytes.
    t->reply_codec([](const reply& r) { return "\xff" + std::to_string(r); },
                   [](const std::string& b) -> std::optional<reply> {
                     if (b.size() < 2 || b[0] != '\xff')
                       return std::nullopt;
                     return std::stoll(b.substr(1));
                   });
  return t;
}

} // namespace counter
