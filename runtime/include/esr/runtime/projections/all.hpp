#pragma once

/// @file
/// esr's read side, part 2: projections (read models).
///
/// - view_store (view_store.hpp): a LevelDB database of named views with a
///   checkpoint per view and aliases; view_txn gives a handler
///   read-your-writes on top of it; view_reader reads through an alias.
/// - projection / projection_runner (projection.hpp): a handler turning
///   events into view changes, run on an event_bus; each batch's changes and
///   its checkpoint commit in one WriteBatch, so the view applies every event
///   exactly once across crashes. A view without a checkpoint (new, or
///   deleted) is built from position 1.
/// - rebuild (rebuild.hpp): runs new projection logic from position 1 into a
///   fresh view beside the old one and switches the alias when it has caught
///   up (e.g. after fixing a bug in the logic).
///
/// Queries read views directly (view_store::get/scan or a view_reader); a
/// caller that needs its own writes reflected waits with
/// projection_runner::wait_for(position of its write) first.

#include "esr/runtime/projections/projection.hpp"
#include "esr/runtime/projections/rebuild.hpp"
#include "esr/runtime/projections/view_store.hpp"
