#pragma once

// The LevelDB key layout of esr. DO NOT CHANGE: it is the on-disk format.
//
// All integers are big-endian so that LevelDB's bytewise order is numeric
// order (a stream's events iterate in sequence order, the global log in
// commit order). Every key starts with a one-byte tag naming its key space.
// A store is two LevelDB databases: the log's, in the store's directory,
// and the index's, in its subdirectory "index" (see leveldb_db.hpp):
//
//   log_db_key    := meta_key | global_key | side_record_key
//   index_db_key  := meta_key | name_key | id_key | event_key | deleted_key
//                  | snapshot_key | side_key
//   meta_key      := 0x00 meta_name                     -> meta value
//   name_key      := 'N' shard persistence_id           -> stream_id
//   id_key        := 'I' stream_id                      -> persistence_id
//   event_key     := 'e' stream_id last_seq             -> index_entry
//   global_key    := 'g' global_position                -> event_record
//   side_record_key := 'g' global_position side_seq     -> side_record
//   deleted_key   := 'd' stream_id                      -> deleted_to:be64
//   snapshot_key  := 'P' shard persistence_id 0x00 sequence_nr -> snapshot_record
//   side_key      := 'X' user_key                       -> user value
//
//   shard         := be16   stable_hash(persistence_id) mod shard_count
//   stream_id     := be64   = shard << 48 | per-shard counter (1-based)
//   sequence_nr   := be64   1-based, dense within a stream
//   global_position := be64 1-based, dense in commit order
//   side_seq      := be64   1-based, counts the side records at one position
//   meta_name     := "format" (-> "4") | "shard_count" (-> decimal)   (log db)
//                  | "indexed_through" (-> decimal global position) (index db)
//   index_entry   := (first_seq:be64 first_position:be64)+
//
// The global log ('g') holds every event record once, in commit order; it is
// what read_all iterates; it is written by the group commit itself and is
// the truth. A group's side writes are in it too, as one side record after
// the group's last event (its key is that event's position plus a side_seq,
// so it sorts between that event and the next): they commit atomically with
// the events. The side keys ('X') readers see are applied from the side
// records to the index database once the group is durable, before it is
// acknowledged. A stream's events are found through its index entries ('e'),
// which are derived from the log: each names runs of the stream's sequence
// numbers that lie at consecutive global positions. Run i
// of an entry covers first_seq[i] .. first_seq[i+1]-1 (the last run ends at
// the key's last_seq) starting at global position first_position[i].
//
// The index is not written with every group commit: the journal keeps the
// runs of recent writes in memory (the index tail) and writes them out in
// sorted parts every leveldb_options::index_flush_events events, when the
// store closes, and before a deletion; the last part carries (synced)
// "indexed_through", the global position up to which every event is in the
// index and every side record applied (the applies are not synced; the
// synced checkpoint makes them durable). A new stream's name and id keys are
// derived from the log as well (its records carry the persistence id): they
// are written in the same part as the stream's first index entry, so no
// entry or deletion marker ever names an id that is not stored, and an id
// given out but not yet stored is simply given out again after a crash.
// Opening a store re-reads the log from "indexed_through" (at most one
// flush window), rebuilds the tail and applies the side records again, in
// log order, as EventStoreDB rebuilds its index from the log after its index
// checkpoint. The deletion markers ('d') and snapshots ('P') live in the
// index database and are written synced; they are what the log cannot give
// back.
//
// Why two databases, a tail and side records: LevelDB only moves a file
// down the levels untouched when it overlaps no other, and a database whose
// keys only grow gets such files. An index entry per write put a random key
// into the memtable beside every log record, and those keys made every
// level-0 file overlap the whole key range, so LevelDB's compaction rewrote
// the log over and over; names and ids (three new streams per order in the
// saga benchmark) did the same, and so did side keys and snapshots until
// format "4": with them in the log's database, every level-0 file spanned
// from its side keys to its newest record, and compactions merged whole
// levels (the log's compactions took about a fifth of the CPU by the end of
// a 12-second sustained saga run). Now the log's database holds only
// growing keys, and its files only move down.
//
// Format "1" stores (one index entry per atomic write, in the log's
// database, no index database; names, ids, snapshots and side keys tagged
// 'n', 'i', 'p', 'x', above the log) are upgraded on open: their index
// entries and deletion markers move to the index database, the other keys
// get the tags of format "2" ('N', 'I', 'P', 'X'). Format "2" stores (names
// and ids in the log's database) are upgraded on open by moving those keys
// to the index database; format "3" stores (snapshots and side keys in the
// log's database) by moving those.
//
// Replay seeks the log once per run and iterates it from there; consecutive
// runs that are also consecutive in the log need no seek at all. The last
// index entry of a stream, or its last tail run, gives its highest sequence
// number.
//
// One shard's data is every name_key and snapshot_key with that shard prefix
// and every event_key/id_key/deleted_key whose stream_id starts with it: a
// contiguous key range per key space, which is what moving a shard between
// nodes reads out. Persistence ids must not contain NUL bytes.
//
// Records (values of global_key, side_record_key and snapshot_key) are
// framed as
//   record        := format:u8(=1) crc32c:fixed32le(body) body
// with body the Protobuf EventEnvelope / SideRecord / SnapshotEnvelope of
// envelope.proto.
// An event body carries its persistence_id and sequence_nr (so a record is
// self-describing) but not its global_position, which is its key.

