// llama.cpp's block formats against hand-worked blocks: bytes written here field by field
// from the documented layouts (ggml-common.h), values worked out by hand from d * q (- m);
// and inputs whose codes, scales and packed bytes follow by hand from the reference rules.
// Also the fp16 conversion the scales go through, against hand values, every half, and
// the F16C instruction.
#include "core/quant/block_formats.h"

#include <cpuid.h>
#include <immintrin.h>

#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "core/model/tensor.h"
#include "core/quant/fp16.h"
#include "core/quant/quant_rows.h"

using namespace cwb;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v & 0xff);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

std::vector<float> decode(DType type, const Bytes& bytes) {
    const auto& f = quant::blockFormat(type);
    const std::int64_t n = static_cast<std::int64_t>(bytes.size()) / f.blockBytes * f.blockSize;
    std::vector<float> out(static_cast<std::size_t>(n));
    f.toFloat(reinterpret_cast<const std::byte*>(bytes.data()), out.data(), n);
    return out;
}

Bytes encode(DType type, const std::vector<float>& values) {
    const auto n = static_cast<std::int64_t>(values.size());
    Bytes out(quant::rowBytes(type, n));
    quant::blockFormat(type).fromFloatRef(values.data(), reinterpret_cast<std::byte*>(out.data()),
                                          n);
    return out;
}

__attribute__((target("f16c"))) std::uint16_t hardwareHalf(float f) {
    return static_cast<std::uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

// Q3_K (and Q2_K) 2-bit fields: value e of half h = e / 128 at byte 32 h + e % 32, bits
// 2 ((e % 128) / 32); Q3_K's third bit of value e at bit e / 32 of hmask[e % 32].
void putTwoBits(Bytes& b, std::size_t qs, int e, int code) {
    b[qs + 32 * (e / 128) + e % 32] |=
        static_cast<std::uint8_t>((code & 3) << (2 * ((e % 128) / 32)));
}

}  // namespace

class BlockFormatsTest : public QObject {
    Q_OBJECT
private slots:
    void halfConversionByHand() {
        QCOMPARE(floatToHalf(1.0f), std::uint16_t(0x3c00));
        QCOMPARE(floatToHalf(-2.0f), std::uint16_t(0xc000));
        QCOMPARE(floatToHalf(0.1f), std::uint16_t(0x2e66));
        QCOMPARE(floatToHalf(65504.f), std::uint16_t(0x7bff));
        QCOMPARE(floatToHalf(65519.f), std::uint16_t(0x7bff));
        QCOMPARE(floatToHalf(65520.f), std::uint16_t(0x7c00));  // halfway to 65536: even = Inf
        QCOMPARE(floatToHalf(1.0f + 0x1p-11f), std::uint16_t(0x3c00));      // tie: even
        QCOMPARE(floatToHalf(1.0f + 3 * 0x1p-11f), std::uint16_t(0x3c02));  // tie: even
        QCOMPARE(floatToHalf(0x1p-14f), std::uint16_t(0x0400));             // smallest normal
        QCOMPARE(floatToHalf(0x1p-24f), std::uint16_t(0x0001));             // smallest subnormal
        QCOMPARE(floatToHalf(0x1p-25f), std::uint16_t(0x0000));             // tie: even (zero)
        QCOMPARE(floatToHalf(1.5f * 0x1p-25f), std::uint16_t(0x0001));
        QCOMPARE(floatToHalf(3 * 0x1p-25f), std::uint16_t(0x0002));  // 1.5 units: even
        QCOMPARE(floatToHalf(-0.0f), std::uint16_t(0x8000));
        QVERIFY(std::isnan(halfToFloat(floatToHalf(NAN))));
        QCOMPARE(halfToFloat(0x3555), 0x1.554p-2f);
        QCOMPARE(floatToBf16(1.0f + 0x1p-8f), std::uint16_t(0x3f80));  // tie: even
        QCOMPARE(floatToBf16(1.0f + 3 * 0x1p-8f), std::uint16_t(0x3f82));
    }

