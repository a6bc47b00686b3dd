// Vector operations that AVX2 and AVX-512 spell alike but for the width, for the ops structs
// of kernels written once over an ISA (core/compress/fused_body.h,
// core/infer/int8/requant_lanes.h): ATTR the target attribute, BITS the register width, P the
// intrinsics' prefix (_mm256, _mm512), B the integer register suffix (si256, si512), MASK
// the type of a comparison's result and CMP the comparison (_mm256_cmp_ps: all-ones lanes,
// _mm512_cmp_ps_mask: mask bits).
#pragma once

#define CWB_VECTOR_OPS(ATTR, BITS, P, B, MASK, CMP)                  \
    static constexpr int kWidth = BITS / 32;                         \
    using F = __m##BITS;                                             \
    using I = __m##BITS##i;                                          \
    using M = MASK;                                                  \
    ATTR static F load(const float* p) { return P##_loadu_ps(p); }   \
    ATTR static void store(float* p, F v) { P##_storeu_ps(p, v); }   \
    ATTR static void stream(float* p, F v) { P##_stream_ps(p, v); }  \
    ATTR static F set1(float x) { return P##_set1_ps(x); }           \
    ATTR static F zero() { return P##_setzero_ps(); }                \
    ATTR static F add(F a, F b) { return P##_add_ps(a, b); }         \
    ATTR static F sub(F a, F b) { return P##_sub_ps(a, b); }         \
    ATTR static F mul(F a, F b) { return P##_mul_ps(a, b); }         \
    ATTR static F div(F a, F b) { return P##_div_ps(a, b); }         \
    ATTR static F min(F a, F b) { return P##_min_ps(a, b); }         \
    ATTR static F max(F a, F b) { return P##_max_ps(a, b); }         \
    ATTR static I toInt(F x) { return P##_cvttps_epi32(x); }         \
    ATTR static F toFloat(I x) { return P##_cvtepi32_ps(x); }        \
    ATTR static I addI(I a, I b) { return P##_add_epi32(a, b); }     \
    ATTR static I subI(I a, I b) { return P##_sub_epi32(a, b); }     \
    ATTR static I mulloI(I a, I b) { return P##_mullo_epi32(a, b); } \
    ATTR static I set1I(int x) { return P##_set1_epi32(x); }         \
    ATTR static I zeroI() { return P##_setzero_##B(); }              \
    ATTR static M ge(F a, F b) { return CMP(a, b, _CMP_GE_OQ); }     \
    ATTR static M le(F a, F b) { return CMP(a, b, _CMP_LE_OQ); }     \
    ATTR static M lt(F a, F b) { return CMP(a, b, _CMP_LT_OQ); }     \
    ATTR static M neq(F a, F b) { return CMP(a, b, _CMP_NEQ_UQ); }
