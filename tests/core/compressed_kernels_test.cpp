// int8 and sparse kernels against plain references on random data. Integer products must
// be identical for every ISA; float layers must agree within a named bound.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "core/compress/compress_model.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/int8/int8_gemm.h"
#include "core/infer/int8/int8_layer.h"
#include "core/infer/sparse/csr_spmm.h"
#include "core/infer/sparse/sparse_layer.h"
#include "core/infer/window.h"

using namespace cwb;

namespace {

std::vector<float> uniform(std::size_t n, float lo, float hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Weights on a per-channel grid: step[j] * integer code in [lo, hi].
std::vector<float> gridWeights(int k, int n, int lo, int hi, std::vector<float>& steps,
                               unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> code(lo, hi);
    steps = uniform(static_cast<std::size_t>(n), 0.001f, 0.02f, seed + 1);
    std::vector<float> w(static_cast<std::size_t>(k) * n);
    for (int r = 0; r < k; ++r)
        for (int j = 0; j < n; ++j)
            w[static_cast<std::size_t>(r) * n + j] = static_cast<float>(code(rng)) * steps[j];
    return w;
}

// The most a uint8 activation quantization (step = range / 255, half a step per value) can
// move output j of a row: sum_k |w_kj| * step / 2, plus float rounding of the sums.
double activationBound(const std::vector<float>& w, int k, int n, int j, double range) {
    double sum = 0;
    for (int r = 0; r < k; ++r) sum += std::fabs(w[static_cast<std::size_t>(r) * n + j]);
    return sum * range / 255.0 / 2.0 * 1.001 + 1e-5;
}

}  // namespace

class CompressedKernelsTest : public QObject {
    Q_OBJECT
private slots:
    void int8GemmIsExactOnEveryIsa() {
        std::mt19937 rng(3);
        for (int m : {1, 5, 6, 7, 13})
            for (int k : {1, 3, 4, 5, 27, 300})
                for (int n : {1, 15, 16, 17, 63, 64, 65, 130}) {
                    const int kp = (k + 3) / 4 * 4;
                    std::vector<std::uint8_t> a(static_cast<std::size_t>(m) * kp);
                    std::vector<std::int8_t> b(static_cast<std::size_t>(k) * n);
                    for (auto& v : a) v = static_cast<std::uint8_t>(rng() & 0xff);
                    for (auto& v : b)
                        v = static_cast<std::int8_t>(static_cast<int>(rng() & 0xff) - 128);
                    std::vector<std::int32_t> expected(static_cast<std::size_t>(m) * n);
                    int8::gemmU8S8Ref(a.data(), m, k, kp, b.data(), n, expected.data(), n);
                    const auto packed = int8::packB(b.data(), k, n);
                    for (auto isa : {int8::Isa::Scalar, int8::Isa::Avx2, int8::Isa::Avx512Vnni}) {
                        if (!int8::isaAvailable(isa)) continue;
                        std::vector<std::int32_t> got(expected.size(), -1);
                        int8::gemmU8S8(isa, a.data(), m, kp, packed, got.data(), n);
                        QVERIFY2(got == expected,
                                 qPrintable(QString("%1 m=%2 k=%3 n=%4")
                                                .arg(QString::fromStdString(int8::isaName(isa)))
                                                .arg(m)
                                                .arg(k)
                                                .arg(n)));
                    }
                }
        QVERIFY(int8::isaAvailable(int8::Isa::Scalar));
    }

