// Progress and cancellation for long computations. Every long call in core takes a
// Progress and calls step() every few milliseconds of work; step() throws Cancelled
// when the caller asked to stop.
#pragma once

#include <atomic>
#include <functional>

#include "core/error.h"

namespace cwb {

struct Progress {
    // Receives (done, total) and returns false to cancel. Empty means "never cancel".
    std::function<bool(long long done, long long total)> callback;

    void step(long long done, long long total) const {
        if (callback && !callback(done, total)) throw Cancelled();
    }

    // step() from worker 0 of a parallel loop (the others never call back); when it throws,
    // `stop` tells the other workers to end their slices before the exception is rethrown.
    void stepFromWorker(int worker, long long done, long long total,
                        std::atomic<bool>& stop) const {
        if (worker != 0) return;
        try {
            step(done, total);
        } catch (...) {
            stop = true;
            throw;
        }
    }
};

}  // namespace cwb
