// Target attributes for the vector kernels of core/quant (internal): one generic build
// carries AVX2 and AVX-512 code, and a CPU check at run time picks which one runs.
#pragma once

#include <immintrin.h>

#define CWB_QUANT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define CWB_QUANT_AVX512 \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

// GCC 12 warns inside its own AVX-512 headers when they are inlined (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
