// A size-keyed free list of large buffers (see buffer_pool.h).
#include "core/compress/buffer_pool.h"

#include <map>
#include <mutex>
#include <new>

namespace cwb {
namespace {

// 64-byte aligned blocks, so that the pass can write them with full-line streaming stores.
struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using Buffer = std::unique_ptr<std::byte[], AlignedDelete>;

Buffer allocate(std::size_t bytes) {
    return Buffer(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t(64))));
}

constexpr std::size_t kMinPooled = 64 * 1024;  // smaller buffers come from malloc's own lists
constexpr std::size_t kMaxFreeBytes = 1024 * 1024 * 1024;  // beyond this, buffers are freed

class Pool {
public:
    Buffer take(std::size_t bytes) {
        std::lock_guard lock(m_mutex);
        const auto it = m_free.find(bytes);
        if (it == m_free.end()) return nullptr;
        auto buffer = std::move(it->second);
        m_free.erase(it);
        m_freeBytes -= bytes;
        return buffer;
    }
    void give(Buffer buffer, std::size_t bytes) {
        std::lock_guard lock(m_mutex);
        if (m_freeBytes + bytes > kMaxFreeBytes) return;  // freed as `buffer` goes
        m_free.emplace(bytes, std::move(buffer));
        m_freeBytes += bytes;
    }

private:
    std::mutex m_mutex;
    std::multimap<std::size_t, Buffer> m_free;
    std::size_t m_freeBytes = 0;
};

// Never destroyed: tensors may outlive static destruction order.
Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

class PooledStorage final : public Storage {
public:
    explicit PooledStorage(std::size_t bytes) : m_size(bytes) {
        if (bytes >= kMinPooled) m_bytes = pool().take(bytes);
        if (!m_bytes) m_bytes = allocate(bytes);
    }
    ~PooledStorage() override {
        if (m_size >= kMinPooled) pool().give(std::move(m_bytes), m_size);
    }
    PooledStorage(const PooledStorage&) = delete;
    PooledStorage& operator=(const PooledStorage&) = delete;

    const std::byte* data() const override { return m_bytes.get(); }
    std::byte* mutableData() override { return m_bytes.get(); }
    std::size_t size() const override { return m_size; }

private:
    Buffer m_bytes;
    std::size_t m_size;
};

}  // namespace

std::shared_ptr<Storage> pooledStorage(std::size_t bytes) {
    return std::make_shared<PooledStorage>(bytes);
}

}  // namespace cwb
