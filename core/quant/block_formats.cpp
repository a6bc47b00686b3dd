// The traits table of block formats and the run-time choice of kernel family.
#include "core/quant/block_formats.h"

#include <cpuid.h>

#include <atomic>

#include "core/error.h"
#include "core/quant/kernels.h"

namespace cwb::quant {
namespace {

using namespace detail;

// A format whose vector dot products exist for AVX2 and AVX-512.
#define CWB_DOTS(T) \
    { dot##T##Ref, dot##T##Avx2, dot##T##Avx512 }
// AVX-512 machines run the AVX2 kernels: the K formats', and Q4_0's and Q8_0's, whose
// one-row kernels are generation's passes of four rows (gemv_avx2.cpp), which read the
// weights faster than AVX-512 dot products taken one row at a time.
#define CWB_AVX2_DOTS(T) \
    { dot##T##Ref, dot##T##Avx2, dot##T##Avx2 }
#define CWB_NO_DOTS \
    { nullptr, nullptr, nullptr }
#define CWB_ACT(T) \
    { fromFloat##T##Ref, quantize##T##Avx2, quantize##T##Avx2 }
#define CWB_ENC(T) \
    { fromFloat##T##Ref, fromFloat##T##Avx2, fromFloat##T##Avx2 }
#define CWB_ERR_REF(T, S, B)                               \
    {                                                      \
        errorRef<S, B, fromFloat##T##Ref, toFloat##T>,     \
            errorRef<S, B, fromFloat##T##Ref, toFloat##T>, \
            errorRef<S, B, fromFloat##T##Ref, toFloat##T>  \
    }
#define CWB_ERR(T, S, B) \
    { errorRef<S, B, fromFloat##T##Ref, toFloat##T>, squaredError##T##Avx2, squaredError##T##Avx2 }
#define CWB_ERR_LEGACY(T, B)                                                   \
    {                                                                          \
        errorRef<32, B, fromFloat##T##Ref, toFloat##T>, squaredError##T##Avx2, \
            squaredError##T##Avx512                                            \
    }

// The reference error: each block encoded and decoded, the differences summed in order.
template <int kSize, int BlockBytes, FromFloatFn Encode, ToFloatFn Decode>
double errorRef(const float* in, std::int64_t n) {
    std::byte block[BlockBytes];
    float back[kSize];
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; i += kSize, in += kSize) {
        Encode(in, block, kSize);
        Decode(block, back, kSize);
        for (int j = 0; j < kSize; ++j) {
            const double d = double(back[j]) - in[j];
            sum += d * d;
        }
    }
    return sum;
}

// clang-format off
const BlockFormat kFormats[] = {
    {DType::Q4_0, 32, 18, DType::Q8_0, toFloatQ4_0, fromFloatQ4_0Ref, CWB_ENC(Q4_0), CWB_ERR_LEGACY(Q4_0, 18), CWB_AVX2_DOTS(Q4_0)},
    {DType::Q4_1, 32, 20, DType::Q8_1, toFloatQ4_1, fromFloatQ4_1Ref, CWB_ENC(Q4_1), CWB_ERR_LEGACY(Q4_1, 20), CWB_DOTS(Q4_1)},
    {DType::Q5_0, 32, 22, DType::Q8_0, toFloatQ5_0, fromFloatQ5_0Ref, CWB_ENC(Q5_0), CWB_ERR_LEGACY(Q5_0, 22), CWB_DOTS(Q5_0)},
    {DType::Q5_1, 32, 24, DType::Q8_1, toFloatQ5_1, fromFloatQ5_1Ref, CWB_ENC(Q5_1), CWB_ERR_LEGACY(Q5_1, 24), CWB_DOTS(Q5_1)},
    {DType::Q8_0, 32, 34, DType::Q8_0, toFloatQ8_0, fromFloatQ8_0Ref, CWB_ACT(Q8_0), CWB_ERR_LEGACY(Q8_0, 34), CWB_AVX2_DOTS(Q8_0)},
    {DType::Q8_1, 32, 36, DType::Q8_1, toFloatQ8_1, fromFloatQ8_1Ref, CWB_ACT(Q8_1), CWB_ERR_REF(Q8_1, 32, 36), CWB_NO_DOTS},
    {DType::Q2_K, 256, 84, DType::Q8_K, toFloatQ2_K, fromFloatQ2_KRef, CWB_ENC(Q2_K), CWB_ERR(Q2_K, 256, 84), CWB_AVX2_DOTS(Q2_K)},
    {DType::Q3_K, 256, 110, DType::Q8_K, toFloatQ3_K, fromFloatQ3_KRef, CWB_ENC(Q3_K), CWB_ERR(Q3_K, 256, 110), CWB_AVX2_DOTS(Q3_K)},
    {DType::Q4_K, 256, 144, DType::Q8_K, toFloatQ4_K, fromFloatQ4_KRef, CWB_ENC(Q4_K), CWB_ERR(Q4_K, 256, 144), CWB_AVX2_DOTS(Q4_K)},
    {DType::Q5_K, 256, 176, DType::Q8_K, toFloatQ5_K, fromFloatQ5_KRef, CWB_ENC(Q5_K), CWB_ERR(Q5_K, 256, 176), CWB_AVX2_DOTS(Q5_K)},
    {DType::Q6_K, 256, 210, DType::Q8_K, toFloatQ6_K, fromFloatQ6_KRef, CWB_ENC(Q6_K), CWB_ERR(Q6_K, 256, 210), CWB_AVX2_DOTS(Q6_K)},
    {DType::Q8_K, 256, 292, DType::Q8_K, toFloatQ8_K, fromFloatQ8_KRef, CWB_ACT(Q8_K), CWB_ERR_REF(Q8_K, 256, 292), CWB_NO_DOTS},
};
// clang-format on

#undef CWB_DOTS
#undef CWB_AVX2_DOTS
#undef CWB_NO_DOTS
#undef CWB_ACT
#undef CWB_ENC
#undef CWB_ERR_REF
#undef CWB_ERR
#undef CWB_ERR_LEGACY

// CPUID leaf 1, ECX bit 29 (clang 14's __builtin_cpu_supports has no "f16c").
bool hasF16c() {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}

std::atomic<int>& activeSlot() {
    static std::atomic<int> slot{static_cast<int>(bestIsa())};
    return slot;
}

}  // namespace

bool isaSupported(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return true;
        case Isa::Avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && hasF16c();
        case Isa::Avx512:
            return isaSupported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512vnni");
    }
    return false;
}

Isa bestIsa() {
    static const Isa best = isaSupported(Isa::Avx512) ? Isa::Avx512
                            : isaSupported(Isa::Avx2) ? Isa::Avx2
                                                      : Isa::Scalar;
    return best;
}

std::string isaName(Isa isa) {
    switch (isa) {
        case Isa::Scalar:
            return "scalar";
        case Isa::Avx2:
            return "AVX2";
        case Isa::Avx512:
            return "AVX-512 VNNI";
    }
    return "?";
}

Isa activeIsa() { return static_cast<Isa>(activeSlot().load(std::memory_order_relaxed)); }

void setActiveIsa(Isa isa) {
    if (!isaSupported(isa))
        throw Error("this CPU has no " + isaName(isa) + "; choose a kernel family it supports");
    activeSlot().store(static_cast<int>(isa), std::memory_order_relaxed);
}

const BlockFormat& blockFormat(DType type) {
    for (const auto& f : kFormats)
        if (f.type == type) return f;
    throw Error(dtypeName(type) +
                " is not a block format; expected one of llama.cpp's (Q4_0 ... Q8_K)");
}

}  // namespace cwb::quant