    // Narrow weights (every |B| <= 64) take AVX2's byte-pair kernel: its integers equal the
    // reference at the extremes (A = 255 beside B = +-64: the largest pair sums), and its
    // requantization in registers equals the scalar loop's, value for value.
    void int8NarrowWeightsAreExact() {
        std::mt19937 rng(4);
        for (int m : {1, 3, 4, 9})
            for (int k : {1, 4, 7, 64, 301})
                for (int n : {1, 8, 15, 16, 17, 40}) {
                    const int kp = (k + 3) / 4 * 4;
                    std::vector<std::uint8_t> a(static_cast<std::size_t>(m) * kp);
                    std::vector<std::int8_t> b(static_cast<std::size_t>(k) * n);
                    for (std::size_t i = 0; i < a.size(); ++i)
                        a[i] = i % 3 == 0 ? 255 : static_cast<std::uint8_t>(rng() & 0xff);
                    for (std::size_t i = 0; i < b.size(); ++i)
                        b[i] = i % 5 == 0   ? (i % 2 ? 64 : -64)
                               : i % 5 == 1 ? 64
                                            : static_cast<std::int8_t>(int(rng() % 129) - 64);
                    std::vector<std::int32_t> expected(static_cast<std::size_t>(m) * n);
                    int8::gemmU8S8Ref(a.data(), m, k, kp, b.data(), n, expected.data(), n);
                    const auto packed = int8::packB(b.data(), k, n);
                    QCOMPARE(packed.maxAbs, 64);
                    const auto where = QString("m=%1 k=%2 n=%3").arg(m).arg(k).arg(n);
                    for (auto isa : {int8::Isa::Scalar, int8::Isa::Avx2, int8::Isa::Avx512Vnni}) {
                        if (!int8::isaAvailable(isa)) continue;
                        std::vector<std::int32_t> got(expected.size(), -1);
                        int8::gemmU8S8(isa, a.data(), m, kp, packed, got.data(), n);
                        QVERIFY2(got == expected, qPrintable(where));
                    }
                    if (!int8::isaAvailable(int8::Isa::Avx2)) continue;
                    const auto rowScale = uniform(static_cast<std::size_t>(m), 0.001f, 0.1f, 5);
                    const auto colStep = uniform(static_cast<std::size_t>(n), 0.001f, 0.1f, 6);
                    const auto bias = uniform(static_cast<std::size_t>(n), -1.f, 1.f, 7);
                    const auto scale = uniform(static_cast<std::size_t>(n), 0.5f, 2.f, 8);
                    const auto shift = uniform(static_cast<std::size_t>(n), -1.f, 1.f, 9);
                    std::vector<std::int32_t> rowZero(static_cast<std::size_t>(m)),
                        rowCentred(static_cast<std::size_t>(m)),
                        colOffset(static_cast<std::size_t>(n));
                    for (auto& z : rowZero) z = static_cast<std::int32_t>(rng() % 256);
                    for (auto& z : rowCentred) z = static_cast<std::int32_t>(rng() % 2001) - 1000;
                    for (auto& o : colOffset) o = static_cast<std::int32_t>(rng() % 200);
                    std::vector<float> scalarOut(static_cast<std::size_t>(m) * n, 0.25f),
                        avx2Out(scalarOut);
                    int8::Requant q;
                    q.rowScale = rowScale.data();
                    q.rowZero = rowZero.data();
                    q.rowCentred = rowCentred.data();
                    q.colStep = colStep.data();
                    q.colOffset = colOffset.data();
                    q.accumulate = true;
                    q.bias = bias.data();
                    q.scale = scale.data();
                    q.shift = shift.data();
                    q.relu = true;
                    q.ldo = n;
                    q.out = scalarOut.data();
                    int8::gemmU8S8Requant(int8::Isa::Scalar, a.data(), m, kp, packed, q);
                    q.out = avx2Out.data();
                    int8::gemmU8S8Requant(int8::Isa::Avx2, a.data(), m, kp, packed, q);
                    QVERIFY2(
                        std::memcmp(scalarOut.data(), avx2Out.data(), scalarOut.size() * 4) == 0,
                        qPrintable(where));
                }
    }

