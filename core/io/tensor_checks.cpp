// Finite-value and size checks (see tensor_checks.h).
#include "core/io/tensor_checks.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/quant/fp16.h"

namespace cwb {
namespace {

template <typename T>
std::int64_t scanFloats(const std::byte* data, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, data + i * sizeof(T), sizeof(T));
        if (!std::isfinite(v)) return i;
    }
    return -1;
}

// 16-bit floats through the one decoder (core/quant/fp16.h).
template <float (*Decode)(std::uint16_t)>
float halfAt(const std::byte* data, std::int64_t i) {
    std::uint16_t v;
    std::memcpy(&v, data + i * 2, 2);
    return Decode(v);
}

template <float (*Decode)(std::uint16_t)>
std::int64_t scanHalves(const std::byte* data, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(halfAt<Decode>(data, i))) return i;
    return -1;
}

float elementAsFloat(const std::byte* element, DType type) {
    switch (type) {
        case DType::F32: {
            float v;
            std::memcpy(&v, element, 4);
            return v;
        }
        case DType::F64: {
            double v;
            std::memcpy(&v, element, 8);
            return static_cast<float>(v);
        }
        case DType::F16:
            return halfAt<halfToFloat>(element, 0);
        case DType::BF16:
            return halfAt<bf16ToFloat>(element, 0);
        default:
            return 0.f;
    }
}

}  // namespace

std::int64_t firstNonFinite(const Tensor& tensor) {
    const std::byte* data = tensor.bytes();
    const std::int64_t n = tensor.elements();
    if (!data || n <= 0) return -1;
    switch (tensor.dtype()) {
        case DType::F32:
            return scanFloats<float>(data, n);
        case DType::F64:
            return scanFloats<double>(data, n);
        case DType::F16:
            return scanHalves<halfToFloat>(data, n);
        case DType::BF16:
            return scanHalves<bf16ToFloat>(data, n);
        default:
            return -1;
    }
}

void requireFinite(const Tensor& tensor, const std::string& where) {
    const std::int64_t at = firstNonFinite(tensor);
    if (at < 0) return;
    const std::byte* element =
        tensor.bytes() + static_cast<std::size_t>(at) * dtypeSize(tensor.dtype());
    const float value = elementAsFloat(element, tensor.dtype());
    const char* what = std::isinf(value) ? "Inf" : "NaN";
    throw Error(where + " contains " + what + " at element " + std::to_string(at) +
                "; the weights are corrupt (retrain or re-export the model)");
}

std::int64_t checkedElements(const Shape& shape, std::int64_t limit) {
    bool anyZero = false;
    for (const std::int64_t d : shape) {
        if (d < 0) return -1;
        anyZero = anyZero || d == 0;
    }
    if (anyZero) return 0;
    std::int64_t n = 1;
    for (const std::int64_t d : shape) {
        if (n > limit / d) return -1;
        n *= d;
    }
    return n;
}

}  // namespace cwb