    void halfConversionEveryValueAndHardware() {
        for (std::uint32_t h = 0; h < 0x10000; ++h) {
            const float f = halfToFloat(static_cast<std::uint16_t>(h));
            if (std::isnan(f)) continue;
            QCOMPARE(floatToHalf(f), static_cast<std::uint16_t>(h));
        }
        unsigned a, b, c, d;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 29))) QSKIP("no F16C on this CPU");
        std::mt19937 rng(1);
        std::uniform_int_distribution<std::uint32_t> bits;
        for (int i = 0; i < 200000; ++i) {
            // all exponents near the half range, random mantissas and signs
            std::uint32_t b = bits(rng);
            b = (b & 0x807fffffu) | ((90u + (b >> 23) % 60u) << 23);
            const float f = std::bit_cast<float>(b);
            QCOMPARE(floatToHalf(f), hardwareHalf(f));
        }
    }

    // ---- the 32-value formats

    void q4_0ByHand() {
        // d = 0.5; value j < 16 has code j, value 16 + j code 15 - j.
        Bytes b(18);
        put16(b, 0, 0x3800);
        for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
        const auto v = decode(DType::Q4_0, b);
        for (int j = 0; j < 16; ++j) {
            QCOMPARE(v[j], 0.5f * (j - 8));
            QCOMPARE(v[16 + j], 0.5f * (7 - j));
        }
        // Largest magnitude -4: d = -4 / -8 = 0.5, codes x / 0.5 + 8.5 truncated: the same bytes.
        QCOMPARE(encode(DType::Q4_0, v), b);
        // One positive maximum: d = 1 / -8 = -0.125 (0xb000); 1 -> code 0, zeros -> code 8.
        std::vector<float> x(32, 0.f);
        x[0] = 1.f;
        Bytes e(18, 0x88);
        put16(e, 0, 0xb000);
        e[2] = 0x80;
        QCOMPARE(encode(DType::Q4_0, x), e);
    }

    void q4_1ByHand() {
        // d = 0.25, m = -1; codes j and 15 - j as above.
        Bytes b(20);
        put16(b, 0, 0x3400);
        put16(b, 2, 0xbc00);
        for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
        const auto v = decode(DType::Q4_1, b);
        for (int j = 0; j < 16; ++j) {
            QCOMPARE(v[j], 0.25f * j - 1.f);
            QCOMPARE(v[16 + j], 0.25f * (15 - j) - 1.f);
        }
        // min -1, max 2.75: d = 3.75 / 15 = 0.25, codes (x + 1) / 0.25 + 0.5 truncated.
        QCOMPARE(encode(DType::Q4_1, v), b);
    }

    void q5_0ByHand() {
        // d = 0.25; value j has code j (0..31): nibbles j and j + 16 share byte j, the fifth
        // bits of values 16..31 are qh bits 16..31.
        Bytes b(22);
        put16(b, 0, 0x3400);
        b[4] = b[5] = 0xff;
        for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<std::uint8_t>(j | (j << 4));
        const auto v = decode(DType::Q5_0, b);
        for (int j = 0; j < 32; ++j) QCOMPARE(v[j], 0.25f * (j - 16));
        QCOMPARE(encode(DType::Q5_0, v), b);  // max -4: d = -4 / -16 = 0.25
    }

    void q5_1ByHand() {
        // d = 0.125, m = 0.5; value j has code 31 - j: fifth bits set for j < 16.
        Bytes b(24);
        put16(b, 0, 0x3000);
        put16(b, 2, 0x3800);
        b[4] = b[5] = 0xff;
        for (int j = 0; j < 16; ++j) b[8 + j] = static_cast<std::uint8_t>((15 - j) * 0x11);
        const auto v = decode(DType::Q5_1, b);
        for (int j = 0; j < 32; ++j) QCOMPARE(v[j], 0.125f * (31 - j) + 0.5f);
        QCOMPARE(encode(DType::Q5_1, v), b);  // min 0.5, max 4.375: d = 3.875 / 31
    }

    void q8_0AndQ8_1ByHand() {
        // d = 1/16; codes 127 - 8 j.
        Bytes b(34);
        put16(b, 0, 0x2c00);
        for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<std::uint8_t>(127 - 8 * j);
        const auto v = decode(DType::Q8_0, b);
        for (int j = 0; j < 32; ++j) QCOMPARE(v[j], (127 - 8 * j) / 16.f);
        QCOMPARE(encode(DType::Q8_0, v), b);  // amax 127/16: d = 1/16, codes round(16 x)
        // Q8_1 adds s = d * sum(codes) = 96 / 16 = 6 (0x4600).
        Bytes b1(36);
        put16(b1, 0, 0x2c00);
        put16(b1, 2, 0x4600);
        std::memcpy(b1.data() + 4, b.data() + 2, 32);
        QCOMPARE(encode(DType::Q8_1, v), b1);
        QCOMPARE(decode(DType::Q8_1, b1), v);
        // roundf rounds halves away from zero: d = 1, codes of +-2.5 are +-3.
        std::vector<float> x(32, 0.f);
        x[0] = 127.f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        const Bytes q = encode(DType::Q8_0, x);
        QCOMPARE(int(std::int8_t(q[3])), 3);
        QCOMPARE(int(std::int8_t(q[4])), -3);
    }

    // ---- the K formats

    void q2_KByHand() {
        // d = 1, dmin = 0.5; sub-block j: scale j, min 15 - j; value e: code (e / 32 + e) % 4.
        Bytes b(84, 0);
        for (int j = 0; j < 16; ++j) b[j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
        for (int e = 0; e < 256; ++e) putTwoBits(b, 16, e, (e / 32 + e) % 4);
        put16(b, 80, 0x3c00);
        put16(b, 82, 0x3800);
        QCOMPARE(b[16], std::uint8_t(0xe4));  // codes 0, 1, 2, 3 at bits 0, 2, 4, 6
        QCOMPARE(b[17], std::uint8_t(0x39));  // codes 1, 2, 3, 0
        const auto v = decode(DType::Q2_K, b);
        for (int e = 0; e < 256; ++e) {
            const int j = e / 16;
            QCOMPARE(v[e], float(j) * float((e / 32 + e) % 4) - 0.5f * float(15 - j));
        }
        // Every sub-block 0, 1, 2, 3, ...: scale 1 and minimum 0 exactly, so the scales are
        // 15 = 1 / (1 / 15), d = fp16(1/15) = 0x2c44, dmin 0, and the codes the values.
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) x[e] = float(e % 4);
        Bytes e(84, 0);
        for (int j = 0; j < 16; ++j) e[j] = 0x0f;
        for (int k = 0; k < 64; ++k) e[16 + k] = static_cast<std::uint8_t>((k % 4) * 0x55);
        put16(e, 80, 0x2c44);
        QCOMPARE(encode(DType::Q2_K, x), e);
    }

    void q3_KByHand() {
        // d = 0.5; sub-block j has scale j - 8 (stored j + 24); value e has code
        // (e / 32 + e) % 8 - 4: two low bits in qs, the third bit (code >= 0) in hmask.
        Bytes b(110, 0);
        auto put = [&](Bytes& out, const std::vector<int>& codes) {
            for (int e = 0; e < 256; ++e) {
                const int u = codes[e] + 4;
                putTwoBits(out, 32, e, u & 3);
                if (u & 4) out[e % 32] |= static_cast<std::uint8_t>(1u << (e / 32));
            }
        };
        std::vector<int> codes(256);
        for (int e = 0; e < 256; ++e) codes[e] = (e / 32 + e) % 8 - 4;
        put(b, codes);
        // scales: low nibbles of j + 24 in bytes 0-7 (j < 8 low, j >= 8 high nibble); the
        // high 2 bits (1 for j < 8, 2 for j >= 8) at bits 2 (j / 4) of byte 8 + j % 4.
        for (int i = 0; i < 8; ++i) b[96 + i] = static_cast<std::uint8_t>((i + 8) | (i << 4));
        for (int i = 0; i < 4; ++i) b[104 + i] = 0xa5;
        put16(b, 108, 0x3800);
        const auto v = decode(DType::Q3_K, b);
        for (int e = 0; e < 256; ++e) QCOMPARE(v[e], 0.5f * float(e / 16 - 8) * float(codes[e]));
        // Every sub-block -4 .. 3 twice: scale 1, so the 6-bit scales are round(-32 * 1) + 32
        // = 0, d = 1 / -32 (0xa800), and the codes the values.
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) {
            x[e] = float(e % 8 - 4);
            codes[e] = e % 8 - 4;
        }
        Bytes expected(110, 0);
        put(expected, codes);
        put16(expected, 108, 0xa800);
        QCOMPARE(encode(DType::Q3_K, x), expected);
    }

    void q4_KByHand() {
        // d = 0.5, dmin = 0.25; sub-block j: scale 10 + j, min 40 + j, packed by hand:
        // bytes 0-3 scales 10-13 with the top bits of scales 14-17 (0, 0, 1, 1) at bit 6;
        // bytes 4-7 mins 40-43 with the top bits of mins 44-47 (2) at bit 6; bytes 8-11 the
        // low nibbles of scale (14-17) and min (44-47).
        const std::uint8_t scales[12] = {10, 11, 76, 77, 168, 169, 170, 171, 206, 223, 224, 241};
        Bytes b(144, 0);
        put16(b, 0, 0x3800);
        put16(b, 2, 0x3400);
        std::memcpy(b.data() + 4, scales, 12);
        // value e: code (e / 32 + e) % 16; chunk c of 64 values: low nibbles then high ones.
        for (int e = 0; e < 256; ++e) {
            const int code = (e / 32 + e) % 16;
            b[16 + 32 * (e / 64) + e % 32] |=
                static_cast<std::uint8_t>(e % 64 < 32 ? code : code << 4);
        }
        const auto v = decode(DType::Q4_K, b);
        for (int e = 0; e < 256; ++e) {
            const int j = e / 32;
            QCOMPARE(v[e], 0.5f * float(10 + j) * float((e / 32 + e) % 16) - 0.25f * float(40 + j));
        }
        // Every sub-block 0 .. 15 twice: scale 1, minimum 0, so 6-bit scales 63, mins 0,
        // d = fp16(1/63) = 0x2410, dmin 0; bytes 0-3 hold 63 and the top bits 3 of scales
        // 4-7, bytes 8-11 their low nibbles 15.
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) x[e] = float(e % 16);
        Bytes expected(144, 0);
        put16(expected, 0, 0x2410);
        const std::uint8_t packed[12] = {255, 255, 255, 255, 0, 0, 0, 0, 15, 15, 15, 15};
        std::memcpy(expected.data() + 4, packed, 12);
        for (int k = 0; k < 128; ++k) expected[16 + k] = static_cast<std::uint8_t>((k % 16) * 0x11);
        QCOMPARE(encode(DType::Q4_K, x), expected);
    }

    void q5_KByHand() {
        // The same scales as Q4_K; value e: code (e / 32 + e) % 32, the fifth bit at bit
        // e / 32 of qh[e % 32].
        const std::uint8_t scales[12] = {10, 11, 76, 77, 168, 169, 170, 171, 206, 223, 224, 241};
        Bytes b(176, 0);
        put16(b, 0, 0x3800);
        put16(b, 2, 0x3400);
        std::memcpy(b.data() + 4, scales, 12);
        for (int e = 0; e < 256; ++e) {
            const int code = (e / 32 + e) % 32;
            b[48 + 32 * (e / 64) + e % 32] |=
                static_cast<std::uint8_t>(e % 64 < 32 ? (code & 15) : (code & 15) << 4);
            if (code & 16) b[16 + e % 32] |= static_cast<std::uint8_t>(1u << (e / 32));
        }
        const auto v = decode(DType::Q5_K, b);
        for (int e = 0; e < 256; ++e) {
            const int j = e / 32;
            QCOMPARE(v[e], 0.5f * float(10 + j) * float((e / 32 + e) % 32) - 0.25f * float(40 + j));
        }
        // Every sub-block 0 .. 31: scale 1, minimum 0; as Q4_K, with fifth bits for codes >= 16.
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) x[e] = float(e % 32);
        Bytes expected(176, 0);
        put16(expected, 0, 0x2410);
        const std::uint8_t packed[12] = {255, 255, 255, 255, 0, 0, 0, 0, 15, 15, 15, 15};
        std::memcpy(expected.data() + 4, packed, 12);
        for (int l = 16; l < 32; ++l) expected[16 + l] = 0xff;
        for (int k = 0; k < 128; ++k) expected[48 + k] = static_cast<std::uint8_t>((k % 16) * 0x11);
        QCOMPARE(encode(DType::Q5_K, x), expected);
    }

    void q6_KByHand() {
        // d = 0.25; sub-block j: int8 scale 3 j - 20; value e: code e % 64 - 32, stored + 32:
        // low nibbles in ql (quarters 0/1 low, 2/3 high nibble of bytes l and l + 32 of its
        // half), the top 2 bits at bits 2 k of qh[l].
        auto pack = [](Bytes& b, const std::vector<int>& u) {
            for (int e = 0; e < 256; ++e) {
                const int h = e / 128, k = (e % 128) / 32, l = e % 32;
                b[64 * h + l + 32 * (k & 1)] |=
                    static_cast<std::uint8_t>((u[e] & 15) << (k < 2 ? 0 : 4));
                b[128 + 32 * h + l] |= static_cast<std::uint8_t>((u[e] >> 4) << (2 * k));
            }
        };
        Bytes b(210, 0);
        std::vector<int> u(256);
        for (int e = 0; e < 256; ++e) u[e] = e % 64;
        pack(b, u);
        QCOMPARE(b[128], std::uint8_t(136));       // l = 0: top bits 0, 2, 0, 2
        QCOMPARE(b[128 + 16], std::uint8_t(221));  // l = 16: 1, 3, 1, 3
        for (int j = 0; j < 16; ++j) b[192 + j] = static_cast<std::uint8_t>(3 * j - 20);
        put16(b, 208, 0x3400);
        const auto v = decode(DType::Q6_K, b);
        for (int e = 0; e < 256; ++e)
            QCOMPARE(v[e], 0.25f * float(3 * (e / 16) - 20) * float(e % 64 - 32));
        // Every sub-block -16 .. -1: scale 0.5 (codes 2 x fit exactly), int8 scales
        // round(-128 / 0.5 * 0.5) = -128, d = 1 / -256 (0x9c00), stored codes 2 (e % 16).
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) {
            x[e] = float(e % 16 - 16);
            u[e] = 2 * (e % 16);
        }
        Bytes expected(210, 0);
        pack(expected, u);
        for (int j = 0; j < 16; ++j) expected[192 + j] = 0x80;
        put16(expected, 208, 0x9c00);
        QCOMPARE(encode(DType::Q6_K, x), expected);
    }

    void q8_KByHand() {
        // Values -8 .. 7 repeated: max -8, iscale -127 / -8 = 15.875; codes round-half-even
        // of 15.875 x: -127 -111 -95 -79 -64 -48 -32 -16 0 16 32 48 64 79 95 111 (4 x 15.875
        // = 63.5 -> 64); each sum of 16 is -127; d = 1 / 15.875.
        std::vector<float> x(256);
        for (int e = 0; e < 256; ++e) x[e] = float(e % 16 - 8);
        const Bytes q = encode(DType::Q8_K, x);
        const int codes[16] = {-127, -111, -95, -79, -64, -48, -32, -16,
                               0,    16,   32,  48,  64,  79,  95,  111};
        float d;
        std::memcpy(&d, q.data(), 4);
        QCOMPARE(d, 1 / 15.875f);
        for (int e = 0; e < 256; ++e) QCOMPARE(int(std::int8_t(q[4 + e])), codes[e % 16]);
        for (int j = 0; j < 16; ++j) {
            std::int16_t s;
            std::memcpy(&s, q.data() + 260 + 2 * j, 2);
            QCOMPARE(int(s), -127);
        }
        const auto v = decode(DType::Q8_K, q);
        for (int e = 0; e < 256; ++e) QCOMPARE(v[e], d * float(codes[e % 16]));
    }

    void allZeroBlocks() {
        for (DType t :
             {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1,
              DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K}) {
            const auto& f = quant::blockFormat(t);
            const std::vector<float> zeros(static_cast<std::size_t>(f.blockSize), 0.f);
            for (float v : decode(t, encode(t, zeros))) QCOMPARE(v, 0.f);
        }
    }

    void tensorDecodesThroughTheTable() {
        Bytes b(2 * 18);
        for (int k = 0; k < 2; ++k) {
            put16(b, 18 * k, k ? 0x3c00 : 0x3800);
            for (int j = 0; j < 16; ++j)
                b[18 * k + 2 + j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
        }
        auto storage = std::make_shared<OwnedStorage>(b.size());
        std::memcpy(storage->mutableData(), b.data(), b.size());
        const Tensor t({2, 32}, DType::Q4_0, storage);
        QCOMPARE(t.toFloatVector(), decode(DType::Q4_0, b));
        QCOMPARE(t.toFloatVector()[32], -8.f);  // second row, d = 1, code 0
    }

    void tableRows() {
        for (DType t :
             {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1,
              DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K}) {
            const auto& f = quant::blockFormat(t);
            QCOMPARE(f.type, t);
            QCOMPARE(std::size_t(f.blockSize), dtypeBlockSize(t));
            QCOMPARE(std::size_t(f.blockBytes), dtypeBlockBytes(t));
        }
        QCOMPARE(quant::blockFormat(DType::Q4_0).dotType, DType::Q8_0);
        QCOMPARE(quant::blockFormat(DType::Q5_1).dotType, DType::Q8_1);
        QCOMPARE(quant::blockFormat(DType::Q3_K).dotType, DType::Q8_K);
        QVERIFY(!quant::blockFormat(DType::Q8_K).vecDot[0]);
        QVERIFY_THROWS_EXCEPTION(Error, quant::blockFormat(DType::F16));
    }
};

QTEST_APPLESS_MAIN(BlockFormatsTest)
#include "block_formats_test.moc"