    void int8DenseWithinActivationBound_data() {
        QTest::addColumn<int>("codeLo");
        QTest::addColumn<int>("codeHi");
        QTest::addColumn<int>("group");
        QTest::newRow("symmetric codes") << -127 << 127 << 0;
        QTest::newRow("asymmetric codes need offsets") << 0 << 255 << 0;
        QTest::newRow("small codes") << -7 << 7 << 0;
        QTest::newRow("7-bit codes off centre") << -10 << 110 << 0;
        QTest::newRow("groups of 32") << -127 << 127 << 32;
    }
    void int8DenseWithinActivationBound() {
        QFETCH(int, codeLo);
        QFETCH(int, codeHi);
        QFETCH(int, group);
        const int k = 75, n = 37, rows = 9;
        std::vector<float> steps;
        const auto w = gridWeights(k, n, codeLo, codeHi, steps, 11);
        KernelGrid grid;
        grid.quantized = true;
        grid.granularity = Granularity::Channel;
        grid.steps = steps;
        if (group) {  // the same steps repeated per group: a valid group grid
            grid.granularity = Granularity::Group;
            grid.groupSize = group;
            grid.steps.clear();
            for (int g = 0; g < (k + group - 1) / group; ++g)
                grid.steps.insert(grid.steps.end(), steps.begin(), steps.end());
        }
        int8::Int8Weights iw;
        std::string why;
        QVERIFY2(int8::weightsFromGrid(w.data(), k, n, grid, iw, why), why.c_str());
        // Offsets where codes pass int8, or on AVX2 where a 7-bit span passes [-64, 64].
        const bool pairs = int8::bestIsa() == int8::Isa::Avx2 && codeHi - codeLo <= 128;
        QCOMPARE(iw.anyOffset, codeHi > 127 || (pairs && (codeLo < -64 || codeHi > 64)));
        const auto x = uniform(static_cast<std::size_t>(rows) * k, -1.f, 2.f, 12);
        const auto bias = uniform(static_cast<std::size_t>(n), -0.1f, 0.1f, 13);
        std::vector<float> expected(static_cast<std::size_t>(rows) * n), got(expected.size());
        cpu::denseReference(x.data(), rows, k, n, w.data(), bias.data(), expected.data());
        Epilogue e;
        e.bias = bias.data();
        // The integer path exactly: the same product on the dequantized activations, in double.
        std::vector<std::uint8_t> xq(static_cast<std::size_t>(rows) * k);
        std::vector<float> sa(rows);
        std::vector<std::int32_t> za(rows);
        int8::quantizeRows(x.data(), rows, k, xq.data(), k, sa.data(), za.data());
        std::vector<float> dequantized(x.size());
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < k; ++c)
                dequantized[static_cast<std::size_t>(r) * k + c] =
                    static_cast<float>(xq[static_cast<std::size_t>(r) * k + c] - za[r]) * sa[r];
        std::vector<float> exact(expected.size());
        cpu::denseReference(dequantized.data(), rows, k, n, w.data(), bias.data(), exact.data());
        for (auto isa : {int8::Isa::Scalar, int8::bestIsa()}) {
            int8::Int8Scratch scratch;
            int8::denseInt8(isa, iw, e, x.data(), rows, got.data(), scratch);
            for (std::size_t i = 0; i < got.size(); ++i)  // float32 rounding of the epilogue only
                QVERIFY2(std::fabs(got[i] - exact[i]) <= 1e-5 * (1.0 + std::fabs(exact[i])),
                         qPrintable(QString("%1: %2 vs %3").arg(i).arg(got[i]).arg(exact[i])));
            for (int r = 0; r < rows; ++r) {
                float lo = 0, hi = 0;
                for (int c = 0; c < k; ++c) {
                    lo = std::min(lo, x[static_cast<std::size_t>(r) * k + c]);
                    hi = std::max(hi, x[static_cast<std::size_t>(r) * k + c]);
                }
                for (int j = 0; j < n; ++j) {
                    const double diff = std::fabs(got[static_cast<std::size_t>(r) * n + j] -
                                                  expected[static_cast<std::size_t>(r) * n + j]);
                    QVERIFY2(diff <= activationBound(w, k, n, j, hi - lo),
                             qPrintable(QString("row %1 col %2 diff %3").arg(r).arg(j).arg(diff)));
                }
            }
        }
    }

    void offGridWeightsAreRefused() {
        std::vector<float> steps;
        auto w = gridWeights(8, 4, -5, 5, steps, 1);
        w[3] += 1e-4f;
        KernelGrid grid{true, Granularity::Channel, 0, steps, {}, -5, 5, 4};
        int8::Int8Weights iw;
        std::string why;
        QVERIFY(!int8::weightsFromGrid(w.data(), 8, 4, grid, iw, why));
        QVERIFY(why.find("grid") != std::string::npos);
        grid.quantized = false;
        QVERIFY(!int8::weightsFromGrid(w.data(), 8, 4, grid, iw, why));
    }

