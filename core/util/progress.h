// Progress and cancellation for long computations. Every long call in core takes a
// Progress and calls step() every few milliseconds of work; step() throws Cancelled
// when the caller asked to stop.
#pragma once

#include <functional>

#include "core/error.h"

namespace cwb {

struct Progress {
    // Receives (done, total) and returns false to cancel. Empty means "never cancel".
    std::function<bool(long long done, long long total)> callback;

    void step(long long done, long long total) const {
        if (callback && !callback(done, total)) throw Cancelled();
    }
};

}  // namespace cwb
