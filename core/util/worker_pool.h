// A persistent pool of worker threads for short fork-join jobs run thousands of times a
// second (a matrix-vector product per weight matrix per generated token), where starting
// threads per call, as parallelFor does, would cost more than the work. Work is split as
// parallelFor splits it (contiguous slices, one per thread), so results are deterministic
// for a thread count. Idle workers spin briefly, then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cwb {

class WorkerPool {
public:
    using Body = std::function<void(long long begin, long long end, int worker)>;

    explicit WorkerPool(int threads);  // the caller is worker 0; threads - 1 are started
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    int threads() const { return m_threads; }
    // Calls body(begin, end, worker) for min(threads, count) contiguous slices of
    // [0, count) and waits for all; one job at a time (callers from several threads queue).
    // Rethrows the first exception a slice threw.
    void run(long long count, const Body& body);

    // A pool of `threads` threads (0: all cores) shared by the process, made on first use.
    static WorkerPool& shared(int threads);

private:
    void workerLoop(int worker);
    void runSlice(int worker);

    int m_threads;
    std::vector<std::thread> m_workers;
    std::mutex m_runMutex;  // one job at a time
    // The job, written before m_generation is advanced.
    const Body* m_body = nullptr;
    long long m_count = 0;
    int m_slices = 0;
    std::atomic<std::uint64_t> m_generation{0};
    std::atomic<int> m_pending{0};
    std::atomic<bool> m_stop{false};
    // Sleeping workers and a sleeping caller wait here.
    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    int m_sleepers = 0;
    bool m_callerSleeping = false;
    std::mutex m_errorMutex;
    std::exception_ptr m_error;
};

}  // namespace cwb
