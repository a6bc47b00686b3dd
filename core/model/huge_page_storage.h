// Tensor bytes in anonymous memory asked to live on 2 MB pages (madvise MADV_HUGEPAGE), for
// the copies the forward pass streams through once per token (the interleaved weight rows):
// on 4 KB pages every page is a translation miss and a stop of the hardware prefetch.
// Where the kernel gives no huge pages the buffer is plain memory, zero-filled as mapped.
#pragma once

#include <cstddef>

#include "core/model/tensor.h"

namespace cwb {

class HugePageStorage final : public Storage {
public:
    explicit HugePageStorage(std::size_t bytes);  // throws cwb::Error when memory runs out
    ~HugePageStorage() override;
    HugePageStorage(const HugePageStorage&) = delete;
    HugePageStorage& operator=(const HugePageStorage&) = delete;

    const std::byte* data() const override { return m_data; }
    std::byte* mutableData() override { return m_data; }
    std::size_t size() const override { return m_size; }

private:
    std::byte* m_data = nullptr;
    std::size_t m_size = 0, m_mapped = 0;
};

}  // namespace cwb
