// Memory budget from /proc/meminfo (see memory_budget.h).
#include "core/util/memory_budget.h"

#include <sys/sysinfo.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "core/error.h"

namespace cwb {
namespace {

std::atomic<std::uint64_t> g_cap{0};

std::uint64_t systemAvailableBytes() {
    // MemAvailable counts reclaimable page cache, which sysinfo's freeram does not.
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") return kib * 1024;
    }
    struct sysinfo info {};
    if (sysinfo(&info) == 0) return (std::uint64_t(info.freeram) + info.bufferram) * info.mem_unit;
    return std::uint64_t(1) << 32;  // unknown: assume 4 GiB rather than refuse everything
}

}  // namespace

std::uint64_t availableMemoryBytes() {
    const std::uint64_t system = systemAvailableBytes();
    const std::uint64_t cap = g_cap.load();
    return cap && cap < system ? cap : system;
}

void setMemoryBudget(std::uint64_t bytes) { g_cap.store(bytes); }

void checkMemory(std::uint64_t bytes, const std::string& what) {
    const std::uint64_t available = availableMemoryBytes();
    if (bytes > available)
        throw Error(what + " needs " + formatBytes(bytes) + " but only " + formatBytes(available) +
                    " of memory is available; close other programs or use a machine with more memory");
}

std::string formatBytes(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " bytes";
    const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = double(bytes) / 1024;
    int unit = 0;
    while (value >= 1024 && unit < 5) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    return text;
}

}  // namespace cwb
