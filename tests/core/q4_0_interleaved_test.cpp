// Q4_0 rows interleaved by eight (quant::interleaveQ4_0): the layout turns back into the same
// bytes; the generation product over it equals a naive sum of the blocks' integer dot products
// in double within float rounding, as the plain rows' kernel does, for row counts that are not
// a multiple of 8 and chunks that start inside a group; prefill over it gives the plain rows'
// bits; every Isa and thread count.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "core/quant/block_formats.h"
#include "core/quant/block_layouts.h"
#include "core/quant/quant_rows.h"
#include "tests/support/isa_scope.h"

using namespace cwb;
using quant::Isa;
using test::IsaScope;

namespace {

constexpr std::int64_t kCols = 320;  // ten blocks

std::vector<std::byte> randomRows(std::int64_t rows, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<std::byte> w(quant::rowBytes(DType::Q4_0, kCols) * static_cast<std::size_t>(rows));
    std::vector<float> row(kCols);
    for (std::int64_t r = 0; r < rows; ++r) {
        for (auto& v : row) v = 0.05f * dist(rng);
        quant::quantizeRow(DType::Q4_0, row.data(),
                           w.data() + r * quant::rowBytes(DType::Q4_0, kCols), kCols);
    }
    return w;
}

float half(std::uint16_t h) {
    float f;
    quant::dequantizeRow(DType::F16, reinterpret_cast<const std::byte*>(&h), &f, 1);
    return f;
}

// The product written out by hand from the blocks: per block d_w * d_a * sum((q - 8) * a),
// in double; `scale` gets the sum of the terms' magnitudes for a rounding bound.
double naiveDot(const std::byte* w, const std::byte* a, double& scale) {
    double sum = 0;
    scale = 0;
    for (std::int64_t i = 0; i < kCols / 32; ++i) {
        quant::BlockQ4_0 bw;
        quant::BlockQ8_0 ba;
        std::memcpy(&bw, w + i * sizeof bw, sizeof bw);
        std::memcpy(&ba, a + i * sizeof ba, sizeof ba);
        long dot = 0;
        for (int j = 0; j < 16; ++j)
            dot += ((bw.qs[j] & 15) - 8) * ba.qs[j] + ((bw.qs[j] >> 4) - 8) * ba.qs[j + 16];
        const double term = double(half(bw.d)) * half(ba.d) * double(dot);
        sum += term;
        scale += std::fabs(term);
    }
    return sum;
}

}  // namespace

class Q4_0InterleavedTest : public QObject {
    Q_OBJECT
private slots:
    void layoutRoundTrips() {
        for (std::int64_t rows : {1, 7, 8, 13, 37}) {
            const auto w = randomRows(rows, static_cast<unsigned>(rows));
            std::vector<std::byte> packed(w.size()), back(w.size());
            quant::interleaveQ4_0(w.data(), rows, kCols, packed.data());
            if (rows >= 8) QVERIFY(packed != w);
            quant::plainRowsQ4_0(packed.data(), rows, kCols, 0, rows, back.data());
            QVERIFY(back == w);
            // A range that starts inside a group.
            const std::size_t rowBytes = quant::rowBytes(DType::Q4_0, kCols);
            const std::int64_t from = rows / 2;
            quant::plainRowsQ4_0(packed.data(), rows, kCols, from, rows, back.data());
            QVERIFY(std::memcmp(back.data(), w.data() + from * rowBytes,
                                (rows - from) * rowBytes) == 0);
        }
    }

    void productsEqualPlainRows_data() {
        QTest::addColumn<int>("tokens");
        QTest::newRow("generation") << 1;
        QTest::newRow("three tokens") << 3;
        QTest::newRow("prefill") << 6;
    }
    // A group of 13 and 100 rows: the second matrix's rows 51.. start a chunk of 64 inside a
    // group of eight, and both end in a partial group.
    void productsEqualPlainRows() {
        QFETCH(int, tokens);
        const std::int64_t rowsA = 13, rowsB = 100;
        const auto wa = randomRows(rowsA, 1), wb = randomRows(rowsB, 2);
        std::vector<std::byte> pa(wa.size()), pb(wb.size());
        quant::interleaveQ4_0(wa.data(), rowsA, kCols, pa.data());
        quant::interleaveQ4_0(wb.data(), rowsB, kCols, pb.data());
        std::mt19937 rng(3);
        std::normal_distribution<float> dist(0.f, 1.f);
        std::vector<float> x(static_cast<std::size_t>(tokens * kCols));
        for (auto& v : x) v = dist(rng);
        const std::size_t rowBytes = quant::rowBytes(DType::Q4_0, kCols);
        for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
            if (!quant::isaSupported(isa)) continue;
            IsaScope scope(isa);
            const auto act = quant::quantizeActivations(DType::Q4_0, x.data(), tokens, kCols);
            for (int threads : {1, 2}) {
                auto product = [&](const std::byte* a, const std::byte* b, bool interleaved) {
                    std::vector<float> ya(tokens * rowsA, NAN), yb(tokens * rowsB, NAN);
                    const quant::PackedProduct products[] = {
                        {{DType::Q4_0, a, rowsA, kCols, 0, interleaved}, ya.data(), 0},
                        {{DType::Q4_0, b, rowsB, kCols, 0, interleaved}, yb.data(), 0}};
                    quant::matmulPackedGroup(products, act, threads);
                    ya.insert(ya.end(), yb.begin(), yb.end());
                    return ya;
                };
                const auto plain = product(wa.data(), wb.data(), false);
                const auto inter = product(pa.data(), pb.data(), true);
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
                        const double exact = naiveDot(row, act.row(t), scale);
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
    }

    void refusesOtherTypes() {
        std::vector<std::byte> w(quant::rowBytes(DType::Q8_0, 32) * 8);
        std::vector<float> x(32, 1.f), y(8);
        QVERIFY_THROWS_EXCEPTION(Error, quant::matmulPacked({DType::Q8_0, w.data(), 8, 32, 0, true},
                                                            x.data(), 1, y.data(), 1));
    }
};

QTEST_APPLESS_MAIN(Q4_0InterleavedTest)
#include "q4_0_interleaved_test.moc"
