// Shared by the int8 kernels' .cpp files (internal): the target attributes that let one
// generic build carry AVX2 and AVX-512 VNNI code, chosen by a CPU check at run time.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define CWB_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define CWB_AVX2 __attribute__((target("avx2,fma")))

// GCC 12 warns inside its own AVX-512 headers when they are inlined (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace cwb::int8 {

// Four bytes of A as one 32-bit lane (any alignment).
inline std::int32_t loadQuad(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

}  // namespace cwb::int8
