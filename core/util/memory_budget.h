// How much memory a reader may ask for. Readers check every size a file declares against
// this budget before allocating, so a hostile or simply too large file fails with a clear
// error instead of getting the process OOM-killed.
#pragma once

#include <cstdint>
#include <string>

namespace cwb {

// Bytes the process may still allocate: MemAvailable from /proc/meminfo (or sysinfo), or
// the limit set with setMemoryBudget when that is smaller.
std::uint64_t availableMemoryBytes();

// Caps availableMemoryBytes() at `bytes` (0 removes the cap). Fuzzers and tests use it to
// stay far below their own allocation limits.
void setMemoryBudget(std::uint64_t bytes);

// Throws cwb::Error "<what> needs N GiB but only M GiB of memory is available; ..." when
// `bytes` does not fit the budget.
void checkMemory(std::uint64_t bytes, const std::string& what);

// "1.5 GiB", "12.0 MiB", "300 bytes": sizes in messages.
std::string formatBytes(std::uint64_t bytes);

}  // namespace cwb
