// How much memory a load may take. Readers check declared sizes against this before they
// allocate, so a hostile or oversized file fails with a message instead of being killed.
#pragma once

#include <cstdint>
#include <string>

namespace cwb {

// Bytes the system can still give us (MemAvailable), or a large value when unknown;
// never more than the cap set with setMemoryCap.
std::uint64_t availableMemoryBytes();

// The machine's physical memory (sysconf), never more than the cap set with setMemoryCap.
std::uint64_t physicalMemoryBytes();

// Caps availableMemoryBytes() and physicalMemoryBytes() at `bytes` (0: no cap). Fuzzers and tests
// use it to stay far below their own allocation limits while exercising the checks.
void setMemoryCap(std::uint64_t bytes);

// Throws cwb::Error "<what> needs N MiB but only M MiB of memory are available" when
// `bytes` does not fit in the memory available now.
void ensureFitsInMemory(std::uint64_t bytes, const std::string& what);

}  // namespace cwb