#include <cstdint>
#include <string>
#include <string_view>

namespace esr::persistence::detail {

inline constexpr char meta_tag = '\0';
inline constexpr char name_tag = 'N';
inline constexpr char id_tag = 'I';
inline constexpr char event_tag = 'e';
inline constexpr char global_tag = 'g';
inline constexpr char deleted_tag = 'd';
inline constexpr char snapshot_tag = 'P';
inline constexpr char side_tag = 'X';

/// Appends `v` big-endian to `out`.
void put_be64(std::string& out, uint64_t v);
void put_be16(std::string& out, uint16_t v);

/// Writes `v` big-endian into the 8 bytes at `p`.
inline void store_be64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    p[i] = static_cast<char>(v & 0xFF);
}

/// Reads a big-endian integer at `p` (8 / 2 bytes). REQUIRES: enough bytes.
uint64_t get_be64(const char* p);

/// Stable 64-bit FNV-1a hash (the same on every platform and release).
uint64_t stable_hash(std::string_view s);

/// The shard of `persistence_id` among `shard_count` shards.
uint16_t shard_of(std::string_view persistence_id, uint32_t shard_count);

std::string meta_key(std::string_view name);
std::string name_key(uint16_t shard, std::string_view persistence_id);
std::string id_key(uint64_t stream_id);
std::string event_key(uint64_t stream_id, uint64_t last_seq);
/// The prefix shared by every event_key of `stream_id` ('e' + stream id).
std::string stream_index_prefix(uint64_t stream_id);
/// Appends one run (first_seq, first_position) to the value of an event_key.
void append_index_run(std::string& value, uint64_t first_seq, uint64_t first_position);
std::string global_key(uint64_t position);
/// The key of the `side_seq`-th side record written when `position` was the
/// last global position (17 bytes; see side_record_key above).
std::string side_record_key(uint64_t position, uint64_t side_seq);
/// Size of a side_record_key (a global_key is 9 bytes).
inline constexpr size_t side_record_key_size = 17;
std::string deleted_key(uint64_t stream_id);
/// The snapshot key; with `seq` omitted, the prefix of all snapshots of a stream.
std::string snapshot_prefix(uint16_t shard, std::string_view persistence_id);
std::string snapshot_key(uint16_t shard, std::string_view persistence_id, uint64_t seq);
std::string side_key(std::string_view user_key);

/// The sequence number at the end of an event_key or snapshot_key.
uint64_t trailing_seq(std::string_view key);

} // namespace esr::persistence::detail
