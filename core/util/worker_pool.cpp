// Persistent fork-join workers; see worker_pool.h.
#include "core/util/worker_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <map>
#include <memory>

#include "core/util/parallel.h"

namespace cwb {
namespace {

// About 0.1-0.5 ms of polling before a thread sleeps: long enough to span the gap between
// the matrix products of one token, short enough not to hold a core when idle.
constexpr int kSpins = 4000;

}  // namespace

WorkerPool::WorkerPool(int threads) : m_threads(std::max(1, threads)) {
    m_workers.reserve(static_cast<std::size_t>(m_threads - 1));
    for (int w = 1; w < m_threads; ++w) m_workers.emplace_back([this, w] { workerLoop(w); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop.store(true);
        m_generation.fetch_add(1, std::memory_order_release);
        m_wake.notify_all();
    }
    for (auto& t : m_workers) t.join();
}

void WorkerPool::runSlice(int worker) {
    const long long begin = m_count * worker / m_slices;
    const long long end = m_count * (worker + 1) / m_slices;
    try {
        (*m_body)(begin, end, worker);
    } catch (...) {
        std::lock_guard lock(m_errorMutex);
        if (!m_error) m_error = std::current_exception();
    }
}

void WorkerPool::workerLoop(int worker) {
    std::uint64_t seen = 0;
    for (;;) {
        std::uint64_t g = m_generation.load(std::memory_order_acquire);
        for (int i = 0; i < kSpins && g == seen; ++i) {
            _mm_pause();
            g = m_generation.load(std::memory_order_acquire);
        }
        if (g == seen) {
            std::unique_lock lock(m_mutex);
            ++m_sleepers;
            m_wake.wait(lock, [&] { return m_generation.load(std::memory_order_acquire) != seen; });
            --m_sleepers;
            g = m_generation.load(std::memory_order_acquire);
        }
        seen = g;
        if (m_stop.load()) return;
        // Every worker answers every job, so the caller never starts the next job while one
        // still reads this one's fields; workers past the last slice have nothing to do.
        if (worker < m_slices) runSlice(worker);
        if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(m_mutex);
            if (m_callerSleeping) m_done.notify_one();
        }
    }
}

void WorkerPool::run(long long count, const Body& body) {
    if (count <= 0) return;
    std::lock_guard runLock(m_runMutex);
    const int slices = static_cast<int>(std::min<long long>(m_threads, count));
    if (slices == 1) {
        body(0, count, 0);
        return;
    }
    m_body = &body;
    m_count = count;
    m_slices = slices;
    m_error = nullptr;
    m_pending.store(m_threads - 1, std::memory_order_relaxed);
    m_generation.fetch_add(1, std::memory_order_release);
    {
        std::lock_guard lock(m_mutex);
        if (m_sleepers) m_wake.notify_all();
    }
    runSlice(0);
    for (int i = 0; i < kSpins && m_pending.load(std::memory_order_acquire) != 0; ++i) _mm_pause();
    if (m_pending.load(std::memory_order_acquire) != 0) {
        std::unique_lock lock(m_mutex);
        m_callerSleeping = true;
        m_done.wait(lock, [&] { return m_pending.load(std::memory_order_acquire) == 0; });
        m_callerSleeping = false;
    }
    m_body = nullptr;
    if (m_error) std::rethrow_exception(m_error);
}

WorkerPool& WorkerPool::shared(int threads) {
    static std::mutex mutex;
    static std::map<int, std::unique_ptr<WorkerPool>> pools;
    threads = resolveThreads(threads);
    std::lock_guard lock(mutex);
    auto& pool = pools[threads];
    if (!pool) pool = std::make_unique<WorkerPool>(threads);
    return *pool;
}

}  // namespace cwb
