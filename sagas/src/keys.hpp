#pragma once

// Names of everything a saga stores. The layout is persisted: DO NOT CHANGE.
//
// Streams (events of the journal):
//   instance_stream := "saga." saga "-" instance        ; esr.sagas.pb.SagaStep events
//   timer_stream    := "saga." saga ".timers-" instance ; esr.sagas.pb.TimeoutFired events
//   dlq_stream      := "saga." saga ".dlq-" instance'   ; esr.sagas.pb.DeadLetter and
//                                                       ; esr.sagas.pb.ReplayRequested events
//   instance'       := instance | "_"                   ; "_" when the event had no key
//
// Side keys (journal side key space, committed with the step events):
//   outbox_done := prefix "outbox-done" -> decimal global position: every
//                  command of every step event at or before it has been
//                  answered or is in an outbox_key (a step's commands are
//                  in its SagaStep event; those after this are re-sent)
//   outbox_key  := prefix "outbox/" esc(instance) "/" hex16(step) "/" hex4(k)
//                  -> esr.sagas.pb.OutboxEntry (a command that failed and is
//                  retried; deleted once answered)
//   timer_key   := prefix "timer/" esc(instance) "/" name -> esr.sagas.pb.TimerRecord
//   parked_key  := prefix "parked/" esc(instance) "/" hex16(global_position)
//                  -> esr.sagas.pb.DeadLetter
//   prefix      := "esr.saga/" saga "/"
//   checkpoint  := bus::checkpoint_side_write("saga." saga, position)
//   esc(s)      := s with '%' -> "%25" and '/' -> "%2F" (so '/' separates fields)
//   hex16/hex4  := lower-case, zero-padded, big-endian hex (sorts numerically)

#include <cstdint>
#include <string>
#include <string_view>

namespace esr::sagas::keys {

/// "esr.saga/<saga>/".
std::string prefix(std::string_view saga);

/// Escapes '%' and '/' (see esc above).
std::string escape(std::string_view s);

/// Inverse of escape().
std::string unescape(std::string_view s);

/// Zero-padded hex of `x` with `digits` digits.
std::string hex(uint64_t x, int digits);

std::string instance_stream(std::string_view saga, std::string_view instance);
std::string timer_stream(std::string_view saga, std::string_view instance);
std::string dlq_stream(std::string_view saga, std::string_view instance);
std::string checkpoint_name(std::string_view saga);

std::string outbox_done_key(std::string_view saga);
std::string outbox_prefix(std::string_view saga);
std::string outbox_key(std::string_view saga, std::string_view instance, uint64_t step,
                       size_t k);
std::string timer_prefix(std::string_view saga);
std::string timer_key(std::string_view saga, std::string_view instance, std::string_view name);
std::string parked_prefix(std::string_view saga);
std::string parked_prefix(std::string_view saga, std::string_view instance);
std::string parked_key(std::string_view saga, std::string_view instance, uint64_t position);

/// The deterministic id of the k-th command of step `step` of an instance.
std::string command_id(std::string_view saga, std::string_view instance, uint64_t step,
                       size_t k);

} // namespace esr::sagas::keys
