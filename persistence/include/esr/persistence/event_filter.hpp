#pragma once

#include <string>
#include <utility>

#include "esr/persistence/event_envelope.hpp"

namespace esr::persistence {

/// Selects events of the global log: all of them, one category (aggregate
/// type), one event type, or one tag. Value type; cheap to copy.
class event_filter {
public:
  enum class kind : uint8_t { all, category, event_type, tag };

  /// Matches every event.
  static event_filter all() { return {kind::all, {}}; }
  /// Matches events whose stream's category is `c` (see category_of).
  static event_filter category(std::string c) { return {kind::category, std::move(c)}; }
  /// Matches events whose `event_type` is `t`.
  static event_filter event_type(std::string t) { return {kind::event_type, std::move(t)}; }
  /// Matches events that carry tag `t`.
  static event_filter tag(std::string t) { return {kind::tag, std::move(t)}; }

  kind what() const { return kind_; }
  const std::string& value() const { return value_; }

  /// Returns true if `e` is selected by this filter.
  bool matches(const event_envelope& e) const {
    switch (kind_) {
      case kind::all: return true;
      case kind::category: return category_of(e.persistence_id) == value_;
      case kind::event_type: return e.event_type == value_;
      case kind::tag:
        for (auto& t : e.tags)
          if (t == value_) return true;
        return false;
    }
    return false;
  }

private:
  event_filter(kind k, std::string v) : kind_(k), value_(std::move(v)) {}
  kind kind_;
  std::string value_;
};

} // namespace esr::persistence
