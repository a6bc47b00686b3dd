// Available-memory queries (see memory.h).
#include "core/util/memory.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace cwb {
namespace {

std::atomic<std::uint64_t> g_cap{0};

std::uint64_t systemAvailableBytes() {
    // MemAvailable counts reclaimable cache, which is what an allocation can really get;
    // sysconf's free pages would refuse loads on a machine with a warm page cache.
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t value = 0;
    std::string unit;
    while (meminfo >> key >> value >> unit) {
        if (key == "MemAvailable:") return value * 1024;
        meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    const long pages = sysconf(_SC_AVPHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0) return std::uint64_t(pages) * std::uint64_t(pageSize);
    return std::numeric_limits<std::uint64_t>::max();
}

}  // namespace

std::uint64_t availableMemoryBytes() {
    const std::uint64_t system = systemAvailableBytes();
    const std::uint64_t cap = g_cap.load();
    return cap && cap < system ? cap : system;
}

std::uint64_t physicalMemoryBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    const std::uint64_t system = pages > 0 && pageSize > 0
                                     ? std::uint64_t(pages) * std::uint64_t(pageSize)
                                     : std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t cap = g_cap.load();
    return cap && cap < system ? cap : system;
}

void setMemoryCap(std::uint64_t bytes) { g_cap.store(bytes); }

void ensureFitsInMemory(std::uint64_t bytes, const std::string& what) {
    const std::uint64_t available = availableMemoryBytes();
    if (bytes <= available) return;
    const auto mib = [](std::uint64_t b) { return std::to_string(b / (1024 * 1024)); };
    throw Error(what + " needs " + mib(bytes) + " MiB but only " + mib(available) +
                " MiB of memory are available; free memory or use a smaller file");
}

}  // namespace cwb
