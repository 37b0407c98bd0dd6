#pragma once

#include <cstddef>
#include <cstdint>

namespace esr::persistence::detail {

/// Returns the CRC-32C (Castagnoli) of `n` bytes at `data`, extending `init`
/// (pass 0 to start). Uses the SSE4.2 instruction when the CPU has it.
uint32_t crc32c(const void* data, size_t n, uint32_t init = 0);

} // namespace esr::persistence::detail