    void int8Conv2dWithinActivationBound() {
        const Conv2DConfig config{12, 3, 3, 2, 1, Padding::Same};
        const int h = 9, wd = 8, c = 5;
        const int k = 3 * 3 * c, n = config.filters;
        std::vector<float> steps;
        const auto w = gridWeights(k, n, -100, 100, steps, 21);
        KernelGrid grid{true, Granularity::Channel, 0, steps, {}, -100, 100, 8};
        int8::Int8Weights iw;
        std::string why;
        QVERIFY2(int8::weightsFromGrid(w.data(), k, n, grid, iw, why), why.c_str());
        const int batch = 3;
        const auto x = uniform(static_cast<std::size_t>(batch) * h * wd * c, 0.f, 1.5f, 22);
        const auto bias = uniform(static_cast<std::size_t>(n), -0.1f, 0.1f, 23);
        const Window2D win = makeWindow2D(h, wd, c, 3, 3, 2, 1, Padding::Same);
        std::vector<float> expected(static_cast<std::size_t>(batch) * win.outputPixels() * n),
            got(expected.size());
        cpu::conv2dReference(x.data(), batch, h, wd, c, config, w.data(), bias.data(),
                             expected.data());
        Epilogue e;
        e.bias = bias.data();
        int8::Int8Scratch scratch;
        int8::conv2dInt8(int8::bestIsa(), win, iw, e, x.data(), batch, got.data(), scratch);
        for (int b = 0; b < batch; ++b) {
            float lo = 0, hi = 0;
            for (long long i = 0; i < win.inputSize(); ++i) {
                lo = std::min(lo, x[b * win.inputSize() + i]);
                hi = std::max(hi, x[b * win.inputSize() + i]);
            }
            for (long long p = 0; p < win.outputPixels(); ++p)
                for (int j = 0; j < n; ++j) {
                    const std::size_t i = (b * win.outputPixels() + p) * n + j;
                    QVERIFY2(
                        std::fabs(got[i] - expected[i]) <= activationBound(w, k, n, j, hi - lo),
                        qPrintable(QString("image %1 pixel %2 filter %3").arg(b).arg(p).arg(j)));
                }
        }
    }

    // Valid convolutions read the image directly (no patches) where their kernel rows are
    // whole 4-byte groups or were padded to them: the result must be the exact product on
    // the dequantized image, for every ISA.
    void int8Conv2dValidIsExactOnDequantizedInput_data() {
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("channels");
        QTest::addColumn<bool>("padRows");
        QTest::addColumn<int>("lowestCode");  // codes above 127 need per-filter offsets
        QTest::newRow("stride 1, 8 channels (implicit)") << 1 << 8 << false << -127;
        QTest::newRow("stride 2, 12 channels (implicit)") << 2 << 12 << false << -127;
        QTest::newRow("stride 1, 3 channels (patches)") << 1 << 3 << false << -127;
        QTest::newRow("stride 1, 1 channel (implicit, padded kernel rows)")
            << 1 << 1 << true << -127;
        QTest::newRow("stride 2, 3 channels (implicit, padded kernel rows)")
            << 2 << 3 << true << -127;
        QTest::newRow("stride 1, 1 channel (implicit, offsets)") << 1 << 1 << true << 0;
        QTest::newRow("stride 1, 8 channels (implicit, offsets)") << 1 << 8 << false << 0;
    }
    void int8Conv2dValidIsExactOnDequantizedInput() {
        QFETCH(int, stride);
        QFETCH(int, channels);
        QFETCH(bool, padRows);
        QFETCH(int, lowestCode);
        const int h = 11, wd = 10, c = channels, filters = 37;
        const Conv2DConfig config{filters, 3, 3, stride, stride, Padding::Valid};
        const int k = 9 * c;
        std::vector<float> steps;
        const int highestCode = lowestCode + 254;
        const auto w = gridWeights(k, filters, lowestCode, highestCode, steps, 41);
        KernelGrid grid{true, Granularity::Channel, 0, steps, {}, lowestCode, highestCode, 8};
        int8::Int8Weights iw;
        std::string why;
        QVERIFY2(int8::weightsFromGrid(w.data(), k, filters, grid, iw, why), why.c_str());
        QCOMPARE(iw.anyOffset, lowestCode >= 0);
        const Window2D win = makeWindow2D(h, wd, c, 3, 3, stride, stride, Padding::Valid);
        if (padRows) {
            int8::prepareConvolution(iw, win);
            QCOMPARE(iw.paddedKernelRows.k, 3 * ((3 * c + 3) / 4 * 4));
        }
        const int batch = 3;
        const auto x = uniform(static_cast<std::size_t>(batch) * h * wd * c, -0.5f, 1.5f, 42);
        const auto bias = uniform(static_cast<std::size_t>(filters), -0.1f, 0.1f, 43);
        std::vector<float> dequantized(x.size());
        for (int b = 0; b < batch; ++b) {
            const long long size = win.inputSize();
            std::vector<std::uint8_t> q(static_cast<std::size_t>(size));
            float sa = 0;
            std::int32_t za = 0;
            int8::quantizeRows(x.data() + b * size, 1, static_cast<int>(size), q.data(),
                               static_cast<int>(size), &sa, &za);
            for (long long i = 0; i < size; ++i)
                dequantized[b * size + i] = static_cast<float>(q[i] - za) * sa;
        }
        std::vector<float> exact(static_cast<std::size_t>(batch) * win.outputPixels() * filters),
            got(exact.size());
        cpu::conv2dReference(dequantized.data(), batch, h, wd, c, config, w.data(), bias.data(),
                             exact.data());
        Epilogue e;
        e.bias = bias.data();
        e.activation.kind = ActivationKind::Relu;
        for (auto& v : exact) v = std::max(v, 0.f);
        for (auto isa : {int8::Isa::Scalar, int8::Isa::Avx2, int8::Isa::Avx512Vnni}) {
            if (!int8::isaAvailable(isa)) continue;
            int8::Int8Scratch scratch;
            int8::conv2dInt8(isa, win, iw, e, x.data(), batch, got.data(), scratch);
            for (std::size_t i = 0; i < got.size(); ++i)
                QVERIFY2(std::fabs(got[i] - exact[i]) <= 1e-5 * (1.0 + std::fabs(exact[i])),
                         qPrintable(QString("%1 %2: %3 vs %4")
                                        .arg(QString::fromStdString(int8::isaName(isa)))
                                        .arg(i)
                                        .arg(got[i])
                                        .arg(exact[i])));
        }
    }

