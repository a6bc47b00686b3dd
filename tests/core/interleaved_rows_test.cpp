// Q4_0 and Q4_K rows interleaved by eight (quant::interleaveRows): the layout turns back into
// the same bytes; the generation product over it equals a naive sum of the blocks' integer
// dot products in double (the K format's 6-bit scales unpacked here by hand) within float
// rounding, as the plain rows' kernel does, for row counts that are not a multiple of 8,
// chunks that start inside a group and codes and activations at their extremes; prefill over
// it gives the plain rows' bits; every Isa and thread count.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/quant_rows.h"
#include "tests/support/isa_scope.h"

using namespace cwb;
using quant::Isa;
using test::IsaScope;

namespace {

// Ten Q4_0 blocks, two Q4_K super-blocks.
std::int64_t colsOf(DType type) { return type == DType::Q4_0 ? 320 : 512; }

// `rows` random rows; `extreme`: every code 15 (the largest int16 sums in the kernels).
std::vector<std::byte> randomRows(DType type, std::int64_t rows, unsigned seed,
                                  bool extreme = false) {
    const std::int64_t cols = colsOf(type);
    const std::size_t rowBytes = quant::rowBytes(type, cols);
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<std::byte> w(rowBytes * static_cast<std::size_t>(rows));
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (auto& v : row) v = 0.05f * dist(rng);
        std::byte* out = w.data() + r * rowBytes;
        quant::quantizeRow(type, row.data(), out, cols);
        if (!extreme) continue;
        const std::size_t block =
            type == DType::Q4_0 ? sizeof(quant::BlockQ4_0) : sizeof(quant::BlockQ4_K);
        const std::size_t codes =
            type == DType::Q4_0 ? offsetof(quant::BlockQ4_0, qs) : offsetof(quant::BlockQ4_K, qs);
        for (std::size_t b = 0; b < rowBytes; b += block)
            std::memset(out + b + codes, 0xff, block - codes);
    }
    return w;
}

float half(std::uint16_t h) {
    float f;
    quant::dequantizeRow(DType::F16, reinterpret_cast<const std::byte*>(&h), &f, 1);
    return f;
}

// The products written out by hand from the blocks, in double: `terms(bw, ba)` gives each
// block's terms, added up here; `scale` gets the sum of their magnitudes for a rounding bound.
template <typename W, typename A, typename Terms>
double naiveDot(const std::byte* w, const std::byte* a, std::int64_t blocks, double& scale,
                Terms terms) {
    double sum = 0;
    scale = 0;
    for (std::int64_t i = 0; i < blocks; ++i) {
        W bw;
        A ba;
        std::memcpy(&bw, w + i * sizeof bw, sizeof bw);
        std::memcpy(&ba, a + i * sizeof ba, sizeof ba);
        for (const double term : terms(bw, ba)) {
            sum += term;
            scale += std::fabs(term);
        }
    }
    return sum;
}

// Q4_0: per block d_w * d_a * sum((q - 8) * a).
double naiveDotQ4_0(const std::byte* w, const std::byte* a, std::int64_t cols, double& scale) {
    return naiveDot<quant::BlockQ4_0, quant::BlockQ8_0>(
        w, a, cols / 32, scale, [](const quant::BlockQ4_0& bw, const quant::BlockQ8_0& ba) {
            long dot = 0;
            for (int j = 0; j < 16; ++j)
                dot += ((bw.qs[j] & 15) - 8) * ba.qs[j] + ((bw.qs[j] >> 4) - 8) * ba.qs[j + 16];
            return std::vector<double>{double(half(bw.d)) * half(ba.d) * double(dot)};
        });
}

// Q4_K: per sub-block j of 32, d_a * (d * sc_j * sum(q * a) - dmin * m_j * sum(a)), with
// sc_j and m_j from llama.cpp's packing of 12 bytes (ggml-common.h's get_scale_min_k4).
double naiveDotQ4_K(const std::byte* w, const std::byte* a, std::int64_t cols, double& scale) {
    return naiveDot<quant::BlockQ4_K, quant::BlockQ8_K>(
        w, a, cols / 256, scale, [](const quant::BlockQ4_K& bw, const quant::BlockQ8_K& ba) {
            std::vector<double> terms;
            for (int j = 0; j < 8; ++j) {
                const std::uint8_t* s = bw.scales;
                const int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
                const int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
                long dot = 0, sumA = 0;
                for (int l = 0; l < 32; ++l) {
                    const int byte = bw.qs[32 * (j / 2) + l];
                    const int q = j % 2 ? byte >> 4 : byte & 15;
                    dot += q * ba.qs[32 * j + l];
                    sumA += ba.qs[32 * j + l];
                }
                terms.push_back(double(ba.d) * half(bw.d) * sc * double(dot));
                terms.push_back(-double(ba.d) * half(bw.dmin) * m * double(sumA));
            }
            return terms;
        });
}

}  // namespace

