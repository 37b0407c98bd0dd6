#include "esr/runtime/upcasting/upcasting_journal.hpp"

#include "esr/runtime/bus/error.hpp"

namespace esr::runtime::upcasting {

using namespace esr::persistence;

upcasting_journal::upcasting_journal(std::shared_ptr<journal> inner,
                                     std::shared_ptr<const upcaster_registry> registry)
  : inner_(std::move(inner)), registry_(std::move(registry)) {
  // nop
}

std::shared_ptr<journal>
upcasting_journal::wrap(std::shared_ptr<journal> inner,
                        std::shared_ptr<const upcaster_registry> registry) {
  return std::make_shared<upcasting_journal>(std::move(inner), std::move(registry));
}

void upcasting_journal::write_async(std::vector<atomic_write> writes,
                                    write_callback done) {
  inner_->write_async(std::move(writes), std::move(done));
}

caf::expected<uint64_t> upcasting_journal::replay(std::string_view persistence_id,
                                                  uint64_t from, uint64_t to,
                                                  uint64_t max, const event_visitor& f) {
  if (registry_->empty())
    return inner_->replay(persistence_id, from, to, max, f);
  caf::error err;
  std::vector<event_envelope> pieces;
  auto highest = inner_->replay(persistence_id, from, to, max,
                                [&](const event_envelope& e) {
                                  if (!registry_->applies_to(e))
                                    return f(e);
                                  pieces.clear();
                                  if (err = registry_->upcast(e, pieces); err)
                                    return false;
                                  for (auto& x : pieces)
                                    if (!f(x))
                                      return false;
                                  return true;
                                });
  if (err)
    return err;
  return highest;
}

caf::expected<uint64_t> upcasting_journal::highest_sequence_nr(std::string_view pid) {
  return inner_->highest_sequence_nr(pid);
}

caf::error upcasting_journal::delete_up_to(std::string_view pid, uint64_t to) {
  return inner_->delete_up_to(pid, to);
}

caf::expected<uint64_t> upcasting_journal::read_all(uint64_t from, uint64_t max,
                                                    const event_filter& filter,
                                                    const event_visitor& f) {
  if (registry_->empty())
    return inner_->read_all(from, max, filter, f);
  // Upcasters may change event types: select on the upcast events.
  auto inner_filter = filter.what() == event_filter::kind::event_type
                        ? event_filter::all()
                        : filter;
  caf::error err;
  uint64_t visited = 0;
  uint64_t last_seen = 0;
  bool stopped = false;
  std::vector<event_envelope> pieces;
  auto examined = inner_->read_all(
    from, max_seq, inner_filter, [&](const event_envelope& e) {
      last_seen = e.global_position;
      bool go_on = true;
      if (!registry_->applies_to(e)) {
        if (filter.matches(e)) {
          ++visited;
          go_on = f(e);
        }
      } else {
        pieces.clear();
        if (err = registry_->upcast(e, pieces); err)
          return false;
        for (auto& x : pieces)
          if (filter.matches(x)) {
            ++visited;
            go_on = f(x) && go_on;
          }
      }
      if (!go_on || visited >= max) {
        stopped = true;
        return false;
      }
      return true;
    });
  if (err)
    return err;
  if (!examined)
    return examined;
  return stopped ? last_seen : *examined;
}

uint64_t upcasting_journal::last_position() const {
  return inner_->last_position();
}

uint64_t upcasting_journal::add_commit_listener(commit_listener f) {
  if (registry_->empty())
    return inner_->add_commit_listener(std::move(f));
  return inner_->add_commit_listener(
    [reg = registry_, f = std::move(f)](const std::vector<event_envelope>& group) {
      bool any = false;
      for (auto& e : group)
        if (reg->applies_to(e)) {
          any = true;
          break;
        }
      if (!any) {
        f(group);
        return;
      }
      std::vector<event_envelope> out;
      out.reserve(group.size());
      for (auto& e : group)
        if (reg->upcast(e, out))
          return; // Not delivered: live readers fall back to read_all.
      f(out);
    });
}

uint64_t upcasting_journal::add_shared_commit_listener(persistence::shared_commit_listener f) {
  if (registry_->empty())
    return inner_->add_shared_commit_listener(std::move(f));
  return inner_->add_shared_commit_listener(
    [reg = registry_, f = std::move(f)](const persistence::event_group& group) {
      bool any = false;
      for (auto& e : *group)
        if (reg->applies_to(e)) {
          any = true;
          break;
        }
      if (!any) {
        f(group); // nothing to upcast: shared as it is
        return;
      }
      std::vector<event_envelope> out;
      out.reserve(group->size());
      for (auto& e : *group)
        if (reg->upcast(e, out))
          return; // Not delivered: live readers fall back to read_all.
      f(std::make_shared<const std::vector<event_envelope>>(std::move(out)));
    });
}

void upcasting_journal::remove_commit_listener(uint64_t token) {
  inner_->remove_commit_listener(token);
}

caf::expected<std::optional<std::string>> upcasting_journal::get_side(std::string_view key) {
  return inner_->get_side(key);
}

caf::error upcasting_journal::scan_side(
  std::string_view prefix,
  const std::function<bool(std::string_view, std::string_view)>& f) {
  return inner_->scan_side(prefix, f);
}

} // namespace esr::runtime::upcasting