    // Sparse kernels compute the same sums in another order: float32 rounding only.
    void sparseMatchesReferences() {
        const int k = 300, n = 45, rows = 70;
        auto w = uniform(static_cast<std::size_t>(k) * n, -1.f, 1.f, 31);
        for (std::size_t i = 0; i < w.size(); ++i)
            if (i % 10 != 0) w[i] = 0.f;  // 90% zeros
        const auto csr = sparse::csrFromKernel(w.data(), k, n);
        QCOMPARE(csr.nonzeros(), static_cast<long long>((w.size() + 9) / 10));
        const auto x = uniform(static_cast<std::size_t>(rows) * k, -1.f, 1.f, 32);
        std::vector<float> expected(static_cast<std::size_t>(rows) * n), ref(expected.size()),
            got(expected.size());
        cpu::denseReference(x.data(), rows, k, n, w.data(), nullptr, expected.data());
        sparse::spmmRef(csr, x.data(), rows, ref.data());
        sparse::SparseScratch scratch;
        sparse::denseSparse(csr, Epilogue{}, x.data(), rows, got.data(), scratch);
        constexpr double tolerance = 1e-4;  // sums of 30 products of magnitude <= 1 in float32
        for (std::size_t i = 0; i < expected.size(); ++i) {
            QVERIFY(std::fabs(ref[i] - expected[i]) <= tolerance);
            QVERIFY(std::fabs(got[i] - expected[i]) <= tolerance);
        }

        const Conv2DConfig config{n, 3, 3, 1, 2, Padding::Valid};
        const int h = 10, wd = 11, c = 4, kc = 3 * 3 * c;
        auto cw = uniform(static_cast<std::size_t>(kc) * n, -1.f, 1.f, 33);
        for (std::size_t i = 0; i < cw.size(); ++i)
            if (i % 2) cw[i] = 0.f;
        const auto ccsr = sparse::csrFromKernel(cw.data(), kc, n);
        const auto cx = uniform(static_cast<std::size_t>(2) * h * wd * c, 0.f, 1.f, 34);
        const Window2D win = makeWindow2D(h, wd, c, 3, 3, 1, 2, Padding::Valid);
        std::vector<float> ce(static_cast<std::size_t>(2) * win.outputPixels() * n), cg(ce.size());
        cpu::conv2dReference(cx.data(), 2, h, wd, c, config, cw.data(), nullptr, ce.data());
        sparse::conv2dSparse(win, ccsr, Epilogue{}, cx.data(), 2, cg.data(), scratch);
        for (std::size_t i = 0; i < ce.size(); ++i) QVERIFY(std::fabs(cg[i] - ce[i]) <= tolerance);
    }
};

QTEST_APPLESS_MAIN(CompressedKernelsTest)
#include "compressed_kernels_test.moc"