class InterleavedRowsTest : public QObject {
    Q_OBJECT
private slots:
    void layoutRoundTrips_data() {
        QTest::addColumn<int>("typeId");
        QTest::newRow("Q4_0") << int(DType::Q4_0);
        QTest::newRow("Q4_K") << int(DType::Q4_K);
    }
    void layoutRoundTrips() {
        QFETCH(int, typeId);
        const auto type = static_cast<DType>(typeId);
        const std::int64_t cols = colsOf(type);
        for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
            if (!quant::isaSupported(isa)) continue;
            IsaScope scope(isa);
            for (std::int64_t rows : {1, 7, 8, 13, 37}) {
                const auto w = randomRows(type, rows, static_cast<unsigned>(rows));
                std::vector<std::byte> packed(w.size()), back(w.size());
                quant::interleaveRows(type, w.data(), rows, cols, packed.data());
                if (rows >= 8) QVERIFY(packed != w);
                quant::plainRows(type, packed.data(), rows, cols, 0, rows, back.data());
                QVERIFY(back == w);
                // A range that starts inside a group.
                const std::size_t rowBytes = quant::rowBytes(type, cols);
                const std::int64_t from = rows / 2;
                quant::plainRows(type, packed.data(), rows, cols, from, rows, back.data());
                QVERIFY(std::memcmp(back.data(), w.data() + from * rowBytes,
                                    (rows - from) * rowBytes) == 0);
            }
        }
    }

    void productsEqualNaiveSums_data() {
        QTest::addColumn<int>("typeId");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<bool>("extreme");
        for (DType type : {DType::Q4_0, DType::Q4_K}) {
            const QByteArray name = QByteArray::fromStdString(dtypeName(type));
            QTest::newRow(name + " generation") << int(type) << 1 << false;
            QTest::newRow(name + " extremes") << int(type) << 1 << true;
            QTest::newRow(name + " three tokens") << int(type) << 3 << false;
            QTest::newRow(name + " prefill") << int(type) << 6 << false;
        }
    }
    // A group of 13 and 100 rows: the second matrix's rows 51.. start a chunk of 64 inside a
    // group of eight, and both end in a partial group. Extremes: every code 15 against
    // activations all 1 (codes -128 in Q8_K, 127 in Q8_0).
    void productsEqualNaiveSums() {
        QFETCH(int, typeId);
        QFETCH(int, tokens);
        QFETCH(bool, extreme);
        const auto type = static_cast<DType>(typeId);
        const std::int64_t cols = colsOf(type), rowsA = 13, rowsB = 100;
        const auto wa = randomRows(type, rowsA, 1, extreme), wb = randomRows(type, rowsB, 2);
        std::vector<std::byte> pa(wa.size()), pb(wb.size());
        quant::interleaveRows(type, wa.data(), rowsA, cols, pa.data());
        quant::interleaveRows(type, wb.data(), rowsB, cols, pb.data());
        std::mt19937 rng(3);
        std::normal_distribution<float> dist(0.f, 1.f);
        std::vector<float> x(static_cast<std::size_t>(tokens * cols));
        for (auto& v : x) v = extreme ? 1.f : dist(rng);
        const std::size_t rowBytes = quant::rowBytes(type, cols);
        const auto exactDot = type == DType::Q4_0 ? naiveDotQ4_0 : naiveDotQ4_K;
        std::vector<float> byIsa[quant::kIsaCount];  // the interleaved products, 1 thread
        for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
            if (!quant::isaSupported(isa)) continue;
            IsaScope scope(isa);
            const auto act = quant::quantizeActivations(type, x.data(), tokens, cols);
            for (int threads : {1, 2}) {
                auto product = [&](const std::byte* a, const std::byte* b, bool interleaved) {
                    std::vector<float> ya(tokens * rowsA, NAN), yb(tokens * rowsB, NAN);
                    const quant::PackedProduct products[] = {
                        {{type, a, rowsA, cols, 0, interleaved}, ya.data(), 0},
                        {{type, b, rowsB, cols, 0, interleaved}, yb.data(), 0}};
                    quant::matmulPackedGroup(products, act, threads);
                    ya.insert(ya.end(), yb.begin(), yb.end());
                    return ya;
                };
                const auto plain = product(wa.data(), wb.data(), false);
                const auto inter = product(pa.data(), pb.data(), true);
                if (threads == 1) byIsa[static_cast<int>(isa)] = inter;
                if (tokens >= quant::kBatchTokens) {  // the same tiles over the same rows
                    QVERIFY(inter == plain);
                    continue;
                }
                for (int t = 0; t < tokens; ++t)
                    for (std::int64_t r = 0; r < rowsA + rowsB; ++r) {
                        const std::byte* row = r < rowsA ? wa.data() + r * rowBytes
                                                         : wb.data() + (r - rowsA) * rowBytes;
                        const std::size_t at =
                            r < rowsA ? t * rowsA + r : tokens * rowsA + t * rowsB + r - rowsA;
                        double scale;
                        const double exact = exactDot(row, act.row(t), cols, scale);
                        QVERIFY2(std::fabs(inter[at] - exact) <= 1e-6 * scale + 1e-30,
                                 qPrintable(QString("row %1 token %2: %3 against %4")
                                                .arg(r)
                                                .arg(t)
                                                .arg(inter[at])
                                                .arg(exact)));
                        QVERIFY(std::fabs(plain[at] - exact) <= 1e-6 * scale + 1e-30);
                    }
            }
        }
        // AVX-512 machines run the AVX2 kernels of interleaved rows: the same bits.
        if (quant::isaSupported(Isa::Avx512))
            QVERIFY(byIsa[static_cast<int>(Isa::Avx512)] == byIsa[static_cast<int>(Isa::Avx2)]);
    }

    void refusesOtherTypes() {
        std::vector<std::byte> w(quant::rowBytes(DType::Q8_0, 32) * 8), out(w.size());
        std::vector<float> x(32, 1.f), y(8);
        QVERIFY_THROWS_EXCEPTION(Error, quant::matmulPacked({DType::Q8_0, w.data(), 8, 32, 0, true},
                                                            x.data(), 1, y.data(), 1));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 quant::interleaveRows(DType::Q8_0, w.data(), 8, 32, out.data()));
    }
};

QTEST_APPLESS_MAIN(InterleavedRowsTest)
#include "interleaved_rows_test.moc"
