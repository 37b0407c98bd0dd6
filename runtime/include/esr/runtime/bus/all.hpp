#pragma once

/// @file
/// esr's read side, part 1: the event bus and subscriptions.
///
/// - event_bus (event_bus.hpp): publishes each durable group commit of a
///   journal, in global order, into a bounded live buffer.
/// - subscription (subscription.hpp): reads the global log from a start
///   position or a checkpoint - from the journal while behind (catch-up),
///   from the live buffer once caught up - and hands batches to a handler, in
///   order, each position exactly once per run. A subscriber that falls
///   behind the live buffer reads from the journal again; writers never wait.
/// - checkpoint_store (checkpoint_store.hpp): durable positions of named
///   subscriptions (memory, LevelDB, or the journal's side keys so that a
///   writer can commit its checkpoint atomically with its events).
///
/// Delivery guarantees: a checkpointed subscription is at-least-once across
/// restarts (the batch in progress at a crash is delivered again). For
/// exactly-once read models use projections/ (view and checkpoint in one
/// WriteBatch). For other sinks make the handler idempotent: derive an
/// idempotency key from the event (persistence_id + sequence_nr, or
/// global_position) and let the sink drop repeats, or store the last applied
/// position with the sink's data in the sink's own transaction and skip
/// events at or below it (see examples/cart_services).

#include "esr/runtime/bus/checkpoint_store.hpp"
#include "esr/runtime/bus/error.hpp"
#include "esr/runtime/bus/event_bus.hpp"
#include "esr/runtime/bus/subscription.hpp"
