// How much memory a load may take. Readers check declared sizes against this before they
// allocate, so a hostile or oversized file fails with a message instead of being killed.
#pragma once

#include <cstdint>
#include <string>

namespace cwb {

// Bytes the system can still give us (MemAvailable), or a large value when unknown.
std::uint64_t availableMemoryBytes();

// Throws cwb::Error "<what> needs N MiB but only M MiB of memory are available" when
// `bytes` does not fit in the memory available now.
void ensureFitsInMemory(std::uint64_t bytes, const std::string& what);

}  // namespace cwb
