// The k-bit quantizer of every unit (whole tensor, output channel or group of rows) of a
// tensor: the range of its kept weights, optionally clipped by percentile or MSE search.
#pragma once

#include <cstdint>
#include <vector>

#include "core/compress/compression_settings.h"
#include "core/compress/quantize.h"
#include "core/compress/weight_view.h"

namespace cwb {

struct QuantTypeTraits;

struct UnitQuantizers {
    const QuantTypeTraits* type = nullptr;  // the table row: scale rule and kernels
    Granularity granularity = Granularity::Tensor;
    int groupSize = 0;
    long long cols = 0;
    std::vector<AffineQuantizer> units;
    std::vector<float> steps, zeroPoints;  // the same per unit, as arrays for vector loops
    std::vector<float> rawMin, rawMax;     // per unit, of the kept weights before clipping

    long long unitCount() const { return static_cast<long long>(units.size()); }
    // Unit of element (r, c); units are row-major over (group, column) for Group.
    long long unitOf(long long r, long long c) const {
        switch (granularity) {
            case Granularity::Tensor:
                return 0;
            case Granularity::Channel:
                return c;
            case Granularity::Group:
                return (r / groupSize) * cols + c;
        }
        return 0;
    }
    // Largest |error| a unit's quantization can give a kept weight (half a step, or more where
    // clipped).
    float errorBound() const;
    // Largest |value| the quantizers can produce.
    float valueBound() const;
};

// settings.bits must be 2..8 and a group size 32, 64 or 128 (validatePlan); throws cwb::Error
// otherwise. 1-D tensors (rows == 1 and Channel/Group) fall back to one unit (a tensor type).
UnitQuantizers chooseUnitQuantizers(const MatrixView& w, const KeepRule& keep,
                                    const QuantSettings& settings, int threads);

// Candidate clip ratios of ClipMethod::Mse, largest first: 1, 0.98, ..., 0.5.
std::vector<float> mseClipRatios();

}  // namespace cwb
