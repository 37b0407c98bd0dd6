#pragma once

// Damaging a closed LevelDB database on purpose, for corruption tests.

#include <cstddef>
#include <string>
#include <string_view>

#include <leveldb/status.h>

namespace esr::persistence::test {

/// Opens the (closed) LevelDB database at `path` directly, compacts it so
/// that every record lives in a table file (*.ldb) and none in the write-ahead
/// log, and closes it again.
leveldb::Status compact_database(const std::string& path);

/// Flips the bits of one byte in the middle of every occurrence of `needle`
/// in the table files (*.ldb) of the closed database at `path`. Returns the
/// number of occurrences changed. REQUIRES: needle.size() >= 2.
size_t flip_byte_in_tables(const std::string& path, std::string_view needle);

} // namespace esr::persistence::test
