// Fork-join over std::thread; see parallel.h.
#include "core/util/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace cwb {

int resolveThreads(int requested) {
    if (requested > 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

void parallelFor(long long count, int threads,
                 const std::function<void(long long, long long, int)>& body) {
    if (count <= 0) return;
    threads = static_cast<int>(std::min<long long>(std::max(1, threads), count));
    if (threads == 1) {
        body(0, count, 0);
        return;
    }
    std::exception_ptr firstError;
    std::mutex errorMutex;
    std::vector<std::thread> workers;
    workers.reserve(threads - 1);
    auto runSlice = [&](int worker) {
        const long long begin = count * worker / threads;
        const long long end = count * (worker + 1) / threads;
        try {
            body(begin, end, worker);
        } catch (...) {
            std::lock_guard lock(errorMutex);
            if (!firstError) firstError = std::current_exception();
        }
    };
    for (int worker = 1; worker < threads; ++worker) workers.emplace_back(runSlice, worker);
    runSlice(0);
    for (auto& t : workers) t.join();
    if (firstError) std::rethrow_exception(firstError);
}

}  // namespace cwb
