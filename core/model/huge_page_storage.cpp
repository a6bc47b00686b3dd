#include "core/model/huge_page_storage.h"

#include <sys/mman.h>

#include <string>

#include "core/error.h"

namespace cwb {

HugePageStorage::HugePageStorage(std::size_t bytes) : m_size(bytes) {
    constexpr std::size_t kHugePage = std::size_t(2) << 20;
    m_mapped = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (m_mapped == 0) return;
    void* p = ::mmap(nullptr, m_mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        throw Error("out of memory: could not map " + std::to_string(bytes) +
                    " bytes for a weight copy; close other programs or use a smaller model");
    ::madvise(p, m_mapped, MADV_HUGEPAGE);  // advice only: plain pages where it is refused
    m_data = static_cast<std::byte*>(p);
}

HugePageStorage::~HugePageStorage() {
    if (m_data) ::munmap(m_data, m_mapped);
}

}  // namespace cwb
