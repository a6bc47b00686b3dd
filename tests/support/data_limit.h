// Memory limits for tests of large checkpoints: a cap on the process's heap while a test
// runs, and the peak resident memory, so that a test fails when something copies what
// should stay a view into a mapped file.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace cwb::test {

// Caps the heap (RLIMIT_DATA, soft limit) while it lives: read-only file mappings do not
// count against it, a heap copy would. Not under AddressSanitizer: its shadow is already
// terabytes of writable mappings, which the limit counts.
class DataLimit {
public:
    explicit DataLimit(std::uint64_t bytes) {
        getrlimit(RLIMIT_DATA, &m_old);
#ifndef CWB_SANITIZER_BUILD
        rlimit capped = m_old;
        capped.rlim_cur = bytes;
        m_set = setrlimit(RLIMIT_DATA, &capped) == 0;
#else
        (void)bytes;
#endif
    }
    ~DataLimit() {
        if (m_set) setrlimit(RLIMIT_DATA, &m_old);
    }
    DataLimit(const DataLimit&) = delete;
    DataLimit& operator=(const DataLimit&) = delete;
    bool active() const { return m_set; }

private:
    rlimit m_old{};
    bool m_set = false;
};

inline long peakResidentKiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // KiB on Linux
}

}  // namespace cwb::test
