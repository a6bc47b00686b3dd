// Dot products of F32, F16 and BF16 weight rows with float32 activations, converting the
// weights on the fly: a plain loop (the reference), AVX2 with F16C, and AVX-512.
#include <algorithm>
#include <vector>

#include "core/quant/fp16.h"
#include "core/quant/kernels.h"
#include "core/quant/simd_target.h"
#include "core/quant/tile_kernels.h"

namespace cwb::quant::detail {
namespace {

std::uint16_t load16(const std::byte* p, std::int64_t i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return h;
}
float loadF32(const std::byte* p, std::int64_t i) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
}

// The reference, and the tails of the vector kernels: a plain sum from `begin`.
template <typename Load>
float dotFrom(const std::byte* w, const std::byte* a, std::int64_t begin, std::int64_t n,
              Load load) {
    float sum = 0.f;
    for (std::int64_t i = begin; i < n; ++i) sum += load(w, i) * loadF32(a, i);
    return sum;
}
float f32At(const std::byte* w, std::int64_t i) { return loadF32(w, i); }
float f16At(const std::byte* w, std::int64_t i) { return halfToFloat(load16(w, i)); }
float bf16At(const std::byte* w, std::int64_t i) { return bf16ToFloat(load16(w, i)); }

CWB_QUANT_AVX2 inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <int kind>
CWB_QUANT_AVX2 inline __m256 loadW8(const std::byte* w, std::int64_t i) {
    if constexpr (kind == 0) return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
    if constexpr (kind == 1) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <int kind>
CWB_QUANT_AVX512 inline __m512 loadW16(const std::byte* w, std::int64_t i) {
    if constexpr (kind == 0) return _mm512_loadu_ps(reinterpret_cast<const float*>(w) + i);
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * i));
    if constexpr (kind == 1) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// kind: 0 F32, 1 F16, 2 BF16. Four accumulators hide the latency of the fused multiply-add.
template <int kind, typename Load>
CWB_QUANT_AVX2 float dotAvx2(const std::byte* w, const std::byte* a, std::int64_t n, Load load) {
    const auto* x = reinterpret_cast<const float*>(a);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; ++k)
            acc[k] =
                _mm256_fmadd_ps(loadW8<kind>(w, i + 8 * k), _mm256_loadu_ps(x + i + 8 * k), acc[k]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(loadW8<kind>(w, i), _mm256_loadu_ps(x + i), acc[0]);
    const __m256 s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    return hsum8(s) + dotFrom(w, a, i, n, load);
}

template <int kind, typename Load>
CWB_QUANT_AVX512 float dotAvx512(const std::byte* w, const std::byte* a, std::int64_t n,
                                 Load load) {
    const auto* x = reinterpret_cast<const float*>(a);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    std::int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 4; ++k)
            acc[k] = _mm512_fmadd_ps(loadW16<kind>(w, i + 16 * k), _mm512_loadu_ps(x + i + 16 * k),
                                     acc[k]);
    for (; i + 16 <= n; i += 16)
        acc[0] = _mm512_fmadd_ps(loadW16<kind>(w, i), _mm512_loadu_ps(x + i), acc[0]);
    const __m512 s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    return _mm512_reduce_add_ps(s) + dotFrom(w, a, i, n, load);
}

}  // namespace

float dotF32Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, f32At);
}
float dotF16Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, f16At);
}
float dotBF16Ref(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotFrom(w, a, 0, n, bf16At);
}

CWB_QUANT_AVX2 float dotF32Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<0>(w, a, n, f32At);
}
CWB_QUANT_AVX2 float dotF16Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<1>(w, a, n, f16At);
}
CWB_QUANT_AVX2 float dotBF16Avx2(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx2<2>(w, a, n, bf16At);
}

CWB_QUANT_AVX512 float dotF32Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<0>(w, a, n, f32At);
}
CWB_QUANT_AVX512 float dotF16Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<1>(w, a, n, f16At);
}
CWB_QUANT_AVX512 float dotBF16Avx512(const std::byte* w, const std::byte* a, std::int64_t n) {
    return dotAvx512<2>(w, a, n, bf16At);
}

