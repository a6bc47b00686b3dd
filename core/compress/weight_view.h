// How compression sees a weight tensor: a (rows, cols) row-major float32 matrix, where a
// Keras kernel (..., out) has cols = out (the output channels) and rows = the reduction
// axis K (in, or kh * kw * in). 1-D parameters are a single row.
#pragma once

#include <cstdint>

#include "core/compress/quantize.h"

namespace cwb {

struct MatrixView {
    const float* data = nullptr;
    long long rows = 0;
    long long cols = 0;

    long long size() const { return rows * cols; }
    float at(long long r, long long c) const { return data[r * cols + c]; }
};

// Which weights a pruning rule keeps, per element.
struct KeepRule {
    enum class Kind { All, Threshold, Textbook, Explicit };
    Kind kind = Kind::All;
    float rho = 0.f;
    const std::uint8_t* keep = nullptr;  // Explicit: one byte per element, 1 = kept

    bool operator()(float w, long long i) const {
        switch (kind) {
            case Kind::All:
                return true;
            case Kind::Threshold:
                return keptByThreshold(w, rho);
            case Kind::Textbook:
                return keptByTextbookThreshold(w, rho);
            case Kind::Explicit:
                return keep[i] != 0;
        }
        return true;
    }
};

}  // namespace cwb
