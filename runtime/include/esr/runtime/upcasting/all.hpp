#pragma once

/// @file
/// esr's read side, part 3: schema evolution.
///
/// Register upcasters per (event type, schema version) in an
/// upcaster_registry (upcaster_registry.hpp), then either wrap the journal
/// in an upcasting_journal (upcasting_journal.hpp) and hand that journal to
/// everything that reads - aggregate recovery, time travel, the event bus,
/// projections - or pass as_upcaster(registry) where a component takes an
/// upcaster function (the aggregate registry's options). Stored events are
/// never rewritten.

#include "esr/runtime/upcasting/upcaster_registry.hpp"
#include "esr/runtime/upcasting/upcasting_journal.hpp"