// ---- batched products of float rows: 6 rows (converted to float32 once) against 2 tokens at
// a time, 12 accumulators, over runs of 512 columns that stay in the first-level cache; the
// float sums run in another order than vecDot's.

namespace {

template <int kind>
CWB_QUANT_AVX2 void toFloat32(const std::byte* w, std::int64_t n, float* out) {
    std::int64_t i = 0;
    if constexpr (kind != 0)
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, loadW8<kind>(w, i));
    for (; i < n; ++i) out[i] = kind == 0 ? f32At(w, i) : kind == 1 ? f16At(w, i) : bf16At(w, i);
}

template <int kind>
CWB_QUANT_AVX2 void floatTiles(const TileJob& job) {
    constexpr int kRows = 6;
    constexpr std::int64_t kRun = 512;
    const std::int64_t n = job.cols;
    thread_local std::vector<float> converted, sums;
    converted.resize(static_cast<std::size_t>(kRows * n));
    sums.resize(static_cast<std::size_t>(kRows * job.tokens));
    const float* rows[kRows];
    for (std::int64_t r0 = job.rowBegin; r0 < job.rowEnd; r0 += kRows) {
        const int valid = static_cast<int>(std::min<std::int64_t>(kRows, job.rowEnd - r0));
        for (int k = 0; k < kRows; ++k) {
            const std::byte* w =
                job.weights + std::min<std::int64_t>(r0 + k, job.rowEnd - 1) * job.stride;
            if constexpr (kind == 0) {
                rows[k] = reinterpret_cast<const float*>(w);
            } else {
                toFloat32<kind>(w, n, converted.data() + k * n);
                rows[k] = converted.data() + k * n;
            }
        }
        std::fill(sums.begin(), sums.end(), 0.f);
        for (std::int64_t i0 = 0; i0 < n; i0 += kRun) {
            const std::int64_t i1 = std::min(n, i0 + kRun);
            for (std::int64_t t0 = 0; t0 < job.tokens; t0 += 2) {
                const std::int64_t t1 = std::min(t0 + 1, job.tokens - 1);
                const auto* x0 =
                    reinterpret_cast<const float*>(job.activations + t0 * job.activationStride);
                const auto* x1 =
                    reinterpret_cast<const float*>(job.activations + t1 * job.activationStride);
                __m256 acc[kRows][2];
                for (auto& row : acc) row[0] = row[1] = _mm256_setzero_ps();
                std::int64_t i = i0;
                for (; i + 8 <= i1; i += 8) {
                    const __m256 a0 = _mm256_loadu_ps(x0 + i), a1 = _mm256_loadu_ps(x1 + i);
                    for (int k = 0; k < kRows; ++k) {
                        const __m256 w = _mm256_loadu_ps(rows[k] + i);
                        acc[k][0] = _mm256_fmadd_ps(w, a0, acc[k][0]);
                        acc[k][1] = _mm256_fmadd_ps(w, a1, acc[k][1]);
                    }
                }
                for (int k = 0; k < kRows; ++k) {
                    float s0 = hsum8(acc[k][0]), s1 = hsum8(acc[k][1]);
                    for (std::int64_t j = i; j < i1; ++j) {
                        s0 += rows[k][j] * x0[j];
                        s1 += rows[k][j] * x1[j];
                    }
                    sums[t0 * kRows + k] += s0;
                    if (t1 != t0) sums[t1 * kRows + k] += s1;
                }
            }
        }
        for (std::int64_t t = 0; t < job.tokens; ++t)
            std::copy(sums.data() + t * kRows, sums.data() + t * kRows + valid,
                      job.y + t * job.ldy + r0);
    }
}

}  // namespace

bool floatTilesAvx2(DType type, const TileJob& job) {
    switch (type) {
        case DType::F32:
            floatTiles<0>(job);
            return true;
        case DType::F16:
            floatTiles<1>(job);
            return true;
        case DType::BF16:
            floatTiles<2>(job);
            return true;
        default:
            return false;
    }
}

void halfRowToFloatAvx2(bool bf16, const std::byte* row, float* out, std::int64_t n) {
    if (bf16)
        toFloat32<2>(row, n, out);
    else
        toFloat32<1>(row, n, out);
}

}  // namespace cwb::quant::detail
